// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title IConstellationRegistry
/// @notice Constellations of value: who is a member and with which roles (see Roles.sol).
/// The registry is the authority the other contracts ask before accepting a write.
/// Membership is a role mask per (constellation, account): a non-zero mask means member.
interface IConstellationRegistry {
    /// @notice A constellation's public record.
    struct Constellation {
        address creator;
        uint64 createdAt;
        uint32 memberCount;
        uint32 coordinatorCount;
    }

    /// @notice The constellation id is already taken.
    error ConstellationRegistryConstellationExists(bytes32 constellation);
    /// @notice No constellation has this id.
    error ConstellationRegistryUnknownConstellation(bytes32 constellation);
    /// @notice `account` lacks the coordinator role in `constellation`.
    error ConstellationRegistryNotCoordinator(bytes32 constellation, address account);
    /// @notice `account` is already a member of `constellation`.
    error ConstellationRegistryAlreadyMember(bytes32 constellation, address account);
    /// @notice `account` is not a member of `constellation`.
    error ConstellationRegistryNotMember(bytes32 constellation, address account);
    /// @notice `roles` is zero or has bits outside Roles.ALL.
    error ConstellationRegistryInvalidRoles(uint256 roles);
    /// @notice The change would leave `constellation` without a coordinator.
    error ConstellationRegistryLastCoordinator(bytes32 constellation);
    /// @notice The zero address cannot be a member.
    error ConstellationRegistryZeroAddress();
    /// @notice The signature's deadline has passed.
    error ConstellationRegistryExpiredSignature(uint256 deadline);
    /// @notice The signature was not made by `expected` over this request and nonce.
    error ConstellationRegistryInvalidSignature(address expected);

    /// @notice A constellation was created; `coordinator` holds the coordinator role in it.
    event ConstellationCreated(bytes32 indexed constellation, address indexed coordinator, string name);
    /// @notice The roles of `account` in `constellation` changed from `previousRoles` to `roles`.
    /// Zero `previousRoles` means the account joined; zero `roles` means it left.
    event RolesChanged(
        bytes32 indexed constellation, address indexed account, address indexed by, uint256 previousRoles, uint256 roles
    );

    /// @notice Creates `constellation`; the caller becomes its first coordinator.
    /// @param constellation A fresh id (for example keccak256 of a slug).
    /// @param name A human-readable name, recorded in the event only.
    function createConstellation(bytes32 constellation, string calldata name) external;

    /// @notice Creates `constellation` for `coordinator`, on its EIP-712 signature of
    /// CreateConstellation(bytes32 constellation,string name,uint256 nonce,uint256 deadline),
    /// so a relayer can pay the gas.
    function createConstellationBySig(
        bytes32 constellation,
        string calldata name,
        address coordinator,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Adds `account` to `constellation` with `roles`. Coordinator only.
    function addMember(bytes32 constellation, address account, uint256 roles) external;

    /// @notice Removes `account` (all its roles) from `constellation`. Coordinator only.
    function removeMember(bytes32 constellation, address account) external;

    /// @notice Adds `roles` to a member's roles. Coordinator only.
    function grantRoles(bytes32 constellation, address account, uint256 roles) external;

    /// @notice Removes `roles` from a member's roles; removing every role removes the member.
    /// Coordinator only.
    function revokeRoles(bytes32 constellation, address account, uint256 roles) external;

    /// @notice Sets the roles of `account` to exactly `roles` (zero removes it), on the
    /// EIP-712 signature of a coordinator over
    /// SetRoles(bytes32 constellation,address account,uint256 roles,uint256 nonce,uint256 deadline).
    function setRolesBySig(
        bytes32 constellation,
        address account,
        uint256 roles,
        address coordinator,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Whether `constellation` exists.
    function exists(bytes32 constellation) external view returns (bool);

    /// @notice The public record of `constellation` (all zero if it does not exist).
    function getConstellation(bytes32 constellation) external view returns (Constellation memory);

    /// @notice The role mask of `account` in `constellation`; zero if not a member.
    function rolesOf(bytes32 constellation, address account) external view returns (uint256);

    /// @notice Whether `account` holds any role in `constellation`.
    function isMember(bytes32 constellation, address account) external view returns (bool);

    /// @notice Whether `account` holds at least one of the roles in `anyOf`.
    function hasAnyRole(bytes32 constellation, address account, uint256 anyOf) external view returns (bool);

    /// @notice The next nonce `account` must sign with for the *BySig functions.
    function nonces(address account) external view returns (uint256);
}

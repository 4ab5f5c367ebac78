// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

import {IConstellationRegistry} from "./interfaces/IConstellationRegistry.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title ConstellationRegistry
/// @notice Membership and roles of each constellation of value; the authority the other
/// Constellate contracts ask before accepting a write.
/// @dev Every role change goes through {_setRoles}, which keeps `memberCount` and
/// `coordinatorCount` in step with the role masks and refuses to leave a constellation
/// without a coordinator. A change that leaves the mask as it was is accepted and emits
/// nothing. Signatures are EIP-712 (domain "ConstellationRegistry", version "1") from
/// externally owned accounts, with one sequential nonce per signer shared by both *BySig
/// functions.
contract ConstellationRegistry is IConstellationRegistry, EIP712("ConstellationRegistry", "1"), Nonces {
    /// @notice EIP-712 type hash of a signed role assignment.
    bytes32 public constant SET_ROLES_TYPEHASH =
        keccak256("SetRoles(bytes32 constellation,address account,uint256 roles,uint256 nonce,uint256 deadline)");

    /// @notice EIP-712 type hash of a signed constellation creation.
    bytes32 public constant CREATE_CONSTELLATION_TYPEHASH =
        keccak256("CreateConstellation(bytes32 constellation,string name,uint256 nonce,uint256 deadline)");

    mapping(bytes32 constellation => Constellation) private _constellations;
    mapping(bytes32 constellation => mapping(address account => uint256 roles)) private _roles;

    // ------------------------------------------------------------------------------------
    // Writes
    // ------------------------------------------------------------------------------------

    /// @inheritdoc IConstellationRegistry
    function createConstellation(bytes32 constellation, string calldata name) external {
        _create(constellation, name, msg.sender);
    }

    /// @inheritdoc IConstellationRegistry
    function createConstellationBySig(
        bytes32 constellation,
        string calldata name,
        address coordinator,
        uint256 deadline,
        bytes calldata signature
    ) external {
        _checkDeadline(deadline);
        bytes32 structHash = keccak256(
            abi.encode(
                CREATE_CONSTELLATION_TYPEHASH, constellation, keccak256(bytes(name)), _useNonce(coordinator), deadline
            )
        );
        _checkSignature(structHash, coordinator, signature);
        _create(constellation, name, coordinator);
    }

    /// @inheritdoc IConstellationRegistry
    function addMember(bytes32 constellation, address account, uint256 roles) external {
        _requireCoordinator(constellation, msg.sender);
        _requireValidRoles(roles);
        if (account == address(0)) revert ConstellationRegistryZeroAddress();
        if (_roles[constellation][account] != 0) revert ConstellationRegistryAlreadyMember(constellation, account);
        _setRoles(constellation, account, 0, roles, msg.sender);
    }

    /// @inheritdoc IConstellationRegistry
    function removeMember(bytes32 constellation, address account) external {
        _requireCoordinator(constellation, msg.sender);
        uint256 previous = _requireMember(constellation, account);
        _setRoles(constellation, account, previous, 0, msg.sender);
    }

    /// @inheritdoc IConstellationRegistry
    function grantRoles(bytes32 constellation, address account, uint256 roles) external {
        _requireCoordinator(constellation, msg.sender);
        _requireValidRoles(roles);
        uint256 previous = _requireMember(constellation, account);
        _setRoles(constellation, account, previous, previous | roles, msg.sender);
    }

    /// @inheritdoc IConstellationRegistry
    function revokeRoles(bytes32 constellation, address account, uint256 roles) external {
        _requireCoordinator(constellation, msg.sender);
        _requireValidRoles(roles);
        uint256 previous = _requireMember(constellation, account);
        _setRoles(constellation, account, previous, previous & ~roles, msg.sender);
    }

    /// @inheritdoc IConstellationRegistry
    /// @dev `roles` zero removes a member (and reverts with NotMember for a non-member); a
    /// non-zero mask adds a non-member or replaces a member's mask. The signature is checked
    /// (and the nonce consumed) before the signer's coordinator role, so a bad signature
    /// always reports ConstellationRegistryInvalidSignature.
    function setRolesBySig(
        bytes32 constellation,
        address account,
        uint256 roles,
        address coordinator,
        uint256 deadline,
        bytes calldata signature
    ) external {
        _checkDeadline(deadline);
        bytes32 structHash =
            keccak256(abi.encode(SET_ROLES_TYPEHASH, constellation, account, roles, _useNonce(coordinator), deadline));
        _checkSignature(structHash, coordinator, signature);

        _requireCoordinator(constellation, coordinator);
        if (account == address(0)) revert ConstellationRegistryZeroAddress();
        uint256 previous = _roles[constellation][account];
        if (roles == 0) {
            if (previous == 0) revert ConstellationRegistryNotMember(constellation, account);
        } else {
            _requireValidRoles(roles);
        }
        _setRoles(constellation, account, previous, roles, coordinator);
    }

    // ------------------------------------------------------------------------------------
    // Reads
    // ------------------------------------------------------------------------------------

    /// @inheritdoc IConstellationRegistry
    function exists(bytes32 constellation) public view returns (bool) {
        return _constellations[constellation].creator != address(0);
    }

    /// @inheritdoc IConstellationRegistry
    function getConstellation(bytes32 constellation) external view returns (Constellation memory) {
        return _constellations[constellation];
    }

    /// @inheritdoc IConstellationRegistry
    function rolesOf(bytes32 constellation, address account) external view returns (uint256) {
        return _roles[constellation][account];
    }

    /// @inheritdoc IConstellationRegistry
    function isMember(bytes32 constellation, address account) external view returns (bool) {
        return _roles[constellation][account] != 0;
    }

    /// @inheritdoc IConstellationRegistry
    function hasAnyRole(bytes32 constellation, address account, uint256 anyOf) external view returns (bool) {
        return _roles[constellation][account] & anyOf != 0;
    }

    /// @inheritdoc IConstellationRegistry
    function nonces(address account) public view override(IConstellationRegistry, Nonces) returns (uint256) {
        return super.nonces(account);
    }

    // ------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------

    /// @dev Records a new constellation with `coordinator` as its only member.
    function _create(bytes32 constellation, string calldata name, address coordinator) private {
        if (exists(constellation)) revert ConstellationRegistryConstellationExists(constellation);
        _constellations[constellation] = Constellation({
            creator: coordinator, createdAt: uint64(block.timestamp), memberCount: 1, coordinatorCount: 1
        });
        _roles[constellation][coordinator] = Roles.COORDINATOR;
        emit ConstellationCreated(constellation, coordinator, name);
        emit RolesChanged(constellation, coordinator, coordinator, 0, Roles.COORDINATOR);
    }

    /// @dev Moves `account` from `previous` to `roles`, keeping the counters right. Callers
    /// have checked that the constellation exists, that `previous` is the stored mask and
    /// that `roles` is within Roles.ALL.
    function _setRoles(bytes32 constellation, address account, uint256 previous, uint256 roles, address by) private {
        if (previous == roles) return;
        Constellation storage record = _constellations[constellation];

        bool wasCoordinator = previous & Roles.COORDINATOR != 0;
        bool isCoordinator = roles & Roles.COORDINATOR != 0;
        if (wasCoordinator != isCoordinator) {
            if (isCoordinator) {
                ++record.coordinatorCount;
            } else {
                if (record.coordinatorCount == 1) revert ConstellationRegistryLastCoordinator(constellation);
                --record.coordinatorCount;
            }
        }
        if (previous == 0) {
            ++record.memberCount;
        } else if (roles == 0) {
            --record.memberCount;
        }

        _roles[constellation][account] = roles;
        emit RolesChanged(constellation, account, by, previous, roles);
    }

    /// @dev Reverts unless `constellation` exists and `account` coordinates it.
    function _requireCoordinator(bytes32 constellation, address account) private view {
        if (!exists(constellation)) revert ConstellationRegistryUnknownConstellation(constellation);
        if (_roles[constellation][account] & Roles.COORDINATOR == 0) {
            revert ConstellationRegistryNotCoordinator(constellation, account);
        }
    }

    /// @dev Returns the roles of `account`, reverting if it is not a member.
    function _requireMember(bytes32 constellation, address account) private view returns (uint256 roles) {
        roles = _roles[constellation][account];
        if (roles == 0) revert ConstellationRegistryNotMember(constellation, account);
    }

    /// @dev Reverts if `roles` is zero or has bits outside Roles.ALL.
    function _requireValidRoles(uint256 roles) private pure {
        if (roles == 0 || roles & ~Roles.ALL != 0) revert ConstellationRegistryInvalidRoles(roles);
    }

    /// @dev Reverts once `deadline` has passed (a signature is good up to and including it).
    function _checkDeadline(uint256 deadline) private view {
        // forge-lint: disable-next-line(block-timestamp) deadlines are coarse; seconds of drift do not matter
        if (block.timestamp > deadline) revert ConstellationRegistryExpiredSignature(deadline);
    }

    /// @dev Reverts unless `signature` is `expected`'s signature of the typed `structHash`.
    function _checkSignature(bytes32 structHash, address expected, bytes calldata signature) private view {
        (address recovered, ECDSA.RecoverError error,) = ECDSA.tryRecover(_hashTypedDataV4(structHash), signature);
        if (error != ECDSA.RecoverError.NoError || recovered != expected) {
            revert ConstellationRegistryInvalidSignature(expected);
        }
    }
}

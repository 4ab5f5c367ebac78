// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title ISharingLedger
/// @notice Anchors data-sharing grants and their revocation, so who could see what, and
/// when, can be audited later. Terms and audience stay off chain as hashes.
interface ISharingLedger {
    /// @notice An anchored grant.
    struct Grant {
        address grantor;
        uint64 anchoredAt;
        uint64 expiresAt;
        uint64 revokedAt;
        bytes32 constellation;
        bytes32 audienceHash;
        bytes32 termsHash;
    }

    /// @notice A grant with this id is already anchored.
    error SharingLedgerGrantExists(bytes32 grantId);
    /// @notice No grant has this id.
    error SharingLedgerUnknownGrant(bytes32 grantId);
    /// @notice `grantor` is not a member of `constellation`.
    error SharingLedgerNotMember(bytes32 constellation, address grantor);
    /// @notice `account` is not the grantor of `grantId`.
    error SharingLedgerNotGrantor(bytes32 grantId, address account);
    /// @notice Grant `grantId` was already revoked at `revokedAt`.
    error SharingLedgerAlreadyRevoked(bytes32 grantId, uint64 revokedAt);
    /// @notice `expiresAt` is not after the current block time `now`.
    error SharingLedgerInvalidExpiry(uint64 expiresAt, uint256 now);
    /// @notice The zero id names no grant.
    error SharingLedgerZeroGrantId();
    /// @notice The signature's deadline has passed.
    error SharingLedgerExpiredSignature(uint256 deadline);
    /// @notice The signature was not made by `expected`.
    error SharingLedgerInvalidSignature(address expected);

    /// @notice `grantor` anchored grant `grantId`.
    event GrantAnchored(
        bytes32 indexed grantId,
        bytes32 indexed constellation,
        address indexed grantor,
        bytes32 audienceHash,
        bytes32 termsHash,
        uint64 expiresAt
    );
    /// @notice `grantor` revoked grant `grantId`.
    event GrantRevoked(bytes32 indexed grantId, bytes32 indexed constellation, address indexed grantor, uint64 revokedAt);

    /// @notice Anchors a grant by the caller, who must be a member of `constellation`.
    /// @param expiresAt Unix time the grant ends; zero means until revoked.
    function anchorGrant(bytes32 grantId, bytes32 constellation, bytes32 audienceHash, bytes32 termsHash, uint64 expiresAt)
        external;

    /// @notice Anchors a grant on the grantor's EIP-712 signature over
    /// AnchorGrant(bytes32 grantId,bytes32 constellation,bytes32 audienceHash,bytes32 termsHash,uint64 expiresAt,uint256 deadline).
    /// Replay is impossible: a grant id is anchored once.
    function anchorGrantBySig(
        bytes32 grantId,
        bytes32 constellation,
        bytes32 audienceHash,
        bytes32 termsHash,
        uint64 expiresAt,
        address grantor,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Revokes `grantId`. Grantor only.
    function revokeGrant(bytes32 grantId) external;

    /// @notice Revokes on the grantor's EIP-712 signature over RevokeGrant(bytes32 grantId,uint256 deadline).
    function revokeGrantBySig(bytes32 grantId, address grantor, uint256 deadline, bytes calldata signature) external;

    /// @notice The grant `grantId` (grantor zero if unknown).
    function getGrant(bytes32 grantId) external view returns (Grant memory);

    /// @notice Whether `grantId` is anchored, not revoked and not expired.
    function isActive(bytes32 grantId) external view returns (bool);
}

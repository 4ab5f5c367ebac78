// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import {IConstellationRegistry} from "./interfaces/IConstellationRegistry.sol";
import {ISharingLedger} from "./interfaces/ISharingLedger.sol";

/// @title SharingLedger
/// @notice Audit trail of data-sharing grants and their revocation.
/// @dev Signatures are EIP-712 (domain "SharingLedger", version "1") and carry no nonce: a
/// grant id is anchored at most once and revoked at most once, so neither can be replayed.
contract SharingLedger is ISharingLedger, EIP712("SharingLedger", "1") {
    /// @notice EIP-712 type hash of a signed grant.
    bytes32 public constant ANCHOR_GRANT_TYPEHASH = keccak256(
        "AnchorGrant(bytes32 grantId,bytes32 constellation,bytes32 audienceHash,bytes32 termsHash,uint64 expiresAt,uint256 deadline)"
    );

    /// @notice EIP-712 type hash of a signed revocation.
    bytes32 public constant REVOKE_GRANT_TYPEHASH = keccak256("RevokeGrant(bytes32 grantId,uint256 deadline)");

    /// @notice The membership authority asked whether a grantor is a member.
    IConstellationRegistry public immutable REGISTRY;

    mapping(bytes32 grantId => Grant) private _grants;

    /// @param registry The constellation registry that authorizes grantors.
    constructor(IConstellationRegistry registry) {
        REGISTRY = registry;
    }

    /// @inheritdoc ISharingLedger
    function anchorGrant(
        bytes32 grantId,
        bytes32 constellation,
        bytes32 audienceHash,
        bytes32 termsHash,
        uint64 expiresAt
    ) external {
        _anchorGrant(grantId, constellation, audienceHash, termsHash, expiresAt, msg.sender);
    }

    /// @inheritdoc ISharingLedger
    function anchorGrantBySig(
        bytes32 grantId,
        bytes32 constellation,
        bytes32 audienceHash,
        bytes32 termsHash,
        uint64 expiresAt,
        address grantor,
        uint256 deadline,
        bytes calldata signature
    ) external {
        _checkDeadline(deadline);
        bytes32 structHash = keccak256(
            abi.encode(ANCHOR_GRANT_TYPEHASH, grantId, constellation, audienceHash, termsHash, expiresAt, deadline)
        );
        _checkSignature(structHash, grantor, signature);
        _anchorGrant(grantId, constellation, audienceHash, termsHash, expiresAt, grantor);
    }

    /// @inheritdoc ISharingLedger
    function revokeGrant(bytes32 grantId) external {
        _revokeGrant(grantId, msg.sender);
    }

    /// @inheritdoc ISharingLedger
    function revokeGrantBySig(bytes32 grantId, address grantor, uint256 deadline, bytes calldata signature) external {
        _checkDeadline(deadline);
        _checkSignature(keccak256(abi.encode(REVOKE_GRANT_TYPEHASH, grantId, deadline)), grantor, signature);
        _revokeGrant(grantId, grantor);
    }

    /// @inheritdoc ISharingLedger
    function getGrant(bytes32 grantId) external view returns (Grant memory) {
        return _grants[grantId];
    }

    /// @inheritdoc ISharingLedger
    function isActive(bytes32 grantId) external view returns (bool) {
        Grant storage grant = _grants[grantId];
        return grant.grantor != address(0) && grant.revokedAt == 0 && _isLive(grant.expiresAt);
    }

    /// @dev Records the grant for `grantor` after every check; the registry is asked last.
    /// The grantor of a stored grant is never zero, so it marks existence.
    function _anchorGrant(
        bytes32 grantId,
        bytes32 constellation,
        bytes32 audienceHash,
        bytes32 termsHash,
        uint64 expiresAt,
        address grantor
    ) private {
        if (grantId == bytes32(0)) revert SharingLedgerZeroGrantId();
        if (_grants[grantId].grantor != address(0)) revert SharingLedgerGrantExists(grantId);
        if (!_isLive(expiresAt)) revert SharingLedgerInvalidExpiry(expiresAt, block.timestamp);
        if (!REGISTRY.isMember(constellation, grantor)) revert SharingLedgerNotMember(constellation, grantor);

        _grants[grantId] = Grant({
            grantor: grantor,
            anchoredAt: uint64(block.timestamp),
            expiresAt: expiresAt,
            revokedAt: 0,
            constellation: constellation,
            audienceHash: audienceHash,
            termsHash: termsHash
        });
        emit GrantAnchored(grantId, constellation, grantor, audienceHash, termsHash, expiresAt);
    }

    /// @dev Revokes `grantId` on behalf of `account`, which must be its grantor.
    function _revokeGrant(bytes32 grantId, address account) private {
        Grant storage grant = _grants[grantId];
        address grantor = grant.grantor;
        if (grantor == address(0)) revert SharingLedgerUnknownGrant(grantId);
        if (grantor != account) revert SharingLedgerNotGrantor(grantId, account);
        if (grant.revokedAt != 0) revert SharingLedgerAlreadyRevoked(grantId, grant.revokedAt);

        uint64 revokedAt = uint64(block.timestamp);
        grant.revokedAt = revokedAt;
        emit GrantRevoked(grantId, grant.constellation, grantor, revokedAt);
    }

    /// @dev Reverts once `deadline` has passed (a signature is good up to and including it).
    function _checkDeadline(uint256 deadline) private view {
        // forge-lint: disable-next-line(block-timestamp) deadlines are coarse; seconds of drift do not matter
        if (block.timestamp > deadline) revert SharingLedgerExpiredSignature(deadline);
    }

    /// @dev Whether an expiry is open-ended (zero) or still in the future.
    function _isLive(uint64 expiresAt) private view returns (bool) {
        // forge-lint: disable-next-line(block-timestamp) expiries are coarse; seconds of drift do not matter
        return expiresAt == 0 || expiresAt > block.timestamp;
    }

    /// @dev Reverts unless `signature` is `expected`'s signature of the typed `structHash`.
    function _checkSignature(bytes32 structHash, address expected, bytes calldata signature) private view {
        (address recovered, ECDSA.RecoverError error,) = ECDSA.tryRecover(_hashTypedDataV4(structHash), signature);
        if (error != ECDSA.RecoverError.NoError || recovered != expected) {
            revert SharingLedgerInvalidSignature(expected);
        }
    }
}

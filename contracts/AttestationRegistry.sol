// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import {IAttestationRegistry} from "./interfaces/IAttestationRegistry.sol";
import {IConstellationRegistry} from "./interfaces/IConstellationRegistry.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title AttestationRegistry
/// @notice Schemas and the attestations issued under them by constellation members.
/// @dev Signatures are EIP-712 (domain "AttestationRegistry", version "1") and carry no
/// nonce: an attestation's uid is keccak256(abi.encode(request, issuer)) and is recorded at
/// most once, and a revocation happens at most once, so neither can be replayed.
/// When an issuer is refused, AttestationRegistryUnauthorizedIssuer carries the schema's
/// `requiredRoles`, or Roles.ALL for a schema open to any member (requiredRoles zero).
contract AttestationRegistry is IAttestationRegistry, EIP712("AttestationRegistry", "1") {
    /// @notice EIP-712 type hash of a signed attestation request.
    bytes32 public constant ATTEST_TYPEHASH = keccak256(
        "Attest(bytes32 schema,bytes32 constellation,bytes32 subject,bytes32 dataHash,uint64 expiresAt,bytes32 refUID,bool revocable,uint256 deadline)"
    );

    /// @notice EIP-712 type hash of a signed revocation.
    bytes32 public constant REVOKE_TYPEHASH = keccak256("Revoke(bytes32 uid,uint256 deadline)");

    /// @dev A schema as stored; its uid is the mapping key.
    struct StoredSchema {
        address registrant;
        bool revocable;
        uint256 requiredRoles;
        string definition;
    }

    /// @dev An attestation as stored (its uid is the mapping key), packed in seven slots:
    /// the fields {revoke} reads and writes (issuer, revokedAt, revocable) share one.
    struct StoredAttestation {
        bytes32 schema;
        bytes32 constellation;
        bytes32 subject;
        bytes32 dataHash;
        bytes32 refUID;
        address issuer;
        uint64 revokedAt;
        bool revocable;
        uint64 issuedAt;
        uint64 expiresAt;
    }

    /// @notice The membership authority asked whether an issuer may attest.
    IConstellationRegistry public immutable REGISTRY;

    mapping(bytes32 uid => StoredSchema) private _schemas;
    mapping(bytes32 uid => StoredAttestation) private _attestations;

    /// @param registry The constellation registry that authorizes issuers.
    constructor(IConstellationRegistry registry) {
        REGISTRY = registry;
    }

    // ------------------------------------------------------------------------------------
    // Writes
    // ------------------------------------------------------------------------------------

    /// @inheritdoc IAttestationRegistry
    function registerSchema(string calldata definition, bool revocable, uint256 requiredRoles)
        external
        returns (bytes32 uid)
    {
        if (requiredRoles & ~Roles.ALL != 0) revert AttestationRegistryInvalidRoles(requiredRoles);
        uid = keccak256(abi.encode(definition, revocable, requiredRoles));
        if (_schemas[uid].registrant != address(0)) revert AttestationRegistrySchemaExists(uid);
        _schemas[uid] = StoredSchema({
            registrant: msg.sender, revocable: revocable, requiredRoles: requiredRoles, definition: definition
        });
        emit SchemaRegistered(uid, msg.sender, revocable, requiredRoles, definition);
    }

    /// @inheritdoc IAttestationRegistry
    function attest(AttestationRequest calldata request) external returns (bytes32 uid) {
        return _attest(request, msg.sender);
    }

    /// @inheritdoc IAttestationRegistry
    function attestBySig(SignedAttestationRequest calldata signed) external returns (bytes32 uid) {
        return _attestBySig(signed);
    }

    /// @inheritdoc IAttestationRegistry
    function multiAttestBySig(SignedAttestationRequest[] calldata signed) external returns (bytes32[] memory uids) {
        uint256 length = signed.length;
        uids = new bytes32[](length);
        for (uint256 i; i < length; ++i) {
            uids[i] = _attestBySig(signed[i]);
        }
    }

    /// @inheritdoc IAttestationRegistry
    function revoke(bytes32 uid) external {
        _revoke(uid, msg.sender);
    }

    /// @inheritdoc IAttestationRegistry
    function revokeBySig(bytes32 uid, address issuer, uint256 deadline, bytes calldata signature) external {
        _checkDeadline(deadline);
        _checkSignature(keccak256(abi.encode(REVOKE_TYPEHASH, uid, deadline)), issuer, signature);
        _revoke(uid, issuer);
    }

    // ------------------------------------------------------------------------------------
    // Reads
    // ------------------------------------------------------------------------------------

    /// @inheritdoc IAttestationRegistry
    function attestationUid(AttestationRequest calldata request, address issuer) public pure returns (bytes32) {
        return keccak256(abi.encode(request, issuer));
    }

    /// @inheritdoc IAttestationRegistry
    function getSchema(bytes32 uid) external view returns (Schema memory schema) {
        StoredSchema storage stored = _schemas[uid];
        if (stored.registrant == address(0)) return schema;
        schema = Schema({
            uid: uid,
            registrant: stored.registrant,
            revocable: stored.revocable,
            requiredRoles: stored.requiredRoles,
            definition: stored.definition
        });
    }

    /// @inheritdoc IAttestationRegistry
    function getAttestation(bytes32 uid) external view returns (Attestation memory attestation) {
        StoredAttestation storage stored = _attestations[uid];
        if (stored.issuer == address(0)) return attestation;
        attestation = Attestation({
            uid: uid,
            schema: stored.schema,
            constellation: stored.constellation,
            subject: stored.subject,
            dataHash: stored.dataHash,
            refUID: stored.refUID,
            issuer: stored.issuer,
            issuedAt: stored.issuedAt,
            expiresAt: stored.expiresAt,
            revokedAt: stored.revokedAt,
            revocable: stored.revocable
        });
    }

    /// @inheritdoc IAttestationRegistry
    function isValid(bytes32 uid) external view returns (bool) {
        StoredAttestation storage stored = _attestations[uid];
        return stored.issuer != address(0) && stored.revokedAt == 0 && _isLive(stored.expiresAt);
    }

    // ------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------

    /// @dev Checks the deadline and the issuer's signature, then records the request.
    function _attestBySig(SignedAttestationRequest calldata signed) private returns (bytes32) {
        _checkDeadline(signed.deadline);
        AttestationRequest calldata request = signed.request;
        bytes32 structHash = keccak256(
            abi.encode(
                ATTEST_TYPEHASH,
                request.schema,
                request.constellation,
                request.subject,
                request.dataHash,
                request.expiresAt,
                request.refUID,
                request.revocable,
                signed.deadline
            )
        );
        _checkSignature(structHash, signed.issuer, signed.signature);
        return _attest(request, signed.issuer);
    }

    /// @dev Records `request` as issued by `issuer` after every check; the registry is asked
    /// last. The issuer of a stored attestation is never zero, so it marks existence.
    function _attest(AttestationRequest calldata request, address issuer) private returns (bytes32 uid) {
        StoredSchema storage schema = _schemas[request.schema];
        if (schema.registrant == address(0)) revert AttestationRegistryUnknownSchema(request.schema);
        if (request.revocable && !schema.revocable) revert AttestationRegistryIrrevocableSchema(request.schema);
        if (!_isLive(request.expiresAt)) {
            revert AttestationRegistryInvalidExpiry(request.expiresAt, block.timestamp);
        }
        if (request.refUID != bytes32(0) && _attestations[request.refUID].issuer == address(0)) {
            revert AttestationRegistryUnknownAttestation(request.refUID);
        }
        uid = attestationUid(request, issuer);
        if (_attestations[uid].issuer != address(0)) revert AttestationRegistryAttestationExists(uid);

        uint256 requiredRoles = schema.requiredRoles;
        uint256 anyOf = requiredRoles == 0 ? Roles.ALL : requiredRoles;
        if (REGISTRY.rolesOf(request.constellation, issuer) & anyOf == 0) {
            revert AttestationRegistryUnauthorizedIssuer(request.constellation, issuer, anyOf);
        }

        _attestations[uid] = StoredAttestation({
            schema: request.schema,
            constellation: request.constellation,
            subject: request.subject,
            dataHash: request.dataHash,
            refUID: request.refUID,
            issuer: issuer,
            revokedAt: 0,
            revocable: request.revocable,
            issuedAt: uint64(block.timestamp),
            expiresAt: request.expiresAt
        });
        emit Attested(
            request.constellation, request.schema, issuer, uid, request.subject, request.dataHash, request.expiresAt
        );
    }

    /// @dev Revokes `uid` on behalf of `account`, which must be its issuer.
    function _revoke(bytes32 uid, address account) private {
        StoredAttestation storage stored = _attestations[uid];
        address issuer = stored.issuer;
        if (issuer == address(0)) revert AttestationRegistryUnknownAttestation(uid);
        if (issuer != account) revert AttestationRegistryNotIssuer(uid, account);
        if (!stored.revocable) revert AttestationRegistryIrrevocable(uid);
        if (stored.revokedAt != 0) revert AttestationRegistryAlreadyRevoked(uid, stored.revokedAt);

        uint64 revokedAt = uint64(block.timestamp);
        stored.revokedAt = revokedAt;
        emit Revoked(stored.constellation, uid, issuer, revokedAt);
    }

    /// @dev Reverts once `deadline` has passed (a signature is good up to and including it).
    function _checkDeadline(uint256 deadline) private view {
        // forge-lint: disable-next-line(block-timestamp) deadlines are coarse; seconds of drift do not matter
        if (block.timestamp > deadline) revert AttestationRegistryExpiredSignature(deadline);
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
            revert AttestationRegistryInvalidSignature(expected);
        }
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title IAttestationRegistry
/// @notice Signed claims (ESG certifications, carbon footprints, audits, origin...) about a
/// subject, under a registered schema. The claim's body stays off chain; the chain keeps its
/// hash, issuer, validity window and revocation. An attestation's uid is derived from its
/// request and issuer, so the same signed request can never be recorded twice.
interface IAttestationRegistry {
    /// @notice A registered schema.
    struct Schema {
        bytes32 uid;
        address registrant;
        bool revocable;
        /// @dev Role mask (Roles.sol) of which the issuer must hold one; zero means any member.
        uint256 requiredRoles;
        string definition;
    }

    /// @notice What an issuer asks to record.
    struct AttestationRequest {
        bytes32 schema;
        bytes32 constellation;
        /// @dev Hash of the subject's canonical identifier (GS1 URI, member address, GLN).
        bytes32 subject;
        /// @dev Hash of the off-chain body (a commitment root).
        bytes32 dataHash;
        /// @dev Unix time after which it is no longer valid; zero means it does not expire.
        uint64 expiresAt;
        /// @dev An attestation this one refers to (zero for none); it must exist.
        bytes32 refUID;
        bool revocable;
    }

    /// @notice A request signed by `issuer`, for a relayer to submit.
    struct SignedAttestationRequest {
        AttestationRequest request;
        address issuer;
        uint256 deadline;
        bytes signature;
    }

    /// @notice A recorded attestation.
    struct Attestation {
        bytes32 uid;
        bytes32 schema;
        bytes32 constellation;
        bytes32 subject;
        bytes32 dataHash;
        bytes32 refUID;
        address issuer;
        uint64 issuedAt;
        uint64 expiresAt;
        uint64 revokedAt;
        bool revocable;
    }

    /// @notice A schema with this uid is already registered.
    error AttestationRegistrySchemaExists(bytes32 uid);
    /// @notice No schema has this uid.
    error AttestationRegistryUnknownSchema(bytes32 uid);
    /// @notice `requiredRoles` has bits outside Roles.ALL.
    error AttestationRegistryInvalidRoles(uint256 roles);
    /// @notice An attestation with this uid is already recorded (a replay or a duplicate).
    error AttestationRegistryAttestationExists(bytes32 uid);
    /// @notice No attestation has this uid.
    error AttestationRegistryUnknownAttestation(bytes32 uid);
    /// @notice `issuer` is not a member of `constellation` with one of `requiredRoles`.
    error AttestationRegistryUnauthorizedIssuer(bytes32 constellation, address issuer, uint256 requiredRoles);
    /// @notice `expiresAt` is not after the current block time `now`.
    error AttestationRegistryInvalidExpiry(uint64 expiresAt, uint256 now);
    /// @notice Schema `schema` is irrevocable, so its attestations cannot be revocable.
    error AttestationRegistryIrrevocableSchema(bytes32 schema);
    /// @notice Attestation `uid` was issued irrevocable.
    error AttestationRegistryIrrevocable(bytes32 uid);
    /// @notice `account` is not the issuer of attestation `uid`.
    error AttestationRegistryNotIssuer(bytes32 uid, address account);
    /// @notice Attestation `uid` was already revoked at `revokedAt`.
    error AttestationRegistryAlreadyRevoked(bytes32 uid, uint64 revokedAt);
    /// @notice The signature's deadline has passed.
    error AttestationRegistryExpiredSignature(uint256 deadline);
    /// @notice The signature was not made by `expected`.
    error AttestationRegistryInvalidSignature(address expected);

    /// @notice A schema was registered.
    event SchemaRegistered(bytes32 indexed uid, address indexed registrant, bool revocable, uint256 requiredRoles, string definition);
    /// @notice `issuer` attested `uid` about `subject`.
    event Attested(
        bytes32 indexed constellation,
        bytes32 indexed schema,
        address indexed issuer,
        bytes32 uid,
        bytes32 subject,
        bytes32 dataHash,
        uint64 expiresAt
    );
    /// @notice `issuer` revoked `uid`.
    event Revoked(bytes32 indexed constellation, bytes32 indexed uid, address indexed issuer, uint64 revokedAt);

    /// @notice Registers a schema; its uid is keccak256(abi.encode(definition, revocable, requiredRoles)).
    /// @param requiredRoles Roles of which an issuer must hold one (zero: any member).
    function registerSchema(string calldata definition, bool revocable, uint256 requiredRoles)
        external
        returns (bytes32 uid);

    /// @notice Records an attestation issued by the caller.
    function attest(AttestationRequest calldata request) external returns (bytes32 uid);

    /// @notice Records an attestation on the issuer's EIP-712 signature over
    /// Attest(bytes32 schema,bytes32 constellation,bytes32 subject,bytes32 dataHash,uint64 expiresAt,bytes32 refUID,bool revocable,uint256 deadline).
    /// Replay is impossible: the uid derives from the request and issuer and is recorded once.
    function attestBySig(SignedAttestationRequest calldata signed) external returns (bytes32 uid);

    /// @notice attestBySig for many requests in one transaction; reverts as a whole.
    function multiAttestBySig(SignedAttestationRequest[] calldata signed) external returns (bytes32[] memory uids);

    /// @notice Revokes `uid`. Issuer only; the attestation must be revocable.
    function revoke(bytes32 uid) external;

    /// @notice Revokes on the issuer's EIP-712 signature over Revoke(bytes32 uid,uint256 deadline).
    function revokeBySig(bytes32 uid, address issuer, uint256 deadline, bytes calldata signature) external;

    /// @notice The uid an attestation of `request` by `issuer` gets.
    function attestationUid(AttestationRequest calldata request, address issuer) external pure returns (bytes32);

    /// @notice The schema `uid` (registrant zero if unknown).
    function getSchema(bytes32 uid) external view returns (Schema memory);

    /// @notice The attestation `uid` (uid zero if unknown).
    function getAttestation(bytes32 uid) external view returns (Attestation memory);

    /// @notice Whether `uid` exists, is not revoked and has not expired.
    function isValid(bytes32 uid) external view returns (bool);
}

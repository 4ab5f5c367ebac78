// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ConstellateTest} from "./base/ConstellateTest.sol";
import {SigUtils} from "./base/SigUtils.sol";

import {AttestationRegistry} from "../AttestationRegistry.sol";
import {IAttestationRegistry} from "../interfaces/IAttestationRegistry.sol";
import {Roles} from "../libraries/Roles.sol";

/// @title AttestationRegistryTest
/// @notice Specification of AttestationRegistry: schemas, attestations by members holding
/// the schema's roles, expiry, references, revocation and the nonce-free EIP-712 paths
/// whose replay protection is the recorded uid.
contract AttestationRegistryTest is ConstellateTest {
    string internal constant CERT_DEFINITION = "bytes32 certificateRoot,string standard";
    string internal constant ORIGIN_DEFINITION = "string origin";

    AttestationRegistry internal attestations;
    /// @dev Revocable, certifiers only.
    bytes32 internal certSchema;
    /// @dev Irrevocable, any member.
    bytes32 internal originSchema;
    uint256 internal deadline;

    function setUp() public override {
        super.setUp();
        attestations = new AttestationRegistry(registry);
        vm.label(address(attestations), "AttestationRegistry");
        certSchema = attestations.registerSchema(CERT_DEFINITION, true, Roles.CERTIFIER);
        originSchema = attestations.registerSchema(ORIGIN_DEFINITION, false, 0);
        deadline = block.timestamp + 1 hours;
    }

    // ------------------------------------------------------------------------------------
    // Helpers
    // ------------------------------------------------------------------------------------

    function _request(bytes32 schema, bytes32 subject, uint64 expiresAt, bool revocable)
        internal
        pure
        returns (IAttestationRegistry.AttestationRequest memory)
    {
        return IAttestationRegistry.AttestationRequest({
            schema: schema,
            constellation: ACME,
            subject: subject,
            dataHash: keccak256(abi.encode("body", subject)),
            expiresAt: expiresAt,
            refUID: bytes32(0),
            revocable: revocable
        });
    }

    function _certRequest() internal view returns (IAttestationRegistry.AttestationRequest memory) {
        return _request(
            certSchema, keccak256("urn:epc:id:sgtin:0614141.107346.2017"), uint64(block.timestamp + 365 days), true
        );
    }

    function _signed(uint256 key, IAttestationRegistry.AttestationRequest memory request, uint256 dl)
        internal
        view
        returns (IAttestationRegistry.SignedAttestationRequest memory)
    {
        bytes32 structHash = keccak256(
            abi.encode(
                SigUtils.ATTEST_TYPEHASH,
                request.schema,
                request.constellation,
                request.subject,
                request.dataHash,
                request.expiresAt,
                request.refUID,
                request.revocable,
                dl
            )
        );
        return IAttestationRegistry.SignedAttestationRequest({
            request: request,
            issuer: vm.addr(key),
            deadline: dl,
            signature: _sign(key, _digest("AttestationRegistry", address(attestations), structHash))
        });
    }

    function _signRevoke(uint256 key, bytes32 uid, uint256 dl) internal view returns (bytes memory) {
        bytes32 structHash = keccak256(abi.encode(SigUtils.REVOKE_TYPEHASH, uid, dl));
        return _sign(key, _digest("AttestationRegistry", address(attestations), structHash));
    }

    function _attestAsCertifier() internal returns (bytes32 uid) {
        vm.prank(certifier);
        uid = attestations.attest(_certRequest());
    }

    // ------------------------------------------------------------------------------------
    // registerSchema
    // ------------------------------------------------------------------------------------

    function test_RegisterSchema_RecordsAndEmits() public {
        string memory definition = "uint256 co2eGrams,bytes32 methodology";
        bytes32 expected = keccak256(abi.encode(definition, true, Roles.CERTIFIER | Roles.BRAND));

        vm.expectEmit(true, true, true, true, address(attestations));
        emit IAttestationRegistry.SchemaRegistered(expected, outsider, true, Roles.CERTIFIER | Roles.BRAND, definition);
        vm.prank(outsider); // anyone may register a schema
        bytes32 uid = attestations.registerSchema(definition, true, Roles.CERTIFIER | Roles.BRAND);

        assertEq(uid, expected, "uid = keccak256(abi.encode(definition, revocable, requiredRoles))");
        IAttestationRegistry.Schema memory schema = attestations.getSchema(uid);
        assertEq(schema.uid, uid, "uid");
        assertEq(schema.registrant, outsider, "registrant");
        assertTrue(schema.revocable, "revocable");
        assertEq(schema.requiredRoles, Roles.CERTIFIER | Roles.BRAND, "requiredRoles");
        assertEq(schema.definition, definition, "definition");
    }

    function test_RegisterSchema_SameDefinitionWithOtherFlagsIsAnotherSchema() public {
        bytes32 irrevocable = attestations.registerSchema(CERT_DEFINITION, false, Roles.CERTIFIER);
        bytes32 anyone = attestations.registerSchema(CERT_DEFINITION, true, 0);
        assertTrue(irrevocable != certSchema && anyone != certSchema && irrevocable != anyone, "distinct uids");
    }

    function test_RevertWhen_SchemaRegisteredTwice() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAttestationRegistry.AttestationRegistrySchemaExists.selector, certSchema)
        );
        vm.prank(outsider);
        attestations.registerSchema(CERT_DEFINITION, true, Roles.CERTIFIER);
    }

    function test_RevertWhen_SchemaRequiresUndefinedRole() public {
        uint256 roles = Roles.CERTIFIER | (1 << 8);
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationRegistryInvalidRoles.selector, roles));
        attestations.registerSchema("x", true, roles);
    }

    function test_GetSchema_UnknownIsAllZero() public view {
        IAttestationRegistry.Schema memory schema = attestations.getSchema(keccak256("nope"));
        assertEq(schema.uid, bytes32(0), "uid");
        assertEq(schema.registrant, address(0), "registrant");
        assertEq(schema.requiredRoles, 0, "requiredRoles");
        assertEq(schema.definition, "", "definition");
    }

    // ------------------------------------------------------------------------------------
    // attest
    // ------------------------------------------------------------------------------------

    function test_Attest_RecordsAndEmits() public {
        vm.warp(1_800_000_000);
        IAttestationRegistry.AttestationRequest memory request = _certRequest();
        bytes32 expected = attestations.attestationUid(request, certifier);

        vm.expectEmit(true, true, true, true, address(attestations));
        emit IAttestationRegistry.Attested(
            ACME, certSchema, certifier, expected, request.subject, request.dataHash, request.expiresAt
        );
        vm.prank(certifier);
        bytes32 uid = attestations.attest(request);

        assertEq(uid, expected, "uid");
        IAttestationRegistry.Attestation memory a = attestations.getAttestation(uid);
        assertEq(a.uid, uid, "uid");
        assertEq(a.schema, certSchema, "schema");
        assertEq(a.constellation, ACME, "constellation");
        assertEq(a.subject, request.subject, "subject");
        assertEq(a.dataHash, request.dataHash, "dataHash");
        assertEq(a.refUID, bytes32(0), "refUID");
        assertEq(a.issuer, certifier, "issuer");
        assertEq(a.issuedAt, 1_800_000_000, "issuedAt");
        assertEq(a.expiresAt, request.expiresAt, "expiresAt");
        assertEq(a.revokedAt, 0, "revokedAt");
        assertTrue(a.revocable, "revocable");
        assertTrue(attestations.isValid(uid), "valid");
    }

    function test_Attest_OpenSchemaAcceptsAnyMember() public {
        vm.prank(supplier);
        bytes32 uid = attestations.attest(_request(originSchema, keccak256("lot-7"), 0, false));
        assertTrue(attestations.isValid(uid), "valid, never expires");
        assertEq(attestations.getAttestation(uid).expiresAt, 0, "no expiry");
    }

    function test_Attest_ReferencesAnExistingAttestation() public {
        bytes32 first = _attestAsCertifier();
        IAttestationRegistry.AttestationRequest memory request = _request(originSchema, keccak256("lot-7"), 0, false);
        request.refUID = first;
        vm.prank(supplier);
        bytes32 uid = attestations.attest(request);
        assertEq(attestations.getAttestation(uid).refUID, first, "refUID");
    }

    function test_Attest_UidDependsOnIssuer() public {
        IAttestationRegistry.AttestationRequest memory request = _request(originSchema, keccak256("lot-7"), 0, false);
        vm.prank(supplier);
        bytes32 bySupplier = attestations.attest(request);
        vm.prank(logistics);
        bytes32 byLogistics = attestations.attest(request);
        assertTrue(bySupplier != byLogistics, "same request, two issuers, two attestations");
    }

    function test_Attest_ExpiresAfterExpiresAt() public {
        bytes32 uid = _attestAsCertifier();
        uint64 expiresAt = attestations.getAttestation(uid).expiresAt;
        vm.warp(expiresAt - 1);
        assertTrue(attestations.isValid(uid), "valid before expiry");
        vm.warp(expiresAt);
        assertFalse(attestations.isValid(uid), "invalid at expiry");
    }

    function test_AttestationUid_IsHashOfRequestAndIssuer() public view {
        IAttestationRegistry.AttestationRequest memory request = _certRequest();
        assertEq(attestations.attestationUid(request, certifier), keccak256(abi.encode(request, certifier)));
    }

    function test_RevertWhen_AttestUnknownSchema() public {
        IAttestationRegistry.AttestationRequest memory request = _certRequest();
        request.schema = keccak256("nope");
        vm.expectRevert(
            abi.encodeWithSelector(IAttestationRegistry.AttestationRegistryUnknownSchema.selector, request.schema)
        );
        vm.prank(certifier);
        attestations.attest(request);
    }

    function test_RevertWhen_NonMemberAttests() public {
        IAttestationRegistry.AttestationRequest memory request = _request(originSchema, keccak256("lot-7"), 0, false);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestationRegistry.AttestationRegistryUnauthorizedIssuer.selector, ACME, outsider, Roles.ALL
            )
        );
        vm.prank(outsider);
        attestations.attest(request);
    }

    function test_RevertWhen_MemberLacksRequiredRole() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestationRegistry.AttestationRegistryUnauthorizedIssuer.selector, ACME, supplier, Roles.CERTIFIER
            )
        );
        vm.prank(supplier);
        attestations.attest(_certRequest());
    }

    function test_RevertWhen_AttestExpiryInThePast() public {
        IAttestationRegistry.AttestationRequest memory request = _certRequest();
        request.expiresAt = uint64(block.timestamp - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestationRegistry.AttestationRegistryInvalidExpiry.selector, request.expiresAt, block.timestamp
            )
        );
        vm.prank(certifier);
        attestations.attest(request);
    }

    function test_RevertWhen_AttestExpiryIsNow() public {
        IAttestationRegistry.AttestationRequest memory request = _certRequest();
        request.expiresAt = uint64(block.timestamp);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestationRegistry.AttestationRegistryInvalidExpiry.selector, request.expiresAt, block.timestamp
            )
        );
        vm.prank(certifier);
        attestations.attest(request);
    }

    function test_RevertWhen_AttestReferencesUnknownAttestation() public {
        IAttestationRegistry.AttestationRequest memory request = _certRequest();
        request.refUID = keccak256("ghost");
        vm.expectRevert(
            abi.encodeWithSelector(IAttestationRegistry.AttestationRegistryUnknownAttestation.selector, request.refUID)
        );
        vm.prank(certifier);
        attestations.attest(request);
    }

    function test_RevertWhen_RevocableAttestationUnderIrrevocableSchema() public {
        IAttestationRegistry.AttestationRequest memory request = _request(originSchema, keccak256("lot-7"), 0, true);
        vm.expectRevert(
            abi.encodeWithSelector(IAttestationRegistry.AttestationRegistryIrrevocableSchema.selector, originSchema)
        );
        vm.prank(supplier);
        attestations.attest(request);
    }

    function test_RevertWhen_AttestTwice() public {
        bytes32 uid = _attestAsCertifier();
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationRegistryAttestationExists.selector, uid));
        vm.prank(certifier);
        attestations.attest(_certRequest());
    }

    // ------------------------------------------------------------------------------------
    // attestBySig / multiAttestBySig
    // ------------------------------------------------------------------------------------

    function test_AttestBySig_RecordsForSigner() public {
        IAttestationRegistry.SignedAttestationRequest memory signed = _signed(CERTIFIER_KEY, _certRequest(), deadline);
        bytes32 expected = attestations.attestationUid(signed.request, certifier);

        vm.expectEmit(true, true, true, true, address(attestations));
        emit IAttestationRegistry.Attested(
            ACME,
            certSchema,
            certifier,
            expected,
            signed.request.subject,
            signed.request.dataHash,
            signed.request.expiresAt
        );
        vm.prank(relayer);
        bytes32 uid = attestations.attestBySig(signed);

        assertEq(uid, expected, "uid");
        assertEq(attestations.getAttestation(uid).issuer, certifier, "issuer is the signer");
        assertTrue(attestations.isValid(uid), "valid");
    }

    function test_AttestBySig_AcceptsDeadlineEqualToNow() public {
        bytes32 uid = attestations.attestBySig(_signed(CERTIFIER_KEY, _certRequest(), block.timestamp));
        assertTrue(attestations.isValid(uid));
    }

    function test_RevertWhen_AttestBySigExpired() public {
        IAttestationRegistry.SignedAttestationRequest memory signed = _signed(CERTIFIER_KEY, _certRequest(), deadline);
        vm.warp(deadline + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IAttestationRegistry.AttestationRegistryExpiredSignature.selector, deadline)
        );
        attestations.attestBySig(signed);
    }

    function test_RevertWhen_AttestBySigWrongSigner() public {
        IAttestationRegistry.SignedAttestationRequest memory signed = _signed(OUTSIDER_KEY, _certRequest(), deadline);
        signed.issuer = certifier;
        vm.expectRevert(
            abi.encodeWithSelector(IAttestationRegistry.AttestationRegistryInvalidSignature.selector, certifier)
        );
        attestations.attestBySig(signed);
    }

    function test_RevertWhen_AttestBySigRequestTampered() public {
        IAttestationRegistry.SignedAttestationRequest memory signed = _signed(CERTIFIER_KEY, _certRequest(), deadline);
        signed.request.dataHash = keccak256("forged body");
        vm.expectRevert(
            abi.encodeWithSelector(IAttestationRegistry.AttestationRegistryInvalidSignature.selector, certifier)
        );
        attestations.attestBySig(signed);
    }

    function test_RevertWhen_AttestBySigReplayed() public {
        IAttestationRegistry.SignedAttestationRequest memory signed = _signed(CERTIFIER_KEY, _certRequest(), deadline);
        bytes32 uid = attestations.attestBySig(signed);
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationRegistryAttestationExists.selector, uid));
        attestations.attestBySig(signed);
    }

    function test_RevertWhen_AttestBySigReplayedWithFreshDeadline() public {
        bytes32 uid = attestations.attestBySig(_signed(CERTIFIER_KEY, _certRequest(), deadline));
        // Re-signing the same request with another deadline still names the same uid.
        IAttestationRegistry.SignedAttestationRequest memory again =
            _signed(CERTIFIER_KEY, _certRequest(), deadline + 1 days);
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationRegistryAttestationExists.selector, uid));
        attestations.attestBySig(again);
    }

    function test_RevertWhen_AttestBySigSignerLacksRole() public {
        IAttestationRegistry.SignedAttestationRequest memory signed = _signed(SUPPLIER_KEY, _certRequest(), deadline);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestationRegistry.AttestationRegistryUnauthorizedIssuer.selector, ACME, supplier, Roles.CERTIFIER
            )
        );
        vm.prank(certifier); // a certifier relaying does not lend its role
        attestations.attestBySig(signed);
    }

    function test_MultiAttestBySig_RecordsEveryRequestInOrder() public {
        IAttestationRegistry.SignedAttestationRequest[] memory batch =
            new IAttestationRegistry.SignedAttestationRequest[](3);
        batch[0] = _signed(CERTIFIER_KEY, _certRequest(), deadline);
        batch[1] = _signed(SUPPLIER_KEY, _request(originSchema, keccak256("lot-7"), 0, false), deadline);
        batch[2] = _signed(LOGISTICS_KEY, _request(originSchema, keccak256("lot-8"), 0, false), deadline);

        vm.prank(relayer);
        bytes32[] memory uids = attestations.multiAttestBySig(batch);

        assertEq(uids.length, 3, "one uid per request");
        assertEq(uids[0], attestations.attestationUid(batch[0].request, certifier), "uid 0");
        assertEq(uids[1], attestations.attestationUid(batch[1].request, supplier), "uid 1");
        assertEq(uids[2], attestations.attestationUid(batch[2].request, logistics), "uid 2");
        for (uint256 i; i < 3; ++i) {
            assertTrue(attestations.isValid(uids[i]), "valid");
        }
    }

    function test_MultiAttestBySig_EmptyBatchIsNoOp() public {
        bytes32[] memory uids = attestations.multiAttestBySig(new IAttestationRegistry.SignedAttestationRequest[](0));
        assertEq(uids.length, 0);
    }

    function test_RevertWhen_MultiAttestBySigHasOneBadSignature() public {
        IAttestationRegistry.SignedAttestationRequest[] memory batch =
            new IAttestationRegistry.SignedAttestationRequest[](2);
        batch[0] = _signed(CERTIFIER_KEY, _certRequest(), deadline);
        batch[1] = _signed(OUTSIDER_KEY, _request(originSchema, keccak256("lot-7"), 0, false), deadline);
        batch[1].issuer = supplier;

        vm.expectRevert(
            abi.encodeWithSelector(IAttestationRegistry.AttestationRegistryInvalidSignature.selector, supplier)
        );
        attestations.multiAttestBySig(batch);
        assertFalse(attestations.isValid(attestations.attestationUid(batch[0].request, certifier)), "all or nothing");
    }

    function test_RevertWhen_MultiAttestBySigRepeatsARequest() public {
        IAttestationRegistry.SignedAttestationRequest[] memory batch =
            new IAttestationRegistry.SignedAttestationRequest[](2);
        batch[0] = _signed(CERTIFIER_KEY, _certRequest(), deadline);
        batch[1] = batch[0];
        bytes32 uid = attestations.attestationUid(batch[0].request, certifier);
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationRegistryAttestationExists.selector, uid));
        attestations.multiAttestBySig(batch);
    }

    // ------------------------------------------------------------------------------------
    // revoke / revokeBySig
    // ------------------------------------------------------------------------------------

    function test_Revoke_MarksRevokedAndEmits() public {
        bytes32 uid = _attestAsCertifier();
        vm.warp(block.timestamp + 10 days);

        vm.expectEmit(true, true, true, true, address(attestations));
        emit IAttestationRegistry.Revoked(ACME, uid, certifier, uint64(block.timestamp));
        vm.prank(certifier);
        attestations.revoke(uid);

        assertEq(attestations.getAttestation(uid).revokedAt, block.timestamp, "revokedAt");
        assertFalse(attestations.isValid(uid), "no longer valid");
    }

    function test_Revoke_StillAllowedAfterIssuerLeft() public {
        bytes32 uid = _attestAsCertifier();
        vm.prank(coordinator);
        registry.removeMember(ACME, certifier);
        vm.prank(certifier);
        attestations.revoke(uid);
        assertFalse(attestations.isValid(uid));
    }

    function test_RevertWhen_RevokeUnknownAttestation() public {
        bytes32 uid = keccak256("ghost");
        vm.expectRevert(
            abi.encodeWithSelector(IAttestationRegistry.AttestationRegistryUnknownAttestation.selector, uid)
        );
        vm.prank(certifier);
        attestations.revoke(uid);
    }

    function test_RevertWhen_NonIssuerRevokes() public {
        bytes32 uid = _attestAsCertifier();
        vm.expectRevert(
            abi.encodeWithSelector(IAttestationRegistry.AttestationRegistryNotIssuer.selector, uid, coordinator)
        );
        vm.prank(coordinator);
        attestations.revoke(uid);
    }

    function test_RevertWhen_RevokeIrrevocableAttestation() public {
        vm.prank(supplier);
        bytes32 uid = attestations.attest(_request(originSchema, keccak256("lot-7"), 0, false));
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationRegistryIrrevocable.selector, uid));
        vm.prank(supplier);
        attestations.revoke(uid);
    }

    function test_RevertWhen_RevokeIrrevocableAttestationUnderRevocableSchema() public {
        IAttestationRegistry.AttestationRequest memory request = _certRequest();
        request.revocable = false;
        vm.prank(certifier);
        bytes32 uid = attestations.attest(request);
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationRegistryIrrevocable.selector, uid));
        vm.prank(certifier);
        attestations.revoke(uid);
    }

    function test_RevertWhen_RevokeTwice() public {
        bytes32 uid = _attestAsCertifier();
        vm.prank(certifier);
        attestations.revoke(uid);
        uint64 revokedAt = uint64(block.timestamp);

        vm.warp(block.timestamp + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IAttestationRegistry.AttestationRegistryAlreadyRevoked.selector, uid, revokedAt)
        );
        vm.prank(certifier);
        attestations.revoke(uid);
    }

    function test_RevokeBySig_RevokesForSigner() public {
        bytes32 uid = _attestAsCertifier();
        bytes memory signature = _signRevoke(CERTIFIER_KEY, uid, deadline);

        vm.expectEmit(true, true, true, true, address(attestations));
        emit IAttestationRegistry.Revoked(ACME, uid, certifier, uint64(block.timestamp));
        vm.prank(relayer);
        attestations.revokeBySig(uid, certifier, deadline, signature);
        assertFalse(attestations.isValid(uid));
    }

    function test_RevertWhen_RevokeBySigExpired() public {
        bytes32 uid = _attestAsCertifier();
        bytes memory signature = _signRevoke(CERTIFIER_KEY, uid, deadline);
        vm.warp(deadline + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IAttestationRegistry.AttestationRegistryExpiredSignature.selector, deadline)
        );
        attestations.revokeBySig(uid, certifier, deadline, signature);
    }

    function test_RevertWhen_RevokeBySigWrongSigner() public {
        bytes32 uid = _attestAsCertifier();
        bytes memory signature = _signRevoke(OUTSIDER_KEY, uid, deadline);
        vm.expectRevert(
            abi.encodeWithSelector(IAttestationRegistry.AttestationRegistryInvalidSignature.selector, certifier)
        );
        attestations.revokeBySig(uid, certifier, deadline, signature);
    }

    function test_RevertWhen_RevokeBySigFromNonIssuer() public {
        bytes32 uid = _attestAsCertifier();
        bytes memory signature = _signRevoke(SUPPLIER_KEY, uid, deadline);
        vm.expectRevert(
            abi.encodeWithSelector(IAttestationRegistry.AttestationRegistryNotIssuer.selector, uid, supplier)
        );
        attestations.revokeBySig(uid, supplier, deadline, signature);
    }

    function test_RevertWhen_RevokeBySigReplayed() public {
        bytes32 uid = _attestAsCertifier();
        bytes memory signature = _signRevoke(CERTIFIER_KEY, uid, deadline);
        attestations.revokeBySig(uid, certifier, deadline, signature);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestationRegistry.AttestationRegistryAlreadyRevoked.selector, uid, uint64(block.timestamp)
            )
        );
        attestations.revokeBySig(uid, certifier, deadline, signature);
    }

    // ------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------

    function test_GetAttestation_UnknownIsAllZero() public view {
        IAttestationRegistry.Attestation memory a = attestations.getAttestation(keccak256("ghost"));
        assertEq(a.uid, bytes32(0), "uid");
        assertEq(a.issuer, address(0), "issuer");
        assertEq(a.issuedAt, 0, "issuedAt");
        assertFalse(attestations.isValid(keccak256("ghost")), "not valid");
    }

    function test_Registry_IsImmutableConstructorArgument() public view {
        assertEq(address(attestations.REGISTRY()), address(registry));
    }

    function test_TypeHashesMatchSpecification() public view {
        assertEq(attestations.ATTEST_TYPEHASH(), SigUtils.ATTEST_TYPEHASH, "ATTEST_TYPEHASH");
        assertEq(attestations.REVOKE_TYPEHASH(), SigUtils.REVOKE_TYPEHASH, "REVOKE_TYPEHASH");
    }

    function test_Eip712Domain() public view {
        _assertDomain(attestations.eip712Domain, "AttestationRegistry", address(attestations));
    }

    // ------------------------------------------------------------------------------------
    // Fuzz
    // ------------------------------------------------------------------------------------

    function testFuzz_AttestThenRevoke(bytes32 subject, bytes32 dataHash, uint32 lifetime, uint32 revokeAfter) public {
        IAttestationRegistry.AttestationRequest memory request = _certRequest();
        request.subject = subject;
        request.dataHash = dataHash;
        request.expiresAt = lifetime == 0 ? 0 : uint64(block.timestamp + lifetime);

        vm.prank(certifier);
        bytes32 uid = attestations.attest(request);
        assertEq(uid, keccak256(abi.encode(request, certifier)), "uid");
        assertTrue(attestations.isValid(uid), "valid when issued");

        vm.warp(block.timestamp + revokeAfter);
        bool expired = request.expiresAt != 0 && vm.getBlockTimestamp() >= request.expiresAt;
        assertEq(attestations.isValid(uid), !expired, "validity follows expiry");

        vm.prank(certifier);
        attestations.revoke(uid);
        assertFalse(attestations.isValid(uid), "revoked");
        assertEq(attestations.getAttestation(uid).revokedAt, block.timestamp, "revokedAt");

        vm.warp(block.timestamp + 365 days);
        assertFalse(attestations.isValid(uid), "stays revoked");
    }

    function testFuzz_AttestBySigFromAnyCertifierKey(uint256 key, bytes32 subject) public {
        key = bound(key, 1, 0xFFFF_FFFF_FFFF_FFFF);
        address issuer = vm.addr(key);
        vm.assume(registry.rolesOf(ACME, issuer) == 0);
        vm.prank(coordinator);
        registry.addMember(ACME, issuer, Roles.CERTIFIER);

        IAttestationRegistry.AttestationRequest memory request = _certRequest();
        request.subject = subject;
        IAttestationRegistry.SignedAttestationRequest memory signed = _signed(key, request, deadline);
        bytes32 uid = attestations.attestBySig(signed);
        assertEq(attestations.getAttestation(uid).issuer, issuer, "issuer");

        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationRegistryAttestationExists.selector, uid));
        attestations.attestBySig(signed);
    }

    function testFuzz_RevertWhen_IssuerHoldsNoneOfRequiredRoles(uint256 required, uint256 held) public {
        required = bound(required, 1, Roles.ALL);
        held = bound(held, 1, Roles.ALL);
        vm.assume(required & held == 0);
        bytes32 schema = attestations.registerSchema("fuzz", true, required);
        vm.prank(coordinator);
        registry.addMember(ACME, outsider, held);

        IAttestationRegistry.AttestationRequest memory request = _request(schema, keccak256("s"), 0, true);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestationRegistry.AttestationRegistryUnauthorizedIssuer.selector, ACME, outsider, required
            )
        );
        vm.prank(outsider);
        attestations.attest(request);
    }
}

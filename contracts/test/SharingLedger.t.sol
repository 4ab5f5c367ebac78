// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ConstellateTest} from "./base/ConstellateTest.sol";
import {SigUtils} from "./base/SigUtils.sol";

import {SharingLedger} from "../SharingLedger.sol";
import {ISharingLedger} from "../interfaces/ISharingLedger.sol";

/// @title SharingLedgerTest
/// @notice Specification of SharingLedger: grants anchored once by members, revoked once by
/// their grantor, expiry, and the nonce-free EIP-712 paths.
contract SharingLedgerTest is ConstellateTest {
    bytes32 internal constant GRANT = keccak256("grant-1");
    bytes32 internal constant AUDIENCE = keccak256("audience: retailer-eu");
    bytes32 internal constant TERMS = keccak256("terms: read lots 2026");

    SharingLedger internal ledger;
    uint64 internal expiresAt;
    uint256 internal deadline;

    function setUp() public override {
        super.setUp();
        ledger = new SharingLedger(registry);
        vm.label(address(ledger), "SharingLedger");
        expiresAt = uint64(block.timestamp + 30 days);
        deadline = block.timestamp + 1 hours;
    }

    // ------------------------------------------------------------------------------------
    // Helpers
    // ------------------------------------------------------------------------------------

    function _signGrant(uint256 key, bytes32 grantId, uint64 expiry, uint256 dl) internal view returns (bytes memory) {
        bytes32 structHash =
            keccak256(abi.encode(SigUtils.ANCHOR_GRANT_TYPEHASH, grantId, ACME, AUDIENCE, TERMS, expiry, dl));
        return _sign(key, _digest("SharingLedger", address(ledger), structHash));
    }

    function _signRevoke(uint256 key, bytes32 grantId, uint256 dl) internal view returns (bytes memory) {
        bytes32 structHash = keccak256(abi.encode(SigUtils.REVOKE_GRANT_TYPEHASH, grantId, dl));
        return _sign(key, _digest("SharingLedger", address(ledger), structHash));
    }

    function _grantAsSupplier() internal {
        vm.prank(supplier);
        ledger.anchorGrant(GRANT, ACME, AUDIENCE, TERMS, expiresAt);
    }

    // ------------------------------------------------------------------------------------
    // anchorGrant
    // ------------------------------------------------------------------------------------

    function test_AnchorGrant_RecordsAndEmits() public {
        vm.warp(block.timestamp + 1 days);
        uint256 anchoredAt = block.timestamp;
        vm.expectEmit(true, true, true, true, address(ledger));
        emit ISharingLedger.GrantAnchored(GRANT, ACME, supplier, AUDIENCE, TERMS, expiresAt);
        _grantAsSupplier();

        ISharingLedger.Grant memory grant = ledger.getGrant(GRANT);
        assertEq(grant.grantor, supplier, "grantor");
        assertEq(grant.anchoredAt, anchoredAt, "anchoredAt");
        assertEq(grant.expiresAt, expiresAt, "expiresAt");
        assertEq(grant.revokedAt, 0, "revokedAt");
        assertEq(grant.constellation, ACME, "constellation");
        assertEq(grant.audienceHash, AUDIENCE, "audienceHash");
        assertEq(grant.termsHash, TERMS, "termsHash");
        assertTrue(ledger.isActive(GRANT), "active");
    }

    function test_AnchorGrant_ZeroExpiryLastsUntilRevoked() public {
        vm.prank(coordinator); // any member may grant, whatever its roles
        ledger.anchorGrant(GRANT, ACME, AUDIENCE, TERMS, 0);
        vm.warp(block.timestamp + 3650 days);
        assertTrue(ledger.isActive(GRANT));
    }

    function test_AnchorGrant_InactiveFromExpiresAt() public {
        _grantAsSupplier();
        vm.warp(expiresAt - 1);
        assertTrue(ledger.isActive(GRANT), "active before expiry");
        vm.warp(expiresAt);
        assertFalse(ledger.isActive(GRANT), "inactive at expiry");
    }

    function test_RevertWhen_GrantIdIsZero() public {
        vm.expectRevert(ISharingLedger.SharingLedgerZeroGrantId.selector);
        vm.prank(supplier);
        ledger.anchorGrant(bytes32(0), ACME, AUDIENCE, TERMS, expiresAt);
    }

    function test_RevertWhen_GrantAnchoredTwice() public {
        _grantAsSupplier();
        vm.expectRevert(abi.encodeWithSelector(ISharingLedger.SharingLedgerGrantExists.selector, GRANT));
        vm.prank(logistics);
        ledger.anchorGrant(GRANT, ACME, AUDIENCE, TERMS, 0);
    }

    function test_RevertWhen_GrantExpiryNotInFuture() public {
        uint64 past = uint64(block.timestamp);
        vm.expectRevert(
            abi.encodeWithSelector(ISharingLedger.SharingLedgerInvalidExpiry.selector, past, block.timestamp)
        );
        vm.prank(supplier);
        ledger.anchorGrant(GRANT, ACME, AUDIENCE, TERMS, past);
    }

    function test_RevertWhen_NonMemberGrants() public {
        vm.expectRevert(abi.encodeWithSelector(ISharingLedger.SharingLedgerNotMember.selector, ACME, outsider));
        vm.prank(outsider);
        ledger.anchorGrant(GRANT, ACME, AUDIENCE, TERMS, expiresAt);
    }

    // ------------------------------------------------------------------------------------
    // anchorGrantBySig
    // ------------------------------------------------------------------------------------

    function test_AnchorGrantBySig_RecordsForSigner() public {
        bytes memory signature = _signGrant(SUPPLIER_KEY, GRANT, expiresAt, deadline);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit ISharingLedger.GrantAnchored(GRANT, ACME, supplier, AUDIENCE, TERMS, expiresAt);
        vm.prank(relayer);
        ledger.anchorGrantBySig(GRANT, ACME, AUDIENCE, TERMS, expiresAt, supplier, deadline, signature);
        assertEq(ledger.getGrant(GRANT).grantor, supplier, "grantor is the signer");
    }

    function test_RevertWhen_AnchorGrantBySigExpired() public {
        bytes memory signature = _signGrant(SUPPLIER_KEY, GRANT, expiresAt, deadline);
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(ISharingLedger.SharingLedgerExpiredSignature.selector, deadline));
        ledger.anchorGrantBySig(GRANT, ACME, AUDIENCE, TERMS, expiresAt, supplier, deadline, signature);
    }

    function test_RevertWhen_AnchorGrantBySigWrongSigner() public {
        bytes memory signature = _signGrant(LOGISTICS_KEY, GRANT, expiresAt, deadline);
        vm.expectRevert(abi.encodeWithSelector(ISharingLedger.SharingLedgerInvalidSignature.selector, supplier));
        ledger.anchorGrantBySig(GRANT, ACME, AUDIENCE, TERMS, expiresAt, supplier, deadline, signature);
    }

    function test_RevertWhen_AnchorGrantBySigExpiryTampered() public {
        bytes memory signature = _signGrant(SUPPLIER_KEY, GRANT, expiresAt, deadline);
        vm.expectRevert(abi.encodeWithSelector(ISharingLedger.SharingLedgerInvalidSignature.selector, supplier));
        ledger.anchorGrantBySig(GRANT, ACME, AUDIENCE, TERMS, 0, supplier, deadline, signature);
    }

    function test_RevertWhen_AnchorGrantBySigReplayed() public {
        bytes memory signature = _signGrant(SUPPLIER_KEY, GRANT, expiresAt, deadline);
        ledger.anchorGrantBySig(GRANT, ACME, AUDIENCE, TERMS, expiresAt, supplier, deadline, signature);
        vm.expectRevert(abi.encodeWithSelector(ISharingLedger.SharingLedgerGrantExists.selector, GRANT));
        ledger.anchorGrantBySig(GRANT, ACME, AUDIENCE, TERMS, expiresAt, supplier, deadline, signature);
    }

    function test_RevertWhen_AnchorGrantBySigSignerNotMember() public {
        bytes memory signature = _signGrant(OUTSIDER_KEY, GRANT, expiresAt, deadline);
        vm.expectRevert(abi.encodeWithSelector(ISharingLedger.SharingLedgerNotMember.selector, ACME, outsider));
        vm.prank(supplier);
        ledger.anchorGrantBySig(GRANT, ACME, AUDIENCE, TERMS, expiresAt, outsider, deadline, signature);
    }

    // ------------------------------------------------------------------------------------
    // revokeGrant / revokeGrantBySig
    // ------------------------------------------------------------------------------------

    function test_RevokeGrant_MarksRevokedAndEmits() public {
        _grantAsSupplier();
        vm.warp(block.timestamp + 1 days);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit ISharingLedger.GrantRevoked(GRANT, ACME, supplier, uint64(block.timestamp));
        vm.prank(supplier);
        ledger.revokeGrant(GRANT);

        assertEq(ledger.getGrant(GRANT).revokedAt, block.timestamp, "revokedAt");
        assertFalse(ledger.isActive(GRANT), "inactive");
    }

    function test_RevertWhen_RevokeUnknownGrant() public {
        vm.expectRevert(abi.encodeWithSelector(ISharingLedger.SharingLedgerUnknownGrant.selector, GRANT));
        vm.prank(supplier);
        ledger.revokeGrant(GRANT);
    }

    function test_RevertWhen_NonGrantorRevokes() public {
        _grantAsSupplier();
        vm.expectRevert(abi.encodeWithSelector(ISharingLedger.SharingLedgerNotGrantor.selector, GRANT, coordinator));
        vm.prank(coordinator);
        ledger.revokeGrant(GRANT);
    }

    function test_RevertWhen_GrantRevokedTwice() public {
        _grantAsSupplier();
        vm.prank(supplier);
        ledger.revokeGrant(GRANT);
        uint64 revokedAt = uint64(block.timestamp);
        vm.warp(block.timestamp + 5);
        vm.expectRevert(abi.encodeWithSelector(ISharingLedger.SharingLedgerAlreadyRevoked.selector, GRANT, revokedAt));
        vm.prank(supplier);
        ledger.revokeGrant(GRANT);
    }

    function test_RevokeGrantBySig_RevokesForSigner() public {
        _grantAsSupplier();
        bytes memory signature = _signRevoke(SUPPLIER_KEY, GRANT, deadline);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit ISharingLedger.GrantRevoked(GRANT, ACME, supplier, uint64(block.timestamp));
        vm.prank(relayer);
        ledger.revokeGrantBySig(GRANT, supplier, deadline, signature);
        assertFalse(ledger.isActive(GRANT));
    }

    function test_RevertWhen_RevokeGrantBySigExpired() public {
        _grantAsSupplier();
        bytes memory signature = _signRevoke(SUPPLIER_KEY, GRANT, deadline);
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(ISharingLedger.SharingLedgerExpiredSignature.selector, deadline));
        ledger.revokeGrantBySig(GRANT, supplier, deadline, signature);
    }

    function test_RevertWhen_RevokeGrantBySigWrongSigner() public {
        _grantAsSupplier();
        bytes memory signature = _signRevoke(OUTSIDER_KEY, GRANT, deadline);
        vm.expectRevert(abi.encodeWithSelector(ISharingLedger.SharingLedgerInvalidSignature.selector, supplier));
        ledger.revokeGrantBySig(GRANT, supplier, deadline, signature);
    }

    function test_RevertWhen_RevokeGrantBySigFromNonGrantor() public {
        _grantAsSupplier();
        bytes memory signature = _signRevoke(LOGISTICS_KEY, GRANT, deadline);
        vm.expectRevert(abi.encodeWithSelector(ISharingLedger.SharingLedgerNotGrantor.selector, GRANT, logistics));
        ledger.revokeGrantBySig(GRANT, logistics, deadline, signature);
    }

    function test_RevertWhen_RevokeGrantBySigReplayed() public {
        _grantAsSupplier();
        bytes memory signature = _signRevoke(SUPPLIER_KEY, GRANT, deadline);
        ledger.revokeGrantBySig(GRANT, supplier, deadline, signature);
        vm.expectRevert(
            abi.encodeWithSelector(ISharingLedger.SharingLedgerAlreadyRevoked.selector, GRANT, uint64(block.timestamp))
        );
        ledger.revokeGrantBySig(GRANT, supplier, deadline, signature);
    }

    // ------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------

    function test_GetGrant_UnknownIsAllZero() public view {
        ISharingLedger.Grant memory grant = ledger.getGrant(GRANT);
        assertEq(grant.grantor, address(0), "grantor");
        assertEq(grant.anchoredAt, 0, "anchoredAt");
        assertEq(grant.constellation, bytes32(0), "constellation");
        assertFalse(ledger.isActive(GRANT), "inactive");
    }

    function test_Registry_IsImmutableConstructorArgument() public view {
        assertEq(address(ledger.REGISTRY()), address(registry));
    }

    function test_TypeHashesMatchSpecification() public view {
        assertEq(ledger.ANCHOR_GRANT_TYPEHASH(), SigUtils.ANCHOR_GRANT_TYPEHASH, "ANCHOR_GRANT_TYPEHASH");
        assertEq(ledger.REVOKE_GRANT_TYPEHASH(), SigUtils.REVOKE_GRANT_TYPEHASH, "REVOKE_GRANT_TYPEHASH");
    }

    function test_Eip712Domain() public view {
        _assertDomain(ledger.eip712Domain, "SharingLedger", address(ledger));
    }

    // ------------------------------------------------------------------------------------
    // Fuzz
    // ------------------------------------------------------------------------------------

    function testFuzz_GrantLifecycle(bytes32 grantId, uint32 lifetime, uint32 elapsed) public {
        vm.assume(grantId != bytes32(0));
        uint64 expiry = lifetime == 0 ? 0 : uint64(block.timestamp + lifetime);
        bytes memory signature = _signGrant(SUPPLIER_KEY, grantId, expiry, deadline);
        vm.prank(relayer);
        ledger.anchorGrantBySig(grantId, ACME, AUDIENCE, TERMS, expiry, supplier, deadline, signature);
        assertTrue(ledger.isActive(grantId), "active when anchored");

        vm.warp(block.timestamp + elapsed);
        bool expired = expiry != 0 && vm.getBlockTimestamp() >= expiry;
        assertEq(ledger.isActive(grantId), !expired, "activity follows expiry");

        vm.prank(supplier);
        ledger.revokeGrant(grantId);
        assertFalse(ledger.isActive(grantId), "revoked");
        vm.warp(block.timestamp + 365 days);
        assertFalse(ledger.isActive(grantId), "stays revoked");
    }

    function testFuzz_RevertWhen_GrantExpiryNotInFuture(uint64 expiry) public {
        expiry = uint64(bound(expiry, 1, block.timestamp));
        vm.expectRevert(
            abi.encodeWithSelector(ISharingLedger.SharingLedgerInvalidExpiry.selector, expiry, block.timestamp)
        );
        vm.prank(supplier);
        ledger.anchorGrant(GRANT, ACME, AUDIENCE, TERMS, expiry);
    }
}

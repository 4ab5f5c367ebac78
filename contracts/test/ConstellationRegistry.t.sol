// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ConstellateTest} from "./base/ConstellateTest.sol";
import {SigUtils} from "./base/SigUtils.sol";
import {Vm} from "./base/Vm.sol";

import {ConstellationRegistry} from "../ConstellationRegistry.sol";
import {IConstellationRegistry} from "../interfaces/IConstellationRegistry.sol";
import {Roles} from "../libraries/Roles.sol";

/// @title ConstellationRegistryTest
/// @notice Specification of ConstellationRegistry: creation, membership, role changes,
/// the counters, the last-coordinator rule and the EIP-712 paths.
contract ConstellationRegistryTest is ConstellateTest {
    uint256 internal deadline;

    function setUp() public override {
        super.setUp();
        deadline = block.timestamp + 1 hours;
    }

    // ------------------------------------------------------------------------------------
    // Helpers
    // ------------------------------------------------------------------------------------

    function _signSetRoles(
        uint256 key,
        bytes32 constellation,
        address account,
        uint256 roles,
        uint256 nonce,
        uint256 dl
    ) internal view returns (bytes memory) {
        bytes32 structHash =
            keccak256(abi.encode(SigUtils.SET_ROLES_TYPEHASH, constellation, account, roles, nonce, dl));
        return _sign(key, _digest("ConstellationRegistry", address(registry), structHash));
    }

    function _signCreate(uint256 key, bytes32 constellation, string memory name, uint256 nonce, uint256 dl)
        internal
        view
        returns (bytes memory)
    {
        bytes32 structHash = keccak256(
            abi.encode(SigUtils.CREATE_CONSTELLATION_TYPEHASH, constellation, keccak256(bytes(name)), nonce, dl)
        );
        return _sign(key, _digest("ConstellationRegistry", address(registry), structHash));
    }

    function _expectRolesChanged(bytes32 constellation, address account, address by, uint256 previous, uint256 roles)
        internal
    {
        vm.expectEmit(true, true, true, true, address(registry));
        emit IConstellationRegistry.RolesChanged(constellation, account, by, previous, roles);
    }

    function _assertCounts(bytes32 constellation, uint256 members, uint256 coordinators) internal view {
        IConstellationRegistry.Constellation memory record = registry.getConstellation(constellation);
        assertEq(record.memberCount, members, "memberCount");
        assertEq(record.coordinatorCount, coordinators, "coordinatorCount");
    }

    function _err(bytes4 selector, bytes32 constellation, address account) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(selector, constellation, account);
    }

    // ------------------------------------------------------------------------------------
    // createConstellation
    // ------------------------------------------------------------------------------------

    function test_CreateConstellation_CreatorBecomesOnlyCoordinator() public {
        vm.warp(1_800_000_000);
        vm.prank(supplier);
        registry.createConstellation(OTHER, "Other");

        IConstellationRegistry.Constellation memory record = registry.getConstellation(OTHER);
        assertEq(record.creator, supplier, "creator");
        assertEq(record.createdAt, 1_800_000_000, "createdAt");
        _assertCounts(OTHER, 1, 1);
        assertTrue(registry.exists(OTHER), "exists");
        assertEq(registry.rolesOf(OTHER, supplier), Roles.COORDINATOR, "roles");
    }

    function test_CreateConstellation_EmitsCreatedThenRolesChanged() public {
        vm.recordLogs();
        vm.prank(supplier);
        registry.createConstellation(OTHER, "Other");

        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 2, "two events");
        assertEq(logs[0].topics[0], IConstellationRegistry.ConstellationCreated.selector, "first: created");
        assertEq(logs[0].topics[1], OTHER, "created: constellation");
        assertEq(logs[0].topics[2], bytes32(uint256(uint160(supplier))), "created: coordinator");
        assertEq(abi.decode(logs[0].data, (string)), "Other", "created: name");
        assertEq(logs[1].topics[0], IConstellationRegistry.RolesChanged.selector, "second: roles changed");
        assertEq(logs[1].topics[2], bytes32(uint256(uint160(supplier))), "roles changed: account");
        assertEq(logs[1].topics[3], bytes32(uint256(uint160(supplier))), "roles changed: by");
        (uint256 previous, uint256 roles) = abi.decode(logs[1].data, (uint256, uint256));
        assertEq(previous, 0, "previous roles");
        assertEq(roles, Roles.COORDINATOR, "new roles");
    }

    function test_CreateConstellation_EmitsExactEvents() public {
        vm.expectEmit(true, true, true, true, address(registry));
        emit IConstellationRegistry.ConstellationCreated(OTHER, outsider, "Other");
        _expectRolesChanged(OTHER, outsider, outsider, 0, Roles.COORDINATOR);
        vm.prank(outsider);
        registry.createConstellation(OTHER, "Other");
    }

    function test_RevertWhen_ConstellationExists() public {
        vm.expectRevert(
            abi.encodeWithSelector(IConstellationRegistry.ConstellationRegistryConstellationExists.selector, ACME)
        );
        vm.prank(outsider);
        registry.createConstellation(ACME, "Squatter");
    }

    // ------------------------------------------------------------------------------------
    // createConstellationBySig
    // ------------------------------------------------------------------------------------

    function test_CreateConstellationBySig_RelayerCreatesForSigner() public {
        bytes memory signature = _signCreate(OUTSIDER_KEY, OTHER, "Other", 0, deadline);

        vm.expectEmit(true, true, true, true, address(registry));
        emit IConstellationRegistry.ConstellationCreated(OTHER, outsider, "Other");
        _expectRolesChanged(OTHER, outsider, outsider, 0, Roles.COORDINATOR);
        vm.prank(relayer);
        registry.createConstellationBySig(OTHER, "Other", outsider, deadline, signature);

        assertEq(registry.getConstellation(OTHER).creator, outsider, "creator is the signer");
        assertEq(registry.rolesOf(OTHER, outsider), Roles.COORDINATOR, "signer coordinates");
        assertEq(registry.rolesOf(OTHER, relayer), 0, "relayer gets nothing");
        assertEq(registry.nonces(outsider), 1, "nonce consumed");
    }

    function test_CreateConstellationBySig_AcceptsDeadlineEqualToNow() public {
        bytes memory signature = _signCreate(OUTSIDER_KEY, OTHER, "Other", 0, block.timestamp);
        registry.createConstellationBySig(OTHER, "Other", outsider, block.timestamp, signature);
        assertTrue(registry.exists(OTHER));
    }

    function test_RevertWhen_CreateConstellationBySigExpired() public {
        bytes memory signature = _signCreate(OUTSIDER_KEY, OTHER, "Other", 0, deadline);
        vm.warp(deadline + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IConstellationRegistry.ConstellationRegistryExpiredSignature.selector, deadline)
        );
        registry.createConstellationBySig(OTHER, "Other", outsider, deadline, signature);
    }

    function test_RevertWhen_CreateConstellationBySigWrongSigner() public {
        bytes memory signature = _signCreate(SUPPLIER_KEY, OTHER, "Other", 0, deadline);
        vm.expectRevert(
            abi.encodeWithSelector(IConstellationRegistry.ConstellationRegistryInvalidSignature.selector, outsider)
        );
        registry.createConstellationBySig(OTHER, "Other", outsider, deadline, signature);
    }

    function test_RevertWhen_CreateConstellationBySigNameTampered() public {
        bytes memory signature = _signCreate(OUTSIDER_KEY, OTHER, "Other", 0, deadline);
        vm.expectRevert(
            abi.encodeWithSelector(IConstellationRegistry.ConstellationRegistryInvalidSignature.selector, outsider)
        );
        registry.createConstellationBySig(OTHER, "Tampered", outsider, deadline, signature);
    }

    function test_RevertWhen_CreateConstellationBySigMalformed() public {
        vm.expectRevert(
            abi.encodeWithSelector(IConstellationRegistry.ConstellationRegistryInvalidSignature.selector, outsider)
        );
        registry.createConstellationBySig(OTHER, "Other", outsider, deadline, hex"deadbeef");
    }

    function test_RevertWhen_CreateConstellationBySigReplayed() public {
        bytes32 third = keccak256("third");
        bytes memory signature = _signCreate(OUTSIDER_KEY, OTHER, "Other", 0, deadline);
        registry.createConstellationBySig(OTHER, "Other", outsider, deadline, signature);

        // The same signature for a fresh id: the nonce has moved on.
        bytes memory again = _signCreate(OUTSIDER_KEY, third, "Other", 0, deadline);
        vm.expectRevert(
            abi.encodeWithSelector(IConstellationRegistry.ConstellationRegistryInvalidSignature.selector, outsider)
        );
        registry.createConstellationBySig(third, "Other", outsider, deadline, again);
    }

    function test_RevertWhen_CreateConstellationBySigForExistingId() public {
        bytes memory signature = _signCreate(OUTSIDER_KEY, ACME, "Acme", 0, deadline);
        vm.expectRevert(
            abi.encodeWithSelector(IConstellationRegistry.ConstellationRegistryConstellationExists.selector, ACME)
        );
        registry.createConstellationBySig(ACME, "Acme", outsider, deadline, signature);
    }

    // ------------------------------------------------------------------------------------
    // addMember
    // ------------------------------------------------------------------------------------

    function test_AddMember_RecordsRolesAndCounts() public {
        _expectRolesChanged(ACME, outsider, coordinator, 0, Roles.BRAND | Roles.RETAILER);
        vm.prank(coordinator);
        registry.addMember(ACME, outsider, Roles.BRAND | Roles.RETAILER);

        assertEq(registry.rolesOf(ACME, outsider), Roles.BRAND | Roles.RETAILER, "roles");
        assertTrue(registry.isMember(ACME, outsider), "member");
        _assertCounts(ACME, 6, 1);
    }

    function test_AddMember_WithCoordinatorRoleCountsCoordinator() public {
        vm.prank(coordinator);
        registry.addMember(ACME, outsider, Roles.COORDINATOR | Roles.BRAND);
        _assertCounts(ACME, 6, 2);
    }

    function test_RevertWhen_AddMemberToUnknownConstellation() public {
        vm.expectRevert(
            abi.encodeWithSelector(IConstellationRegistry.ConstellationRegistryUnknownConstellation.selector, OTHER)
        );
        vm.prank(coordinator);
        registry.addMember(OTHER, outsider, Roles.SUPPLIER);
    }

    function test_RevertWhen_NonCoordinatorAddsMember() public {
        vm.expectRevert(_err(IConstellationRegistry.ConstellationRegistryNotCoordinator.selector, ACME, supplier));
        vm.prank(supplier);
        registry.addMember(ACME, outsider, Roles.SUPPLIER);
    }

    function test_RevertWhen_AddMemberZeroAddress() public {
        vm.expectRevert(IConstellationRegistry.ConstellationRegistryZeroAddress.selector);
        vm.prank(coordinator);
        registry.addMember(ACME, address(0), Roles.SUPPLIER);
    }

    function test_RevertWhen_AddMemberTwice() public {
        vm.expectRevert(_err(IConstellationRegistry.ConstellationRegistryAlreadyMember.selector, ACME, supplier));
        vm.prank(coordinator);
        registry.addMember(ACME, supplier, Roles.BRAND);
    }

    function test_RevertWhen_AddMemberWithoutRoles() public {
        vm.expectRevert(abi.encodeWithSelector(IConstellationRegistry.ConstellationRegistryInvalidRoles.selector, 0));
        vm.prank(coordinator);
        registry.addMember(ACME, outsider, 0);
    }

    function test_RevertWhen_AddMemberWithUndefinedRole() public {
        vm.expectRevert(
            abi.encodeWithSelector(IConstellationRegistry.ConstellationRegistryInvalidRoles.selector, 1 << 8)
        );
        vm.prank(coordinator);
        registry.addMember(ACME, outsider, 1 << 8);
    }

    // ------------------------------------------------------------------------------------
    // removeMember
    // ------------------------------------------------------------------------------------

    function test_RemoveMember_ClearsRolesAndCount() public {
        _expectRolesChanged(ACME, supplier, coordinator, Roles.SUPPLIER, 0);
        vm.prank(coordinator);
        registry.removeMember(ACME, supplier);

        assertEq(registry.rolesOf(ACME, supplier), 0, "roles cleared");
        assertFalse(registry.isMember(ACME, supplier), "not a member");
        _assertCounts(ACME, 4, 1);
    }

    function test_RemoveMember_CoordinatorLeavesWhenAnotherRemains() public {
        vm.startPrank(coordinator);
        registry.addMember(ACME, outsider, Roles.COORDINATOR);
        registry.removeMember(ACME, coordinator);
        vm.stopPrank();

        assertFalse(registry.isMember(ACME, coordinator), "left");
        _assertCounts(ACME, 5, 1);
    }

    function test_RevertWhen_RemoveMemberFromUnknownConstellation() public {
        vm.expectRevert(
            abi.encodeWithSelector(IConstellationRegistry.ConstellationRegistryUnknownConstellation.selector, OTHER)
        );
        vm.prank(coordinator);
        registry.removeMember(OTHER, supplier);
    }

    function test_RevertWhen_NonCoordinatorRemovesMember() public {
        vm.expectRevert(_err(IConstellationRegistry.ConstellationRegistryNotCoordinator.selector, ACME, logistics));
        vm.prank(logistics);
        registry.removeMember(ACME, supplier);
    }

    function test_RevertWhen_RemoveNonMember() public {
        vm.expectRevert(_err(IConstellationRegistry.ConstellationRegistryNotMember.selector, ACME, outsider));
        vm.prank(coordinator);
        registry.removeMember(ACME, outsider);
    }

    function test_RevertWhen_RemoveLastCoordinator() public {
        vm.expectRevert(
            abi.encodeWithSelector(IConstellationRegistry.ConstellationRegistryLastCoordinator.selector, ACME)
        );
        vm.prank(coordinator);
        registry.removeMember(ACME, coordinator);
    }

    // ------------------------------------------------------------------------------------
    // grantRoles
    // ------------------------------------------------------------------------------------

    function test_GrantRoles_AddsToMask() public {
        _expectRolesChanged(ACME, supplier, coordinator, Roles.SUPPLIER, Roles.SUPPLIER | Roles.MANUFACTURER);
        vm.prank(coordinator);
        registry.grantRoles(ACME, supplier, Roles.MANUFACTURER);

        assertEq(registry.rolesOf(ACME, supplier), Roles.SUPPLIER | Roles.MANUFACTURER, "roles");
        _assertCounts(ACME, 5, 1);
    }

    function test_GrantRoles_CoordinatorRoleCountsCoordinator() public {
        vm.prank(coordinator);
        registry.grantRoles(ACME, supplier, Roles.COORDINATOR);
        _assertCounts(ACME, 5, 2);

        // The new coordinator may now manage members.
        vm.prank(supplier);
        registry.addMember(ACME, outsider, Roles.RETAILER);
        assertEq(registry.rolesOf(ACME, outsider), Roles.RETAILER);
    }

    function test_GrantRoles_AlreadyHeldIsSilentNoOp() public {
        vm.recordLogs();
        vm.prank(coordinator);
        registry.grantRoles(ACME, supplier, Roles.SUPPLIER);
        assertEq(vm.getRecordedLogs().length, 0, "no event for an unchanged mask");
        assertEq(registry.rolesOf(ACME, supplier), Roles.SUPPLIER);
    }

    function test_RevertWhen_GrantRolesInUnknownConstellation() public {
        vm.expectRevert(
            abi.encodeWithSelector(IConstellationRegistry.ConstellationRegistryUnknownConstellation.selector, OTHER)
        );
        vm.prank(coordinator);
        registry.grantRoles(OTHER, supplier, Roles.BRAND);
    }

    function test_RevertWhen_NonCoordinatorGrantsRoles() public {
        vm.expectRevert(_err(IConstellationRegistry.ConstellationRegistryNotCoordinator.selector, ACME, supplier));
        vm.prank(supplier);
        registry.grantRoles(ACME, supplier, Roles.COORDINATOR);
    }

    function test_RevertWhen_GrantRolesToNonMember() public {
        vm.expectRevert(_err(IConstellationRegistry.ConstellationRegistryNotMember.selector, ACME, outsider));
        vm.prank(coordinator);
        registry.grantRoles(ACME, outsider, Roles.BRAND);
    }

    function test_RevertWhen_GrantInvalidRoles() public {
        vm.startPrank(coordinator);
        vm.expectRevert(abi.encodeWithSelector(IConstellationRegistry.ConstellationRegistryInvalidRoles.selector, 0));
        registry.grantRoles(ACME, supplier, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IConstellationRegistry.ConstellationRegistryInvalidRoles.selector, 1 << 200)
        );
        registry.grantRoles(ACME, supplier, 1 << 200);
        vm.stopPrank();
    }

    // ------------------------------------------------------------------------------------
    // revokeRoles
    // ------------------------------------------------------------------------------------

    function test_RevokeRoles_RemovesFromMask() public {
        vm.startPrank(coordinator);
        registry.grantRoles(ACME, supplier, Roles.BRAND);
        _expectRolesChanged(ACME, supplier, coordinator, Roles.SUPPLIER | Roles.BRAND, Roles.BRAND);
        registry.revokeRoles(ACME, supplier, Roles.SUPPLIER);
        vm.stopPrank();

        assertEq(registry.rolesOf(ACME, supplier), Roles.BRAND, "roles");
        _assertCounts(ACME, 5, 1);
    }

    function test_RevokeRoles_RemovingEveryRoleRemovesMember() public {
        _expectRolesChanged(ACME, supplier, coordinator, Roles.SUPPLIER, 0);
        vm.prank(coordinator);
        registry.revokeRoles(ACME, supplier, Roles.ALL);

        assertFalse(registry.isMember(ACME, supplier), "removed");
        _assertCounts(ACME, 4, 1);
    }

    function test_RevokeRoles_RolesNotHeldIsSilentNoOp() public {
        vm.recordLogs();
        vm.prank(coordinator);
        registry.revokeRoles(ACME, supplier, Roles.BRAND);
        assertEq(vm.getRecordedLogs().length, 0, "no event for an unchanged mask");
        assertEq(registry.rolesOf(ACME, supplier), Roles.SUPPLIER);
    }

    function test_RevokeRoles_CoordinatorRoleWhenAnotherRemains() public {
        vm.startPrank(coordinator);
        registry.grantRoles(ACME, supplier, Roles.COORDINATOR);
        registry.revokeRoles(ACME, coordinator, Roles.COORDINATOR);
        vm.stopPrank();
        _assertCounts(ACME, 4, 1);
        assertEq(registry.rolesOf(ACME, supplier), Roles.SUPPLIER | Roles.COORDINATOR);
    }

    function test_RevertWhen_RevokeLastCoordinatorRole() public {
        vm.startPrank(coordinator);
        registry.grantRoles(ACME, coordinator, Roles.BRAND);
        vm.expectRevert(
            abi.encodeWithSelector(IConstellationRegistry.ConstellationRegistryLastCoordinator.selector, ACME)
        );
        registry.revokeRoles(ACME, coordinator, Roles.COORDINATOR);
        vm.stopPrank();
    }

    function test_RevertWhen_RevokeRolesInUnknownConstellation() public {
        vm.expectRevert(
            abi.encodeWithSelector(IConstellationRegistry.ConstellationRegistryUnknownConstellation.selector, OTHER)
        );
        vm.prank(coordinator);
        registry.revokeRoles(OTHER, supplier, Roles.SUPPLIER);
    }

    function test_RevertWhen_NonCoordinatorRevokesRoles() public {
        vm.expectRevert(_err(IConstellationRegistry.ConstellationRegistryNotCoordinator.selector, ACME, certifier));
        vm.prank(certifier);
        registry.revokeRoles(ACME, supplier, Roles.SUPPLIER);
    }

    function test_RevertWhen_RevokeRolesOfNonMember() public {
        vm.expectRevert(_err(IConstellationRegistry.ConstellationRegistryNotMember.selector, ACME, outsider));
        vm.prank(coordinator);
        registry.revokeRoles(ACME, outsider, Roles.SUPPLIER);
    }

    function test_RevertWhen_RevokeInvalidRoles() public {
        vm.expectRevert(abi.encodeWithSelector(IConstellationRegistry.ConstellationRegistryInvalidRoles.selector, 0));
        vm.prank(coordinator);
        registry.revokeRoles(ACME, supplier, 0);
    }

    // ------------------------------------------------------------------------------------
    // setRolesBySig
    // ------------------------------------------------------------------------------------

    function test_SetRolesBySig_AddsNonMember() public {
        bytes memory signature = _signSetRoles(COORDINATOR_KEY, ACME, outsider, Roles.RETAILER, 0, deadline);
        _expectRolesChanged(ACME, outsider, coordinator, 0, Roles.RETAILER);
        vm.prank(relayer);
        registry.setRolesBySig(ACME, outsider, Roles.RETAILER, coordinator, deadline, signature);

        assertEq(registry.rolesOf(ACME, outsider), Roles.RETAILER, "roles");
        assertEq(registry.nonces(coordinator), 1, "nonce consumed");
        _assertCounts(ACME, 6, 1);
    }

    function test_SetRolesBySig_ReplacesMask() public {
        uint256 roles = Roles.BRAND | Roles.COORDINATOR;
        bytes memory signature = _signSetRoles(COORDINATOR_KEY, ACME, supplier, roles, 0, deadline);
        _expectRolesChanged(ACME, supplier, coordinator, Roles.SUPPLIER, roles);
        registry.setRolesBySig(ACME, supplier, roles, coordinator, deadline, signature);

        assertEq(registry.rolesOf(ACME, supplier), roles, "exact mask");
        _assertCounts(ACME, 5, 2);
    }

    function test_SetRolesBySig_ZeroRemovesMember() public {
        bytes memory signature = _signSetRoles(COORDINATOR_KEY, ACME, supplier, 0, 0, deadline);
        _expectRolesChanged(ACME, supplier, coordinator, Roles.SUPPLIER, 0);
        registry.setRolesBySig(ACME, supplier, 0, coordinator, deadline, signature);

        assertFalse(registry.isMember(ACME, supplier), "removed");
        _assertCounts(ACME, 4, 1);
    }

    function test_SetRolesBySig_NoncesAdvanceInOrder() public {
        registry.setRolesBySig(
            ACME,
            outsider,
            Roles.BRAND,
            coordinator,
            deadline,
            _signSetRoles(COORDINATOR_KEY, ACME, outsider, Roles.BRAND, 0, deadline)
        );
        registry.setRolesBySig(
            ACME,
            outsider,
            Roles.RETAILER,
            coordinator,
            deadline,
            _signSetRoles(COORDINATOR_KEY, ACME, outsider, Roles.RETAILER, 1, deadline)
        );
        assertEq(registry.rolesOf(ACME, outsider), Roles.RETAILER);
        assertEq(registry.nonces(coordinator), 2);
    }

    function test_RevertWhen_SetRolesBySigExpired() public {
        bytes memory signature = _signSetRoles(COORDINATOR_KEY, ACME, outsider, Roles.RETAILER, 0, deadline);
        vm.warp(deadline + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IConstellationRegistry.ConstellationRegistryExpiredSignature.selector, deadline)
        );
        registry.setRolesBySig(ACME, outsider, Roles.RETAILER, coordinator, deadline, signature);
    }

    function test_RevertWhen_SetRolesBySigWrongSigner() public {
        bytes memory signature = _signSetRoles(OUTSIDER_KEY, ACME, outsider, Roles.RETAILER, 0, deadline);
        vm.expectRevert(
            abi.encodeWithSelector(IConstellationRegistry.ConstellationRegistryInvalidSignature.selector, coordinator)
        );
        registry.setRolesBySig(ACME, outsider, Roles.RETAILER, coordinator, deadline, signature);
    }

    function test_RevertWhen_SetRolesBySigRolesTampered() public {
        bytes memory signature = _signSetRoles(COORDINATOR_KEY, ACME, outsider, Roles.RETAILER, 0, deadline);
        vm.expectRevert(
            abi.encodeWithSelector(IConstellationRegistry.ConstellationRegistryInvalidSignature.selector, coordinator)
        );
        registry.setRolesBySig(ACME, outsider, Roles.COORDINATOR, coordinator, deadline, signature);
    }

    function test_RevertWhen_SetRolesBySigReplayed() public {
        bytes memory signature = _signSetRoles(COORDINATOR_KEY, ACME, outsider, Roles.RETAILER, 0, deadline);
        registry.setRolesBySig(ACME, outsider, Roles.RETAILER, coordinator, deadline, signature);
        vm.prank(coordinator);
        registry.removeMember(ACME, outsider);

        vm.expectRevert(
            abi.encodeWithSelector(IConstellationRegistry.ConstellationRegistryInvalidSignature.selector, coordinator)
        );
        registry.setRolesBySig(ACME, outsider, Roles.RETAILER, coordinator, deadline, signature);
    }

    function test_RevertWhen_SetRolesBySigSignerNotCoordinator() public {
        bytes memory signature = _signSetRoles(SUPPLIER_KEY, ACME, outsider, Roles.RETAILER, 0, deadline);
        vm.expectRevert(_err(IConstellationRegistry.ConstellationRegistryNotCoordinator.selector, ACME, supplier));
        registry.setRolesBySig(ACME, outsider, Roles.RETAILER, supplier, deadline, signature);
    }

    function test_RevertWhen_SetRolesBySigUnknownConstellation() public {
        bytes memory signature = _signSetRoles(COORDINATOR_KEY, OTHER, outsider, Roles.RETAILER, 0, deadline);
        vm.expectRevert(
            abi.encodeWithSelector(IConstellationRegistry.ConstellationRegistryUnknownConstellation.selector, OTHER)
        );
        registry.setRolesBySig(OTHER, outsider, Roles.RETAILER, coordinator, deadline, signature);
    }

    function test_RevertWhen_SetRolesBySigZeroAddress() public {
        bytes memory signature = _signSetRoles(COORDINATOR_KEY, ACME, address(0), Roles.RETAILER, 0, deadline);
        vm.expectRevert(IConstellationRegistry.ConstellationRegistryZeroAddress.selector);
        registry.setRolesBySig(ACME, address(0), Roles.RETAILER, coordinator, deadline, signature);
    }

    function test_RevertWhen_SetRolesBySigRemovesNonMember() public {
        bytes memory signature = _signSetRoles(COORDINATOR_KEY, ACME, outsider, 0, 0, deadline);
        vm.expectRevert(_err(IConstellationRegistry.ConstellationRegistryNotMember.selector, ACME, outsider));
        registry.setRolesBySig(ACME, outsider, 0, coordinator, deadline, signature);
    }

    function test_RevertWhen_SetRolesBySigUndefinedRole() public {
        uint256 roles = Roles.SUPPLIER | (1 << 9);
        bytes memory signature = _signSetRoles(COORDINATOR_KEY, ACME, outsider, roles, 0, deadline);
        vm.expectRevert(
            abi.encodeWithSelector(IConstellationRegistry.ConstellationRegistryInvalidRoles.selector, roles)
        );
        registry.setRolesBySig(ACME, outsider, roles, coordinator, deadline, signature);
    }

    function test_RevertWhen_SetRolesBySigDropsLastCoordinator() public {
        bytes memory signature = _signSetRoles(COORDINATOR_KEY, ACME, coordinator, Roles.BRAND, 0, deadline);
        vm.expectRevert(
            abi.encodeWithSelector(IConstellationRegistry.ConstellationRegistryLastCoordinator.selector, ACME)
        );
        registry.setRolesBySig(ACME, coordinator, Roles.BRAND, coordinator, deadline, signature);
    }

    // ------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------

    function test_Views_UnknownConstellationIsAllZero() public view {
        IConstellationRegistry.Constellation memory record = registry.getConstellation(OTHER);
        assertEq(record.creator, address(0), "creator");
        assertEq(record.createdAt, 0, "createdAt");
        assertEq(record.memberCount, 0, "memberCount");
        assertEq(record.coordinatorCount, 0, "coordinatorCount");
        assertFalse(registry.exists(OTHER), "exists");
        assertEq(registry.rolesOf(OTHER, coordinator), 0, "rolesOf");
        assertFalse(registry.isMember(OTHER, coordinator), "isMember");
        assertFalse(registry.hasAnyRole(OTHER, coordinator, Roles.ALL), "hasAnyRole");
    }

    function test_HasAnyRole_MatchesAnyBitOfMask() public view {
        assertTrue(registry.hasAnyRole(ACME, supplier, Roles.WRITERS), "supplier writes");
        assertTrue(registry.hasAnyRole(ACME, anchorer, Roles.WRITERS), "anchorer writes");
        assertFalse(registry.hasAnyRole(ACME, coordinator, Roles.WRITERS), "coordinator alone does not write");
        assertFalse(registry.hasAnyRole(ACME, supplier, Roles.CERTIFIER | Roles.BRAND), "other roles");
        assertFalse(registry.hasAnyRole(ACME, supplier, 0), "empty mask");
    }

    function test_Nonces_StartAtZero() public view {
        assertEq(registry.nonces(outsider), 0);
    }

    function test_TypeHashesMatchSpecification() public view {
        assertEq(registry.SET_ROLES_TYPEHASH(), SigUtils.SET_ROLES_TYPEHASH, "SET_ROLES_TYPEHASH");
        assertEq(
            registry.CREATE_CONSTELLATION_TYPEHASH(),
            SigUtils.CREATE_CONSTELLATION_TYPEHASH,
            "CREATE_CONSTELLATION_TYPEHASH"
        );
    }

    function test_Eip712Domain() public view {
        _assertDomain(registry.eip712Domain, "ConstellationRegistry", address(registry));
    }

    // ------------------------------------------------------------------------------------
    // Fuzz
    // ------------------------------------------------------------------------------------

    function testFuzz_RolesMaskRoundTrip(address account, uint256 roles) public {
        vm.assume(account != address(0) && registry.rolesOf(ACME, account) == 0);
        roles = bound(roles, 1, Roles.ALL);

        vm.prank(coordinator);
        registry.addMember(ACME, account, roles);
        assertEq(registry.rolesOf(ACME, account), roles, "stored mask");
        for (uint256 role = Roles.SUPPLIER; role <= Roles.ANCHORER; role *= 2) {
            assertEq(registry.hasAnyRole(ACME, account, role), roles & role != 0, "one role bit");
        }
        _assertCounts(ACME, 6, roles & Roles.COORDINATOR != 0 ? 2 : 1);

        vm.prank(coordinator);
        registry.revokeRoles(ACME, account, roles);
        assertEq(registry.rolesOf(ACME, account), 0, "cleared");
        assertFalse(registry.isMember(ACME, account), "removed");
        _assertCounts(ACME, 5, 1);
    }

    function testFuzz_GrantThenRevokeIsMaskAlgebra(uint256 initial, uint256 granted, uint256 revoked) public {
        initial = bound(initial, 1, Roles.ALL);
        granted = bound(granted, 1, Roles.ALL);
        revoked = bound(revoked, 1, Roles.ALL) & ~Roles.COORDINATOR; // keep the coordinator bit out of it
        vm.assume(revoked != 0);

        vm.startPrank(coordinator);
        registry.addMember(ACME, outsider, initial);
        registry.grantRoles(ACME, outsider, granted);
        assertEq(registry.rolesOf(ACME, outsider), initial | granted, "grant is OR");
        registry.revokeRoles(ACME, outsider, revoked);
        vm.stopPrank();

        uint256 expected = (initial | granted) & ~revoked;
        assertEq(registry.rolesOf(ACME, outsider), expected, "revoke is AND NOT");
        assertEq(registry.isMember(ACME, outsider), expected != 0, "membership follows the mask");
        _assertCounts(ACME, expected != 0 ? 6 : 5, expected & Roles.COORDINATOR != 0 ? 2 : 1);
    }

    function testFuzz_RevertWhen_RolesOutsideAll(uint256 roles) public {
        vm.assume(roles & ~Roles.ALL != 0);
        vm.expectRevert(
            abi.encodeWithSelector(IConstellationRegistry.ConstellationRegistryInvalidRoles.selector, roles)
        );
        vm.prank(coordinator);
        registry.addMember(ACME, outsider, roles);
    }

    function testFuzz_SetRolesBySigFromAnyCoordinatorKey(uint256 key, uint256 roles) public {
        key = bound(key, 1, 0xFFFF_FFFF_FFFF_FFFF);
        address signer = vm.addr(key);
        vm.assume(registry.rolesOf(ACME, signer) == 0);
        roles = bound(roles, 1, Roles.ALL);

        vm.prank(coordinator);
        registry.addMember(ACME, signer, Roles.COORDINATOR);
        bytes memory signature = _signSetRoles(key, ACME, outsider, roles, 0, deadline);
        vm.prank(relayer);
        registry.setRolesBySig(ACME, outsider, roles, signer, deadline, signature);
        assertEq(registry.rolesOf(ACME, outsider), roles);
        assertEq(registry.nonces(signer), 1);
    }
}

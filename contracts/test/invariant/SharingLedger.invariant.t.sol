// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {InvariantTest, Test} from "../base/Test.sol";
import {SharingHandler} from "./handlers/SharingHandler.sol";

import {ConstellationRegistry} from "../../ConstellationRegistry.sol";
import {SharingLedger} from "../../SharingLedger.sol";

/// @title SharingLedgerInvariants
/// @notice Grants are anchored once by members, keep their grantor, and once revoked are
/// never active again; grant signatures are accepted once.
contract SharingLedgerInvariants is Test, InvariantTest {
    ConstellationRegistry internal registry;
    SharingLedger internal ledger;
    SharingHandler internal handler;

    function setUp() public {
        vm.warp(1_750_000_000);
        registry = new ConstellationRegistry();
        ledger = new SharingLedger(registry);
        handler = new SharingHandler(registry, ledger);
        targetContract(address(handler));
    }

    function invariant_RevokedGrantStaysInactive() public view {
        assertEq(handler.ghost_violations(), 0, "grants accepted from non-members, twice, or revoked twice");
        bytes32[] memory revoked = handler.revokedIds();
        for (uint256 i; i < revoked.length; ++i) {
            assertFalse(ledger.isActive(revoked[i]), "a revoked grant is never active");
            assertEq(ledger.getGrant(revoked[i]).revokedAt, handler.ghost_revokedAt(revoked[i]), "revokedAt kept");
        }
        bytes32[] memory granted = handler.grantedIds();
        for (uint256 i; i < granted.length; ++i) {
            assertEq(ledger.getGrant(granted[i]).grantor, handler.ghost_grantor(granted[i]), "grantor kept");
        }
    }

    function invariant_SignatureNeverReplayed() public view {
        assertEq(handler.ghost_replays(), 0, "replayed grant signatures accepted");
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {InvariantTest, Test} from "../base/Test.sol";
import {AnchorHandler} from "./handlers/AnchorHandler.sol";

import {ConstellationRegistry} from "../../ConstellationRegistry.sol";
import {ProvenanceAnchor} from "../../ProvenanceAnchor.sol";
import {IProvenanceAnchor} from "../../interfaces/IProvenanceAnchor.sol";

/// @title ProvenanceAnchorInvariants
/// @notice Whatever actors and roles do, only writers anchor, a root keeps its first record
/// forever, and an anchor signature is accepted once.
contract ProvenanceAnchorInvariants is Test, InvariantTest {
    ConstellationRegistry internal registry;
    ProvenanceAnchor internal provenance;
    AnchorHandler internal handler;

    function setUp() public {
        vm.warp(1_750_000_000);
        registry = new ConstellationRegistry();
        provenance = new ProvenanceAnchor(registry);
        handler = new AnchorHandler(registry, provenance);
        targetContract(address(handler));
    }

    function invariant_NonMemberNeverAnchors() public view {
        assertEq(handler.ghost_unauthorizedAnchors(), 0, "anchors accepted from actors without a writing role");
    }

    function invariant_RootNeverOverwritten() public view {
        assertEq(handler.ghost_overwrites(), 0, "anchors accepted over an existing root");
        bytes32[] memory roots = handler.anchoredRoots();
        for (uint256 i; i < roots.length; ++i) {
            IProvenanceAnchor.Anchor memory stored = provenance.getAnchor(roots[i]);
            IProvenanceAnchor.Anchor memory first = handler.firstWrite(roots[i]);
            assertEq(stored.by, first.by, "by");
            assertEq(stored.anchoredAt, first.anchoredAt, "anchoredAt");
            assertEq(stored.leafCount, first.leafCount, "leafCount");
            assertTrue(stored.leafCount != 0, "no empty batch");
        }
        assertEq(provenance.getAnchor(bytes32(0)).by, address(0), "zero root never anchored");
    }

    function invariant_SignatureNeverReplayed() public view {
        assertEq(handler.ghost_replays(), 0, "replayed anchor signatures accepted");
        address[] memory actors = handler.actors();
        for (uint256 i; i < actors.length; ++i) {
            assertEq(provenance.nonces(actors[i]), handler.ghost_signedAnchors(actors[i]), "one nonce per signature");
        }
    }
}

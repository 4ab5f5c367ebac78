// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {InvariantTest, Test} from "../base/Test.sol";
import {RegistryHandler} from "./handlers/RegistryHandler.sol";

import {ConstellationRegistry} from "../../ConstellationRegistry.sol";
import {IConstellationRegistry} from "../../interfaces/IConstellationRegistry.sol";
import {Roles} from "../../libraries/Roles.sol";

/// @title ConstellationRegistryInvariants
/// @notice Whatever sequence of role changes actors attempt, the registry's masks match the
/// model, its counters match the masks, a coordinator always remains, and no signature
/// is accepted twice.
contract ConstellationRegistryInvariants is Test, InvariantTest {
    ConstellationRegistry internal registry;
    RegistryHandler internal handler;
    bytes32 internal constellation;

    function setUp() public {
        vm.warp(1_750_000_000);
        registry = new ConstellationRegistry();
        handler = new RegistryHandler(registry);
        constellation = handler.CONSTELLATION();
        targetContract(address(handler));
    }

    function invariant_NeverZeroCoordinators() public view {
        IConstellationRegistry.Constellation memory record = registry.getConstellation(constellation);
        assertGe(record.coordinatorCount, 1, "coordinatorCount");
        (, uint256 coordinators) = _count();
        assertGe(coordinators, 1, "actors holding the coordinator role");
    }

    function invariant_CountersMatchMasks() public view {
        IConstellationRegistry.Constellation memory record = registry.getConstellation(constellation);
        (uint256 members, uint256 coordinators) = _count();
        assertEq(record.memberCount, members, "memberCount = actors with non-zero roles");
        assertEq(record.coordinatorCount, coordinators, "coordinatorCount = actors with the coordinator role");
    }

    function invariant_MasksMatchModel() public view {
        address[] memory actors = handler.actors();
        for (uint256 i; i < actors.length; ++i) {
            uint256 roles = registry.rolesOf(constellation, actors[i]);
            assertEq(roles, handler.ghost_roles(actors[i]), "mask = model");
            assertEq(roles & ~Roles.ALL, 0, "no undefined bit");
            assertEq(registry.isMember(constellation, actors[i]), roles != 0, "membership = non-zero mask");
        }
    }

    function invariant_SignatureNeverReplayed() public view {
        assertEq(handler.ghost_replays(), 0, "replayed signatures accepted");
        address[] memory actors = handler.actors();
        for (uint256 i; i < actors.length; ++i) {
            assertEq(
                registry.nonces(actors[i]), handler.ghost_signedCalls(actors[i]), "one nonce per accepted signature"
            );
        }
    }

    function _count() internal view returns (uint256 members, uint256 coordinators) {
        address[] memory actors = handler.actors();
        for (uint256 i; i < actors.length; ++i) {
            uint256 roles = registry.rolesOf(constellation, actors[i]);
            if (roles != 0) ++members;
            if (roles & Roles.COORDINATOR != 0) ++coordinators;
        }
    }
}

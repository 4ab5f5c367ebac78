// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {InvariantTest, Test} from "../base/Test.sol";
import {AttestationHandler} from "./handlers/AttestationHandler.sol";

import {AttestationRegistry} from "../../AttestationRegistry.sol";
import {ConstellationRegistry} from "../../ConstellationRegistry.sol";
import {IAttestationRegistry} from "../../interfaces/IAttestationRegistry.sol";

/// @title AttestationRegistryInvariants
/// @notice Whatever actors attest, revoke and replay, and however time moves, a revoked
/// attestation never becomes valid again, records keep their first write, irrevocable
/// attestations stay unrevoked, and signatures are accepted once.
contract AttestationRegistryInvariants is Test, InvariantTest {
    ConstellationRegistry internal registry;
    AttestationRegistry internal attestations;
    AttestationHandler internal handler;

    function setUp() public {
        vm.warp(1_750_000_000);
        registry = new ConstellationRegistry();
        attestations = new AttestationRegistry(registry);
        handler = new AttestationHandler(registry, attestations);
        targetContract(address(handler));
    }

    function invariant_RevokedStaysRevoked() public view {
        assertEq(handler.ghost_doubleRevocations(), 0, "revocations accepted twice");
        bytes32[] memory revoked = handler.revokedUids();
        for (uint256 i; i < revoked.length; ++i) {
            assertFalse(attestations.isValid(revoked[i]), "a revoked attestation is never valid");
            assertEq(
                attestations.getAttestation(revoked[i]).revokedAt, handler.ghost_revokedAt(revoked[i]), "revokedAt kept"
            );
        }
    }

    function invariant_RecordsKeepFirstWrite() public view {
        bytes32[] memory uids = handler.uids();
        for (uint256 i; i < uids.length; ++i) {
            IAttestationRegistry.Attestation memory a = attestations.getAttestation(uids[i]);
            assertEq(a.uid, uids[i], "uid");
            assertEq(a.issuer, handler.ghost_issuer(uids[i]), "issuer");
            assertEq(a.revocable, handler.ghost_revocable(uids[i]), "revocable");
            if (!a.revocable) assertEq(a.revokedAt, 0, "an irrevocable attestation is never revoked");
            if (handler.ghost_revokedAt(uids[i]) == 0) assertEq(a.revokedAt, 0, "only handler revocations");
        }
    }

    function invariant_SignatureNeverReplayed() public view {
        assertEq(handler.ghost_replays(), 0, "replayed signatures accepted");
    }
}

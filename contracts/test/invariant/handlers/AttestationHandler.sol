// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {HandlerBase} from "./HandlerBase.sol";
import {SigUtils} from "../../base/SigUtils.sol";

import {AttestationRegistry} from "../../../AttestationRegistry.sol";
import {ConstellationRegistry} from "../../../ConstellationRegistry.sol";
import {IAttestationRegistry} from "../../../interfaces/IAttestationRegistry.sol";
import {Roles} from "../../../libraries/Roles.sol";

/// @title AttestationHandler
/// @notice Random actors attest (directly and by signature) under three schemas, revoke
/// (directly and by signature) and replay signatures, while time moves on. Ghosts record
/// each attestation's issuer and revocability, each revocation, and accepted replays.
contract AttestationHandler is HandlerBase {
    bytes32 public constant CONSTELLATION = keccak256("invariant-attestations");
    uint256 internal constant ADMIN_KEY = 0xAD;

    ConstellationRegistry public immutable registry;
    AttestationRegistry public immutable attestations;

    /// @dev Revocable, certifiers only; revocable, any member; irrevocable, any member.
    bytes32[3] internal _schemas;

    bytes32[] internal _uids;
    mapping(bytes32 uid => address issuer) public ghost_issuer;
    mapping(bytes32 uid => bool revocable) public ghost_revocable;
    mapping(bytes32 uid => uint64 revokedAt) public ghost_revokedAt;
    bytes32[] internal _revoked;

    /// @notice Replayed signatures (attest or revoke) accepted.
    uint256 public ghost_replays;
    /// @notice Revocations accepted for an attestation the model already saw revoked.
    uint256 public ghost_doubleRevocations;

    IAttestationRegistry.SignedAttestationRequest[] internal _usedAttests;
    bytes32[] internal _usedRevokeUids;
    bytes[] internal _usedRevokeSignatures;
    uint256[] internal _usedRevokeDeadlines;

    constructor(ConstellationRegistry registry_, AttestationRegistry attestations_) {
        registry = registry_;
        attestations = attestations_;
        vm.startPrank(vm.addr(ADMIN_KEY));
        registry.createConstellation(CONSTELLATION, "Invariant attestations");
        registry.addMember(CONSTELLATION, _actor(0), Roles.CERTIFIER);
        registry.addMember(CONSTELLATION, _actor(1), Roles.CERTIFIER | Roles.BRAND);
        registry.addMember(CONSTELLATION, _actor(2), Roles.SUPPLIER);
        registry.addMember(CONSTELLATION, _actor(3), Roles.LOGISTICS);
        vm.stopPrank(); // actors 4 and 5 are outsiders
        _schemas[0] = attestations.registerSchema("certificate", true, Roles.CERTIFIER);
        _schemas[1] = attestations.registerSchema("observation", true, 0);
        _schemas[2] = attestations.registerSchema("origin", false, 0);
    }

    // ------------------------------------------------------------------------------------
    // Actions
    // ------------------------------------------------------------------------------------

    function attest(uint256 actorSeed, uint256 schemaSeed, uint256 subjectSeed, uint256 lifetime, bool revocable)
        external
    {
        address issuer = _actor(actorSeed);
        IAttestationRegistry.AttestationRequest memory request = _request(schemaSeed, subjectSeed, lifetime, revocable);
        vm.prank(issuer);
        try attestations.attest(request) returns (bytes32 uid) {
            _accepted(uid, issuer, request.revocable);
        } catch {
            _record(false);
        }
    }

    function attestBySig(
        uint256 actorSeed,
        uint256 schemaSeed,
        uint256 subjectSeed,
        uint256 lifetime,
        bool revocable,
        uint256 validFor
    ) external {
        uint256 key = _key(actorSeed);
        IAttestationRegistry.AttestationRequest memory request = _request(schemaSeed, subjectSeed, lifetime, revocable);
        uint256 deadline = block.timestamp + _bound(validFor, 0, 1 days);
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
                deadline
            )
        );
        IAttestationRegistry.SignedAttestationRequest memory signed = IAttestationRegistry.SignedAttestationRequest({
            request: request,
            issuer: _actors[key - FIRST_KEY],
            deadline: deadline,
            signature: SigUtils.signTyped(key, "AttestationRegistry", address(attestations), structHash)
        });
        vm.prank(relayer);
        try attestations.attestBySig(signed) returns (bytes32 uid) {
            _accepted(uid, signed.issuer, request.revocable);
            _usedAttests.push(signed);
        } catch {
            _record(false);
        }
    }

    function replayAttestBySig(uint256 indexSeed) external {
        if (_usedAttests.length == 0) return;
        vm.prank(relayer);
        try attestations.attestBySig(_usedAttests[indexSeed % _usedAttests.length]) {
            ++ghost_replays;
        } catch {}
    }

    function revoke(uint256 uidSeed, uint256 callerSeed) external {
        if (_uids.length == 0) return;
        bytes32 uid = _uids[uidSeed % _uids.length];
        // Mostly the issuer, sometimes anyone.
        address caller = callerSeed % 4 == 0 ? _actor(callerSeed / 4) : ghost_issuer[uid];
        vm.prank(caller);
        try attestations.revoke(uid) {
            _revokedNow(uid);
        } catch {
            _record(false);
        }
    }

    function revokeBySig(uint256 uidSeed, uint256 validFor) external {
        if (_uids.length == 0) return;
        bytes32 uid = _uids[uidSeed % _uids.length];
        address issuer = ghost_issuer[uid];
        uint256 key = _keyOf(issuer);
        uint256 deadline = block.timestamp + _bound(validFor, 0, 1 days);
        bytes memory signature = SigUtils.signTyped(
            key,
            "AttestationRegistry",
            address(attestations),
            keccak256(abi.encode(SigUtils.REVOKE_TYPEHASH, uid, deadline))
        );
        vm.prank(relayer);
        try attestations.revokeBySig(uid, issuer, deadline, signature) {
            _revokedNow(uid);
            _usedRevokeUids.push(uid);
            _usedRevokeSignatures.push(signature);
            _usedRevokeDeadlines.push(deadline);
        } catch {
            _record(false);
        }
    }

    function replayRevokeBySig(uint256 indexSeed) external {
        if (_usedRevokeUids.length == 0) return;
        uint256 i = indexSeed % _usedRevokeUids.length;
        bytes32 uid = _usedRevokeUids[i];
        vm.prank(relayer);
        try attestations.revokeBySig(uid, ghost_issuer[uid], _usedRevokeDeadlines[i], _usedRevokeSignatures[i]) {
            ++ghost_replays;
        } catch {}
    }

    // ------------------------------------------------------------------------------------
    // Views for the invariants
    // ------------------------------------------------------------------------------------

    function uids() external view returns (bytes32[] memory) {
        return _uids;
    }

    function revokedUids() external view returns (bytes32[] memory) {
        return _revoked;
    }

    // ------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------

    /// @dev A request under one of the schemas, about one of 8 subjects (so duplicates
    /// happen), expiring within a week or never, sometimes referring to an earlier one.
    function _request(uint256 schemaSeed, uint256 subjectSeed, uint256 lifetime, bool revocable)
        private
        view
        returns (IAttestationRegistry.AttestationRequest memory request)
    {
        uint256 life = _bound(lifetime, 0, 7 days);
        request = IAttestationRegistry.AttestationRequest({
            schema: _schemas[schemaSeed % 3],
            constellation: CONSTELLATION,
            subject: keccak256(abi.encode("subject", subjectSeed % 8)),
            dataHash: keccak256(abi.encode("body", subjectSeed % 8)),
            expiresAt: life == 0 ? 0 : SafeCast.toUint64(block.timestamp + life),
            refUID: bytes32(0),
            revocable: revocable
        });
        if (_uids.length != 0 && (subjectSeed >> 128) % 4 == 0) {
            request.refUID = _uids[(subjectSeed >> 130) % _uids.length];
        }
    }

    function _accepted(bytes32 uid, address issuer, bool revocable) private {
        _record(true);
        _uids.push(uid);
        ghost_issuer[uid] = issuer;
        ghost_revocable[uid] = revocable;
    }

    function _revokedNow(bytes32 uid) private {
        _record(true);
        if (ghost_revokedAt[uid] != 0) {
            ++ghost_doubleRevocations;
            return;
        }
        ghost_revokedAt[uid] = uint64(block.timestamp);
        _revoked.push(uid);
    }

    function _keyOf(address account) private view returns (uint256) {
        for (uint256 i; i < ACTOR_COUNT; ++i) {
            if (_actors[i] == account) return FIRST_KEY + i;
        }
        revert("unknown actor");
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {HandlerBase} from "./HandlerBase.sol";
import {SigUtils} from "../../base/SigUtils.sol";

import {ConstellationRegistry} from "../../../ConstellationRegistry.sol";
import {SharingLedger} from "../../../SharingLedger.sol";
import {Roles} from "../../../libraries/Roles.sol";

/// @title SharingHandler
/// @notice Random actors anchor grants from a small id pool (directly and by signature),
/// revoke them and replay signatures while time moves on.
contract SharingHandler is HandlerBase {
    struct SignedGrant {
        bytes32 grantId;
        uint64 expiresAt;
        address grantor;
        uint256 deadline;
        bytes signature;
    }

    bytes32 public constant CONSTELLATION = keccak256("invariant-sharing");
    bytes32 public constant AUDIENCE = keccak256("audience");
    bytes32 public constant TERMS = keccak256("terms");
    uint256 internal constant GRANT_POOL = 16;
    uint256 internal constant ADMIN_KEY = 0xAD;

    ConstellationRegistry public immutable registry;
    SharingLedger public immutable ledger;

    mapping(bytes32 grantId => address grantor) public ghost_grantor;
    mapping(bytes32 grantId => uint64 revokedAt) public ghost_revokedAt;
    bytes32[] internal _granted;
    bytes32[] internal _revoked;
    /// @notice Grants accepted from non-members, over an existing id, or revoked twice.
    uint256 public ghost_violations;
    /// @notice Replayed signatures accepted.
    uint256 public ghost_replays;

    SignedGrant[] internal _used;

    constructor(ConstellationRegistry registry_, SharingLedger ledger_) {
        registry = registry_;
        ledger = ledger_;
        vm.startPrank(vm.addr(ADMIN_KEY));
        registry.createConstellation(CONSTELLATION, "Invariant sharing");
        registry.addMember(CONSTELLATION, _actor(0), Roles.BRAND);
        registry.addMember(CONSTELLATION, _actor(1), Roles.SUPPLIER);
        registry.addMember(CONSTELLATION, _actor(2), Roles.RETAILER);
        vm.stopPrank(); // actors 3 to 5 are outsiders
    }

    function anchorGrant(uint256 actorSeed, uint256 grantSeed, uint256 lifetime) external {
        address grantor = _actor(actorSeed);
        bytes32 grantId = _grantId(grantSeed);
        uint64 expiresAt = _expiry(lifetime);
        vm.prank(grantor);
        try ledger.anchorGrant(grantId, CONSTELLATION, AUDIENCE, TERMS, expiresAt) {
            _granted_(grantId, grantor);
        } catch {
            _record(false);
        }
    }

    function anchorGrantBySig(uint256 actorSeed, uint256 grantSeed, uint256 lifetime, uint256 validFor) external {
        uint256 key = _key(actorSeed);
        SignedGrant memory call = SignedGrant({
            grantId: _grantId(grantSeed),
            expiresAt: _expiry(lifetime),
            grantor: _actors[key - FIRST_KEY],
            deadline: block.timestamp + _bound(validFor, 0, 1 days),
            signature: ""
        });
        bytes32 structHash = keccak256(
            abi.encode(
                SigUtils.ANCHOR_GRANT_TYPEHASH,
                call.grantId,
                CONSTELLATION,
                AUDIENCE,
                TERMS,
                call.expiresAt,
                call.deadline
            )
        );
        call.signature = SigUtils.signTyped(key, "SharingLedger", address(ledger), structHash);
        vm.prank(relayer);
        try ledger.anchorGrantBySig(
            call.grantId, CONSTELLATION, AUDIENCE, TERMS, call.expiresAt, call.grantor, call.deadline, call.signature
        ) {
            _granted_(call.grantId, call.grantor);
            _used.push(call);
        } catch {
            _record(false);
        }
    }

    function replayAnchorGrantBySig(uint256 indexSeed) external {
        if (_used.length == 0) return;
        SignedGrant memory call = _used[indexSeed % _used.length];
        vm.prank(relayer);
        try ledger.anchorGrantBySig(
            call.grantId, CONSTELLATION, AUDIENCE, TERMS, call.expiresAt, call.grantor, call.deadline, call.signature
        ) {
            ++ghost_replays;
        } catch {}
    }

    function revokeGrant(uint256 grantSeed, uint256 callerSeed) external {
        bytes32 grantId = _grantId(grantSeed);
        address grantor = ghost_grantor[grantId];
        address caller = grantor == address(0) || callerSeed % 4 == 0 ? _actor(callerSeed / 4) : grantor;
        vm.prank(caller);
        try ledger.revokeGrant(grantId) {
            _record(true);
            if (ghost_revokedAt[grantId] != 0 || caller != grantor) ++ghost_violations;
            ghost_revokedAt[grantId] = uint64(block.timestamp);
            _revoked.push(grantId);
        } catch {
            _record(false);
        }
    }

    function grantedIds() external view returns (bytes32[] memory) {
        return _granted;
    }

    function revokedIds() external view returns (bytes32[] memory) {
        return _revoked;
    }

    function _granted_(bytes32 grantId, address grantor) private {
        _record(true);
        if (ghost_grantor[grantId] != address(0) || registry.rolesOf(CONSTELLATION, grantor) == 0) {
            ++ghost_violations;
            return;
        }
        ghost_grantor[grantId] = grantor;
        _granted.push(grantId);
    }

    /// @dev Id 0 (invalid) or one of GRANT_POOL fixed ids.
    function _grantId(uint256 seed) private pure returns (bytes32) {
        uint256 index = seed % (GRANT_POOL + 1);
        return index == 0 ? bytes32(0) : keccak256(abi.encode("grant", index));
    }

    /// @dev Never (zero), or within a week.
    function _expiry(uint256 lifetime) private view returns (uint64) {
        uint256 life = _bound(lifetime, 0, 7 days);
        return life == 0 ? 0 : SafeCast.toUint64(block.timestamp + life);
    }
}

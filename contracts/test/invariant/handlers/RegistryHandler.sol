// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {HandlerBase} from "./HandlerBase.sol";
import {SigUtils} from "../../base/SigUtils.sol";

import {ConstellationRegistry} from "../../../ConstellationRegistry.sol";
import {Roles} from "../../../libraries/Roles.sol";

/// @title RegistryHandler
/// @notice Drives one constellation through random role changes by random actors (direct
/// and signed), keeping a model of every actor's mask. Only actors ever become members.
contract RegistryHandler is HandlerBase {
    struct SignedSetRoles {
        address account;
        uint256 roles;
        address coordinator;
        uint256 deadline;
        bytes signature;
    }

    bytes32 public constant CONSTELLATION = keccak256("invariant-registry");

    ConstellationRegistry public immutable registry;

    /// @notice The model: each actor's role mask as the handler's successful calls set it.
    mapping(address account => uint256 roles) public ghost_roles;
    /// @notice Successful *BySig calls per signer, to compare with the registry's nonces.
    mapping(address signer => uint256 count) public ghost_signedCalls;
    /// @notice Times a signature that had already been used went through again.
    uint256 public ghost_replays;

    SignedSetRoles[] internal _used;

    constructor(ConstellationRegistry registry_) {
        registry = registry_;
        address founder = _actor(0);
        vm.prank(founder);
        registry.createConstellation(CONSTELLATION, "Invariant");
        ghost_roles[founder] = Roles.COORDINATOR;
    }

    // ------------------------------------------------------------------------------------
    // Actions
    // ------------------------------------------------------------------------------------

    function addMember(uint256 callerSeed, uint256 accountSeed, uint256 roles) external {
        address account = _pick(accountSeed, false);
        roles = _roles(roles);
        vm.prank(_caller(callerSeed));
        try registry.addMember(CONSTELLATION, account, roles) {
            ghost_roles[account] = roles;
            _record(true);
        } catch {
            _record(false);
        }
    }

    function removeMember(uint256 callerSeed, uint256 accountSeed) external {
        address account = _pick(accountSeed, true);
        vm.prank(_caller(callerSeed));
        try registry.removeMember(CONSTELLATION, account) {
            ghost_roles[account] = 0;
            _record(true);
        } catch {
            _record(false);
        }
    }

    function grantRoles(uint256 callerSeed, uint256 accountSeed, uint256 roles) external {
        address account = _pick(accountSeed, true);
        roles = _roles(roles);
        vm.prank(_caller(callerSeed));
        try registry.grantRoles(CONSTELLATION, account, roles) {
            ghost_roles[account] |= roles;
            _record(true);
        } catch {
            _record(false);
        }
    }

    function revokeRoles(uint256 callerSeed, uint256 accountSeed, uint256 roles) external {
        address account = _pick(accountSeed, true);
        roles = _roles(roles);
        vm.prank(_caller(callerSeed));
        try registry.revokeRoles(CONSTELLATION, account, roles) {
            ghost_roles[account] &= ~roles;
            _record(true);
        } catch {
            _record(false);
        }
    }

    function setRolesBySig(uint256 signerSeed, uint256 accountSeed, uint256 roles, uint256 validFor) external {
        uint256 key = _signerKey(signerSeed);
        address signer = _actors[key - FIRST_KEY];
        SignedSetRoles memory call = SignedSetRoles({
            account: _actor(accountSeed),
            roles: _roles(roles),
            coordinator: signer,
            deadline: block.timestamp + _bound(validFor, 0, 1 days),
            signature: ""
        });
        bytes32 structHash = keccak256(
            abi.encode(
                SigUtils.SET_ROLES_TYPEHASH,
                CONSTELLATION,
                call.account,
                call.roles,
                registry.nonces(signer),
                call.deadline
            )
        );
        call.signature = SigUtils.signTyped(key, "ConstellationRegistry", address(registry), structHash);

        vm.prank(relayer);
        try registry.setRolesBySig(
            CONSTELLATION, call.account, call.roles, call.coordinator, call.deadline, call.signature
        ) {
            ghost_roles[call.account] = call.roles;
            ++ghost_signedCalls[signer];
            _used.push(call);
            _record(true);
        } catch {
            _record(false);
        }
    }

    function replaySetRolesBySig(uint256 indexSeed) external {
        if (_used.length == 0) return;
        SignedSetRoles memory call = _used[indexSeed % _used.length];
        vm.prank(relayer);
        try registry.setRolesBySig(
            CONSTELLATION, call.account, call.roles, call.coordinator, call.deadline, call.signature
        ) {
            ++ghost_replays;
            ghost_roles[call.account] = call.roles;
        } catch {}
    }

    // ------------------------------------------------------------------------------------
    // Views for the invariants
    // ------------------------------------------------------------------------------------

    function usedSignatures() external view returns (uint256) {
        return _used.length;
    }

    /// @dev Three times in four a current coordinator (so most calls get past the access
    /// check and exercise the counters), otherwise any actor.
    function _caller(uint256 seed) private view returns (address) {
        return _actors[_signerKey(seed) - FIRST_KEY];
    }

    function _signerKey(uint256 seed) private view returns (uint256) {
        if (seed % 4 != 0) {
            uint256[] memory keys = new uint256[](ACTOR_COUNT);
            uint256 count;
            for (uint256 i; i < ACTOR_COUNT; ++i) {
                if (ghost_roles[_actors[i]] & Roles.COORDINATOR != 0) keys[count++] = FIRST_KEY + i;
            }
            if (count != 0) return keys[(seed / 4) % count];
        }
        return _key(seed / 4);
    }

    /// @dev Three times in four an actor whose membership is `member` (per the model),
    /// otherwise any actor.
    function _pick(uint256 seed, bool member) private view returns (address) {
        if (seed % 4 != 0) {
            address[] memory candidates = new address[](ACTOR_COUNT);
            uint256 count;
            for (uint256 i; i < ACTOR_COUNT; ++i) {
                address account = _actors[i];
                if ((ghost_roles[account] != 0) == member) candidates[count++] = account;
            }
            if (count != 0) return candidates[(seed / 4) % count];
        }
        return _actor(seed / 4);
    }

    /// @dev Roles in [0, ALL + 32]: mostly valid, sometimes zero or with an undefined bit.
    function _roles(uint256 seed) private pure returns (uint256) {
        return _bound(seed, 0, Roles.ALL + 32);
    }
}

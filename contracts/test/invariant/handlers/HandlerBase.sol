// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Vm, VM_ADDRESS} from "../../base/Vm.sol";

/// @title HandlerBase
/// @notice Shared plumbing of the invariant handlers: a fixed cast of actors with known
/// keys, seed-to-actor selection and forward-only time.
/// @dev Handlers call the contracts under test with try/catch and never revert themselves,
/// so every fuzzed call counts; ghost variables record what must never happen.
abstract contract HandlerBase {
    Vm internal constant vm = Vm(VM_ADDRESS);

    uint256 internal constant ACTOR_COUNT = 6;
    uint256 internal constant FIRST_KEY = 0xA11CE;

    address public immutable relayer = address(0x4E1A);

    /// @notice Number of handler calls that reached a contract, per outcome.
    uint256 public ghost_successes;
    uint256 public ghost_failures;

    /// @dev Actor i signs with key FIRST_KEY + i (addresses derived once: vm.addr is slow).
    address[ACTOR_COUNT] internal _actors;

    constructor() {
        for (uint256 i; i < ACTOR_COUNT; ++i) {
            _actors[i] = vm.addr(FIRST_KEY + i);
        }
    }

    /// @notice The actor addresses, index i signing with key FIRST_KEY + i.
    function actors() public view returns (address[] memory list) {
        list = new address[](ACTOR_COUNT);
        for (uint256 i; i < ACTOR_COUNT; ++i) {
            list[i] = _actors[i];
        }
    }

    /// @dev Moves time forward by up to two days (forward only, as on chain).
    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + _bound(seconds_, 0, 2 days));
    }

    function _key(uint256 seed) internal pure returns (uint256) {
        return FIRST_KEY + seed % ACTOR_COUNT;
    }

    function _actor(uint256 seed) internal view returns (address) {
        return _actors[seed % ACTOR_COUNT];
    }

    function _bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        return min + x % (max - min + 1);
    }

    function _record(bool success) internal {
        if (success) ++ghost_successes;
        else ++ghost_failures;
    }
}

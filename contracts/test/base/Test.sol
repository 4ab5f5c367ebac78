// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Vm, VM_ADDRESS} from "./Vm.sol";

/// @title Test
/// @notice Minimal stand-in for forge-std's Test: the cheatcode handle, assertions that
/// revert with both values in the message, and {bound} for fuzz inputs.
abstract contract Test {
    Vm internal constant vm = Vm(VM_ADDRESS);

    /// @notice Marks the contract as a test suite for forge.
    bool public IS_TEST = true;

    // ------------------------------------------------------------------------------------
    // Assertions
    // ------------------------------------------------------------------------------------

    function fail(string memory message) internal pure {
        revert(message);
    }

    function assertTrue(bool condition, string memory message) internal pure {
        if (!condition) fail(string.concat("assertTrue failed: ", message));
    }

    function assertTrue(bool condition) internal pure {
        assertTrue(condition, "");
    }

    function assertFalse(bool condition, string memory message) internal pure {
        if (condition) fail(string.concat("assertFalse failed: ", message));
    }

    function assertFalse(bool condition) internal pure {
        assertFalse(condition, "");
    }

    function assertEq(uint256 left, uint256 right, string memory message) internal pure {
        if (left != right) {
            fail(
                string.concat(
                    "assertEq(uint256) failed: ", message, ": ", vm.toString(left), " != ", vm.toString(right)
                )
            );
        }
    }

    function assertEq(uint256 left, uint256 right) internal pure {
        assertEq(left, right, "");
    }

    function assertEq(address left, address right, string memory message) internal pure {
        if (left != right) {
            fail(
                string.concat(
                    "assertEq(address) failed: ", message, ": ", vm.toString(left), " != ", vm.toString(right)
                )
            );
        }
    }

    function assertEq(address left, address right) internal pure {
        assertEq(left, right, "");
    }

    function assertEq(bytes32 left, bytes32 right, string memory message) internal pure {
        if (left != right) {
            fail(
                string.concat(
                    "assertEq(bytes32) failed: ", message, ": ", vm.toString(left), " != ", vm.toString(right)
                )
            );
        }
    }

    function assertEq(bytes32 left, bytes32 right) internal pure {
        assertEq(left, right, "");
    }

    function assertEq(bool left, bool right, string memory message) internal pure {
        if (left != right) {
            fail(string.concat("assertEq(bool) failed: ", message, ": ", vm.toString(left), " != ", vm.toString(right)));
        }
    }

    function assertEq(bool left, bool right) internal pure {
        assertEq(left, right, "");
    }

    function assertEq(string memory left, string memory right, string memory message) internal pure {
        if (keccak256(bytes(left)) != keccak256(bytes(right))) {
            fail(string.concat("assertEq(string) failed: ", message, ": \"", left, "\" != \"", right, "\""));
        }
    }

    function assertEq(string memory left, string memory right) internal pure {
        assertEq(left, right, "");
    }

    function assertEq(bytes memory left, bytes memory right, string memory message) internal pure {
        if (keccak256(left) != keccak256(right)) {
            fail(
                string.concat("assertEq(bytes) failed: ", message, ": ", vm.toString(left), " != ", vm.toString(right))
            );
        }
    }

    function assertEq(bytes memory left, bytes memory right) internal pure {
        assertEq(left, right, "");
    }

    function assertLe(uint256 left, uint256 right, string memory message) internal pure {
        if (left > right) {
            fail(
                string.concat("assertLe(uint256) failed: ", message, ": ", vm.toString(left), " > ", vm.toString(right))
            );
        }
    }

    function assertGe(uint256 left, uint256 right, string memory message) internal pure {
        if (left < right) {
            fail(
                string.concat("assertGe(uint256) failed: ", message, ": ", vm.toString(left), " < ", vm.toString(right))
            );
        }
    }

    // ------------------------------------------------------------------------------------
    // Fuzz helpers
    // ------------------------------------------------------------------------------------

    /// @dev Maps `x` into [min, max] (inclusive) without discarding runs.
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: min > max");
        if (x >= min && x <= max) return x;
        uint256 size = max - min;
        if (size == type(uint256).max) return x;
        return min + (x % (size + 1));
    }
}

/// @title InvariantTest
/// @notice The target-selection hooks forge's invariant runner calls on a test contract
/// (the part of forge-std's StdInvariant these suites use).
abstract contract InvariantTest {
    /// @notice A contract and the selectors of it the runner may call.
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    address[] private _targetedContracts;
    address[] private _targetedSenders;
    FuzzSelector[] private _targetedSelectors;

    /// @dev Restricts the runner to `target` (by default it calls every contract set up).
    function targetContract(address target) internal {
        _targetedContracts.push(target);
    }

    /// @dev Restricts the runner to these selectors of `target`.
    function targetSelector(address target, bytes4[] memory selectors) internal {
        _targetedSelectors.push(FuzzSelector({addr: target, selectors: selectors}));
    }

    /// @dev Makes the runner send calls from `sender` (otherwise random senders).
    function targetSender(address sender) internal {
        _targetedSenders.push(sender);
    }

    function targetContracts() public view returns (address[] memory) {
        return _targetedContracts;
    }

    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return _targetedSelectors;
    }

    function targetSenders() public view returns (address[] memory) {
        return _targetedSenders;
    }
}

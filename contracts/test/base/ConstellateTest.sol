// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {SigUtils} from "./SigUtils.sol";
import {Test} from "./Test.sol";

import {ConstellationRegistry} from "../../ConstellationRegistry.sol";
import {Roles} from "../../libraries/Roles.sol";

/// @title ConstellateTest
/// @notice Shared fixture: a registry with one constellation ("acme-coffee") whose members
/// hold one role each, keys for every actor, and EIP-712 helpers that rebuild domain
/// separators and digests from the specification's strings (not from the contracts), so a
/// type string drifting from the interface NatSpec fails the signature tests.
abstract contract ConstellateTest is Test {
    bytes32 internal constant ACME = keccak256("acme-coffee");
    bytes32 internal constant OTHER = keccak256("other-constellation");

    uint256 internal constant COORDINATOR_KEY = 0xC00D;
    uint256 internal constant SUPPLIER_KEY = 0x5AFE;
    uint256 internal constant LOGISTICS_KEY = 0x1061;
    uint256 internal constant CERTIFIER_KEY = 0xCE27;
    uint256 internal constant ANCHORER_KEY = 0xA2C4;
    uint256 internal constant OUTSIDER_KEY = 0x0B5E;

    address internal coordinator;
    address internal supplier;
    address internal logistics;
    address internal certifier;
    address internal anchorer;
    address internal outsider;
    address internal relayer = address(0xBEEF);

    ConstellationRegistry internal registry;

    function setUp() public virtual {
        vm.warp(1_750_000_000);
        coordinator = _actor(COORDINATOR_KEY, "coordinator");
        supplier = _actor(SUPPLIER_KEY, "supplier");
        logistics = _actor(LOGISTICS_KEY, "logistics");
        certifier = _actor(CERTIFIER_KEY, "certifier");
        anchorer = _actor(ANCHORER_KEY, "anchorer");
        outsider = _actor(OUTSIDER_KEY, "outsider");
        vm.label(relayer, "relayer");

        registry = new ConstellationRegistry();
        vm.label(address(registry), "ConstellationRegistry");

        vm.startPrank(coordinator);
        registry.createConstellation(ACME, "Acme Coffee");
        registry.addMember(ACME, supplier, Roles.SUPPLIER);
        registry.addMember(ACME, logistics, Roles.LOGISTICS);
        registry.addMember(ACME, certifier, Roles.CERTIFIER);
        registry.addMember(ACME, anchorer, Roles.ANCHORER);
        vm.stopPrank();
    }

    function _actor(uint256 key, string memory name) internal returns (address account) {
        account = vm.addr(key);
        vm.label(account, name);
    }

    /// @dev The EIP-712 digest of `structHash` in the domain (`name`, "1", `verifyingContract`).
    function _digest(string memory name, address verifyingContract, bytes32 structHash)
        internal
        view
        returns (bytes32)
    {
        return SigUtils.digest(name, verifyingContract, structHash);
    }

    /// @dev A 65-byte (r, s, v) signature of `digest` by `key`.
    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        return SigUtils.sign(key, digest);
    }

    /// @dev Asserts the ERC-5267 domain a contract reports.
    function _assertDomain(
        function()
            external
            view returns (
                bytes1,
                string memory,
                string memory,
                uint256,
                address,
                bytes32,
                uint256[] memory
            ) eip712Domain,
        string memory name,
        address verifyingContract
    ) internal view {
        (bytes1 fields, string memory reportedName, string memory version, uint256 chainId, address at,,) =
            eip712Domain();
        assertEq(uint256(uint8(fields)), 0x0f, "domain fields");
        assertEq(reportedName, name, "domain name");
        assertEq(version, "1", "domain version");
        assertEq(chainId, block.chainid, "domain chain id");
        assertEq(at, verifyingContract, "domain verifying contract");
    }
}

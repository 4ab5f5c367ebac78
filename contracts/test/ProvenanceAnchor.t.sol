// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ConstellateTest} from "./base/ConstellateTest.sol";
import {SigUtils} from "./base/SigUtils.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {ProvenanceAnchor} from "../ProvenanceAnchor.sol";
import {IProvenanceAnchor} from "../interfaces/IProvenanceAnchor.sol";
import {Roles} from "../libraries/Roles.sol";

/// @title ProvenanceAnchorTest
/// @notice Specification of ProvenanceAnchor: write-once roots, writer-only anchoring, the
/// gas budget, EIP-712 anchoring with nonces, and Merkle verification (sorted pairs).
contract ProvenanceAnchorTest is ConstellateTest {
    /// @dev The budget: 60 gas per event for a 1,000-event batch, whole transaction included.
    uint32 internal constant BATCH = 1000;
    uint256 internal constant TX_GAS_BUDGET = 60 * BATCH;
    uint256 internal constant EXECUTION_GAS_BUDGET = 35_000;

    bytes32 internal constant ROOT = keccak256("batch-1");
    bytes32 internal constant METADATA = keccak256("manifest-1");

    ProvenanceAnchor internal provenance;
    uint256 internal deadline;

    function setUp() public override {
        super.setUp();
        provenance = new ProvenanceAnchor(registry);
        vm.label(address(provenance), "ProvenanceAnchor");
        deadline = block.timestamp + 1 hours;
    }

    // ------------------------------------------------------------------------------------
    // Helpers
    // ------------------------------------------------------------------------------------

    function _signAnchor(
        uint256 key,
        bytes32 constellation,
        bytes32 root,
        uint32 leafCount,
        bytes32 metadata,
        uint256 nonce,
        uint256 dl
    ) internal view returns (bytes memory) {
        bytes32 structHash = keccak256(
            abi.encode(SigUtils.ANCHOR_TYPEHASH, constellation, root, leafCount, metadata, nonce, dl)
        );
        return _sign(key, _digest("ProvenanceAnchor", address(provenance), structHash));
    }

    function _assertAnchor(bytes32 root, address by, uint256 anchoredAt, uint256 leafCount) internal view {
        IProvenanceAnchor.Anchor memory record = provenance.getAnchor(root);
        assertEq(record.by, by, "by");
        assertEq(record.anchoredAt, anchoredAt, "anchoredAt");
        assertEq(record.leafCount, leafCount, "leafCount");
    }

    /// @dev Intrinsic calldata gas of a transaction carrying `data`, with Prague's EIP-7623
    /// floor: max(4 gas per token + execution, 10 gas per token), tokens = zero bytes + 4 x non-zero bytes.
    function _txGas(bytes memory data, uint256 executionGas) internal pure returns (uint256) {
        uint256 tokens;
        for (uint256 i; i < data.length; ++i) {
            tokens += data[i] == 0 ? 1 : 4;
        }
        uint256 standard = 21_000 + 4 * tokens + executionGas;
        uint256 floor = 21_000 + 10 * tokens;
        return standard > floor ? standard : floor;
    }

    function _hashPair(bytes32 a, bytes32 b) internal pure returns (bytes32) {
        return a < b ? keccak256(abi.encodePacked(a, b)) : keccak256(abi.encodePacked(b, a));
    }

    /// @dev Builds a sorted-pair keccak256 tree level by level (an odd node is carried up
    /// unchanged) and returns its root and a proof for every leaf.
    function _buildTree(bytes32[] memory leaves) internal pure returns (bytes32 root, bytes32[][] memory proofs) {
        uint256 n = leaves.length;
        uint256 depth;
        for (uint256 width = n; width > 1; width = (width + 1) / 2) {
            ++depth;
        }
        proofs = new bytes32[][](n);
        uint256[] memory lengths = new uint256[](n);
        uint256[] memory position = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            proofs[i] = new bytes32[](depth);
            position[i] = i;
        }

        bytes32[] memory level = leaves;
        while (level.length > 1) {
            bytes32[] memory next = new bytes32[]((level.length + 1) / 2);
            for (uint256 j; j < next.length; ++j) {
                next[j] = 2 * j + 1 < level.length ? _hashPair(level[2 * j], level[2 * j + 1]) : level[2 * j];
            }
            for (uint256 i; i < n; ++i) {
                uint256 sibling = position[i] ^ 1;
                if (sibling < level.length) proofs[i][lengths[i]++] = level[sibling];
                position[i] /= 2;
            }
            level = next;
        }
        root = level[0];

        for (uint256 i; i < n; ++i) {
            bytes32[] memory proof = proofs[i];
            uint256 length = lengths[i];
            assembly ("memory-safe") {
                mstore(proof, length)
            }
        }
    }

    // ------------------------------------------------------------------------------------
    // anchor
    // ------------------------------------------------------------------------------------

    function test_Anchor_RecordsRootAndEmits() public {
        vm.warp(1_800_000_000);
        vm.expectEmit(true, true, true, true, address(provenance));
        emit IProvenanceAnchor.RootAnchored(ACME, ROOT, supplier, 1000, METADATA);
        vm.prank(supplier);
        provenance.anchor(ACME, ROOT, 1000, METADATA);

        _assertAnchor(ROOT, supplier, 1_800_000_000, 1000);
    }

    function test_Anchor_AnchorerRoleMayAnchor() public {
        vm.prank(anchorer);
        provenance.anchor(ACME, ROOT, 1, METADATA);
        _assertAnchor(ROOT, anchorer, block.timestamp, 1);
    }

    function test_Anchor_EveryWritingRoleMayAnchor() public {
        uint256[7] memory writers = [
            Roles.SUPPLIER,
            Roles.MANUFACTURER,
            Roles.LOGISTICS,
            Roles.BRAND,
            Roles.RETAILER,
            Roles.CERTIFIER,
            Roles.ANCHORER
        ];
        for (uint256 i; i < writers.length; ++i) {
            address member = vm.addr(0x1000 + i);
            vm.prank(coordinator);
            registry.addMember(ACME, member, writers[i]);
            bytes32 root = keccak256(abi.encode("role", i));
            vm.prank(member);
            provenance.anchor(ACME, root, 10, METADATA);
            assertEq(provenance.getAnchor(root).by, member, "anchored");
        }
    }

    /// @dev The budget: a direct anchor of a 1,000-event batch costs at most 60 gas per
    /// event for the whole transaction. The call runs against cold storage and a cold
    /// registry, as on chain. Execution gas is the anchor call frame's own use (what a
    /// transaction sent to the contract executes); the caller-side figure (gasleft()
    /// difference) adds the cold call into the contract and must fit the budget too.
    function test_Anchor_GasWithinBudget() public {
        bytes32 root = keccak256("gas-batch");
        bytes memory data = abi.encodeCall(IProvenanceAnchor.anchor, (ACME, root, BATCH, METADATA));

        vm.prank(anchorer);
        uint256 before = gasleft();
        provenance.anchor(ACME, root, BATCH, METADATA);
        uint256 callerSideGas = before - gasleft();
        uint256 executionGas = vm.lastCallGas().gasTotalUsed;

        assertLe(executionGas, EXECUTION_GAS_BUDGET, "execution gas of anchor()");
        assertLe(_txGas(data, executionGas), TX_GAS_BUDGET, "whole-transaction gas of anchor()");
        assertLe(_txGas(data, executionGas) / BATCH, 60, "gas per event");
        assertLe(_txGas(data, callerSideGas), TX_GAS_BUDGET, "upper bound, cold call included");
        _assertAnchor(root, anchorer, block.timestamp, BATCH);
    }

    function test_RevertWhen_ZeroRoot() public {
        vm.expectRevert(IProvenanceAnchor.ProvenanceAnchorZeroRoot.selector);
        vm.prank(supplier);
        provenance.anchor(ACME, bytes32(0), 1, METADATA);
    }

    function test_RevertWhen_EmptyBatch() public {
        vm.expectRevert(IProvenanceAnchor.ProvenanceAnchorEmptyBatch.selector);
        vm.prank(supplier);
        provenance.anchor(ACME, ROOT, 0, METADATA);
    }

    function test_RevertWhen_NonMemberAnchors() public {
        vm.expectRevert(abi.encodeWithSelector(IProvenanceAnchor.ProvenanceAnchorUnauthorized.selector, ACME, outsider));
        vm.prank(outsider);
        provenance.anchor(ACME, ROOT, 1, METADATA);
    }

    function test_RevertWhen_CoordinatorWithoutWritingRoleAnchors() public {
        vm.expectRevert(
            abi.encodeWithSelector(IProvenanceAnchor.ProvenanceAnchorUnauthorized.selector, ACME, coordinator)
        );
        vm.prank(coordinator);
        provenance.anchor(ACME, ROOT, 1, METADATA);
    }

    function test_RevertWhen_MemberAnchorsForAnotherConstellation() public {
        vm.prank(outsider);
        registry.createConstellation(OTHER, "Other");
        vm.expectRevert(
            abi.encodeWithSelector(IProvenanceAnchor.ProvenanceAnchorUnauthorized.selector, OTHER, supplier)
        );
        vm.prank(supplier);
        provenance.anchor(OTHER, ROOT, 1, METADATA);
    }

    function test_RevertWhen_RemovedMemberAnchors() public {
        vm.prank(coordinator);
        registry.removeMember(ACME, supplier);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceAnchor.ProvenanceAnchorUnauthorized.selector, ACME, supplier));
        vm.prank(supplier);
        provenance.anchor(ACME, ROOT, 1, METADATA);
    }

    function test_RevertWhen_RootAnchoredTwice() public {
        uint256 firstAt = block.timestamp;
        vm.prank(supplier);
        provenance.anchor(ACME, ROOT, 5, METADATA);

        vm.warp(firstAt + 100);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceAnchor.ProvenanceAnchorRootExists.selector, ROOT, firstAt));
        vm.prank(logistics);
        provenance.anchor(ACME, ROOT, 7, keccak256("other metadata"));
        _assertAnchor(ROOT, supplier, firstAt, 5);
    }

    // ------------------------------------------------------------------------------------
    // anchorBySig
    // ------------------------------------------------------------------------------------

    function test_AnchorBySig_RecordsSignerNotRelayer() public {
        bytes memory signature = _signAnchor(SUPPLIER_KEY, ACME, ROOT, 42, METADATA, 0, deadline);
        vm.expectEmit(true, true, true, true, address(provenance));
        emit IProvenanceAnchor.RootAnchored(ACME, ROOT, supplier, 42, METADATA);
        vm.prank(relayer);
        provenance.anchorBySig(ACME, ROOT, 42, METADATA, supplier, deadline, signature);

        _assertAnchor(ROOT, supplier, block.timestamp, 42);
        assertEq(provenance.nonces(supplier), 1, "nonce consumed");
        assertEq(provenance.nonces(relayer), 0, "relayer nonce untouched");
    }

    function test_AnchorBySig_AcceptsDeadlineEqualToNow() public {
        bytes memory signature = _signAnchor(SUPPLIER_KEY, ACME, ROOT, 1, METADATA, 0, block.timestamp);
        provenance.anchorBySig(ACME, ROOT, 1, METADATA, supplier, block.timestamp, signature);
        assertEq(provenance.getAnchor(ROOT).by, supplier);
    }

    function test_RevertWhen_AnchorBySigExpired() public {
        bytes memory signature = _signAnchor(SUPPLIER_KEY, ACME, ROOT, 1, METADATA, 0, deadline);
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceAnchor.ProvenanceAnchorExpiredSignature.selector, deadline));
        provenance.anchorBySig(ACME, ROOT, 1, METADATA, supplier, deadline, signature);
    }

    function test_RevertWhen_AnchorBySigWrongSigner() public {
        bytes memory signature = _signAnchor(LOGISTICS_KEY, ACME, ROOT, 1, METADATA, 0, deadline);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceAnchor.ProvenanceAnchorInvalidSignature.selector, supplier));
        provenance.anchorBySig(ACME, ROOT, 1, METADATA, supplier, deadline, signature);
    }

    function test_RevertWhen_AnchorBySigLeafCountTampered() public {
        bytes memory signature = _signAnchor(SUPPLIER_KEY, ACME, ROOT, 1, METADATA, 0, deadline);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceAnchor.ProvenanceAnchorInvalidSignature.selector, supplier));
        provenance.anchorBySig(ACME, ROOT, 2, METADATA, supplier, deadline, signature);
    }

    function test_RevertWhen_AnchorBySigReplayed() public {
        bytes memory signature = _signAnchor(SUPPLIER_KEY, ACME, ROOT, 1, METADATA, 0, deadline);
        provenance.anchorBySig(ACME, ROOT, 1, METADATA, supplier, deadline, signature);

        // Replayed as is: the nonce moved on, so the signature no longer matches.
        vm.expectRevert(abi.encodeWithSelector(IProvenanceAnchor.ProvenanceAnchorInvalidSignature.selector, supplier));
        provenance.anchorBySig(ACME, ROOT, 1, METADATA, supplier, deadline, signature);
    }

    function test_RevertWhen_AnchorBySigReplayedForAnotherRoot() public {
        bytes32 otherRoot = keccak256("batch-2");
        provenance.anchorBySig(
            ACME, ROOT, 1, METADATA, supplier, deadline, _signAnchor(SUPPLIER_KEY, ACME, ROOT, 1, METADATA, 0, deadline)
        );
        bytes memory stale = _signAnchor(SUPPLIER_KEY, ACME, otherRoot, 1, METADATA, 0, deadline);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceAnchor.ProvenanceAnchorInvalidSignature.selector, supplier));
        provenance.anchorBySig(ACME, otherRoot, 1, METADATA, supplier, deadline, stale);

        // Signed with the current nonce it goes through.
        provenance.anchorBySig(
            ACME,
            otherRoot,
            1,
            METADATA,
            supplier,
            deadline,
            _signAnchor(SUPPLIER_KEY, ACME, otherRoot, 1, METADATA, 1, deadline)
        );
        assertEq(provenance.nonces(supplier), 2);
    }

    function test_RevertWhen_AnchorBySigSignerNotWriter() public {
        bytes memory signature = _signAnchor(OUTSIDER_KEY, ACME, ROOT, 1, METADATA, 0, deadline);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceAnchor.ProvenanceAnchorUnauthorized.selector, ACME, outsider));
        vm.prank(supplier); // a member relaying does not lend its role
        provenance.anchorBySig(ACME, ROOT, 1, METADATA, outsider, deadline, signature);
    }

    function test_RevertWhen_AnchorBySigZeroRoot() public {
        bytes memory signature = _signAnchor(SUPPLIER_KEY, ACME, bytes32(0), 1, METADATA, 0, deadline);
        vm.expectRevert(IProvenanceAnchor.ProvenanceAnchorZeroRoot.selector);
        provenance.anchorBySig(ACME, bytes32(0), 1, METADATA, supplier, deadline, signature);
    }

    function test_RevertWhen_AnchorBySigEmptyBatch() public {
        bytes memory signature = _signAnchor(SUPPLIER_KEY, ACME, ROOT, 0, METADATA, 0, deadline);
        vm.expectRevert(IProvenanceAnchor.ProvenanceAnchorEmptyBatch.selector);
        provenance.anchorBySig(ACME, ROOT, 0, METADATA, supplier, deadline, signature);
    }

    function test_RevertWhen_AnchorBySigRootExists() public {
        vm.prank(logistics);
        provenance.anchor(ACME, ROOT, 1, METADATA);
        bytes memory signature = _signAnchor(SUPPLIER_KEY, ACME, ROOT, 1, METADATA, 0, deadline);
        vm.expectRevert(
            abi.encodeWithSelector(IProvenanceAnchor.ProvenanceAnchorRootExists.selector, ROOT, block.timestamp)
        );
        provenance.anchorBySig(ACME, ROOT, 1, METADATA, supplier, deadline, signature);
    }

    // ------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------

    function test_GetAnchor_UnknownRootIsAllZero() public view {
        _assertAnchor(ROOT, address(0), 0, 0);
    }

    function test_Verify_ThreeLeafTree() public {
        bytes32 a = keccak256("event-a");
        bytes32 b = keccak256("event-b");
        bytes32 c = keccak256("event-c");
        bytes32 ab = _hashPair(a, b);
        bytes32 root = _hashPair(ab, c);
        vm.prank(supplier);
        provenance.anchor(ACME, root, 3, METADATA);

        bytes32[] memory proofA = new bytes32[](2);
        proofA[0] = b;
        proofA[1] = c;
        bytes32[] memory proofC = new bytes32[](1);
        proofC[0] = ab;
        assertTrue(provenance.verify(root, a, proofA), "leaf a");
        assertTrue(provenance.verify(root, c, proofC), "leaf c");
        assertFalse(provenance.verify(root, c, proofA), "wrong proof");
        assertFalse(provenance.verify(root, keccak256("event-d"), proofC), "not a leaf");
    }

    function test_Verify_FalseForUnanchoredRoot() public view {
        bytes32 leaf = keccak256("event-a");
        bytes32 sibling = keccak256("event-b");
        bytes32[] memory proof = new bytes32[](1);
        proof[0] = sibling;
        assertFalse(provenance.verify(_hashPair(leaf, sibling), leaf, proof), "unanchored root");
    }

    function test_Verify_SingleLeafBatchHasEmptyProof() public {
        bytes32 leaf = keccak256("only-event");
        vm.prank(supplier);
        provenance.anchor(ACME, leaf, 1, METADATA);
        assertTrue(provenance.verify(leaf, leaf, new bytes32[](0)));
    }

    function test_Nonces_StartAtZero() public view {
        assertEq(provenance.nonces(supplier), 0);
    }

    function test_Registry_IsImmutableConstructorArgument() public view {
        assertEq(address(provenance.REGISTRY()), address(registry));
    }

    function test_TypeHashesMatchSpecification() public view {
        assertEq(provenance.ANCHOR_TYPEHASH(), SigUtils.ANCHOR_TYPEHASH, "ANCHOR_TYPEHASH");
    }

    function test_Eip712Domain() public view {
        _assertDomain(provenance.eip712Domain, "ProvenanceAnchor", address(provenance));
    }

    // ------------------------------------------------------------------------------------
    // Fuzz
    // ------------------------------------------------------------------------------------

    function testFuzz_MerkleProofOfRandomLeaves(bytes32 seed, uint256 count) public {
        count = bound(count, 1, 64);
        bytes32[] memory leaves = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            leaves[i] = keccak256(abi.encode(seed, i));
        }
        (bytes32 root, bytes32[][] memory proofs) = _buildTree(leaves);

        vm.prank(anchorer);
        provenance.anchor(ACME, root, SafeCast.toUint32(count), METADATA);

        for (uint256 i; i < count; ++i) {
            assertTrue(provenance.verify(root, leaves[i], proofs[i]), "every leaf verifies");
            assertEq(MerkleProof.processProof(proofs[i], leaves[i]), root, "OpenZeppelin agrees");
        }
        assertFalse(provenance.verify(root, keccak256(abi.encode(seed, count)), proofs[0]), "foreign leaf");
        if (count > 1) {
            assertFalse(provenance.verify(root, leaves[0], proofs[count - 1]), "another leaf's proof");
        }
    }

    function testFuzz_AnchorRecordsAnyBatch(bytes32 root, uint32 leafCount, bytes32 metadata, uint64 at) public {
        vm.assume(root != bytes32(0) && leafCount != 0);
        vm.warp(at);
        vm.expectEmit(true, true, true, true, address(provenance));
        emit IProvenanceAnchor.RootAnchored(ACME, root, logistics, leafCount, metadata);
        vm.prank(logistics);
        provenance.anchor(ACME, root, leafCount, metadata);
        _assertAnchor(root, logistics, at, leafCount);
    }

    function testFuzz_RevertWhen_RootReanchored(bytes32 root, uint32 first, uint32 second) public {
        vm.assume(root != bytes32(0) && first != 0 && second != 0);
        vm.prank(supplier);
        provenance.anchor(ACME, root, first, METADATA);
        vm.expectRevert(
            abi.encodeWithSelector(IProvenanceAnchor.ProvenanceAnchorRootExists.selector, root, block.timestamp)
        );
        vm.prank(anchorer);
        provenance.anchor(ACME, root, second, bytes32(0));
        _assertAnchor(root, supplier, block.timestamp, first);
    }

    function testFuzz_AnchorBySigFromAnyWriterKey(uint256 key, uint256 role, bytes32 root) public {
        key = bound(key, 1, 0xFFFF_FFFF_FFFF_FFFF);
        address signer = vm.addr(key);
        vm.assume(registry.rolesOf(ACME, signer) == 0 && root != bytes32(0));
        role = bound(role, 1, Roles.WRITERS) & Roles.WRITERS;
        vm.assume(role != 0);

        vm.prank(coordinator);
        registry.addMember(ACME, signer, role);
        bytes memory signature = _signAnchor(key, ACME, root, 3, METADATA, 0, deadline);
        vm.prank(relayer);
        provenance.anchorBySig(ACME, root, 3, METADATA, signer, deadline, signature);
        assertEq(provenance.getAnchor(root).by, signer);
    }
}

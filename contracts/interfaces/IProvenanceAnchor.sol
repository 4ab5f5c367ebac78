// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title IProvenanceAnchor
/// @notice Anchors Merkle roots of batches of event commitments. Each leaf commits to one
/// signed EPCIS event; the payloads stay off chain. A root is written once and never
/// overwritten. Proofs use OpenZeppelin's MerkleProof convention (sorted pairs, keccak256).
interface IProvenanceAnchor {
    /// @notice What the chain keeps of an anchored root, packed in one storage slot.
    struct Anchor {
        address by;
        uint64 anchoredAt;
        uint32 leafCount;
    }

    /// @notice `root` was already anchored at `anchoredAt`; roots are never overwritten.
    error ProvenanceAnchorRootExists(bytes32 root, uint256 anchoredAt);
    /// @notice The zero root commits to nothing.
    error ProvenanceAnchorZeroRoot();
    /// @notice A batch must hold at least one leaf.
    error ProvenanceAnchorEmptyBatch();
    /// @notice `account` holds no writing role in `constellation`.
    error ProvenanceAnchorUnauthorized(bytes32 constellation, address account);
    /// @notice The signature's deadline has passed.
    error ProvenanceAnchorExpiredSignature(uint256 deadline);
    /// @notice The signature was not made by `expected` over this batch and nonce.
    error ProvenanceAnchorInvalidSignature(address expected);

    /// @notice `by` anchored `root`, a batch of `leaves` event commitments of `constellation`.
    event RootAnchored(
        bytes32 indexed constellation, bytes32 indexed root, address indexed by, uint32 leaves, bytes32 metadata
    );

    /// @notice Anchors `root` for `constellation`. The caller must hold a writing role there.
    /// @param leafCount Number of leaves in the batch; must be positive.
    /// @param metadata Free commitment to batch metadata (for example the hash of a manifest).
    function anchor(bytes32 constellation, bytes32 root, uint32 leafCount, bytes32 metadata) external;

    /// @notice Anchors on the EIP-712 signature of `signer` over
    /// Anchor(bytes32 constellation,bytes32 root,uint32 leafCount,bytes32 metadata,uint256 nonce,uint256 deadline),
    /// so a relayer can pay the gas. `signer` must hold a writing role.
    function anchorBySig(
        bytes32 constellation,
        bytes32 root,
        uint32 leafCount,
        bytes32 metadata,
        address signer,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice The record of `root` (all zero if never anchored).
    function getAnchor(bytes32 root) external view returns (Anchor memory);

    /// @notice Whether `root` is anchored and `proof` proves `leaf` under it (sorted pairs).
    function verify(bytes32 root, bytes32 leaf, bytes32[] calldata proof) external view returns (bool);

    /// @notice The next nonce `account` must sign with for anchorBySig.
    function nonces(address account) external view returns (uint256);
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

import {IConstellationRegistry} from "./interfaces/IConstellationRegistry.sol";
import {IProvenanceAnchor} from "./interfaces/IProvenanceAnchor.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title ProvenanceAnchor
/// @notice Write-once registry of Merkle roots of event-commitment batches.
/// @dev Gas is the point of this contract: a direct {anchor} reads and writes one storage
/// slot (the packed {Anchor} record), makes one static call to the registry and emits one
/// event, so a 1,000-leaf batch costs well under 60 gas per event. Signatures are EIP-712
/// (domain "ProvenanceAnchor", version "1") with one sequential nonce per signer.
contract ProvenanceAnchor is IProvenanceAnchor, EIP712("ProvenanceAnchor", "1"), Nonces {
    /// @notice EIP-712 type hash of a signed anchor request.
    bytes32 public constant ANCHOR_TYPEHASH = keccak256(
        "Anchor(bytes32 constellation,bytes32 root,uint32 leafCount,bytes32 metadata,uint256 nonce,uint256 deadline)"
    );

    /// @notice The membership authority asked whether a writer holds a writing role.
    IConstellationRegistry public immutable REGISTRY;

    mapping(bytes32 root => Anchor) private _anchors;

    /// @param registry The constellation registry that authorizes writers.
    constructor(IConstellationRegistry registry) {
        REGISTRY = registry;
    }

    /// @inheritdoc IProvenanceAnchor
    function anchor(bytes32 constellation, bytes32 root, uint32 leafCount, bytes32 metadata) external {
        _anchor(constellation, root, leafCount, metadata, msg.sender);
    }

    /// @inheritdoc IProvenanceAnchor
    function anchorBySig(
        bytes32 constellation,
        bytes32 root,
        uint32 leafCount,
        bytes32 metadata,
        address signer,
        uint256 deadline,
        bytes calldata signature
    ) external {
        // forge-lint: disable-next-line(block-timestamp) deadlines are coarse; seconds of drift do not matter
        if (block.timestamp > deadline) revert ProvenanceAnchorExpiredSignature(deadline);
        bytes32 structHash = keccak256(
            abi.encode(ANCHOR_TYPEHASH, constellation, root, leafCount, metadata, _useNonce(signer), deadline)
        );
        (address recovered, ECDSA.RecoverError error,) = ECDSA.tryRecover(_hashTypedDataV4(structHash), signature);
        if (error != ECDSA.RecoverError.NoError || recovered != signer) {
            revert ProvenanceAnchorInvalidSignature(signer);
        }
        _anchor(constellation, root, leafCount, metadata, signer);
    }

    /// @inheritdoc IProvenanceAnchor
    function getAnchor(bytes32 root) external view returns (Anchor memory) {
        return _anchors[root];
    }

    /// @inheritdoc IProvenanceAnchor
    function verify(bytes32 root, bytes32 leaf, bytes32[] calldata proof) external view returns (bool) {
        return _anchors[root].by != address(0) && MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /// @inheritdoc IProvenanceAnchor
    function nonces(address account) public view override(IProvenanceAnchor, Nonces) returns (uint256) {
        return super.nonces(account);
    }

    /// @dev Records `root` for `by`, who must hold a writing role in `constellation`. The
    /// record's `by` is never zero (a caller or a recovered signer), so it marks existence.
    function _anchor(bytes32 constellation, bytes32 root, uint32 leafCount, bytes32 metadata, address by) private {
        if (root == bytes32(0)) revert ProvenanceAnchorZeroRoot();
        if (leafCount == 0) revert ProvenanceAnchorEmptyBatch();
        Anchor storage record = _anchors[root];
        if (record.by != address(0)) revert ProvenanceAnchorRootExists(root, record.anchoredAt);
        if (!REGISTRY.hasAnyRole(constellation, by, Roles.WRITERS)) {
            revert ProvenanceAnchorUnauthorized(constellation, by);
        }

        _anchors[root] = Anchor({by: by, anchoredAt: uint64(block.timestamp), leafCount: leafCount});
        emit RootAnchored(constellation, root, by, leafCount, metadata);
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {HandlerBase} from "./HandlerBase.sol";
import {SigUtils} from "../../base/SigUtils.sol";

import {ConstellationRegistry} from "../../../ConstellationRegistry.sol";
import {ProvenanceAnchor} from "../../../ProvenanceAnchor.sol";
import {IProvenanceAnchor} from "../../../interfaces/IProvenanceAnchor.sol";
import {Roles} from "../../../libraries/Roles.sol";

/// @title AnchorHandler
/// @notice Random actors anchor roots from a small pool (so collisions are frequent),
/// directly and by signature, while an administrator keeps changing who holds which
/// writing role. Ghosts record the first write of every root, anchors by actors that held
/// no writing role, and replayed signatures that went through.
contract AnchorHandler is HandlerBase {
    struct SignedAnchor {
        bytes32 root;
        uint32 leafCount;
        bytes32 metadata;
        address signer;
        uint256 deadline;
        bytes signature;
    }

    bytes32 public constant CONSTELLATION = keccak256("invariant-anchor");
    uint256 internal constant ROOT_POOL = 24;
    uint256 internal constant ADMIN_KEY = 0xAD;

    ConstellationRegistry public immutable registry;
    ProvenanceAnchor public immutable provenance;
    address public immutable admin;

    /// @notice The model of each actor's roles (the administrator changes them).
    mapping(address account => uint256 roles) public ghost_roles;
    /// @notice The first successful write of each root.
    mapping(bytes32 root => IProvenanceAnchor.Anchor) internal _firstWrite;
    bytes32[] internal _anchoredRoots;
    /// @notice Anchors accepted from an actor that held no writing role at the time.
    uint256 public ghost_unauthorizedAnchors;
    /// @notice Anchors accepted for a root that was already anchored.
    uint256 public ghost_overwrites;
    /// @notice Replayed signatures accepted.
    uint256 public ghost_replays;
    /// @notice Accepted anchorBySig calls per signer.
    mapping(address signer => uint256 count) public ghost_signedAnchors;

    SignedAnchor[] internal _used;

    constructor(ConstellationRegistry registry_, ProvenanceAnchor provenance_) {
        registry = registry_;
        provenance = provenance_;
        admin = vm.addr(ADMIN_KEY);
        vm.startPrank(admin);
        registry.createConstellation(CONSTELLATION, "Invariant anchors");
        // Two writers, an anchoring operator and a coordinator that does not write; two outsiders.
        _setRoles(_actor(0), Roles.SUPPLIER);
        _setRoles(_actor(1), Roles.LOGISTICS | Roles.BRAND);
        _setRoles(_actor(2), Roles.ANCHORER);
        _setRoles(_actor(3), Roles.COORDINATOR);
        vm.stopPrank();
    }

    // ------------------------------------------------------------------------------------
    // Actions
    // ------------------------------------------------------------------------------------

    function anchor(uint256 actorSeed, uint256 rootSeed, uint256 leafCount, bytes32 metadata) external {
        address by = _actor(actorSeed);
        bytes32 root = _root(rootSeed);
        uint32 leaves = uint32(_bound(leafCount, 0, 2000));
        vm.prank(by);
        try provenance.anchor(CONSTELLATION, root, leaves, metadata) {
            _accepted(root, by, leaves);
        } catch {
            _record(false);
        }
    }

    function anchorBySig(uint256 actorSeed, uint256 rootSeed, uint256 leafCount, uint256 validFor) external {
        uint256 key = _key(actorSeed);
        SignedAnchor memory call = SignedAnchor({
            root: _root(rootSeed),
            leafCount: uint32(_bound(leafCount, 0, 2000)),
            metadata: keccak256(abi.encode(rootSeed)),
            signer: _actors[key - FIRST_KEY],
            deadline: block.timestamp + _bound(validFor, 0, 1 days),
            signature: ""
        });
        bytes32 structHash = keccak256(
            abi.encode(
                SigUtils.ANCHOR_TYPEHASH,
                CONSTELLATION,
                call.root,
                call.leafCount,
                call.metadata,
                provenance.nonces(call.signer),
                call.deadline
            )
        );
        call.signature = SigUtils.signTyped(key, "ProvenanceAnchor", address(provenance), structHash);

        vm.prank(relayer);
        try provenance.anchorBySig(
            CONSTELLATION, call.root, call.leafCount, call.metadata, call.signer, call.deadline, call.signature
        ) {
            _accepted(call.root, call.signer, call.leafCount);
            ++ghost_signedAnchors[call.signer];
            _used.push(call);
        } catch {
            _record(false);
        }
    }

    /// @dev Submits an already accepted signature again; its nonce is spent, so it must fail.
    function replayAnchorBySig(uint256 indexSeed) external {
        if (_used.length == 0) return;
        SignedAnchor memory call = _used[indexSeed % _used.length];
        vm.prank(relayer);
        try provenance.anchorBySig(
            CONSTELLATION, call.root, call.leafCount, call.metadata, call.signer, call.deadline, call.signature
        ) {
            ++ghost_replays;
        } catch {}
    }

    /// @dev The administrator gives `actor` exactly `roles` (never the coordinator role,
    /// so the administrator stays the only coordinator able to do this).
    function changeRoles(uint256 actorSeed, uint256 roles) external {
        address account = _actor(actorSeed);
        vm.startPrank(admin);
        _setRoles(account, _bound(roles, 0, Roles.ALL) & ~Roles.COORDINATOR);
        vm.stopPrank();
    }

    // ------------------------------------------------------------------------------------
    // Views for the invariants
    // ------------------------------------------------------------------------------------

    function anchoredRoots() external view returns (bytes32[] memory) {
        return _anchoredRoots;
    }

    function firstWrite(bytes32 root) external view returns (IProvenanceAnchor.Anchor memory) {
        return _firstWrite[root];
    }

    // ------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------

    function _accepted(bytes32 root, address by, uint32 leaves) private {
        _record(true);
        if (ghost_roles[by] & Roles.WRITERS == 0) ++ghost_unauthorizedAnchors;
        if (_firstWrite[root].by != address(0)) {
            ++ghost_overwrites;
            return;
        }
        _firstWrite[root] = IProvenanceAnchor.Anchor({by: by, anchoredAt: uint64(block.timestamp), leafCount: leaves});
        _anchoredRoots.push(root);
    }

    /// @dev Root 0 (invalid) or one of ROOT_POOL fixed roots.
    function _root(uint256 seed) private pure returns (bytes32) {
        uint256 index = seed % (ROOT_POOL + 1);
        return index == 0 ? bytes32(0) : keccak256(abi.encode("root", index));
    }

    /// @dev Sets `account`'s mask through the registry's direct functions (caller pranked
    /// as the administrator) and mirrors it in the model.
    function _setRoles(address account, uint256 roles) private {
        uint256 previous = registry.rolesOf(CONSTELLATION, account);
        if (previous == roles) return;
        if (roles == 0) {
            registry.removeMember(CONSTELLATION, account);
        } else if (previous == 0) {
            registry.addMember(CONSTELLATION, account, roles);
        } else {
            registry.grantRoles(CONSTELLATION, account, roles);
            if (previous & ~roles != 0) registry.revokeRoles(CONSTELLATION, account, previous & ~roles);
        }
        ghost_roles[account] = roles;
    }
}

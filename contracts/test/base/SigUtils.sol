// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Vm, VM_ADDRESS} from "./Vm.sol";

/// @title SigUtils
/// @notice EIP-712 digests rebuilt from the specification's strings (never read from the
/// contracts under test) and signing through forge's `vm.sign`.
library SigUtils {
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");

    bytes32 internal constant SET_ROLES_TYPEHASH =
        keccak256("SetRoles(bytes32 constellation,address account,uint256 roles,uint256 nonce,uint256 deadline)");
    bytes32 internal constant CREATE_CONSTELLATION_TYPEHASH =
        keccak256("CreateConstellation(bytes32 constellation,string name,uint256 nonce,uint256 deadline)");
    bytes32 internal constant ANCHOR_TYPEHASH = keccak256(
        "Anchor(bytes32 constellation,bytes32 root,uint32 leafCount,bytes32 metadata,uint256 nonce,uint256 deadline)"
    );
    bytes32 internal constant ATTEST_TYPEHASH = keccak256(
        "Attest(bytes32 schema,bytes32 constellation,bytes32 subject,bytes32 dataHash,uint64 expiresAt,bytes32 refUID,bool revocable,uint256 deadline)"
    );
    bytes32 internal constant REVOKE_TYPEHASH = keccak256("Revoke(bytes32 uid,uint256 deadline)");
    bytes32 internal constant ANCHOR_GRANT_TYPEHASH = keccak256(
        "AnchorGrant(bytes32 grantId,bytes32 constellation,bytes32 audienceHash,bytes32 termsHash,uint64 expiresAt,uint256 deadline)"
    );
    bytes32 internal constant REVOKE_GRANT_TYPEHASH = keccak256("RevokeGrant(bytes32 grantId,uint256 deadline)");

    Vm private constant VM = Vm(VM_ADDRESS);

    /// @dev The EIP-712 domain separator of `verifyingContract` under (`name`, "1").
    function domainSeparator(string memory name, address verifyingContract) internal view returns (bytes32) {
        return keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256(bytes(name)), keccak256("1"), block.chainid, verifyingContract)
        );
    }

    /// @dev The EIP-712 digest of `structHash` in the domain (`name`, "1", `verifyingContract`).
    function digest(string memory name, address verifyingContract, bytes32 structHash) internal view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(name, verifyingContract), structHash));
    }

    /// @dev A 65-byte (r, s, v) signature of `hash` by `key`.
    function sign(uint256 key, bytes32 hash) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = VM.sign(key, hash);
        return abi.encodePacked(r, s, v);
    }

    /// @dev `key`'s signature of the typed `structHash` for the contract at `verifyingContract`.
    function signTyped(uint256 key, string memory name, address verifyingContract, bytes32 structHash)
        internal
        view
        returns (bytes memory)
    {
        return sign(key, digest(name, verifyingContract, structHash));
    }
}

"""docs/proof-format.md §10: the worked examples, computed here from a fixed fixture by the
service's own code (commitments, capture trees, EIP-712 messages, item chains, Merkle trees).
The test fails when the doc's block differs from what the code computes today; regenerate it:

    .venv/bin/python -m tests.unit.test_proof_format_doc --write

(tests/integration/test_proof_format_examples.py captures the same document through the API and
anchors it, and checks the service stores and seals exactly these values.)"""

from __future__ import annotations

import copy
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_keys import keys

from service.chain import typed_data
from service.domain.commitments import (
    ITEM_STATE,
    RecordCommitment,
    canonical_json,
    chain_head,
    chain_step,
    derived_salts,
    event_leaf,
    field_leaf,
    item_hash,
    item_state_leaf,
)
from service.domain.constellations import constellation_id
from service.domain.merkle import MerkleTree, hash_pair, verify_proof
from service.epcis.analysis import ITEM_ROLES, analyse, commit_event, context_list, stored_payload
from service.epcis.capture import signing_tree
from service.epcis.event_hash import HashContext, iter_events
from service.hashing import keccak256
from service.settings import PROJECT_ROOT

DOC = PROJECT_ROOT / "docs" / "proof-format.md"
BEGIN, END = "<!-- examples:begin -->", "<!-- examples:end -->"
FIXTURE = "tests/fixtures/epcis/examples/Example_9.6.1-ObjectEventWithDigitalLink.jsonld"

SIGNER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"  # Anvil's account 1
SLUG = "coffee"
SEED = bytes(range(32))
CHAIN_ID = 31337
PROVENANCE_ANCHOR = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
LOT = "urn:epc:class:lgtin:4012345.011111.4444"
SHOWN_FIELD = "quantityList"
"""The field §10.2 takes apart byte by byte: its 12.0 is 12 in canonical JSON."""
CHAINED_ITEM = "https://id.gs1.org/01/70614141123451/21/2018"
"""The item both events name: its chain holds two records."""
RANDOM_LEAVES = (keccak256(b"random leaf of batch 1"), keccak256(b"random leaf of batch 2"))
"""Stand-ins for the anchorer's random leaves (secrets.token_bytes(32) in a real batch)."""

DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
CAPTURE_TYPE = "Capture(bytes32 constellation,bytes32 captureRoot,uint32 recordCount)"
ROOT_ANCHORED = "RootAnchored(bytes32,bytes32,address,uint32,bytes32)"
TIMES = "\N{MULTIPLICATION SIGN}"  # the doc's sign for repetition, as in 0x00 times 12


def example_document() -> dict[str, Any]:
    """GS1's two-event example, its eventIDs dropped (they are GS1's hashes of other events) and a
    quantityList with a float 12.0 added to the first event."""
    document: dict[str, Any] = json.loads((PROJECT_ROOT / FIXTURE).read_text())
    events = document["epcisBody"]["eventList"]
    for event in events:
        del event["eventID"]
    first: dict[str, Any] = {}
    for name, value in events[0].items():
        first[name] = value
        if name == "epcList":
            first[SHOWN_FIELD] = [{"epcClass": LOT, "quantity": 12.0, "uom": "KGM"}]
    events[0] = first
    return document


@dataclass
class Batch:
    """A batch tree as the anchorer seals it: record leaves, sorted item-state leaves, random."""

    records: list[bytes]
    states: list[tuple[str, int, bytes, bytes]]
    """(item, count, head, itemStateLeaf), sorted by the leaf's bytes."""
    random: bytes

    @property
    def leaves(self) -> list[bytes]:
        return [*self.records, *(leaf for *_, leaf in self.states), self.random]

    @property
    def tree(self) -> MerkleTree:
        return MerkleTree(self.leaves)


@dataclass
class Example:
    """Every value §10 shows, for the integration test to hold the service to."""

    document: dict[str, Any]
    signer: str
    constellation: str
    event_hashes: list[str]
    payloads: list[dict[str, Any]]
    commitments: list[RecordCommitment]
    record_leaves: list[bytes]
    capture: MerkleTree
    typed: dict[str, Any]
    signature: bytes
    items: list[list[str]]
    """The items each event names (canonical), as its records join their chains."""
    batches: list[Batch] = field(default_factory=list)


def example() -> Example:
    document = example_document()
    signer = Account.from_key(SIGNER_KEY).address
    constellation = constellation_id(SLUG)
    events = iter_events(document)
    context = HashContext.from_document(document)
    document_context = context_list(document["@context"])
    analysed = analyse(events, context, document_context, SEED)
    payloads = [stored_payload(event, document_context, context) for event in events]
    commitments = [commit_event(p, a.hash_hex, SEED) for p, a in zip(payloads, analysed, strict=True)]
    assert [c.root for c in commitments] == [a.record_root for a in analysed]
    leaves = [event_leaf(c.root, signer, constellation) for c in commitments]
    capture = signing_tree(document, seed=SEED, signer=signer, constellation=constellation)
    assert capture.levels[0] == leaves
    typed = typed_data.typed_message(
        "Capture",
        {"constellation": bytes.fromhex(constellation[2:]), "captureRoot": capture.root, "recordCount": len(leaves)},
        chain_id=CHAIN_ID,
        contract=PROVENANCE_ANCHOR,
    )
    signature = typed_data.sign(SIGNER_KEY, typed)
    assert typed_data.recover(typed, signature) == signer
    items = [list(dict.fromkeys(i for role, i in a.identifiers if role in ITEM_ROLES)) for a in analysed]
    built = Example(
        document, signer, constellation, [a.hash_hex for a in analysed], payloads, commitments, leaves, capture,
        typed, signature, items,
    )  # fmt: skip
    # Event 1 is captured alone first and anchored; the two-event document follows (event 1 is a
    # duplicate there), so the next batch holds event 2 alone.
    chains: dict[str, list[bytes]] = {}
    for leaf, named, random in zip(leaves, items, RANDOM_LEAVES, strict=True):
        states = []
        for item in named:
            chains.setdefault(item, []).append(leaf)
            count, head = len(chains[item]), chain_head(chains[item])
            states.append((item, count, head, item_state_leaf(constellation, item_hash(item), count, head)))
        built.batches.append(Batch([leaf], sorted(states, key=lambda state: state[3]), random))
    return built


# --- rendering ------------------------------------------------------------------------------------


def hx(raw: bytes) -> str:
    return "0x" + raw.hex()


def words(raw: bytes) -> list[str]:
    """`raw` as 0x-hex 32-byte words (the last one shorter if it is)."""
    return [hx(raw[i : i + 32]) for i in range(0, len(raw), 32)]


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def jcs(value: Any) -> str:
    return canonical_json(value).decode()


def render(ex: Example) -> str:
    out: list[str] = []
    say = out.append
    first, second = ex.commitments
    h1 = bytes.fromhex(ex.event_hashes[0])
    say("Generated by `tests/unit/test_proof_format_doc.py` from the service's own code; the test")
    say("fails when this block differs (`python -m tests.unit.test_proof_format_doc --write`")
    say("regenerates it). Hex is `0x` + lowercase; a long preimage is shown as its 32-byte words,")
    say("one a line, to be concatenated.")
    say("")
    say("### 10.1 The fixture")
    say("")
    say("| input | value |")
    say("| --- | --- |")
    say(f"| signer's key (Anvil's account 1) | `{SIGNER_KEY}` |")
    say(f"| signer (`owner.address`) | `{ex.signer}` |")
    say(f'| constellation (`keccak256(utf8("constellate:{SLUG}"))`) | `{ex.constellation}` |')
    say(f"| capture seed | `{hx(SEED)}` |")
    say(f"| `chainId` | `{CHAIN_ID}` |")
    say(f"| `provenanceAnchor` (EIP-712 `verifyingContract`) | `{PROVENANCE_ANCHOR}` |")
    say("")
    say(f"The document: GS1's `{Path(FIXTURE).name}` (`{Path(FIXTURE).parent}`) with its")
    say(f"`eventID`s dropped and a `{SHOWN_FIELD}` holding the number `12.0` added to the first event:")
    say("")
    say("```json")
    say(json.dumps(ex.document, indent=2, ensure_ascii=False))
    say("```")
    say("")
    say("The standard EPCIS context URL is dropped from the stored events' `@context`; the document's")
    say("other entry stays, so both events commit `@context` as")
    say(f"`{jcs(ex.payloads[0]['@context'])}`.")
    say("")

    say("### 10.2 Event 1: one field, byte by byte")
    say("")
    value = first.fields[SHOWN_FIELD]
    canonical = canonical_json(value)
    salt_preimage = SEED + h1 + SHOWN_FIELD.encode()
    salt = first.salts[SHOWN_FIELD]
    assert keccak256(salt_preimage)[:16] == salt == derived_salts(SEED, h1, [SHOWN_FIELD])[SHOWN_FIELD]
    path_hash = keccak256(SHOWN_FIELD.encode())
    leaf_preimage = salt + path_hash + keccak256(canonical)
    leaf = field_leaf(SHOWN_FIELD, value, salt)
    assert keccak256(leaf_preimage) == leaf
    say(f"`#eventHash` of event 1 (its CBV 2.0 event hash): `{ex.event_hashes[0]}`.")
    say("")
    say("```")
    say(f'path                     = "{SHOWN_FIELD}",  utf8(path) = {hx(SHOWN_FIELD.encode())}')
    say(f"canonical(value)         = {canonical.decode()}")
    say(f"                         = {hx(canonical)}")
    say(f"keccak256(canonical)     = {hx(keccak256(canonical))}")
    say(f"keccak256(utf8(path))    = {hx(path_hash)}")
    say("salt preimage            = seed ‖ eventHash (32 raw bytes) ‖ utf8(path)")
    say(f"                         = {hx(SEED)}")
    say(f"                           {hx(h1)}")
    say(f"                           {hx(SHOWN_FIELD.encode())}")
    say(f"keccak256(salt preimage) = {hx(keccak256(salt_preimage))}")
    say(f"salt                     = {hx(salt)}   (its first 16 bytes)")
    say("leaf preimage            = salt ‖ keccak256(utf8(path)) ‖ keccak256(canonical)   (80 bytes)")
    say(f"                         = {hx(salt)}")
    say(f"                           {hx(path_hash)}")
    say(f"                           {hx(keccak256(canonical))}")
    say(f"fieldLeaf                = {hx(leaf)}")
    say("```")
    say("")

    for number, commitment in ((1, first), (2, second)):
        say(f"### 10.{number + 2} Event {number}: field leaves and record root")
        say("")
        say("Committed fields in UTF-16 order of `path` (the tree's leaf order), each value as canonical")
        say("JSON:")
        say("")
        say("| # | path | canonical(value) | salt | fieldLeaf |")
        say("| --- | --- | --- | --- | --- |")
        field_leaves = []
        for index, (path, item) in enumerate(commitment.fields.items()):
            leaf = field_leaf(path, item, commitment.salts[path])
            field_leaves.append(leaf)
            say(f"| {index} | `{path}` | `{cell(jcs(item))}` | `{hx(commitment.salts[path])}` | `{hx(leaf)}` |")
        tree = MerkleTree(field_leaves)
        assert tree.root == commitment.root
        say("")
        if number == 1:
            say("The tree, level by level (a parent is `keccak256(min(a, b) ‖ max(a, b))`; `↑` marks a")
            say("node carried up unchanged from an odd level):")
            say("")
            say("```")
            for depth, level in enumerate(tree.levels):
                below = tree.levels[depth - 1] if depth else None
                say(f"level {depth} ({len(level)} node{'s' if len(level) > 1 else ''})")
                for index, node in enumerate(level):
                    carried = below is not None and len(below) % 2 == 1 and index == len(level) - 1
                    say(f"  {index:>2} {hx(node)}{'  ↑' if carried else ''}")
            say("```")
            say("")
            shown = list(commitment.fields).index(SHOWN_FIELD)
            proof = tree.proof(shown)
            assert verify_proof(tree.root, field_leaves[shown], proof)
            say(f"The disclosure of `{SHOWN_FIELD}` (leaf {shown}) in a view: `salt` as above and `proof`")
            say("(siblings from the leaf upwards; none at a level where the node is carried up):")
            say("")
            say("```json")
            say(json.dumps({"salt": hx(commitment.salts[SHOWN_FIELD]), "proof": [hx(p) for p in proof]}, indent=2))
            say("```")
            say("")
        say(f"record root of event {number} = `{hx(commitment.root)}`")
        say("")

    say("### 10.5 Record leaves")
    say("")
    say("```")
    for number, (commitment, leaf) in enumerate(zip(ex.commitments, ex.record_leaves, strict=True), start=1):
        preimage = commitment.root + bytes(12) + bytes.fromhex(ex.signer[2:]) + bytes.fromhex(ex.constellation[2:])
        assert keccak256(preimage) == leaf
        say(f"event {number}: preimage = recordRoot ‖ 0x00{TIMES}12 ‖ signer ‖ constellation   (96 bytes)")
        for word in words(preimage):
            say(f"                     {word}")
        say(f"         recordLeaf ({'ref'}) = {hx(leaf)}")
    say("```")
    say("")

    say("### 10.6 The capture root and its signature")
    say("")
    l1, l2 = ex.record_leaves
    low, high = sorted((l1, l2))
    assert ex.capture.root == keccak256(low + high) == hash_pair(l1, l2)
    domain_type = keccak256(DOMAIN_TYPE.encode())
    domain_preimage = (
        domain_type
        + keccak256(b"ProvenanceAnchor")
        + keccak256(b"1")
        + CHAIN_ID.to_bytes(32, "big")
        + bytes(12)
        + bytes.fromhex(PROVENANCE_ANCHOR[2:])
    )
    separator = keccak256(domain_preimage)
    capture_type = keccak256(CAPTURE_TYPE.encode())
    struct_preimage = (
        capture_type + bytes.fromhex(ex.constellation[2:]) + ex.capture.root + len(ex.record_leaves).to_bytes(32, "big")
    )
    struct_hash = keccak256(struct_preimage)
    digest_preimage = b"\x19\x01" + separator + struct_hash
    digest = keccak256(digest_preimage)
    signable = encode_typed_data(full_message=ex.typed)
    assert (signable.version, signable.header, signable.body) == (b"\x01", separator, struct_hash)
    sig = ex.signature
    recovered = keys.Signature(sig[:64] + bytes([sig[64] - 27])).recover_public_key_from_msg_hash(digest)
    assert recovered.to_checksum_address() == ex.signer
    say("Both events' record leaves, in document order, make the capture tree:")
    say("")
    say("```")
    say(f"leaves            = [{hx(l1)},")
    say(f"                     {hx(l2)}]")
    say("captureRoot       = keccak256(min ‖ max)")
    say(f"                  = keccak256({hx(low)}")
    say(f"                              {hx(high)})")
    say(f"                  = {hx(ex.capture.root)}")
    say(f"recordCount       = {len(ex.record_leaves)}")
    say("")
    say(f'domain type hash  = keccak256(utf8("{DOMAIN_TYPE}"))')
    say(f"                  = {hx(domain_type)}")
    say(
        "domain separator  = keccak256(typeHash ‖ keccak256(utf8(name)) ‖ keccak256(utf8(version)) ‖ chainId ‖ verifyingContract)"
    )
    for word in words(domain_preimage):
        say(f"                    {word}")
    say(f"                  = {hx(separator)}")
    say(f'Capture type hash = keccak256(utf8("{CAPTURE_TYPE}"))')
    say(f"                  = {hx(capture_type)}")
    say("struct hash       = keccak256(typeHash ‖ constellation ‖ captureRoot ‖ uint256(recordCount))")
    for word in words(struct_preimage):
        say(f"                    {word}")
    say(f"                  = {hx(struct_hash)}")
    say("digest            = keccak256(0x1901 ‖ domain separator ‖ struct hash)")
    say(f"                  = {hx(digest)}")
    say("signature         = r ‖ s ‖ v   (secp256k1, RFC 6979 deterministic, v = 27 or 28)")
    say(f"                  r = {hx(sig[:32])}")
    say(f"                  s = {hx(sig[32:64])}")
    say(f"                  v = {sig[64]}")
    say(f"recovers          = {ex.signer}")
    say("```")
    say("")
    proof = ex.capture.proof(1)
    assert verify_proof(ex.capture.root, l2, proof)
    say("Event 2's view carries this `capture` block (`index` and `signedBy` are labels):")
    say("")
    say("```json")
    block = {
        "root": hx(ex.capture.root),
        "count": len(ex.record_leaves),
        "index": 1,
        "proof": [hx(p) for p in proof],
        "signature": hx(sig),
        "signedBy": "self",
    }
    say(json.dumps(block, indent=2))
    say("```")
    say("")

    say("### 10.7 An item chain and its state leaf")
    say("")
    say("The items each event names (§7, canonical form):")
    say("")
    for number, named in enumerate(ex.items, start=1):
        say(f"- event {number}: " + ", ".join(f"`{i}`" for i in named))
    say("")
    say(f"`{CHAINED_ITEM}` is named by both; its chain, event 1 first:")
    say("")
    head0 = bytes(32)
    head1 = chain_step(head0, l1)
    head2 = chain_step(head1, l2)
    assert head2 == chain_head([l1, l2])
    key = item_hash(CHAINED_ITEM)
    state_preimage = ITEM_STATE + bytes.fromhex(ex.constellation[2:]) + key + (2).to_bytes(32, "big") + head2
    state = keccak256(state_preimage)
    assert state == item_state_leaf(ex.constellation, key, 2, head2)
    say("```")
    say(f"head0                 = {hx(head0)}")
    say(f"head1                 = keccak256(head0 ‖ recordLeaf of event 1) = {hx(head1)}")
    say(f"head2                 = keccak256(head1 ‖ recordLeaf of event 2) = {hx(head2)}")
    say("")
    say('ITEM_STATE            = keccak256(utf8("constellate:item-state:v1"))')
    say(f"                      = {hx(ITEM_STATE)}")
    say("keccak256(utf8(item)) = " + hx(key))
    say(
        "itemStateLeaf preimage = ITEM_STATE ‖ constellation ‖ keccak256(utf8(item)) ‖ uint256(count = 2) ‖ head2   (160 bytes)"
    )
    for word in words(state_preimage):
        say(f"                        {word}")
    say(f"itemStateLeaf         = {hx(state)}")
    say("```")
    say("")

    say("### 10.8 Batch trees")
    say("")
    say("Say the member captured event 1 alone first (the same seed, so the same record), and it was")
    say("anchored; then the two-event document (event 1 is a duplicate there: it stays in the capture")
    say("tree, but its record is the one captured first, whose view names that one-leaf capture: root")
    say("= its record leaf, `count` 1, `proof` []). The first batch holds event 1's record leaf,")
    say("the state leaves (count 1) of its three items sorted by their bytes, and a random leaf; the")
    say("second holds event 2's record leaf, the state of its one item (count 2, §10.7) and a random")
    say("leaf. Here the random leaves are fixed stand-ins:")
    say('`keccak256(utf8("random leaf of batch 1"))` and `… of batch 2`.')
    say("")
    one, two = ex.batches
    assert two.states[0][3] == state
    say("```")
    say(f"batch 1 ({len(one.leaves)} leaves, leafCount {len(one.leaves)})")
    labels = ["recordLeaf of event 1", *(f"itemStateLeaf {i} (count {n})" for i, n, *_ in one.states), "random"]
    for index, (leaf, label) in enumerate(zip(one.leaves, labels, strict=True)):
        say(f"  leaf {index} {hx(leaf)}  {label}")
    say(f"  root   {hx(one.tree.root)}")
    say("```")
    say("")
    tree = two.tree
    a, b, r = two.leaves
    inner = hash_pair(a, b)
    assert tree.levels == [[a, b, r], [inner, r], [tree.root]]
    say("Batch 2 has three leaves: the odd one (the random leaf) is carried up to the next level.")
    say("")
    say("```")
    say("level 0: leaf 0 " + hx(a) + "  recordLeaf of event 2")
    say("         leaf 1 " + hx(b) + f"  itemStateLeaf {CHAINED_ITEM} (count 2)")
    say("         leaf 2 " + hx(r) + "  random")
    say("level 1: keccak256(min(leaf 0, leaf 1) ‖ max(leaf 0, leaf 1)) = " + hx(inner))
    say("         leaf 2, carried up                                 = " + hx(r))
    say("level 2: root = keccak256(min ‖ max of level 1)             = " + hx(tree.root))
    say("")
    for index, label in ((0, "recordLeaf of event 2"), (1, "itemStateLeaf"), (2, "random leaf")):
        siblings = tree.proof(index)
        assert verify_proof(tree.root, two.leaves[index], siblings)
        say(f"proof of leaf {index} ({label}): [" + ", ".join(hx(p) for p in siblings) + "]")
    say("```")
    say("")
    say("Event 2's view names `anchor.root` = batch 2's root, `anchor.leafIndex` 0, `anchor.leafCount`")
    say("3 and the proof of leaf 0; the completeness entry of the item names the same root with")
    say("`leafIndex` 1 and the proof of leaf 1. The root is anchored with")
    say("`ProvenanceAnchor.anchor(constellation, root, 3, metadata)`, whose log's first topic is")
    say("")
    say("```")
    say(f'keccak256(utf8("{ROOT_ANCHORED}"))')
    say(f"  = {hx(keccak256(ROOT_ANCHORED.encode()))}")
    say("```")
    return "\n".join(out)


def block_of(text: str) -> str:
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[start:end].strip("\n")


def test_the_worked_examples_are_what_the_code_computes() -> None:
    expected = render(example())
    found = block_of(DOC.read_text())
    assert found == expected, (
        "docs/proof-format.md §10 differs from what the code computes now: if the change is meant, "
        "regenerate it with `.venv/bin/python -m tests.unit.test_proof_format_doc --write` "
        "(and say in the commit why the format changed)"
    )


def test_the_example_document_is_the_fixture_with_a_float_quantity() -> None:
    document = example_document()
    original = json.loads((PROJECT_ROOT / FIXTURE).read_text())
    stripped = copy.deepcopy(document)
    del stripped["epcisBody"]["eventList"][0][SHOWN_FIELD]
    for event in original["epcisBody"]["eventList"]:
        del event["eventID"]
    assert stripped == original
    assert canonical_json(document["epcisBody"]["eventList"][0][SHOWN_FIELD]).count(b'"quantity":12,') == 1


def write() -> None:
    text = DOC.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    DOC.write_text(text[:start] + "\n" + render(example()) + "\n" + text[end:])
    print(f"wrote the worked examples into {DOC.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        raise SystemExit("usage: python -m tests.unit.test_proof_format_doc --write")
    write()

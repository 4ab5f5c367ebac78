"""What a proof verifier reads from the chain, with nothing but a JSON-RPC endpoint and the
addresses it pins: the chain id, anchored roots (state and `RootAnchored` log), members' roles
at a block, attestations. Reads go out as JSON-RPC batches (one HTTP POST for many reads, over
httpx: no web3 here, so a verifier starts fast) and each value is read once per reader, so a
journey of hundreds of steps costs two or three round trips. `service.domain.proofs.ProofReader`
and `service.domain.credential_proofs.AttestationReader` are the interfaces the domain sees:
ChainProofReader implements both, RegistryReader the second alone (a credential's verifier pins
only the AttestationRegistry).

Any failed read — unreachable endpoint, an error answer, bytes no pinned contract returns —
raises ChainUnavailable: a verifier then says what it could not check, never that it passed."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import httpx
from eth_abi import decode, encode
from eth_abi.exceptions import DecodingError
from eth_utils import is_address

from service.addresses import checksum_address
from service.chain.structs import AnchorRecord, AttestationRecord
from service.errors import ChainUnavailable
from service.hashing import keccak256_text
from service.roles import Role

WRITERS = Role.ALL & ~Role.COORDINATOR
"""0xbf: every role that writes records (a coordinator alone does not)."""

ROOT_ANCHORED = "0x" + keccak256_text("RootAnchored(bytes32,bytes32,address,uint32,bytes32)").hex()


def _selector(signature: str) -> bytes:
    return keccak256_text(signature)[:4]


GET_ANCHOR = _selector("getAnchor(bytes32)")
HAS_ANY_ROLE = _selector("hasAnyRole(bytes32,address,uint256)")
GET_ATTESTATION = _selector("getAttestation(bytes32)")
GET_SCHEMA = _selector("getSchema(bytes32)")
SCHEMA_TYPE = "(bytes32,address,bool,uint256,string)"
ANCHOR_TYPE = "(address,uint64,uint32)"
ATTESTATION_TYPE = "(bytes32,bytes32,bytes32,bytes32,bytes32,bytes32,address,uint64,uint64,uint64,bool)"

READ_ERRORS: tuple[type[BaseException], ...] = (httpx.HTTPError, OSError, ValueError)
"""A round trip that failed: the endpoint unreachable or timing out, or an answer that is no JSON."""


def _address(value: Any, name: str) -> str:
    if not isinstance(value, str) or not is_address(value) or len(value) != 42:
        raise ValueError(f"{name} is not an address (0x and 20 bytes of hex): {value!r}")
    return checksum_address(value)


@dataclass(frozen=True)
class TrustPins:
    """What a verifier trusts, from its own configuration (docs/proof-format.md §1); never
    from the document under check. `chain_id` None: whatever chain the endpoint is."""

    provenance_anchor: str
    anchorer: str
    chain_id: int | None = None
    constellation_registry: str | None = None
    attestation_registry: str | None = None
    sharing_ledger: str | None = None

    NAMES = (
        ("chainId", "chain_id"),
        ("provenanceAnchor", "provenance_anchor"),
        ("constellationRegistry", "constellation_registry"),
        ("attestationRegistry", "attestation_registry"),
        ("sharingLedger", "sharing_ledger"),
        ("anchorer", "anchorer"),
    )
    """The pins' JSON names (as /verify/trust and a journey's `verify` block write them)."""

    @classmethod
    def of(
        cls,
        *,
        provenance_anchor: str,
        anchorer: str,
        chain_id: int | None = None,
        constellation_registry: str | None = None,
        attestation_registry: str | None = None,
        sharing_ledger: str | None = None,
    ) -> TrustPins:
        """Pins from addresses as typed: each checked (ValueError naming the pin), checksummed."""
        if chain_id is not None and (isinstance(chain_id, bool) or not isinstance(chain_id, int) or chain_id <= 0):
            raise ValueError(f"chainId is not a positive integer: {chain_id!r}")

        def optional(value: str | None, name: str) -> str | None:
            return None if value is None else _address(value, name)

        return cls(
            provenance_anchor=_address(provenance_anchor, "provenanceAnchor"),
            anchorer=_address(anchorer, "anchorer"),
            chain_id=chain_id,
            constellation_registry=optional(constellation_registry, "constellationRegistry"),
            attestation_registry=optional(attestation_registry, "attestationRegistry"),
            sharing_ledger=optional(sharing_ledger, "sharingLedger"),
        )

    @classmethod
    def from_json(cls, data: Any) -> TrustPins:
        """Pins from the JSON `/verify/trust` answers (other members are ignored); ValueError
        naming the pin that is missing or not what it must be."""
        if not isinstance(data, Mapping):
            raise ValueError("the pins are a JSON object (as GET /verify/trust answers)")
        for required in ("provenanceAnchor", "anchorer"):
            if data.get(required) is None:
                raise ValueError(f"the pins name no {required}")
        return cls.of(
            provenance_anchor=data["provenanceAnchor"],
            anchorer=data["anchorer"],
            chain_id=data.get("chainId"),
            constellation_registry=data.get("constellationRegistry"),
            attestation_registry=data.get("attestationRegistry"),
            sharing_ledger=data.get("sharingLedger"),
        )

    def as_json(self) -> dict[str, Any]:
        return {name: getattr(self, attribute) for name, attribute in self.NAMES}

    def differences(self, named: Mapping[str, Any]) -> list[str]:
        """The pins `named` (a journey's `verify` block) states otherwise than these: each as
        `name` (addresses compared case-insensitively; a pin not stated is not a difference,
        one of these that is None is not compared)."""

        def same(mine: Any, theirs: Any) -> bool:
            if isinstance(mine, str) and isinstance(theirs, str):
                return mine.lower() == theirs.lower()
            return bool(mine == theirs)

        return [
            name
            for name, attribute in self.NAMES
            if name in named
            and getattr(self, attribute) is not None
            and not same(getattr(self, attribute), named[name])
        ]


@dataclass(frozen=True)
class AnchorLog:
    """The `RootAnchored` log of a root: the constellation it names (0x-hex, lower case), the
    block it is in now (after a reorg, perhaps not the block a view names), who anchored it."""

    constellation: str
    block_number: int
    by: str
    leaf_count: int


@dataclass
class _Call:
    method: str
    params: list[Any]
    what: str
    take: Callable[[Any], None]
    tolerate: Callable[[], None] | None = None
    """What an error answer means instead of a failed read, if it may happen (a block past the
    head after a reorg: the log is then looked for anywhere)."""

    @property
    def kind(self) -> str:
        """The method, or for eth_call the contract function: `getAnchor`, `eth_getLogs`."""
        return self.what.split(".", 1)[1].split("(", 1)[0] if self.method == "eth_call" else self.method


@cache
def _shared_http() -> httpx.Client:
    """One HTTP client (one connection pool, its TLS context made once) for the readers of a
    process: a service makes a reader per request, and a new client costs about 20 ms."""
    return httpx.Client()


class _JsonRpcReader(ABC):
    """Reads over one JSON-RPC endpoint in batches (one HTTP POST each), caching every answer:
    the chain id and the attestations of the AttestationRegistry at `registry`. `timeout`
    bounds each round trip; `transport` is httpx's seam (the reader then has a client of its
    own, else it shares the process's)."""

    def __init__(
        self,
        rpc_url: str,
        *,
        timeout: float = 30.0,
        max_batch: int = 200,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.rpc_url = rpc_url
        self.max_batch = max_batch
        self.round_trips = 0
        """HTTP requests made (each a JSON-RPC batch): what prefetching saves."""
        self.reads: Counter[str] = Counter()
        """JSON-RPC calls made, by kind (`getAnchor`, `hasAnyRole`, `eth_getLogs`, …): each value once."""
        self.timeout = timeout
        self._own_http = httpx.Client(transport=transport) if transport is not None else None
        self._chain_id: int | None = None
        self._attestations: dict[bytes, AttestationRecord] = {}
        self._schemas: dict[bytes, str | None] = {}
        self._unreachable: ChainUnavailable | None = None

    @property
    @abstractmethod
    def registry(self) -> str | None:
        """The AttestationRegistry it reads (None: not pinned)."""

    @property
    def chain_id(self) -> int:
        """The endpoint's chain id (eth_chainId), read once."""
        if self._chain_id is None:
            self._round([self._chain_id_call()])
        assert self._chain_id is not None
        return self._chain_id

    @property
    def address(self) -> str:
        """The pinned AttestationRegistry (the name `AttestationReader` gives it)."""
        if self.registry is None:
            raise ChainUnavailable("no AttestationRegistry is pinned: claims cannot be read")
        return self.registry

    def get_attestation(self, uid: bytes) -> AttestationRecord:
        """`AttestationRegistry.getAttestation(uid)` at the latest block (all zero: no such uid)."""
        if uid not in self._attestations:
            self._round([self._attestation_call(uid)])
        return self._attestations[uid]

    def schema_definition(self, uid: bytes) -> str | None:
        """`AttestationRegistry.getSchema(uid).definition` (None: no such schema): the registry
        binds the definition to the uid an attestation's issuer signed."""
        if uid not in self._schemas:
            self._round([self._schema_call(uid)])
        return self._schemas[uid]

    def close(self) -> None:
        """Closes its own HTTP client, if it has one (the shared one stays open)."""
        if self._own_http is not None:
            self._own_http.close()

    # --- the calls --------------------------------------------------------------------------

    def _chain_id_call(self) -> _Call:
        def take(result: Any) -> None:
            self._chain_id = int(result, 16)

        return _Call("eth_chainId", [], "eth_chainId", take)

    def _eth_call(
        self, to: str | None, data: bytes, block: int | None, what: str, take: Callable[[bytes], None]
    ) -> _Call:
        if to is None:
            raise ChainUnavailable(f"{what}: its contract is not pinned")
        tag = hex(block) if block is not None else "latest"

        def decoded(result: Any) -> None:
            if not isinstance(result, str) or len(result) <= 2:
                raise ValueError(f"no contract at {to} answers {what.split('(')[0]}")
            take(bytes.fromhex(result.removeprefix("0x")))

        return _Call("eth_call", [{"to": to, "data": "0x" + data.hex()}, tag], what, decoded)

    def _attestation_call(self, uid: bytes) -> _Call:
        def take(raw: bytes) -> None:
            (fields,) = decode([ATTESTATION_TYPE], raw)
            values: list[Any] = [bytes(f) if isinstance(f, bytes | bytearray) else f for f in fields]
            values[6] = checksum_address(values[6])
            self._attestations[uid] = AttestationRecord(*values)

        data = GET_ATTESTATION + encode(["bytes32"], [uid])
        return self._eth_call(self.registry, data, None, f"AttestationRegistry.getAttestation(0x{uid.hex()})", take)

    def _schema_call(self, uid: bytes) -> _Call:
        def take(raw: bytes) -> None:
            (fields,) = decode([SCHEMA_TYPE], raw)
            self._schemas[uid] = str(fields[4]) if int(str(fields[1]), 16) else None  # registrant 0: none

        data = GET_SCHEMA + encode(["bytes32"], [uid])
        return self._eth_call(self.registry, data, None, f"AttestationRegistry.getSchema(0x{uid.hex()})", take)

    # --- the round trip ---------------------------------------------------------------------

    def _post(self, batch: list[dict[str, Any]]) -> Any:
        """One HTTP POST of a JSON-RPC batch; its answer as JSON (READ_ERRORS if it failed)."""
        http = self._own_http or _shared_http()
        response = http.post(self.rpc_url, json=batch, timeout=self.timeout)
        if response.status_code != 200 and not response.content.startswith((b"[", b"{")):
            raise ValueError(f"HTTP {response.status_code}: {response.text[:200]}")
        return response.json()

    def _round(self, calls: list[_Call]) -> None:
        """Sends `calls` as JSON-RPC batches of at most `max_batch`, hands each result to its
        call; ChainUnavailable naming the endpoint and the read that failed."""
        for start in range(0, len(calls), self.max_batch):
            chunk = calls[start : start + self.max_batch]
            what = chunk[0].what if len(chunk) == 1 else f"a batch of {len(chunk)} reads"
            self.reads.update(c.kind for c in chunk)
            if self._unreachable is not None:  # once unreachable, not waited on again for each read
                raise self._unreachable
            batch = [{"jsonrpc": "2.0", "id": n, "method": c.method, "params": c.params} for n, c in enumerate(chunk)]
            try:
                self.round_trips += 1
                answers = self._post(batch)
            except READ_ERRORS as exc:
                self._unreachable = ChainUnavailable(f"{what} on {self.rpc_url} failed: {exc}")
                raise self._unreachable from exc
            if not isinstance(answers, list):  # the endpoint refused the batch as a whole
                raise ChainUnavailable(f"{what} on {self.rpc_url} failed: {_error_of(answers)}")
            by_id = {a.get("id"): a for a in answers if isinstance(a, Mapping)}
            if len(answers) != len(chunk) or set(by_id) != set(range(len(chunk))):
                raise ChainUnavailable(f"{self.rpc_url} answered {len(answers)} of a batch of {len(chunk)} reads")
            for n, call in enumerate(chunk):
                answer = by_id[n]
                if "result" not in answer or answer.get("error"):
                    if call.tolerate is not None and answer.get("error"):
                        call.tolerate()
                        continue
                    raise ChainUnavailable(f"{call.what} on {self.rpc_url} failed: {_error_of(answer)}")
                try:
                    call.take(answer["result"])
                except (ValueError, TypeError, KeyError, DecodingError) as exc:
                    raise ChainUnavailable(f"{call.what} on {self.rpc_url}: unreadable answer ({exc})") from exc


class RegistryReader(_JsonRpcReader):
    """Reads the AttestationRegistry with nothing but a JSON-RPC endpoint and its address —
    the address the verifier pins, never one a credential names for itself (ValueError for
    one that is no address). An `AttestationReader`."""

    def __init__(
        self,
        rpc_url: str,
        registry: str,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._registry = _address(registry, "attestationRegistry")
        super().__init__(rpc_url, timeout=timeout, transport=transport)

    @property
    def registry(self) -> str:
        return self._registry


class ChainProofReader(_JsonRpcReader):
    """Reads for verifiers over one JSON-RPC endpoint, pinned to `pins`, caching every answer.

    Satisfies `service.domain.proofs.ProofReader` and, for claims,
    `service.domain.credential_proofs.AttestationReader` (`address` is the pinned
    AttestationRegistry)."""

    def __init__(
        self,
        rpc_url: str,
        pins: TrustPins,
        *,
        timeout: float = 30.0,
        max_batch: int = 200,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(rpc_url, timeout=timeout, max_batch=max_batch, transport=transport)
        self.pins = pins
        self._anchors: dict[bytes, AnchorRecord] = {}
        self._logs: dict[bytes, AnchorLog] = {}
        self._searched_at: set[tuple[bytes, int]] = set()
        self._searched_anywhere: set[bytes] = set()
        self._roles: dict[tuple[str, str, int], bool] = {}

    @property
    def registry(self) -> str | None:
        return self.pins.attestation_registry

    # --- the interface ----------------------------------------------------------------------

    def anchor(self, root: bytes) -> AnchorRecord:
        """`ProvenanceAnchor.getAnchor(root)` at the latest block."""
        if root not in self._anchors:
            self._round([self._anchor_call(root)])
        return self._anchors[root]

    def anchoring(self, root: bytes, block: int | None = None) -> AnchorLog | None:
        """The root's `RootAnchored` log: looked for in `block` (the one a view names) first,
        then anywhere (from block 0); None if there is none."""
        if root not in self._logs and block is not None and (root, block) not in self._searched_at:
            self._round(self._logs_at_calls({block: [root]}))
        if root not in self._logs and root not in self._searched_anywhere:
            self._round(self._logs_anywhere_calls([root]))
        return self._logs.get(root)

    def writer_at(self, constellation: str, account: str, block: int) -> bool:
        """`ConstellationRegistry.hasAnyRole(constellation, account, WRITERS)` at `block`."""
        key = (constellation.lower(), checksum_address(account), block)
        if key not in self._roles:
            self._round([self._role_call(key)])
        return self._roles[key]

    def prefetch(
        self,
        *,
        roots: Iterable[tuple[bytes, int | None]] = (),
        uids: Iterable[bytes] = (),
        roles: Iterable[tuple[bytes, str, str]] = (),
        schemas: Iterable[bytes] = (),
    ) -> None:
        """Reads in as few round trips as it can (two, unless a root's log is not in the block
        its view names): the chain id, `getAnchor` and the `RootAnchored` log of each root (at
        the block named, else anywhere), each attestation, and for each `(root, constellation,
        account)` the account's writing role at the block that anchored the root."""
        named: dict[bytes, int | None] = {}
        for root, block in roots:
            if named.get(root) is None:
                named[root] = block
        wanted_roles = {
            (root, constellation.lower(), checksum_address(account)) for root, constellation, account in roles
        }
        for root, _constellation, _account in wanted_roles:
            named.setdefault(root, None)
        calls: list[_Call] = [] if self._chain_id is not None else [self._chain_id_call()]
        calls += [self._anchor_call(root) for root in named if root not in self._anchors]
        at: dict[int, list[bytes]] = {}
        anywhere = []
        for root, block in named.items():
            if root in self._logs:
                continue
            if block is not None and (root, block) not in self._searched_at:
                at.setdefault(block, []).append(root)
            elif block is None and root not in self._searched_anywhere:
                anywhere.append(root)
        calls += self._logs_at_calls(at) + self._logs_anywhere_calls(anywhere)
        calls += [self._attestation_call(uid) for uid in dict.fromkeys(uids) if uid not in self._attestations]
        calls += [self._schema_call(uid) for uid in dict.fromkeys(schemas) if uid not in self._schemas]
        self._round(calls)
        missing = [
            root
            for root in named
            if root not in self._logs and root not in self._searched_anywhere and self._anchors[root].on_chain
        ]
        self._round(self._logs_anywhere_calls(missing) + self._role_calls(wanted_roles))
        self._round(self._role_calls(wanted_roles))  # those whose log was found anywhere just now

    # --- the calls --------------------------------------------------------------------------

    def _anchor_call(self, root: bytes) -> _Call:
        def take(raw: bytes) -> None:
            ((by, at, count),) = decode([ANCHOR_TYPE], raw)
            self._anchors[root] = AnchorRecord(checksum_address(by), int(at), int(count))

        data = GET_ANCHOR + encode(["bytes32"], [root])
        return self._eth_call(
            self.pins.provenance_anchor, data, None, f"ProvenanceAnchor.getAnchor(0x{root.hex()})", take
        )

    def _role_call(self, key: tuple[str, str, int]) -> _Call:
        constellation, account, block = key

        def take(raw: bytes) -> None:
            (held,) = decode(["bool"], raw)
            self._roles[key] = bool(held)

        data = HAS_ANY_ROLE + encode(
            ["bytes32", "address", "uint256"], [bytes.fromhex(constellation.removeprefix("0x")), account, WRITERS]
        )
        what = f"ConstellationRegistry.hasAnyRole({constellation}, {account}) at block {block}"
        return self._eth_call(self.pins.constellation_registry, data, block, what, take)

    def _role_calls(self, wanted: set[tuple[bytes, str, str]]) -> list[_Call]:
        if self.pins.constellation_registry is None:
            return []  # writer_at says why, if asked
        keys = {
            (constellation, account, self._logs[root].block_number)
            for root, constellation, account in wanted
            if root in self._logs
        }
        return [self._role_call(key) for key in sorted(keys) if key not in self._roles]

    def _logs_call(
        self, roots: list[bytes], where: dict[str, str], searched: Callable[[bytes], None], *, tolerant: bool = False
    ) -> _Call:
        def take(result: Any) -> None:
            if not isinstance(result, list):
                raise ValueError("eth_getLogs answered no list")
            for log in sorted(result, key=lambda entry: int(entry["blockNumber"], 16)):
                topics = log.get("topics") or []
                if log.get("removed") or len(topics) != 4 or topics[0].lower() != ROOT_ANCHORED:
                    continue
                root = bytes.fromhex(topics[2].removeprefix("0x"))
                if root in self._logs or root not in wanted:
                    continue
                leaves, _metadata = decode(["uint32", "bytes32"], bytes.fromhex(log["data"].removeprefix("0x")))
                self._logs[root] = AnchorLog(
                    constellation=topics[1].lower(),
                    block_number=int(log["blockNumber"], 16),
                    by=checksum_address("0x" + topics[3][-40:]),
                    leaf_count=int(leaves),
                )
            for root in roots:
                searched(root)

        wanted = set(roots)
        topics = [ROOT_ANCHORED, None, ["0x" + root.hex() for root in roots]]
        params = [{"address": self.pins.provenance_anchor, "topics": topics, **where}]

        def not_there() -> None:
            for root in roots:
                searched(root)

        what = f"eth_getLogs(RootAnchored of {len(roots)} roots)"
        return _Call("eth_getLogs", params, what, take, not_there if tolerant else None)

    def _logs_at_calls(self, at: dict[int, list[bytes]]) -> list[_Call]:
        def searched_in(block: int) -> Callable[[bytes], None]:
            return lambda root: self._searched_at.add((root, block))

        return [
            self._logs_call(roots, {"fromBlock": hex(block), "toBlock": hex(block)}, searched_in(block), tolerant=True)
            for block, roots in sorted(at.items())
        ]

    def _logs_anywhere_calls(self, roots: list[bytes]) -> list[_Call]:
        if not roots:
            return []
        return [self._logs_call(roots, {"fromBlock": "0x0", "toBlock": "latest"}, self._searched_anywhere.add)]


def _error_of(answer: Any) -> str:
    error = answer.get("error") if isinstance(answer, Mapping) else None
    if isinstance(error, Mapping):
        return f"{error.get('message', 'error')} (code {error.get('code')})"
    return f"unexpected answer {str(answer)[:200]}"


__all__ = [
    "ROOT_ANCHORED",
    "WRITERS",
    "AnchorLog",
    "ChainProofReader",
    "RegistryReader",
    "TrustPins",
]

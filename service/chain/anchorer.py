"""The anchorer: groups captured events into Merkle trees per constellation and anchors each
root on the ProvenanceAnchor, exactly once.

A batch is sealed in the database first — its leaves, its root, every event's proof — and
only then sent, so the root is fixed before any transaction exists. After a crash or an
outage the batch is found pending and either adopted (the chain already holds its root) or
sent again; the contract refuses a second anchoring of a root in any case. A batch closes
when it reaches `max_leaves` events or its oldest event has waited `max_age` seconds.

Beside its records' leaves, a batch carries the new state (count, head) of the record chain of
every item its records name (docs/proof-format.md §7), so a journey can prove it shows every
record of its items up to an anchored root."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from eth_utils import to_checksum_address
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from service.chain.deployment import Chain
from service.db.models import (
    AnchorBatch,
    ChainAnchor,
    EpcisEvent,
    EventIdentifier,
    ItemChain,
    ItemRecord,
    ItemState,
)
from service.domain.commitments import ZERO32, chain_step, item_hash, item_state_leaf
from service.domain.merkle import MerkleTree
from service.epcis.analysis import ITEM_ROLES
from service.errors import ChainUnavailable, ContractReverted, TransactionTimeout

log = logging.getLogger(__name__)


@dataclass
class AnchorReport:
    sealed: int = 0
    anchored: int = 0
    adopted: int = 0
    contested: int = 0
    events: int = 0
    transactions: int = 0
    outage: ChainUnavailable | TransactionTimeout | None = None


def seal_batches(
    *, session: Session, max_leaves: int, max_age: float, flush: bool = False, now: datetime | None = None
) -> list[AnchorBatch]:
    """Closes every batch that is due: full, old enough, or anything pending with `flush`."""
    now = now or datetime.now(UTC)
    sealed: list[AnchorBatch] = []
    pending = session.execute(
        select(EpcisEvent.constellation, func.count(), func.min(EpcisEvent.record_time))
        .where(EpcisEvent.batch_id.is_(None))
        .group_by(EpcisEvent.constellation)
    ).all()
    for constellation, count, oldest in pending:
        due_by_age = flush or oldest <= now - timedelta(seconds=max_age)
        while count >= max_leaves or (count > 0 and due_by_age):
            rows = session.execute(
                select(EpcisEvent.id, EpcisEvent.leaf)
                .where(EpcisEvent.constellation == constellation, EpcisEvent.batch_id.is_(None))
                .order_by(EpcisEvent.record_time, EpcisEvent.id)
                .limit(max_leaves)
            ).all()
            states = _append_to_item_chains(session, constellation, rows)
            state_leaves = sorted(
                (item_state_leaf(constellation, bytes.fromhex(key[2:]), count, head), key, count, head)
                for key, (count, head) in states.items()
            )
            # One random leaf beside the events: a root cannot be predicted before it is sent,
            # nor re-created, so a batch whose root someone else anchored first is sealed anew.
            tree = MerkleTree(
                [
                    *(bytes.fromhex(leaf[2:]) for _, leaf in rows),
                    *(leaf for leaf, *_ in state_leaves),
                    secrets.token_bytes(32),
                ]
            )
            batch = AnchorBatch(constellation=constellation, root="0x" + tree.root.hex(), leaf_count=len(tree))
            session.add(batch)
            session.flush()
            session.execute(
                update(EpcisEvent),
                [
                    {
                        "id": record,
                        "batch_id": batch.id,
                        "leaf_index": index,
                        "proof": ["0x" + p.hex() for p in tree.proof(index)],
                    }
                    for index, (record, _) in enumerate(rows)
                ],
            )
            if state_leaves:
                session.execute(
                    insert(ItemState),
                    [
                        {
                            "batch_id": batch.id,
                            "constellation": constellation,
                            "item_hash": key,
                            "count": count,
                            "head": "0x" + head.hex(),
                            "leaf_index": len(rows) + offset,
                            "proof": ["0x" + p.hex() for p in tree.proof(len(rows) + offset)],
                        }
                        for offset, (_, key, count, head) in enumerate(state_leaves)
                    ],
                )
            sealed.append(batch)
            count -= len(rows)
    return sealed


def _append_to_item_chains(
    session: Session, constellation: str, rows: list[tuple[str, str]]
) -> dict[str, tuple[int, bytes]]:
    """Appends each record (in batch order) to the chain of every item it names, once — a record
    sealed again after a contested batch is already in its chains — and answers the state of
    every chain the batch touches: item hash -> (count, head)."""
    order = {record: index for index, (record, _) in enumerate(rows)}
    leaves = dict(rows)
    named: dict[str, list[str]] = {}
    for start in range(0, len(rows), 500):
        chunk = [record for record, _ in rows[start : start + 500]]
        for record, identifier in session.execute(
            select(EventIdentifier.record_id, EventIdentifier.identifier)
            .where(EventIdentifier.record_id.in_(chunk), EventIdentifier.role.in_(ITEM_ROLES))
            .order_by(EventIdentifier.id)
        ):
            items = named.setdefault(record, [])
            if identifier not in items:
                items.append(identifier)
    if not named:
        return {}
    keys = {"0x" + item_hash(i).hex(): i for items in named.values() for i in items}
    tips: dict[str, ItemChain] = {}
    key_list = sorted(keys)
    for start in range(0, len(key_list), 500):
        for tip in session.scalars(
            select(ItemChain).where(
                ItemChain.constellation == constellation, ItemChain.item_hash.in_(key_list[start : start + 500])
            )
        ):
            tips[tip.item_hash] = tip
    chained: set[tuple[str, str]] = set()
    for start in range(0, len(rows), 500):
        chunk = [record for record, _ in rows[start : start + 500]]
        chained.update(
            session.execute(
                select(ItemRecord.item_hash, ItemRecord.record_id).where(
                    ItemRecord.constellation == constellation, ItemRecord.record_id.in_(chunk)
                )
            ).all()
        )
    appended: list[dict[str, object]] = []
    for record in sorted(named, key=order.__getitem__):
        leaf = bytes.fromhex(leaves[record][2:])
        for identifier in named[record]:
            key = "0x" + item_hash(identifier).hex()
            tip = tips.get(key)
            if tip is None:
                tip = tips[key] = ItemChain(
                    constellation=constellation, item_hash=key, item=identifier, count=0, head="0x" + ZERO32.hex()
                )
                session.add(tip)
            if (key, record) in chained:
                continue
            chained.add((key, record))
            appended.append(
                {
                    "constellation": constellation,
                    "item_hash": key,
                    "seq": tip.count,
                    "record_id": record,
                    "leaf": leaves[record],
                }
            )
            tip.count += 1
            tip.head = "0x" + chain_step(bytes.fromhex(tip.head[2:]), leaf).hex()
    if appended:
        session.execute(insert(ItemRecord), appended)
    session.flush()
    touched = {"0x" + item_hash(i).hex() for items in named.values() for i in items}
    return {key: (tips[key].count, bytes.fromhex(tips[key].head[2:])) for key in touched}


def _send(session: Session, chain: Chain, batch: AnchorBatch, report: AnchorReport) -> None:
    root = bytes.fromhex(batch.root[2:])
    if chain.anchor.get_anchor(root).anchored_at:
        found = session.execute(
            select(
                ChainAnchor.tx_hash,
                ChainAnchor.block_number,
                ChainAnchor.constellation,
                ChainAnchor.leaves,
                ChainAnchor.by,
            )
            .where(ChainAnchor.root == batch.root)
            .limit(1)
        ).first()
        if found is None:  # until the indexer has it, the batch waits for the next round
            return
        tx_hash, block_number, constellation, leaves, by = found
        ours = to_checksum_address(by) == to_checksum_address(chain.sender.address)
        if constellation != batch.constellation or leaves != batch.leaf_count or not ours:
            # Someone anchored this root first (front-running the mempool): the anchoring is not
            # ours — verifiers trust only this service's anchorer (or a record's own signer) —
            # and the contract refuses a second one, so the events go back to be sealed into a
            # new batch, under a new root.
            batch.status = "contested"
            batch.last_error = f"root anchored in tx {tx_hash} by {by} for {constellation} with {leaves} leaves"
            session.execute(
                update(EpcisEvent)
                .where(EpcisEvent.batch_id == batch.id)
                .values(batch_id=None, leaf_index=None, proof=None)
            )
            report.contested += 1
            log.error("batch %s: %s; its events are sealed again", batch.id, batch.last_error)
            return
        batch.status, batch.tx_hash, batch.block_number = "anchored", tx_hash, block_number
        batch.anchored_at = datetime.now(UTC)
        report.adopted += 1
        return
    try:
        receipt = chain.anchor.anchor(
            bytes.fromhex(batch.constellation[2:]), root, batch.leaf_count, batch.id.to_bytes(32, "big")
        )
    except ContractReverted as exc:
        if exc.error_name == "ProvenanceAnchorRootExists":
            return  # anchored meanwhile; adopted from the mirror next round
        # e.g. the relayer lost its anchorer role: the batch stays pending and is retried each
        # round, so it goes out once the coordinator grants the role again.
        batch.attempts += 1
        batch.last_error = f"{exc.error_name}: {exc}"
        log.warning("batch %s refused by the chain (will retry): %s", batch.id, exc)
        return
    batch.status, batch.tx_hash, batch.block_number = "anchored", receipt.tx_hash, receipt.block_number
    batch.anchored_at = datetime.now(UTC)
    report.anchored += 1
    report.events += session.scalar(select(func.count()).where(EpcisEvent.batch_id == batch.id)) or 0
    report.transactions += 1


def anchor_pending(
    *,
    sessions: sessionmaker[Session],
    chain: Chain,
    max_leaves: int,
    max_age: float,
    flush: bool = False,
    still_leading: Callable[[], bool] = lambda: True,
) -> AnchorReport:
    """Seals due batches, then anchors every pending batch, oldest first, while
    `still_leading()` (the anchorer's lease, renewed before each send). Raises the chain's
    error after recording it if the chain fails; unsent batches stay pending."""
    report = AnchorReport()
    with sessions() as session, session.begin():
        report.sealed = len(seal_batches(session=session, max_leaves=max_leaves, max_age=max_age, flush=flush))
    pending = []
    with sessions() as session:
        pending = list(
            session.scalars(select(AnchorBatch.id).where(AnchorBatch.status == "pending").order_by(AnchorBatch.id))
        )
    for batch_id in pending:
        if not still_leading():
            break
        with sessions() as session, session.begin():
            batch = session.get(AnchorBatch, batch_id)
            assert batch is not None
            try:
                _send(session, chain, batch, report)
            except (ChainUnavailable, TransactionTimeout) as exc:
                batch.attempts += 1
                batch.last_error = f"{type(exc).__name__}: {exc}"
                report.outage = exc
        if report.outage is not None:
            raise report.outage
    return report

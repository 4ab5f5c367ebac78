"""Completeness of a journey (docs/proof-format.md §7): for each item of the journey and each
constellation that speaks for it, the latest anchored state of the item's record chain — every
record leaf naming the item there, in anchoring order — so a verifier can tell that the journey
shows every record of its items up to an anchored root, or exactly how many it does not show.

What a reader learns from an entry is a count and opaque leaves (salted record roots hashed with
their signer and constellation): not who wrote the records, when, or what they say."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.models import AnchorBatch, ItemRecord, ItemState
from service.domain.commitments import item_hash
from service.domain.disclosure import AnchorRef

_CHUNK = 500


@dataclass(frozen=True)
class Completeness:
    entries: list[dict[str, Any]]
    records_not_shown: int
    """Distinct records of the entries that the journey does not show as steps."""


def _chunks(values: list[str]) -> list[list[str]]:
    return [values[i : i + _CHUNK] for i in range(0, len(values), _CHUNK)]


def completeness_of(
    *,
    session: Session,
    items: Collection[str],
    constellations: Collection[str],
    shown: Collection[str],
    where: AnchorRef | None,
) -> Completeness:
    """The latest anchored chain state of every (constellation, item) pair that has one, with its
    records and its proof into the anchored batch root; `shown`: the record leaves (refs) the
    journey shows as steps."""
    if not items or not constellations:
        return Completeness([], 0)
    names = {"0x" + item_hash(item).hex(): item for item in items}
    cids = sorted(constellations)
    latest: dict[tuple[str, str], tuple[ItemState, AnchorBatch]] = {}
    for chunk in _chunks(sorted(names)):
        for state, batch in session.execute(
            select(ItemState, AnchorBatch)
            .join(AnchorBatch, AnchorBatch.id == ItemState.batch_id)
            .where(
                ItemState.constellation.in_(cids),
                ItemState.item_hash.in_(chunk),
                AnchorBatch.status == "anchored",
            )
        ):
            pair = (state.constellation, state.item_hash)
            kept = latest.get(pair)
            if kept is None or state.count > kept[0].count:
                latest[pair] = (state, batch)
    if not latest:
        return Completeness([], 0)
    leaves: dict[tuple[str, str], list[str]] = {}
    wanted = sorted({key for _, key in latest})
    for chunk in _chunks(wanted):
        for cid, key, seq, leaf in session.execute(
            select(ItemRecord.constellation, ItemRecord.item_hash, ItemRecord.seq, ItemRecord.leaf)
            .where(ItemRecord.constellation.in_(cids), ItemRecord.item_hash.in_(chunk))
            .order_by(ItemRecord.constellation, ItemRecord.item_hash, ItemRecord.seq)
        ):
            pair = (cid, key)
            if pair in latest and seq < latest[pair][0].count:
                leaves.setdefault(pair, []).append(leaf)
    shown_refs = set(shown)
    hidden: set[str] = set()
    entries = []
    for (cid, key), (state, batch) in sorted(latest.items(), key=lambda kv: (kv[0][0], names[kv[0][1]])):
        records = leaves.get((cid, key), [])
        not_shown = [leaf for leaf in records if leaf not in shown_refs]
        hidden.update(not_shown)
        entries.append(
            {
                "constellation": cid,
                "item": names[key],
                "count": state.count,
                "head": state.head,
                "records": records,
                "notShown": len(not_shown),
                "anchor": {
                    "root": batch.root,
                    "leafIndex": state.leaf_index,
                    "leafCount": batch.leaf_count,
                    "proof": list(state.proof),
                    "txHash": batch.tx_hash,
                    "blockNumber": batch.block_number,
                    "chainId": where.chain_id if where else None,
                    "contract": where.contract if where else None,
                },
            }
        )
    return Completeness(entries, len(hidden))

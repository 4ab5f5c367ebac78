"""Downstream trace (recall) over a synthetic provenance graph of N events (default 1,000,000).

The graph is written straight into a migrated database (SQLite file by default, or
--database-url) in the shape captured events take: farms commission lots, lots are blended
five at a time, each blend roasted into two lots, each roast lot packed onto a pallet; the
remaining events are sightings (shipping, receiving) of pallets and lots. It then times
`provenance.trace(..., "downstream")` plus the last-known sighting of every affected item, from
random input lots, as a brand of the constellation reading through a constellation default
(the policy engine's conditions in every step, each crossed event logged), and prints the
median, the p95 and the worst; each run is one trace from another random lot.

    .venv/bin/python scripts/bench/recall.py [--events 1000000] [--database-url URL] [--runs 50] [--json PATH]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from harness import Figure, add_results_option, database_facts, percentile, report, workspace
from sqlalchemy import insert

from service.db.migrate import upgrade
from service.db.models import CaptureJob, EpcisEvent, EventIdentifier, Member
from service.db.session import make_engine, make_session_factory
from service.domain import provenance
from service.domain.policy import EVENT_CATEGORIES, Access, GrantTerms, Reader
from service.roles import Role

CID = "0x" + "ab" * 32
ZERO = "0x" + "00" * 32
BASE = datetime(2026, 1, 1, tzinfo=UTC)


def lot(kind: str, number: int) -> str:
    return f"https://id.gs1.org/01/0950600013435{kind}/10/{number}"


class Writer:
    def __init__(self, session, batch: int = 20_000) -> None:  # type: ignore[no-untyped-def]
        self.session, self.batch = session, batch
        self.events: list[dict[str, object]] = []
        self.ids: list[dict[str, object]] = []
        self.count = 0

    def event(self, kind: str, step: str, ids: list[tuple[str, str]], action: str | None = "OBSERVE") -> None:
        digest = f"{self.count:064x}"
        self.count += 1
        self.events.append(
            {
                "id": digest,
                "event_hash": digest,
                "event_id": digest,
                "capture_id": "bench",
                "position": 0,
                "constellation": CID,
                "owner_id": "bench",
                "signer": "0x" + "11" * 20,
                "event_type": kind,
                "event_time": BASE + timedelta(seconds=self.count),
                "event_time_zone_offset": "+00:00",
                "record_time": BASE,
                "action": action,
                "biz_step": step,
                "disposition": None,
                "read_point": None,
                "biz_location": None,
                "transformation_id": None,
                "payload": {},
                "record_root": ZERO,
                "salts": {},
                "leaf": "0x" + digest,
            }
        )
        self.ids.extend({"record_id": digest, "role": role, "identifier": value} for role, value in ids)
        if len(self.events) >= self.batch:
            self.flush()

    def flush(self) -> None:
        if self.events:
            self.session.execute(insert(EpcisEvent), self.events)
            self.session.execute(insert(EventIdentifier), self.ids)
            self.session.commit()
        self.events, self.ids = [], []


def build(url: str, total: int) -> int:
    """Writes about `total` events; returns the number of farm lots."""
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as session:
        session.add(Member(id="bench", name="Bench", address="0x" + "11" * 20, custody="self"))
        session.flush()
        session.add(
            CaptureJob(
                id="bench",
                member_id="bench",
                constellation=CID,
                signer="0x" + "11" * 20,
                signature="0x",
                event_count=0,
                duplicates=0,
                event_hashes=[],
                hash_context={},
            )
        )
        session.commit()
        writer = Writer(session)
        # Per blend: 5 lots x (commission + ship + receive) + blend + 2 roasts + 2 packs + 2x4 pallet sightings = 28
        blends = total // 28
        farm_lots = blends * 5
        for b in range(blends):
            inputs = [b * 5 + i for i in range(5)]
            for n in inputs:
                writer.event("ObjectEvent", "commissioning", [("quantity", lot("1", n))], "ADD")
                writer.event("ObjectEvent", "shipping", [("quantity", lot("1", n))])
                writer.event("ObjectEvent", "receiving", [("quantity", lot("1", n))])
            blend = lot("2", b)
            writer.event(
                "TransformationEvent",
                "commissioning",
                [("input_quantity", lot("1", n)) for n in inputs] + [("output_quantity", blend)],
                None,
            )
            for r in range(2):
                roast = lot("3", b * 2 + r)
                pallet = f"https://id.gs1.org/00/09506000{b * 2 + r:010d}"
                writer.event(
                    "TransformationEvent",
                    "commissioning",
                    [("input_quantity", blend), ("output_quantity", roast)],
                    None,
                )
                writer.event("AggregationEvent", "packing", [("parent", pallet), ("child_quantity", roast)], "ADD")
                for step in ("shipping", "receiving", "storing", "retail_selling"):
                    writer.event("ObjectEvent", step, [("epc", pallet)])
        writer.flush()
        print(f"wrote {writer.count:,} events ({farm_lots:,} farm lots)", flush=True)
    engine.dispose()
    return farm_lots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--database-url")
    parser.add_argument("--runs", type=int, default=50)
    add_results_option(parser)
    args = parser.parse_args()
    with workspace("recall") as folder:
        url = args.database_url or f"sqlite:///{folder}/recall.db"
        started = time.perf_counter()
        farm_lots = build(url, args.events)
        built = time.perf_counter() - started
        print(f"built in {built:.0f} s", flush=True)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        rng = random.Random(7)
        timings = []
        now = datetime.now(UTC)
        default = GrantTerms(
            owner_id="coordinator",
            constellation=CID,
            categories=frozenset(EVENT_CATEGORIES),
            audience_kind="constellation",
            audience_value=None,
            valid_from=now - timedelta(days=1),
            valid_until=None,
            revoked_at=None,
            is_default=True,
            id="default",
        )
        access = Access(Reader("auditor", {CID: Role.BRAND}), [default], now)
        with sessions() as session:
            for _ in range(args.runs):
                start = lot("1", rng.randrange(farm_lots))
                began = time.perf_counter()
                result = provenance.trace(
                    session=session, start=start, direction="downstream", access=access, endpoint="bench"
                )
                reached = [n for n in result.nodes if n != result.start]
                provenance.last_sightings(session=session, identifiers=reached, access=access)
                timings.append((time.perf_counter() - began) * 1000)
                assert len(reached) == 5, reached  # blend, 2 roasts, 2 pallets
        engine.dispose()
        print(
            f"downstream trace + last sightings over {args.events:,} events ({url.split(':')[0]}): "
            f"p95 {percentile(timings, 95):.1f} ms, max {max(timings):.1f} ms over {args.runs} runs"
        )
        figure = Figure(
            f"recall: downstream trace + last sightings over {args.events:,} events, as a brand through the policy",
            "ms",
            timings,
            target=("<=", 100),
            note="one run = one trace from a random farm lot",
        )
        facts = {"events": args.events, "farm_lots": farm_lots, "build_seconds": round(built, 1), **database_facts(url)}
        report("recall", [figure], facts, args.json)


if __name__ == "__main__":
    main()

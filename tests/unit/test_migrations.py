"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from service.db.migrate import upgrade
from service.db.models import Base
from service.db.session import make_engine
from service.domain.commitments import RecordCommitment, event_leaf
from service.epcis.analysis import committed_fields


def test_migrations_match_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def test_events_committed_before_0007_are_committed_again_and_sealed_again(tmp_path: Path) -> None:
    """An event stored in the older format (no salted event hash or field list, the old leaf,
    in an anchored batch) comes out of 0007 with both, a root and leaf that recompute, and out
    of its batch, for the anchorer to anchor it again."""
    url = f"sqlite:///{tmp_path / 'legacy.db'}"
    upgrade(url, "0006")
    payload = {"type": "ObjectEvent", "eventTime": "2026-01-01T00:00:00Z", "eventTimeZoneOffset": "+00:00"}
    old = RecordCommitment.commit(payload)
    cid, signer = "0x" + "ab" * 32, "0x" + "11" * 20
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO members (id, name, address, custody, created_at) VALUES ('m', 'M', :a, 'self', :t)"),
            {"a": signer, "t": datetime(2026, 1, 1, tzinfo=UTC)},
        )
        connection.execute(
            text(
                "INSERT INTO capture_jobs (id, member_id, constellation, signer, signature, event_count, duplicates,"
                " event_hashes, hash_context, created_at) VALUES ('j', 'm', :c, :s, '0x', 1, 0, '[]', '{}', :t)"
            ),
            {"c": cid, "s": signer, "t": datetime(2026, 1, 1, tzinfo=UTC)},
        )
        connection.execute(
            text(
                "INSERT INTO anchor_batches (id, constellation, root, leaf_count, status, attempts, created_at)"
                " VALUES (1, :c, :r, 2, 'anchored', 1, :t)"
            ),
            {"c": cid, "r": "0x" + "cd" * 32, "t": datetime(2026, 1, 1, tzinfo=UTC)},
        )
        connection.execute(
            text(
                "INSERT INTO epcis_events (id, event_hash, event_id, capture_id, position, constellation, owner_id,"
                " signer, event_type, event_time, event_time_zone_offset, record_time, payload, record_root, salts,"
                " leaf, batch_id, leaf_index, proof) VALUES ('r', :h, 'e', 'j', 0, :c, 'm', :s, 'ObjectEvent', :t,"
                " '+00:00', :t, :p, :root, :salts, :leaf, 1, 0, '[]')"
            ),
            {
                "h": "ee" * 32,
                "c": cid,
                "s": signer,
                "t": datetime(2026, 1, 1, tzinfo=UTC),
                "p": json.dumps(payload),
                "root": "0x" + old.root.hex(),
                "salts": json.dumps({k: v.hex() for k, v in old.salts.items()}),
                "leaf": "0x" + "99" * 32,
            },
        )
    upgrade(url)
    with engine.connect() as connection:
        row = connection.execute(text("SELECT salts, record_root, leaf, batch_id, proof FROM epcis_events")).one()
    engine.dispose()
    salts = json.loads(row[0]) if isinstance(row[0], str) else row[0]
    assert set(salts) == {*payload, "#eventHash", "#fields"}
    assert all(salts[k] == v.hex() for k, v in old.salts.items())  # the old salts are kept
    commitment = RecordCommitment.commit(
        committed_fields(payload, "ee" * 32), {k: bytes.fromhex(v) for k, v in salts.items()}
    )
    assert row[1] == "0x" + commitment.root.hex()
    assert row[2] == "0x" + event_leaf(commitment.root, signer, cid).hex()
    assert row[3] is None and row[4] is None

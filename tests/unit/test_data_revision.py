"""The data revision moves with every committed write a page could show, and only then."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, insert, update

from service.db import upgrade
from service.db.models import AccessLogEntry, IndexerCheckpoint, Member
from service.db.session import current_revision, make_engine, make_session_factory


def test_the_revision_moves_only_with_committed_page_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'revision.db'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    start = current_revision(engine)
    with sessions() as session, session.begin():
        session.add(Member(id="m1", name="Farm", address="0x" + "11" * 20, custody="managed"))
    assert current_revision(engine) == start + 1  # a unit-of-work insert
    with sessions() as session, session.begin():
        session.execute(update(Member).where(Member.id == "m1").values(name="Farm Co"))
    assert current_revision(engine) == start + 2  # a statement that changed a row
    with sessions() as session, session.begin():
        session.execute(delete(Member).where(Member.id == "nobody"))
        session.execute(update(IndexerCheckpoint).values(block_number=1))
    assert current_revision(engine) == start + 2  # no row touched; a quiet table
    with sessions() as session, session.begin():
        session.execute(
            insert(AccessLogEntry),
            [
                {
                    "at": datetime.now(UTC),
                    "owner_id": "m1",
                    "reader_id": None,
                    "reader_kind": "public",
                    "record_kind": "journey",
                    "record_ref": "/01/x",
                    "constellation": "0x" + "00" * 32,
                    "shown": [],
                    "withheld": [],
                    "purpose": "",
                    "basis": [],
                    "endpoint": "journey",
                }
            ],
        )
    assert current_revision(engine) == start + 2  # reads are logged without invalidating pages
    with sessions() as session:
        session.begin()
        session.execute(update(Member).values(name="Rolled back"))
        session.rollback()
    assert current_revision(engine) == start + 2
    engine.dispose()

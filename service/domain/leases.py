"""Leases in the database: one process at a time leads a named job (the anchorer), others
stand by and take over when the leader's lease lapses. Atomic on SQLite and PostgreSQL alike:
a conditional UPDATE, or an INSERT that loses to a concurrent one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from service.db.models import Lease


def acquire(
    sessions: sessionmaker[Session], *, name: str, holder: str, ttl: float, now: datetime | None = None
) -> bool:
    """Takes or renews the lease `name` for `holder` for `ttl` seconds; False if another holds it."""
    now = now or datetime.now(UTC)
    until = now + timedelta(seconds=ttl)
    with sessions() as session, session.begin():
        taken = session.execute(
            update(Lease)
            .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at < now))
            .values(holder=holder, expires_at=until)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            return True
        if session.get(Lease, name) is not None:
            return False
    try:
        with sessions() as session, session.begin():
            session.add(Lease(name=name, holder=holder, expires_at=until))
    except IntegrityError:
        return False
    return True


def release(sessions: sessionmaker[Session], *, name: str, holder: str) -> None:
    with sessions() as session, session.begin():
        session.execute(
            update(Lease)
            .where(Lease.name == name, Lease.holder == holder)
            .values(expires_at=datetime(1970, 1, 1, tzinfo=UTC))
        )

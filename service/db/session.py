"""Engines and sessions: one session per request or job, transactions as `with session.begin()`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event, insert, text, update
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from service.db.models import DataRevision
from service.errors import ConstellateError, MalformedInput
from service.json_bounds import MAX_STORED_JSON_DEPTH, JsonTooDeep, check_json_depth


class DatabaseUnavailable(ConstellateError, ConnectionError):
    """The database cannot be reached."""


CONNECT_TIMEOUT_SECONDS = 5
"""How long opening a PostgreSQL connection may take: an unreachable server fails a request
(503) instead of holding it."""


INPUT_ORJSON_CANNOT_WRITE = ("Integer exceeds 64-bit range", "str is not valid UTF-8")
"""orjson's refusals of what a JSON parser yields from a request: an integer beyond 64 bits, a
string holding a lone surrogate (an escape such as \\ud800)."""


def _json_dumps(value: Any) -> str:
    """JSON columns are written with orjson (several times faster than json.dumps on payloads),
    never deeper than MAX_STORED_JSON_DEPTH (orjson itself stops, with a bare TypeError, at 254).
    What orjson cannot write — an integer beyond 64 bits, a lone surrogate in a string, both of
    which Python's JSON parser takes from a request — is the input's fault (400), never a 500."""
    try:
        text = orjson.dumps(value)
    except orjson.JSONEncodeError as exc:
        problem = str(exc)
        if "recursion" in problem.lower():
            raise JsonTooDeep(
                f"a stored JSON value nests deeper than the limit of {MAX_STORED_JSON_DEPTH} levels"
            ) from None
        if not problem.startswith(INPUT_ORJSON_CANNOT_WRITE):
            raise  # a type no parser yields: the service's own bug (500)
        raise MalformedInput(
            f"a JSON value cannot be stored: {problem} (integers within 64 bits, strings of valid Unicode)"
        ) from None
    check_json_depth(text, limit=MAX_STORED_JSON_DEPTH, what="a stored JSON value")
    return text.decode()


def _json_loads(text: str | bytes) -> Any:
    """JSON columns are read with orjson, never deeper than MAX_STORED_JSON_DEPTH: a row written
    by other means is an error of the service's data (500), not handed to code that recurses."""
    try:
        check_json_depth(text, limit=MAX_STORED_JSON_DEPTH, what="a stored JSON value")
    except JsonTooDeep as exc:
        raise ValueError(str(exc)) from None
    return orjson.loads(text)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine; SQLite gets WAL, foreign keys and a busy timeout so several workers can share it."""
    kwargs.setdefault("json_serializer", _json_dumps)
    kwargs.setdefault("json_deserializer", _json_loads)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    else:
        if url.startswith("postgresql"):
            kwargs.setdefault("connect_args", {"connect_timeout": CONNECT_TIMEOUT_SECONDS})
        # Pre-ping: connections the server dropped (a restart) are replaced at checkout.
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
    event.listen(engine, "handle_error", _failed_connect_is_a_disconnect)
    event.listen(engine, "handle_error", _domain_error_as_raised)
    return engine


def _domain_error_as_raised(context: ExceptionContext) -> BaseException | None:
    """A domain error raised while a statement is prepared (a JSON value too deep to store)
    reaches the caller as itself, not wrapped in SQLAlchemy's StatementError (a 500)."""
    original = context.original_exception
    return original if isinstance(original, ConstellateError) else None


def _failed_connect_is_a_disconnect(context: ExceptionContext) -> None:
    """A connection that could not be opened counts as lost (the driver flags only the loss of
    an open one), so `is_unreachable` sees both the same way."""
    if context.connection is None and not context.is_pre_ping:
        context.is_disconnect = True


def is_unreachable(exc: BaseException) -> bool:
    """Whether a database error means the database could not be reached — a connection refused,
    timed out or lost mid-request (a server restart) — rather than a bad statement or schema."""
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


QUIET_TABLES = frozenset(
    {
        "access_log",
        "api_keys",
        "data_revision",
        "indexed_blocks",
        "indexer_checkpoints",
        "leases",
        "managed_keys",
        "siwe_nonces",
    }
)
"""Tables whose writes change nothing a page shows: they do not bump the data revision."""
_CHANGED = "constellate.changed"


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that bump the data revision in every transaction that writes page data."""
    factory = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)

    @event.listens_for(factory, "after_flush")
    def _flushed(session: Session, _context: Any) -> None:
        for obj in (*session.new, *session.dirty, *session.deleted):
            if obj.__table__.name not in QUIET_TABLES:
                session.info[_CHANGED] = True
                return

    @event.listens_for(factory, "do_orm_execute")
    def _executed(state: ORMExecuteState) -> Any:
        if not (state.is_insert or state.is_update or state.is_delete):
            return None
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in QUIET_TABLES:
            return None
        result = state.invoke_statement()
        if getattr(result, "rowcount", -1) != 0:  # a statement that touched no row changes nothing
            state.session.info[_CHANGED] = True
        return result

    @event.listens_for(factory, "before_commit")
    def _bump(session: Session) -> None:
        session.flush()  # what is still pending counts too
        if session.info.pop(_CHANGED, False):
            bump_revision(session)

    @event.listens_for(factory, "after_rollback")
    def _forget(session: Session) -> None:
        session.info.pop(_CHANGED, None)

    return factory


def bump_revision(session: Session) -> None:
    """The next data revision, in the caller's transaction (the row lock orders the commits)."""
    bumped = session.execute(update(DataRevision).where(DataRevision.id == 1).values(value=DataRevision.value + 1))
    if bumped.rowcount == 0:  # type: ignore[attr-defined]
        session.execute(insert(DataRevision).values(id=1, value=1))


def current_revision(engine: Engine) -> int:
    """The committed data revision: one indexed read on a pooled connection (the hot path of
    every cached page, so below the ORM)."""
    with engine.connect() as connection:
        return int(connection.exec_driver_sql("SELECT value FROM data_revision WHERE id = 1").scalar() or 0)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits together or not at all."""
    with factory() as session, session.begin():
        yield session


def ping(engine: Engine) -> None:
    """Raises DatabaseUnavailable unless a trivial query succeeds."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(f"database is unreachable: {exc.__class__.__name__}: {exc}") from exc


__all__ = [
    "DatabaseUnavailable",
    "bump_revision",
    "current_revision",
    "is_unreachable",
    "make_engine",
    "make_session_factory",
    "ping",
    "transaction",
]

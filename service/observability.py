"""Operations: logs that carry a request id, one access line per request, and Prometheus metrics.

`RequestTelemetry` wraps the whole app (pure ASGI, outside the error middleware, so it sees the
500 that middleware answers too). It keeps the caller's `X-Request-ID` when it is short and
plain, else makes one, echoes it, times the request into a histogram labelled by route
template, and writes the access line. Metrics whose truth is in the database — events captured,
events waiting for their anchor, the outbox — are read when Prometheus scrapes, so every replica
and worker reports the same numbers. Request latency, policy denials and gas are counted per
process; with PROMETHEUS_MULTIPROC_DIR set (`constellate serve --workers N` sets it) any worker
answers for all of them."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.db.models import AnchorBatch, CaptureJob, EpcisEvent, IndexerCheckpoint, Lease, OutboxItem
from service.settings import Settings

log = logging.getLogger(__name__)
access = logging.getLogger("constellate.access")
access.addHandler(logging.NullHandler())
access.propagate = False  # quiet until configure_logging turns it on (`serve`; not tests, not `up`)

# --- the request in flight ------------------------------------------------------------------


@dataclass(slots=True)
class RequestContext:
    """What the logs say of the request being served. Mutable, so code running in the thread
    pool (a copy of the request's context) can still name the member."""

    request_id: str
    member_id: str | None = None


_current: ContextVar[RequestContext | None] = ContextVar("constellate_request", default=None)
REQUEST_ID_HEADER = b"x-request-id"
SAFE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")


def current_request_id() -> str | None:
    context = _current.get()
    return context.request_id if context else None


def note_member(member_id: str) -> None:
    """Names the authenticated member in the request's access line (no lookup: free)."""
    context = _current.get()
    if context is not None:
        context.member_id = member_id


# --- per-process metrics --------------------------------------------------------------------

REQUEST_SECONDS = Histogram(
    "constellate_http_request_duration_seconds",
    "Time to answer a request, by method, route template and status class.",
    ("method", "route", "status"),
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
POLICY_DENIALS = Counter("constellate_policy_denials", "Requests refused with 403 by a rule (PolicyDenied).")
GAS_USED = Counter("constellate_gas_used", "Gas used by the service's mined transactions.", ("contract", "function"))
TRANSACTION_FEES = Counter(
    "constellate_transaction_fees_wei",
    "What the relayer paid for its mined transactions (gas used times effective gas price), in wei.",
    ("contract", "function"),
)
TRANSACTIONS = Counter("constellate_transactions", "Mined transactions sent by the service.", ("contract", "function"))
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"


def record_policy_denial() -> None:
    POLICY_DENIALS.inc()


def record_transaction(*, contract: str, function: str, gas_used: int, effective_gas_price: int) -> None:
    """Counts one mined transaction and what it cost (label values: ABI names, a bounded set)."""
    TRANSACTIONS.labels(contract, function).inc()
    GAS_USED.labels(contract, function).inc(gas_used)
    TRANSACTION_FEES.labels(contract, function).inc(gas_used * effective_gas_price)


# --- the middleware -------------------------------------------------------------------------


class RequestTelemetry:
    """Request id, latency histogram and access line for every HTTP request (pure ASGI: one
    wrapped `send`, no task or body stream per request, so the cached journey path stays fast)."""

    def __init__(self, app: ASGIApp, *, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log
        self._latency: dict[tuple[str, str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        context = RequestContext(_incoming_request_id(scope["headers"]) or os.urandom(16).hex())
        _current.set(context)  # each request runs in its own task: nothing leaks to the next one
        echoed = (REQUEST_ID_HEADER, context.request_id.encode())
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), echoed]}
            await send(message)

        error: BaseException | None = None
        try:
            await self.app(scope, receive, send_with_id)
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._observe(scope, context, status, time.perf_counter() - started, error)

    def _observe(
        self, scope: Scope, context: RequestContext, status: int, seconds: float, error: BaseException | None
    ) -> None:
        method = scope["method"]
        route = getattr(scope.get("route"), "path", None) or UNMATCHED
        key = (method if method in METHODS else "other", route, f"{status // 100}xx")
        histogram = self._latency.get(key)
        if histogram is None:
            histogram = self._latency[key] = REQUEST_SECONDS.labels(*key)
        histogram.observe(seconds)
        level = logging.ERROR if status >= 500 else logging.INFO
        if not self.access_log or not access.isEnabledFor(level):
            return
        raw = scope.get("raw_path") or scope["path"].encode()
        path = raw.decode("latin-1")[:1000]  # as sent, percent-encoded; never the query string
        method = method[:16]
        fields: dict[str, Any] = {
            "request_id": context.request_id,
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
        }
        if context.member_id is not None:
            fields["member_id"] = context.member_id
        if error is not None:
            fields["error"] = type(error).__name__
        message = f"{method} {path} {status} {seconds * 1000:.1f} ms"
        if _access_handler is not None:
            _access_handler.write_access(level, message, fields)
        else:  # text logs, or a handler of the caller's on constellate.access
            access.handle(access.makeRecord(access.name, level, "", 0, message, (), None, extra=fields))


def _incoming_request_id(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            return value.decode("ascii") if SAFE_REQUEST_ID.fullmatch(value) else None
    return None


# --- logging --------------------------------------------------------------------------------

_RECORD_FIELDS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's message again, with terminal colours
}
_second: tuple[int, str] = (0, "")


def utc_time(created: float) -> str:
    """RFC 3339 in UTC with milliseconds; the part up to the second formatted once per second."""
    global _second
    second = int(created)
    cached, prefix = _second
    if cached != second:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _second = (second, prefix)
    return f"{prefix}.{int((created - second) * 1000):03d}Z"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id (inside a request),
    the record's extra fields, and the traceback of an exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": utc_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id is not None:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _RECORD_FIELDS:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return _json_line(entry)


def _json_line(entry: dict[str, Any]) -> str:
    try:
        return orjson.dumps(entry, default=str).decode()
    except TypeError:  # orjson refuses integers beyond 64 bits; json takes them
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """`time level logger: message [request_id=...]`, for a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None) or current_request_id()
        return f"{line} request_id={request_id}" if request_id else line


class ServiceLogHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler configure_logging installs (and replaces when called again). In JSON it also
    writes the access lines, built without a LogRecord: the logging module's machinery would cost
    a good part of what the cached journey page itself costs."""

    def write_access(self, level: int, message: str, fields: dict[str, Any]) -> None:
        entry = {
            "time": utc_time(time.time()),
            "level": logging.getLevelName(level),
            "logger": access.name,
            "message": message,
            **fields,
        }
        line = _json_line(entry) + self.terminator
        self.acquire()
        try:
            self.stream.write(line)
            self.flush()
        except Exception:  # as StreamHandler.emit does: report on stderr, never fail the request
            self.handleError(logging.makeLogRecord({"name": access.name, "levelno": level, "msg": message}))
        finally:
            self.release()


_access_handler: ServiceLogHandler | None = None
"""Where access lines go straight to, once configure_logging has set JSON logs up."""


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """Sends every log record to stderr (or `stream`) as `settings.log_format` says, at
    `settings.log_level`; uvicorn's loggers go the same way, its access log off while ours is on.
    Idempotent; handlers it did not install (pytest's, say) are left alone."""
    global _access_handler
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, ServiceLogHandler)]:
        root.removeHandler(handler)
    handler = ServiceLogHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    fast = settings.access_log and settings.log_format == "json"
    _access_handler = handler if fast else None
    access.propagate = settings.access_log and not fast  # text: through the logging module
    uvicorn_access = logging.getLogger("uvicorn.access")
    uvicorn_access.handlers.clear()
    uvicorn_access.propagate = not settings.access_log


# --- metrics read from the database at scrape time ------------------------------------------


class DatabaseMetrics:
    """Gauges and totals whose truth is in the database, read with a few indexed queries when
    Prometheus scrapes: every replica and worker reports the same values."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("constellate_metrics_database_up", "1 if the database answered the metrics queries.")
        try:
            with self.engine.connect() as connection:
                metrics = list(_database_metrics(connection, datetime.now(UTC)))
        except SQLAlchemyError as exc:
            log.warning("metrics: the database did not answer (%s)", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from metrics


def _database_metrics(connection: Connection, now: datetime) -> Iterator[Metric]:
    captured = connection.scalar(select(func.sum(CaptureJob.event_count - CaptureJob.duplicates))) or 0
    yield CounterMetricFamily(
        "constellate_events_captured", "EPCIS events stored (every capture, duplicates excluded).", value=int(captured)
    )

    waiting = connection.execute(
        select(func.count(), func.min(EpcisEvent.record_time)).where(EpcisEvent.batch_id.is_(None))
    ).one()
    sealed = connection.execute(
        select(func.count(), func.min(EpcisEvent.record_time))
        .join_from(EpcisEvent, AnchorBatch, AnchorBatch.id == EpcisEvent.batch_id)
        .where(AnchorBatch.status == "pending")
    ).one()
    unanchored = GaugeMetricFamily(
        "constellate_events_unanchored",
        "Events not anchored yet: waiting for their batch to be due, or sealed in a batch not yet on chain.",
        labels=("stage",),
    )
    unanchored.add_metric(["waiting"], waiting[0])
    unanchored.add_metric(["sealed"], sealed[0])
    yield unanchored
    oldest = min((t for t in (waiting[1], sealed[1]) if t is not None), default=None)
    yield GaugeMetricFamily(
        "constellate_anchoring_lag_seconds",
        "How long the oldest event not yet anchored has waited (0: none waits).",
        value=(now - oldest).total_seconds() if oldest is not None else 0.0,
    )
    batches = connection.scalar(select(func.count()).select_from(AnchorBatch).where(AnchorBatch.status == "pending"))
    yield GaugeMetricFamily(
        "constellate_anchor_batches_pending", "Sealed event batches not yet on chain.", value=batches
    )

    outbox = GaugeMetricFamily(
        "constellate_outbox_items",
        "Attestations and revocations not on chain: pending (retried) or failed (refused by the chain).",
        labels=("kind", "status"),
    )
    counts = {("attest", "pending"): 0, ("attest", "failed"): 0, ("revoke", "pending"): 0, ("revoke", "failed"): 0}
    for kind, status, count in connection.execute(
        select(OutboxItem.kind, OutboxItem.status, func.count())
        .where(OutboxItem.status.in_(("pending", "failed")))
        .group_by(OutboxItem.kind, OutboxItem.status)
    ):
        counts[(kind, status)] = count
    for (kind, status), count in sorted(counts.items()):
        outbox.add_metric([kind, status], count)
    yield outbox

    lease = connection.scalar(select(Lease.expires_at).where(Lease.name == "anchorer"))
    if lease is not None:  # absent until a process first leads the anchorer
        yield GaugeMetricFamily(
            "constellate_anchorer_lease_seconds",
            "Seconds until the anchorer's lease lapses; negative: no process has led the anchorer since.",
            value=(lease - now).total_seconds(),
        )
    indexed = GaugeMetricFamily(
        "constellate_indexed_block", "Newest block the indexer has mirrored, per indexer.", labels=("indexer",)
    )
    for name, block in connection.execute(select(IndexerCheckpoint.name, IndexerCheckpoint.block_number)):
        indexed.add_metric([name], block)
    yield indexed


# --- the registry /metrics exposes ------------------------------------------------------------

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def metrics_registry(engine: Engine) -> CollectorRegistry:
    """This process's metrics (or, in multiprocess mode, every worker's) and the database's."""
    registry = CollectorRegistry()
    path = os.environ.get(MULTIPROCESS_DIR)
    if path:
        MultiProcessCollector(registry, path)  # type: ignore[no-untyped-call]
    else:
        registry.register(REGISTRY)  # ours, and the process's own (CPU, memory, open files)
    registry.register(DatabaseMetrics(engine))
    return registry


@contextmanager
def shared_metrics_dir(environ: MutableMapping[str, str] = os.environ) -> Iterator[str]:
    """A fresh PROMETHEUS_MULTIPROC_DIR for worker processes started inside the block (unless
    one is set already: its owner clears it between runs), removed afterwards."""
    given = environ.get(MULTIPROCESS_DIR)
    if given:
        yield given
        return
    path = tempfile.mkdtemp(prefix="constellate-metrics-")
    environ[MULTIPROCESS_DIR] = path
    try:
        yield path
    finally:
        environ.pop(MULTIPROCESS_DIR, None)
        shutil.rmtree(path, ignore_errors=True)

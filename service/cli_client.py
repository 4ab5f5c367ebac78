"""The commands that talk to a running Constellate API over HTTP, through service/client.py:
members and keys, constellations, capture (EPCIS documents and CSV), attestations, grants,
traces, the recall report, exports, and `verify trust`. service/cli.py registers them.

Every command takes `--api-url` (CONSTELLATE_API_URL) and `--api-key` (CONSTELLATE_API_KEY;
never printed). A refusal of the service is one red `error:` line naming its problem, exit 1;
bad local input (a file, a CSV row, an option) exits 2 before anything is sent."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import typer

from service.client import ApiError, Client

ApiUrl = Annotated[
    str, typer.Option("--api-url", envvar="CONSTELLATE_API_URL", help="Base URL of the Constellate API.")
]
ApiKey = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        envvar="CONSTELLATE_API_KEY",
        show_default=False,
        help="Your API key (the operator's for `members create`). Prefer the environment variable.",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON (for machines) instead of a table.")]
Constellation = Annotated[str, typer.Option("--constellation", "-c", help="The constellation's slug.")]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file (default: standard output).")]
DEFAULT_API_URL = "http://127.0.0.1:8000"

members_app = typer.Typer(help="Members and their keys.", no_args_is_help=True)
keys_app = typer.Typer(help="Your API keys and your managed signing key.", no_args_is_help=True)
members_app.add_typer(keys_app, name="keys")
constellations_app = typer.Typer(help="Constellations and their members' roles.", no_args_is_help=True)
attestations_app = typer.Typer(help="Attestations (certifications, footprints, audits, ...).", no_args_is_help=True)
grants_app = typer.Typer(help="Sharing grants: who may see which categories of your data.", no_args_is_help=True)
trace_app = typer.Typer(help="Trace an item or lot through the events you may see.", no_args_is_help=True)
export_app = typer.Typer(
    help="Export EPCIS query documents, Verifiable Credentials and PACT footprints.", no_args_is_help=True
)


PANEL = "Talk to a running service (--api-url, --api-key)"


def register(app: typer.Typer, verify_app: typer.Typer) -> None:
    """Adds these commands to the `constellate` app, under their own heading of its help."""
    for name, group in (
        ("members", members_app),
        ("constellations", constellations_app),
        ("attestations", attestations_app),
        ("grants", grants_app),
        ("trace", trace_app),
        ("export", export_app),
    ):
        app.add_typer(group, name=name, rich_help_panel=PANEL)
    for name, command in (("capture", capture), ("attest", attest), ("recall", recall)):
        app.command(name, rich_help_panel=PANEL)(command)
    verify_app.command("trust")(verify_trust)


# --- plumbing ---------------------------------------------------------------------------------


def _fail(exc: Exception) -> NoReturn:
    typer.secho(f"error: {type(exc).__name__}: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


def _bad_input(message: str) -> NoReturn:
    """Local input the command cannot use: exit 2, nothing sent."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


@contextmanager
def _api(api_url: str, api_key: str | None) -> Iterator[Client]:
    """A client of the API; the service's refusals and an unreachable service end the command."""
    client = Client(api_url, api_key)
    try:
        yield client
    except ApiError as exc:
        if exc.status == 401 and not api_key:
            exc.args = (f"{exc} (no API key given: set CONSTELLATE_API_KEY or --api-key)",)
        _fail(exc)
    except httpx.ConnectError as exc:
        _fail(ConnectionError(f"cannot reach the API at {api_url}: {exc}"))
    except httpx.HTTPError as exc:
        _fail(ConnectionError(f"the API at {api_url} did not answer: {type(exc).__name__}: {exc}"))
    finally:
        client.close()


def _echo_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


def _write(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=not text.endswith("\n"))
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        _bad_input(f"cannot write {output}: {exc.strerror}")
    typer.echo(f"wrote {output}", err=True)


def _table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(title) if title else None, header_style="bold")
    for column in columns:
        table.add_column(escape(column), overflow="fold")
    for row in rows:
        table.add_row(*("" if value is None else escape(str(value)) for value in row))
    Console(width=None if sys.stdout.isatty() else 200).print(table)


def _fields(pairs: list[tuple[str, Any]]) -> None:
    width = max(len(name) for name, _ in pairs)
    for name, value in pairs:
        if value is None or value == []:
            continue
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        typer.echo(f"{name + ':':<{width + 1}} {shown}")


def _when(raw: str | None, option: str) -> str | None:
    """An ISO 8601 date-time with an offset, or a date (00:00 UTC that day), as the API takes it."""
    if raw is None:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            return datetime.combine(date.fromisoformat(raw), datetime.min.time(), UTC).isoformat()
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        _bad_input(f"{option} {raw!r} is neither a date (2027-06-30) nor a date-time with an offset")
    if parsed.tzinfo is None:
        _bad_input(f"{option} {raw!r} needs an offset (e.g. 2027-06-30T00:00:00Z)")
    return parsed.isoformat()


def _item_path(gtin: str, lot: str | None = None, serial: str | None = None) -> str:
    """/01/{gtin}[/10/{lot}][/21/{serial}], the GTIN's check digit and the parts checked."""
    from service.domain.gs1 import ItemKey

    try:
        return ItemKey.of(gtin, lot, serial).digital_link("")
    except ValueError as exc:
        _bad_input(str(exc))


# --- members ----------------------------------------------------------------------------------


@members_app.command("create")
def members_create(
    name: Annotated[str, typer.Argument(help="The organisation's name.")],
    gln: Annotated[str | None, typer.Option(help="Its GLN or party GLN (13 digits).")] = None,
    lei: Annotated[str | None, typer.Option(help="Its ISO 17442 LEI.")] = None,
    website: Annotated[str | None, typer.Option(help="Its website.")] = None,
    address: Annotated[
        str | None, typer.Option(help="Its own Ethereum address (self-custody); without, the service manages a key.")
    ] = None,
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
) -> None:
    """Onboard a member (operator key). Prints the member and its first API key, shown this once."""
    with _api(api_url, api_key) as client:
        member, token = client.onboard(name, gln=gln, lei=lei, website=website, address=address)
    if as_json:
        _echo_json({"member": member, "api_key": token})
        return
    _member_fields(member)
    typer.echo(f"API key:  {token}")
    typer.secho("The API key is shown this once: keep it secret.", fg=typer.colors.YELLOW, err=True)


def _member_fields(member: dict[str, Any]) -> None:
    _fields([(k, member.get(k)) for k in ("id", "name", "custody", "address", "gln", "lei", "website", "created_at")])


@members_app.command("show")
def members_show(
    member_id: Annotated[str, typer.Argument(help="A member id, or `me`.")] = "me",
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
) -> None:
    """Show a member (yourself by default)."""
    with _api(api_url, api_key) as client:
        member = client.member(member_id)
    _echo_json(member) if as_json else _member_fields(member)


@keys_app.command("list")
def keys_list(as_json: AsJson = False, api_url: ApiUrl = DEFAULT_API_URL, api_key: ApiKey = None) -> None:
    """Your API keys (their ids, scopes and labels; never the keys themselves)."""
    with _api(api_url, api_key) as client:
        keys = client.api_keys()
    if as_json:
        _echo_json(keys)
        return
    rows = [[k["id"], k["label"], " ".join(k["scopes"]), k["created_at"], k["revoked_at"] or ""] for k in keys]
    _table("API keys", ["id", "label", "scopes", "created", "revoked"], rows)


@keys_app.command("create")
def keys_create(
    scopes: Annotated[
        list[str] | None,
        typer.Option(
            "--scope", help="A scope: members constellations attestations events grants read (repeat; default: all)."
        ),
    ] = None,
    label: Annotated[str, typer.Option(help="What the key is for.")] = "",
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
) -> None:
    """Make another API key for yourself; it is shown this once."""
    with _api(api_url, api_key) as client:
        created = client.create_api_key(scopes or None, label)
    if as_json:
        _echo_json(created)
        return
    _fields([("id", created["id"]), ("scopes", created["scopes"]), ("label", created["label"])])
    typer.echo(f"API key: {created['token']}")
    typer.secho("The API key is shown this once: keep it secret.", fg=typer.colors.YELLOW, err=True)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (see `members keys list`).")],
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
) -> None:
    """Revoke one of your API keys."""
    with _api(api_url, api_key) as client:
        revoked = client.revoke_api_key(key_id)
    typer.echo(f"revoked API key {revoked['id']} at {revoked['revoked_at']}")


@keys_app.command("export")
def keys_export(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write it to this new file (mode 0600) instead of printing it."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
) -> None:
    """Export your managed private key. The service gives it out once: from then on you hold it."""
    if not yes:
        typer.confirm("The service gives your private key out once. Export it now?", abort=True, err=True)
    descriptor = None
    if output is not None:  # opened before the export: the key is given out once and must land somewhere
        try:
            descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            _bad_input(f"cannot create {output}: {exc.strerror} (the key goes to a new file only)")
    try:
        with _api(api_url, api_key) as client:
            exported = client.export_key()
    except BaseException:
        if descriptor is not None:
            os.close(descriptor)
            assert output is not None
            output.unlink()
        raise
    if descriptor is None:
        _echo_json(exported)
    else:
        with os.fdopen(descriptor, "w") as file:
            json.dump(exported, file, indent=2)
        typer.echo(f"wrote the key of {exported['address']} to {output}", err=True)
    typer.secho("Keep the private key secret: whoever holds it signs as you.", fg=typer.colors.YELLOW, err=True)


@keys_app.command("rotate")
def keys_rotate(
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
) -> None:
    """Replace your managed signing key; your roles follow where you coordinate."""
    if not yes:
        typer.confirm("Replace your managed signing key with a new one?", abort=True, err=True)
    with _api(api_url, api_key) as client:
        rotated = client.rotate_key()
    if as_json:
        _echo_json(rotated)
        return
    _fields([("old address", rotated["old_address"]), ("new address", rotated["new_address"])])
    _fields([("roles moved in", rotated["moved"]), ("coordinator must re-grant in", rotated["pending"])])


# --- constellations ---------------------------------------------------------------------------


@constellations_app.command("create")
def constellations_create(
    slug: Annotated[str, typer.Argument(help="Short name in URLs (lower case, digits, '-').")],
    name: Annotated[str, typer.Argument(help="Display name.")],
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
) -> None:
    """Create a constellation on chain; you are its coordinator."""
    with _api(api_url, api_key) as client:
        created = client.create_constellation(slug, name)
    if as_json:
        _echo_json(created)
        return
    _fields([("slug", created["slug"]), ("name", created["name"]), ("id", created["id"]), ("tx", created["tx_hash"])])


@constellations_app.command("list")
def constellations_list(as_json: AsJson = False, api_url: ApiUrl = DEFAULT_API_URL, api_key: ApiKey = None) -> None:
    """The constellations you belong to, with your roles."""
    with _api(api_url, api_key) as client:
        memberships = client.constellations()
    if as_json:
        _echo_json(memberships)
        return
    rows = [[m["slug"], " ".join(m["roles"]), m["since"]] for m in memberships]
    _table("your constellations", ["slug", "roles", "since"], rows)


@constellations_app.command("show")
def constellations_show(
    slug: Annotated[str, typer.Argument(help="The constellation's slug.")],
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
) -> None:
    """A constellation and its members' roles (as the chain says)."""
    with _api(api_url, api_key) as client:
        found = client.constellation(slug)
        if found is None:
            raise ApiError(404, "NotFound", f"no constellation {slug!r}", "GET", f"/constellations/{slug}")
    if as_json:
        _echo_json(found)
        return
    _fields([("slug", found["slug"]), ("name", found["name"]), ("id", found["id"])])
    rows = [
        [
            (m.get("member") or {}).get("name", ""),
            (m.get("member") or {}).get("id", ""),
            m["address"],
            " ".join(m["roles"]),
        ]
        for m in found["members"]
    ]
    _table(None, ["member", "id", "address", "roles"], rows)


@constellations_app.command("roles")
def constellations_roles(
    slug: Annotated[str, typer.Argument(help="The constellation's slug.")],
    member_id: Annotated[str, typer.Argument(help="The member's id.")],
    roles: Annotated[
        list[str] | None,
        typer.Argument(help="Its roles: supplier manufacturer logistics brand retailer certifier coordinator ..."),
    ] = None,
    remove: Annotated[bool, typer.Option("--remove", help="Remove the member (no roles).")] = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
) -> None:
    """Set a member's roles in a constellation you coordinate (on chain); --remove takes all away."""
    if remove == bool(roles):
        _bad_input("give the roles, or --remove to take every role away (not both)")
    with _api(api_url, api_key) as client:
        sent = client.set_roles(slug, member_id, [] if remove else list(roles or []))
    done = "removed from" if remove else f"now {' '.join(roles or [])} in"
    typer.echo(f"member {member_id} {done} {slug} (tx {sent['tx_hash']})")


# --- capture ----------------------------------------------------------------------------------


@dataclass
class _Source:
    """One input file: its events come in batches; `unit` says how its positions are counted."""

    path: Path
    unit: str  # "row" (CSV, as a spreadsheet numbers it) or "event" (JSON, from 1)
    count: int
    events: Callable[[], Iterator[tuple[int, dict[str, Any]]]]
    document: Callable[[list[dict[str, Any]]], dict[str, Any]]
    whole: dict[str, Any] | None = None
    """A JSON document sent as it is when one batch holds all of it."""


@dataclass
class _Tally:
    size: int
    captured: int = 0
    duplicates: int = 0
    batches: int = 0
    captures: list[str] = field(default_factory=list)
    stored: list[str] = field(default_factory=list)


class _BatchFailed(Exception):
    """A batch the service refused (ApiError) or did not answer (an httpx error)."""

    def __init__(self, where: str, error: Exception, first: str | None = None) -> None:
        super().__init__(where)
        self.where, self.error, self.first = where, error, first


def _span(source: _Source, batch: list[tuple[int, dict[str, Any]]]) -> str:
    first, last = batch[0][0], batch[-1][0]
    return (
        f"{source.path.name} {source.unit}s {first}-{last}"
        if first != last
        else f"{source.path.name} {source.unit} {first}"
    )


def _csv_source(path: Path, batch_size: int, delimiter: str) -> _Source:
    from service.epcis.analysis import epcis_document
    from service.epcis.csv_events import CsvEventError, check_events, read_events

    def events() -> Iterator[tuple[int, dict[str, Any]]]:
        with path.open(encoding="utf-8-sig", newline="") as lines:
            for item in read_events(lines, delimiter=delimiter):
                yield item.row, item.event

    count = 0
    try:
        with path.open(encoding="utf-8-sig", newline="") as lines:
            chunk = []
            for item in read_events(lines, delimiter=delimiter):
                chunk.append(item)
                if len(chunk) == batch_size:
                    check_events(chunk)
                    count, chunk = count + len(chunk), []
            if chunk:
                check_events(chunk)
                count += len(chunk)
    except CsvEventError as exc:
        _bad_input(f"{path}: {exc} (nothing was sent)")
    except UnicodeDecodeError:
        _bad_input(f"{path} is not UTF-8 text")
    except OSError as exc:
        _bad_input(f"cannot read {path}: {exc.strerror}")
    return _Source(path, "row", count, events, epcis_document)


def _json_source(path: Path) -> _Source:
    from service.epcis.event_hash import iter_events
    from service.epcis.validation import validate_document
    from service.errors import MalformedInput

    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        events = iter_events(document)
        validate_document(document)
    except OSError as exc:
        _bad_input(f"cannot read {path}: {exc.strerror}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        _bad_input(f"{path} is not JSON: {exc} (nothing was sent)")
    except (ValueError, MalformedInput) as exc:
        _bad_input(f"{path}: {exc} (nothing was sent)")
    frame = {key: value for key, value in document.items() if key != "epcisBody"}
    if frame.get("type") == "EPCISQueryDocument":
        frame["type"] = "EPCISDocument"

    def part(batch: list[dict[str, Any]]) -> dict[str, Any]:
        return {**frame, "epcisBody": {"eventList": batch}}

    return _Source(path, "event", len(events), lambda: iter(enumerate(events, start=1)), part, whole=document)


def _sources(files: list[Path], batch_size: int, delimiter: str) -> list[_Source]:
    sources = []
    for path in files:
        if not path.is_file():
            _bad_input(f"{path}: no such file")
        if path.suffix.lower() in (".csv", ".tsv"):
            sources.append(_csv_source(path, batch_size, "\t" if path.suffix.lower() == ".tsv" else delimiter))
        else:
            sources.append(_json_source(path))
    return sources


def _capture_source(client: Client, slug: str, source: _Source, tally: _Tally, advance: Callable[[int], None]) -> None:
    def send(batch: list[tuple[int, dict[str, Any]]]) -> None:
        whole = source.whole is not None and len(batch) == source.count
        document = source.whole if whole and source.whole is not None else source.document([e for _, e in batch])
        try:
            job = client.capture(slug, document)
        except ApiError as exc:
            if exc.status == 413 and len(batch) > 1:  # over the service's limits: smaller batches
                tally.size = max(1, len(batch) // 2)
                typer.echo(f"note: the service refused {len(batch)} events at once; sending {tally.size}", err=True)
                send(batch[: tally.size])
                send(batch[tally.size :])
                return
            raise _BatchFailed(_span(source, batch), exc, _culprit(exc, source, batch)) from None
        except httpx.HTTPError as exc:
            raise _BatchFailed(_span(source, batch), exc) from None
        tally.batches += 1
        tally.duplicates += int(job.get("duplicates", 0))
        tally.captured += int(job.get("eventCount", len(batch))) - int(job.get("duplicates", 0))
        tally.captures.append(str(job.get("captureID")))
        tally.stored.append(_span(source, batch))
        advance(len(batch))

    batch: list[tuple[int, dict[str, Any]]] = []
    for item in source.events():
        batch.append(item)
        if len(batch) >= tally.size:
            send(batch)
            batch = []
    if batch:
        send(batch)


def _culprit(error: ApiError, source: _Source, batch: list[tuple[int, dict[str, Any]]]) -> str | None:
    """The input row or event the service's message points at ("event #3", "eventList[3]")."""
    found = re.search(r"event #(\d+)|eventList\[(\d+)\]", error.detail)
    if found is None:
        return None
    index = int(found.group(1) or found.group(2))
    return f"{source.unit} {batch[index][0]} of {source.path.name}" if index < len(batch) else None


def capture(
    files: Annotated[list[Path], typer.Argument(help="EPCIS 2.0 JSON/JSON-LD documents, or CSV files (.csv).")],
    constellation: Constellation,
    batch_size: Annotated[
        int, typer.Option(min=1, help="Events per capture (each is stored whole or not at all).")
    ] = 1000,
    delimiter: Annotated[str, typer.Option(help="The CSV field separator.")] = ",",
    check: Annotated[bool, typer.Option("--check", help="Only check the files locally; send nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
) -> None:
    """Capture EPCIS 2.0 documents or CSV files into a constellation, signed with your key.

    CSV files become one event per row (the columns: docs/cli.md). Every file is checked
    before anything is sent; large inputs go in batches, each stored whole or not at all. A
    rerun is safe: events you already captured count as duplicates."""
    if len(delimiter) != 1:
        _bad_input("--delimiter is one character")
    sources = _sources(files, batch_size, delimiter)
    total = sum(source.count for source in sources)
    if check:
        for source in sources:
            typer.echo(f"{source.path}: {source.count} events, valid EPCIS 2.0")
        return
    for source in sources:
        if not source.count:
            typer.echo(f"note: {source.path} holds no events", err=True)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    tally = _Tally(size=batch_size)
    progress = Progress(
        TextColumn("[bold]capturing[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    with _api(api_url, api_key) as client:
        try:
            with progress:
                task = progress.add_task(", ".join(s.path.name for s in sources), total=total)
                for source in sources:
                    _capture_source(client, constellation, source, tally, lambda n: progress.advance(task, n))
        except _BatchFailed as failed:
            _report_failure(failed, tally)
    summary = {
        "events": total,
        "captured": tally.captured,
        "duplicates": tally.duplicates,
        "batches": tally.batches,
        "captures": tally.captures,
    }
    if as_json:
        _echo_json(summary)
    else:
        typer.echo(
            f"captured {tally.captured} new events, {tally.duplicates} duplicates, in {tally.batches} "
            f"{'batch' if tally.batches == 1 else 'batches'} into {constellation}"
        )


def _report_failure(failed: _BatchFailed, tally: _Tally) -> NoReturn:
    error = failed.error
    if isinstance(error, ApiError):
        at = f" (at {failed.first})" if failed.first else ""
        what = f"was refused{at}: {error.status} {error.error}: {error.detail}"
        after = "nothing of that batch or after it was stored"
    else:
        what = f"got no answer: {type(error).__name__}: {error}"
        after = "that batch may or may not be stored; nothing after it was sent"
    typer.secho(f"error: the batch of {failed.where} {what}", fg=typer.colors.RED, err=True)
    if tally.stored:
        batches = f"{len(tally.stored)} {'batch' if len(tally.stored) == 1 else 'batches'}"
        typer.echo(
            f"stored before it: {batches} ({'; '.join(tally.stored)}): "
            f"{tally.captured} new events, {tally.duplicates} duplicates",
            err=True,
        )
    else:
        typer.echo("nothing was stored before it", err=True)
    typer.echo(f"{after}; run the same command again (events already stored count as duplicates)", err=True)
    raise typer.Exit(code=1)


# --- attestations -----------------------------------------------------------------------------

_SUBJECT_PART = re.compile(r",(?=(?:gtin|lot|serial|member|gln)=)")


def _subject(raw: str) -> dict[str, Any]:
    """gtin=…[,lot=…][,serial=…] | member=ID | gln=… as the API's subject."""
    parts: dict[str, str] = {}
    for part in _SUBJECT_PART.split(raw):
        key, equals, value = part.partition("=")
        if not equals or not value or key in parts:
            _bad_input(f"--subject {raw!r}: write gtin=…[,lot=…][,serial=…], member=ID or gln=…")
        parts[key] = value
    if "gtin" in parts and set(parts) <= {"gtin", "lot", "serial"}:
        _item_path(parts["gtin"], parts.get("lot"), parts.get("serial"))
        return {"kind": "item", **parts}
    if set(parts) == {"member"}:
        return {"kind": "member", "member_id": parts["member"]}
    if set(parts) == {"gln"}:
        return {"kind": "location", "gln": parts["gln"]}
    _bad_input(f"--subject {raw!r}: write gtin=…[,lot=…][,serial=…], member=ID or gln=…")


def _json_object(raw: str, option: str) -> dict[str, Any]:
    """A JSON object given inline, in a file, or on standard input ('-')."""
    inline = raw.lstrip().startswith(("{", "["))
    try:
        text = raw if inline else sys.stdin.read() if raw == "-" else Path(raw).read_text(encoding="utf-8")
        value = json.loads(text)
    except OSError as exc:
        _bad_input(f"{option}: cannot read {raw}: {exc.strerror}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        _bad_input(f"{option} is not JSON: {exc}")
    if not isinstance(value, dict):
        _bad_input(f"{option} must be a JSON object")
    return value


def attest(
    constellation: Constellation,
    schema: Annotated[str, typer.Option(help="The schema: certification, product-carbon-footprint, origin, ...")],
    subject: Annotated[str, typer.Option(help="gtin=…[,lot=…][,serial=…], member=ID or gln=….")],
    body: Annotated[str, typer.Option(help="The claim: a JSON object, a JSON file, or '-' for standard input.")],
    expires_at: Annotated[str | None, typer.Option(help="When it expires: a date or a date-time with offset.")] = None,
    ref_uid: Annotated[str | None, typer.Option(help="The uid of an attestation this one refers to.")] = None,
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
) -> None:
    """Issue an attestation, signed with your key and anchored on the AttestationRegistry."""
    about, claim, expires = _subject(subject), _json_object(body, "--body"), _when(expires_at, "--expires-at")
    with _api(api_url, api_key) as client:
        made = client.attest(constellation, schema, about, claim, expires_at=expires, ref_uid=ref_uid)
    if as_json:
        _echo_json(made)
        return
    _fields([("uid", made["uid"]), ("status", made["status"]), ("tx", made["proof"]["tx_hash"])])
    if made["status"] == "pending":
        typer.echo("the chain is unreachable: the service sends it later", err=True)


@attestations_app.command("list")
def attestations_list(
    gtin: Annotated[str | None, typer.Option(help="About this GTIN (with --lot, --serial).")] = None,
    lot: str | None = None,
    serial: str | None = None,
    gln: Annotated[str | None, typer.Option(help="About this location.")] = None,
    subject_member: Annotated[str | None, typer.Option(help="About this member (id).")] = None,
    issuer: Annotated[str | None, typer.Option(help="Issued by this member (id).")] = None,
    schema: Annotated[str | None, typer.Option(help="Of this schema.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 100,
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
) -> None:
    """Attestations you may see something of."""
    with _api(api_url, api_key) as client:
        found = client.attestations(
            gtin=gtin,
            lot=lot,
            serial=serial,
            gln=gln,
            subject_member=subject_member,
            issuer=issuer,
            schema=schema,
            limit=limit,
        )
    if as_json:
        _echo_json(found)
        return
    rows = [[a["uid"], a["schema_name"], a["subject"]["id"], a["issuer"]["name"], a["status"]] for a in found]
    _table("attestations", ["uid", "schema", "subject", "issuer", "status"], rows)


@attestations_app.command("show")
def attestations_show(
    uid: Annotated[str, typer.Argument(help="The attestation's uid (0x…).")],
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
) -> None:
    """One attestation as you may see it: status, body, and its proof on chain."""
    with _api(api_url, api_key) as client:
        found = client.attestation(uid)
    if as_json:
        _echo_json(found)
        return
    proof = found["proof"]
    _fields(
        [
            ("uid", found["uid"]),
            ("schema", found["schema_name"]),
            ("status", found["status"]),
            ("constellation", found["constellation"]),
            ("subject", found["subject"]["id"]),
            ("issuer", f"{found['issuer']['name']} ({found['issuer']['address']})"),
            ("expires", found["expires_at"]),
            ("withheld", found["withheld"]),
            ("chain", f"{proof['chain_id']} registry {proof['registry']}"),
            ("data hash", proof["data_hash"]),
            ("tx", proof["tx_hash"]),
            ("revoked in", proof["revocation_tx_hash"]),
        ]
    )
    typer.echo("body:")
    typer.echo(json.dumps(found["body"], indent=2, ensure_ascii=False))


@attestations_app.command("revoke")
def attestations_revoke(
    uid: Annotated[str, typer.Argument(help="The uid of an attestation you issued.")],
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
) -> None:
    """Revoke an attestation you issued (on chain)."""
    with _api(api_url, api_key) as client:
        revoked = client.revoke_attestation(uid)
    typer.echo(f"{revoked['uid']}: {revoked['status']} (tx {revoked['proof']['revocation_tx_hash']})")
    if revoked["status"] != "revoked":
        typer.echo("the chain is unreachable: the service sends the revocation later", err=True)


# --- grants -----------------------------------------------------------------------------------


def _audience(raw: str) -> dict[str, str]:
    kind, _, value = raw.partition(":")
    if raw in ("public", "constellation"):
        return {"kind": raw}
    if kind == "role" and value:
        return {"kind": "role", "role": value}
    if kind == "member" and value:
        return {"kind": "member", "member_id": value}
    _bad_input(f"--audience {raw!r}: write public, constellation, role:ROLE or member:ID")


@grants_app.command("create")
def grants_create(
    constellation: Constellation,
    categories: Annotated[
        str,
        typer.Option(
            help="Comma-separated: what when where why quantities commercial sensor ilmd extensions "
            "attestations attestation:<schema> evidence."
        ),
    ],
    audience: Annotated[str, typer.Option(help="public, constellation, role:ROLE or member:ID.")],
    purpose: Annotated[str, typer.Option(help="Why they may see it (kept on the ledger's terms).")],
    valid_from: Annotated[str | None, typer.Option("--from", help="From (a date or a date-time with offset).")] = None,
    until: Annotated[str | None, typer.Option(help="Until (a date, 00:00 UTC, or a date-time with offset).")] = None,
    withhold: Annotated[
        bool, typer.Option("--withhold", help="Narrow the constellation's defaults for your data instead of sharing.")
    ] = False,
    default: Annotated[
        bool, typer.Option("--default", help="A constellation default over every member's data (coordinators).")
    ] = False,
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
) -> None:
    """Share (or withhold) categories of your data in a constellation; anchored on the SharingLedger."""
    chosen = [c.strip() for c in categories.split(",") if c.strip()]
    if not chosen:
        _bad_input("--categories names at least one category")
    fields = {
        "valid_from": _when(valid_from, "--from"),
        "valid_until": _when(until, "--until"),
        "effect": "withhold" if withhold else None,
        "default": True if default else None,
    }
    with _api(api_url, api_key) as client:
        made = client.grant(constellation, chosen, _audience(audience), purpose, **fields)
    if as_json:
        _echo_json(made)
        return
    _fields([("id", made["id"]), ("effect", made["effect"]), ("tx", made["tx_hash"])])


@grants_app.command("list")
def grants_list(as_json: AsJson = False, api_url: ApiUrl = DEFAULT_API_URL, api_key: ApiKey = None) -> None:
    """Your grants, live and revoked."""
    with _api(api_url, api_key) as client:
        found = client.grants()
    if as_json:
        _echo_json(found)
        return
    rows = [
        [
            g["id"],
            ",".join(g["categories"]),
            ":".join(v for v in g["audience"].values() if v),
            g["effect"] + (" (default)" if g["default"] else ""),
            g["purpose"],
            g["valid_until"] or "",
            "revoked" if g["revoked_at"] else "live",
        ]
        for g in found
    ]
    _table("grants", ["id", "categories", "audience", "effect", "purpose", "until", "state"], rows)


@grants_app.command("revoke")
def grants_revoke(
    grant_id: Annotated[str, typer.Argument(help="The grant's id.")],
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
) -> None:
    """Revoke one of your grants (on chain): it stops applying from the next read."""
    with _api(api_url, api_key) as client:
        revoked = client.revoke_grant(grant_id)
    typer.echo(f"revoked grant {revoked['id']} (tx {revoked['revoke_tx_hash']})")


# --- traces and the recall report -------------------------------------------------------------

TraceId = Annotated[str, typer.Argument(help="An item, lot or container: GS1 Digital Link URI or EPC URN.")]
MaxDepth = Annotated[int, typer.Option(min=1, max=100, help="Most steps from the start.")]
Since = Annotated[str | None, typer.Option(help="Only events from this date-time (with offset).")]
Until = Annotated[str | None, typer.Option(help="Only events before this date-time (with offset).")]


def _walk(
    direction: str,
    identifier: str,
    max_depth: int,
    since: str | None,
    until: str | None,
    as_json: bool,
    api_url: str,
    api_key: str | None,
) -> dict[str, Any] | None:
    bounds = {"max_depth": max_depth, "since": _when(since, "--since"), "until": _when(until, "--until")}
    with _api(api_url, api_key) as client:
        result = client.trace(direction, identifier, **bounds)
    if as_json:
        _echo_json(result)
        return None
    from rich.console import Console
    from rich.markup import escape
    from rich.tree import Tree

    children: dict[str, list[dict[str, Any]]] = {}
    for edge in result["edges"]:
        children.setdefault(edge["from"], []).append(edge)
    tree = Tree(f"[bold]{escape(result['start'])}[/]")
    shown = {result["start"]}

    def grow(branch: Tree, node: str) -> None:
        for edge in children.get(node, []):
            again = edge["to"] in shown
            label = f"{edge['relation'].replace('_', ' ')} {escape(edge['to'])}  [dim]event {edge['record'][:12]}…[/]"
            twig = branch.add(label + (" [dim](shown above)[/]" if again else ""))
            if not again:
                shown.add(edge["to"])
                grow(twig, edge["to"])

    grow(tree, result["start"])
    Console(width=None if sys.stdout.isatty() else 200).print(tree)
    if result.get("truncated"):
        typer.echo("note: the walk stopped at --max-depth or the node limit")
    return result


@trace_app.command("upstream")
def trace_upstream(
    identifier: TraceId,
    max_depth: MaxDepth = 25,
    since: Since = None,
    until: Until = None,
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
) -> None:
    """Back to every origin: what it was made from and packed in, as a tree."""
    result = _walk("upstream", identifier, max_depth, since, until, as_json, api_url, api_key)
    if result is not None:
        typer.echo(f"origins: {', '.join(result['origins']) or 'none you may see'}")


@trace_app.command("downstream")
def trace_downstream(
    identifier: TraceId,
    max_depth: MaxDepth = 25,
    since: Since = None,
    until: Until = None,
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
) -> None:
    """Everything made from or packed with it, with its last known custodian and place."""
    result = _walk("downstream", identifier, max_depth, since, until, as_json, api_url, api_key)
    if result is not None:
        rows = []
        for item in result["affected"]:
            last = item.get("lastKnown") or {}
            where = last.get("bizLocation") or last.get("readPoint")
            rows.append(
                [item["id"], item["depth"], last.get("eventTime"), last.get("bizStep"), last.get("custodian"), where]
            )
        _table("affected", ["item", "depth", "last event", "step", "custodian", "location"], rows)


@trace_app.command("custody")
def trace_custody(
    identifier: TraceId,
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
) -> None:
    """Who held an item, where, in time order (the events you may see)."""
    with _api(api_url, api_key) as client:
        result = client.trace("custody", identifier)
    if as_json:
        _echo_json(result)
        return
    rows = [
        [
            s["eventTime"] or "(withheld)",
            s["bizStep"],
            s["custodian"],
            s["bizLocation"] or s["readPoint"],
            s["recordedBy"],
            ",".join(s["withheld"]),
        ]
        for s in result["steps"]
    ]
    _table(result["id"], ["time", "step", "custodian", "location", "recorded by", "withheld"], rows)


def recall(
    gtin: Annotated[str, typer.Argument(help="The product's GTIN.")],
    lot: Annotated[str, typer.Argument(help="The lot (batch) to recall.")],
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Write the service's CSV report to this file.")] = None,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
) -> None:
    """The recall report of a lot: every item made from or packed with it.

    Each with its last known custodian and location: the service's CSV, as the recall page
    gives it."""
    path = _item_path(gtin, lot)
    with _api(api_url, api_key) as client:
        report = client.recall_csv(path)
    if csv_file is not None:
        _write(report, csv_file)
    rows = list(csv.DictReader(io.StringIO(report)))
    if csv_file is None:
        shown = [c for c in RECALL_SHOWN if not rows or c in rows[0]]
        _table(f"recall of {path}", shown, [[row.get(c) for c in shown] for row in rows])
    typer.echo(f"{len(rows)} affected items" + ("" if csv_file else " (--csv FILE for every column)"), err=True)


RECALL_SHOWN = ("id", "depth", "lastEventTime", "bizStep", "custodian", "location")
"""The columns of the service's recall CSV a terminal has room for."""


# --- exports ----------------------------------------------------------------------------------


def _params(raw: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in raw:
        key, equals, value = item.partition("=")
        if not equals or not key:
            _bad_input(f"--param {item!r}: write NAME=VALUE (e.g. EQ_bizStep=shipping)")
        params[key] = value
    return params


@export_app.command("events")
def export_events(
    params: Annotated[
        list[str] | None,
        typer.Option(
            "--param", "-p", help="A SimpleEventQuery parameter, NAME=VALUE (repeat): MATCH_epc=…, EQ_bizStep=…"
        ),
    ] = None,
    output: Output = None,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
) -> None:
    """Every event matching a query that you may see, as one EPCISQueryDocument (all pages)."""
    query = _params(params or [])
    document: dict[str, Any] | None = None
    events: list[dict[str, Any]] = []
    pages = 0
    with _api(api_url, api_key) as client:
        for page in client.query_events(query):
            document = document or page
            events.extend(page["epcisBody"]["queryResults"]["resultsBody"]["eventList"])
            pages += 1
    assert document is not None
    document["epcisBody"]["queryResults"]["resultsBody"]["eventList"] = events
    _write(json.dumps(document, indent=2, ensure_ascii=False) + "\n", output)
    typer.echo(f"{len(events)} events from {pages} {'page' if pages == 1 else 'pages'}", err=True)


@export_app.command("credential")
def export_credential(
    uid: Annotated[str, typer.Argument(help="The attestation's uid (0x…).")],
    output: Output = None,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
) -> None:
    """An attestation as a W3C Verifiable Credential 2.0 with the issuer's EIP-712 proof (what you may see of it)."""
    with _api(api_url, api_key) as client:
        credential = client.credential(uid)
    _write(json.dumps(credential, indent=2, ensure_ascii=False) + "\n", output)


@export_app.command("footprint")
def export_footprint(
    uid: Annotated[str, typer.Argument(help="The uid of a product-carbon-footprint attestation.")],
    output: Output = None,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
) -> None:
    """A product-carbon-footprint attestation as a PACT ProductFootprint."""
    with _api(api_url, api_key) as client:
        footprint = client.footprint(uid)
    _write(json.dumps(footprint, indent=2, ensure_ascii=False) + "\n", output)


@export_app.command("credentials")
def export_credentials(
    gtin: Annotated[str, typer.Option(help="The product's GTIN.")],
    directory: Annotated[Path, typer.Option("--dir", "-d", help="Where to write one <uid>.json per credential.")],
    lot: Annotated[str | None, typer.Option(help="Only this lot.")] = None,
    serial: Annotated[str | None, typer.Option(help="Only this serial.")] = None,
    schema: Annotated[str | None, typer.Option(help="Only this schema.")] = None,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
) -> None:
    """Every attestation about a product, lot or unit that you may see, as Verifiable Credentials."""
    _item_path(gtin, lot, serial)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _bad_input(f"cannot make {directory}: {exc.strerror}")
    refused: list[str] = []
    written = 0
    with _api(api_url, api_key) as client:
        found: list[dict[str, Any]] = []
        while True:
            page = client.attestations(gtin=gtin, lot=lot, serial=serial, schema=schema, limit=500, offset=len(found))
            found.extend(page)
            if len(page) < 500:
                break
        for attestation in found:
            try:
                credential = client.credential(attestation["uid"])
            except ApiError as exc:  # one that is no credential (refused by the chain): named, the others kept
                refused.append(f"{attestation['uid']}: {exc.status} {exc.error}: {exc.detail}")
                continue
            if not re.fullmatch(r"0x[0-9a-f]{64}", str(attestation["uid"])):  # a file name we make, never a path
                refused.append(f"{attestation['uid']!r}: not an attestation uid")
                continue
            (directory / f"{attestation['uid']}.json").write_text(json.dumps(credential, indent=2, ensure_ascii=False))
            written += 1
    typer.echo(f"wrote {written} credentials to {directory}")
    for line in refused:
        typer.secho(f"error: {line}", fg=typer.colors.RED, err=True)
    if refused:
        raise typer.Exit(code=1)


# --- verify trust -----------------------------------------------------------------------------


def verify_trust(
    url: Annotated[str | None, typer.Argument(help="The service's base URL (default: --api-url).")] = None,
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
) -> None:
    """Print the pins a service publishes: its chain, ProvenanceAnchor, anchoring account and AttestationRegistry.

    For `verify record` / `verify journey`. A view cannot vouch for itself: take the pins
    from an independent source (the constellation's coordinator, a published deployment)
    and compare."""
    with _api(url or api_url, None) as client:
        pins = client.trust()
    if as_json:
        _echo_json(pins)
    else:
        _fields([(key, value) for key, value in pins.items()])
    typer.secho(
        "warning: these pins come from the service you mean to check; compare them with an independent source "
        "before you rely on them.",
        fg=typer.colors.YELLOW,
        err=True,
    )

"""The `constellate` command line."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from service import cli_client
from service.client import ApiError
from service.errors import ConstellateError
from service.settings import PROJECT_ROOT, Settings

if TYPE_CHECKING:
    from service.chain.proof_reader import TrustPins
    from service.demo import Demo

app = typer.Typer(help="Constellate: blockchain-backed data sharing and traceability.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
app.add_typer(db_app, name="db")
epcis_app = typer.Typer(help="GS1 EPCIS 2.0 documents.", no_args_is_help=True)
app.add_typer(epcis_app, name="epcis")
verify_app = typer.Typer(help="Verify records with only the chain: no database, no service.", no_args_is_help=True)
app.add_typer(verify_app, name="verify")
cli_client.register(app, verify_app)  # the commands that talk to a running API (members ... export)

RpcUrl = Annotated[str | None, typer.Option("--rpc-url", help="JSON-RPC endpoint (default: settings).")]
DatabaseUrl = Annotated[str | None, typer.Option("--database-url", help="SQLAlchemy URL (default: settings).")]


def _settings(**overrides: object) -> Settings:
    settings = Settings()
    updates = {key: value for key, value in overrides.items() if value is not None}
    return settings.model_copy(update=updates) if updates else settings


def _fail(exc: Exception) -> NoReturn:
    typer.secho(f"error: {type(exc).__name__}: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


@app.command()
def build() -> None:
    """Compile the contracts into the build folder."""
    from service.chain.compiler import compile_contracts

    try:
        artifacts = compile_contracts(_settings())
    except ConstellateError as exc:
        _fail(exc)
    for artifact in artifacts.values():
        typer.echo(f"{artifact.name}: {len(artifact.deployed_bytecode) // 2 - 1} bytes, solc {artifact.compiler}")


@app.command()
def deploy(
    rpc_url: RpcUrl = None, manifest: Annotated[Path | None, typer.Option(help="Where to write it.")] = None
) -> None:
    """Deploy the contracts and write the deployment manifest."""
    from service.chain.compiler import load_artifacts
    from service.chain.deployment import deploy_contracts, new_sender
    from service.chain.rpc import chain_id, connect

    settings = _settings(rpc_url=rpc_url, manifest_path=manifest)
    try:
        w3 = connect(settings.rpc_url, timeout=settings.rpc_timeout_seconds)
        chain_id(w3)
        artifacts = load_artifacts(settings)
        deployed = deploy_contracts(new_sender(w3, settings, artifacts), artifacts)
    except ConstellateError as exc:
        _fail(exc)
    deployed.save(settings.manifest_path)
    typer.echo(
        f"deployed to chain {deployed.chain_id} at block {deployed.deploy_block}; manifest {settings.manifest_path}"
    )
    for name, contract in deployed.contracts.items():
        typer.echo(f"  {name}: {contract.address}")


@app.command()
def ready(rpc_url: RpcUrl = None, database_url: DatabaseUrl = None) -> None:
    """Check the database, the chain and the manifest; exit 1 unless all are ready."""
    from service.db.session import make_engine
    from service.domain.readiness import check_readiness

    settings = _settings(rpc_url=rpc_url, database_url=database_url)
    checks = check_readiness(settings, make_engine(settings.database_url))
    for check in checks:
        typer.echo(f"{'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
    if not all(check.ok for check in checks):
        raise typer.Exit(code=1)


@app.command()
def index(
    rpc_url: RpcUrl = None,
    database_url: DatabaseUrl = None,
    follow: Annotated[bool, typer.Option(help="Keep polling for new blocks.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between polls with --follow.")] = 2.0,
) -> None:
    """Mirror contract events into the database."""
    from service.chain.compiler import load_artifacts
    from service.chain.deployment import DeploymentManifest, check_manifest
    from service.chain.indexer import LogIndexer
    from service.chain.rpc import connect
    from service.db.session import make_engine, make_session_factory

    settings = _settings(rpc_url=rpc_url, database_url=database_url)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        w3 = connect(settings.rpc_url, timeout=settings.rpc_timeout_seconds)
        artifacts = load_artifacts(settings)
        manifest = DeploymentManifest.load(settings.manifest_path)
        check_manifest(w3, manifest, artifacts)
        indexer = LogIndexer(
            w3,
            make_session_factory(make_engine(settings.database_url)),
            manifest,
            artifacts,
            confirmations=settings.confirmations,
            batch_blocks=settings.indexer_batch_blocks,
        )
        while True:
            report = indexer.sync()
            typer.echo(
                json.dumps({"indexed_to": report.to_block, "events": report.facts, "rewound_to": report.rewound_to})
            )
            if not follow or stop.wait(interval):
                break
    except ConstellateError as exc:
        _fail(exc)
    except KeyboardInterrupt:
        pass


@app.command()
def relay(
    rpc_url: RpcUrl = None,
    database_url: DatabaseUrl = None,
    follow: Annotated[bool, typer.Option(help="Keep relaying until stopped.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between rounds with --follow.")] = 5.0,
    flush: Annotated[bool, typer.Option(help="Anchor every pending event now, full batch or not.")] = False,
) -> None:
    """Send queued attestations (in batches), revocations and event batches to the chain, exactly once."""
    from service.runtime import Runtime

    runtime = Runtime(_settings(rpc_url=rpc_url, database_url=database_url))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while True:
            report = runtime.relay(flush=flush)
            assert report is not None
            typer.echo(json.dumps(report.as_dict()))
            if not follow or stop.wait(interval):
                break
    except ConstellateError as exc:
        _fail(exc)
    except KeyboardInterrupt:
        pass
    finally:
        runtime.close()


TrustSource = Annotated[
    str | None,
    typer.Option(
        "--trust",
        help="Your pins as GET /verify/trust writes them: a JSON file or URL, taken from a source you trust "
        "(the options below override it).",
    ),
]
ContractPin = Annotated[
    str | None,
    typer.Option("--contract", "--provenance-anchor", help="The ProvenanceAnchor address you trust."),
]
AnchorerPin = Annotated[
    str | None,
    typer.Option("--anchorer", help="The account you trust to anchor (the service's; a signer may anchor its own)."),
]
RegistryPin = Annotated[
    str | None,
    typer.Option(
        "--registry", "--constellation-registry", help="The ConstellationRegistry address you trust (members' roles)."
    ),
]
AttestationRegistryPin = Annotated[
    str | None, typer.Option("--attestation-registry", help="The AttestationRegistry address you trust (claims).")
]
ChainIdPin = Annotated[
    int | None, typer.Option("--chain-id", min=1, help="The chain id you trust (default: the endpoint's).")
]
VerdictJson = Annotated[bool, typer.Option("--json", help="Print the verdict JSON (docs/proof-format.md §9a).")]


def _bad_pins(message: str) -> NoReturn:
    """Pins the command cannot use: exit 2, nothing checked."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


def _trust_pins(
    trust: str | None,
    *,
    contract: str | None,
    anchorer: str | None,
    registry: str | None,
    attestation_registry: str | None,
    chain_id: int | None,
    required: tuple[tuple[str, str], ...] = (),
) -> TrustPins:
    """The pins of --trust, each option given overriding its value; exit 2 naming a missing or
    malformed one (the ProvenanceAnchor, the anchorer and the `required` (pin, option) pairs
    must be there)."""
    from service.chain.proof_reader import TrustPins

    named: dict[str, Any] = {}
    if trust is not None:
        try:
            loaded = _load_json(trust)
        except (OSError, ValueError) as exc:
            _bad_pins(f"--trust {trust}: {exc}")
        if not isinstance(loaded, dict):
            _bad_pins(f"--trust {trust} is not a JSON object of pins (as GET /verify/trust answers)")
        named.update(loaded)
    given = {
        "provenanceAnchor": contract,
        "anchorer": anchorer,
        "constellationRegistry": registry,
        "attestationRegistry": attestation_registry,
        "chainId": chain_id,
    }
    named.update({name: value for name, value in given.items() if value is not None})
    for name, option in (("provenanceAnchor", "--contract"), ("anchorer", "--anchorer"), *required):
        if named.get(name) is None:
            _bad_pins(f"no {name} to trust: give {option} or --trust")
    try:
        return TrustPins.from_json(named)
    except ValueError as exc:
        _bad_pins(f"the pins cannot be used: {exc}")


def _echo_verdict_json(verdicts: list[tuple[str, dict[str, Any]]]) -> None:
    """One verdict as itself; several as a list, each with the source it checked."""
    if len(verdicts) == 1:
        typer.echo(json.dumps(verdicts[0][1], indent=2, ensure_ascii=False))
    else:
        typer.echo(json.dumps([{"source": s, **v} for s, v in verdicts], indent=2, ensure_ascii=False))


@verify_app.command("record")
def verify_record(
    files: Annotated[
        list[Path], typer.Argument(help="Event views as the API returns them (or '-' for standard input).")
    ],
    rpc_url: Annotated[str, typer.Option("--rpc-url", help="A JSON-RPC endpoint of the chain you pin.")],
    contract: ContractPin = None,
    anchorer: AnchorerPin = None,
    registry: RegistryPin = None,
    attestation_registry: AttestationRegistryPin = None,
    chain_id: ChainIdPin = None,
    trust: TrustSource = None,
    as_json: VerdictJson = False,
) -> None:
    """Checks each view — full or redacted — with only the chain (docs/proof-format.md):
    each shown field against its record root, its withheld list against the committed field
    list, its leaf, its authorship (the capture root its signer signed), the signer's writing
    role when the root was anchored, its Merkle proof, and the root on the pinned
    ProvenanceAnchor, anchored by the trusted account for the record's constellation. Prints
    every check; exit 1 unless every view verifies. A view cannot vouch for itself: the pins are
    yours (--trust or the options)."""
    from service.chain.proof_reader import ChainProofReader
    from service.domain.proofs import MalformedView, prefetch_views, verify_event_view
    from service.errors import ChainUnavailable

    pins = _trust_pins(
        trust,
        contract=contract,
        anchorer=anchorer,
        registry=registry,
        attestation_registry=attestation_registry,
        chain_id=chain_id,
        required=(("constellationRegistry", "--registry"),),
    )
    reader = ChainProofReader(rpc_url, pins)
    views = []
    for path in files:
        try:
            views.append(json.loads(sys.stdin.read() if str(path) == "-" else path.read_text()))
        except (OSError, ValueError) as exc:
            _fail(exc)
    with contextlib.suppress(ChainUnavailable):  # each verdict says what it could not read
        prefetch_views(reader, views)
    failed = False
    verdicts = []
    for path, view in zip(files, views, strict=True):
        try:
            verdict = verify_event_view(view, reader)
        except MalformedView as exc:
            _fail(exc)
        verdicts.append((str(path), verdict.as_json()))
        if not as_json:
            _print_verdict(str(path), verdict)
        failed = failed or verdict.status != "verified"
    if as_json:
        _echo_verdict_json(verdicts)
    if failed:
        raise typer.Exit(code=1)


def _print_verdict(label: str, verdict: Any) -> None:
    typer.echo(f"{label}: {verdict.status} ({'partial' if verdict.withheld else 'full'} disclosure)")
    for check in verdict.checks:
        mark = {True: "ok  ", False: "FAIL", None: "----"}[check.ok]
        typer.echo(f"  {mark} {check.name}: {check.detail}")
    if verdict.unproven:
        typer.echo(f"  note: {', '.join(verdict.unproven)} set by the service, not proven")


def _load_json(source: str) -> Any:
    """A JSON document from a URL (JSON is asked for), a file, or '-' (standard input)."""
    if source.startswith(("http://", "https://")):
        import httpx

        try:
            response = httpx.get(source, headers={"Accept": "application/json"}, follow_redirects=True, timeout=30)
        except httpx.HTTPError as exc:
            raise ValueError(f"cannot read {source}: {type(exc).__name__}: {exc}") from None
        if response.status_code != 200:
            raise ValueError(f"{source} answered {response.status_code}: {response.text[:200]}")
        return response.json()
    return json.loads(sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8"))


@verify_app.command("journey")
def verify_journey(
    source: Annotated[str, typer.Argument(help="A journey: its URL (JSON is asked for), a JSON file, or '-'.")],
    rpc_url: Annotated[str, typer.Option("--rpc-url", help="A JSON-RPC endpoint of the chain you pin.")],
    contract: ContractPin = None,
    anchorer: AnchorerPin = None,
    registry: RegistryPin = None,
    attestation_registry: AttestationRegistryPin = None,
    chain_id: ChainIdPin = None,
    trust: TrustSource = None,
    as_json: VerdictJson = False,
) -> None:
    """Checks a journey with only the chain and your pins (docs/proof-format.md): that the page
    names your pins, its structure, every step as `verify record` checks a view plus its summary,
    the order of the steps, the completeness of each item's records up to an anchored point
    (records you are not shown are counted), every claim by its credential, and the footprint
    headline recomputed from verified figures. Every root and attestation is read once, in
    batched requests. Prints every check; exit 1 unless the journey verifies."""
    from service.chain.proof_reader import ChainProofReader
    from service.domain.journey_proofs import MalformedJourney
    from service.domain.journey_proofs import verify_journey as check
    from service.errors import ChainUnavailable

    pins = _trust_pins(
        trust,
        contract=contract,
        anchorer=anchorer,
        registry=registry,
        attestation_registry=attestation_registry,
        chain_id=chain_id,
        required=(("constellationRegistry", "--registry"), ("attestationRegistry", "--attestation-registry")),
    )
    reader = ChainProofReader(rpc_url, pins)
    if pins.chain_id is None:  # not pinned: the endpoint's, which the page must name
        with contextlib.suppress(ChainUnavailable):  # else every chain check says it could not read
            pins = dataclasses.replace(pins, chain_id=reader.chain_id)
            reader.pins = pins
    try:
        journey = _load_json(source)
    except (OSError, ValueError) as exc:
        _fail(exc)
    try:
        verdict = check(journey, reader, pins)
    except MalformedJourney as exc:
        _fail(exc)
    steps = journey.get("steps") if isinstance(journey.get("steps"), list) else []
    if as_json:
        typer.echo(json.dumps(verdict.as_json(), indent=2, ensure_ascii=False))
    else:
        _print_journey(verdict, steps)
    if verdict.status != "verified":
        raise typer.Exit(code=1)


def _print_journey(verdict: Any, steps: list[Any]) -> None:
    """The checks grouped as a reader goes through them: the journey's own, each step's, each
    claim's; then one line saying how it ended (written at once: a 200-step journey has about
    2,000 lines)."""
    marks = {True: "ok  ", False: "FAIL", None: "----"}
    claims = list(dict.fromkeys(c.claim for c in verdict.checks if c.claim is not None))
    own: list[Any] = []
    of_step: dict[int, list[Any]] = {}
    of_claim: dict[str, list[Any]] = {}
    for check in verdict.checks:
        if check.step is not None:
            of_step.setdefault(check.step, []).append(check)
        elif check.claim is not None:
            of_claim.setdefault(check.claim, []).append(check)
        else:
            own.append(check)

    def line(check: Any) -> str:
        return f"  {marks[check.ok]} {check.name}: {check.detail}"

    lines = [f"journey: {verdict.status}", *map(line, own)]
    for number, step in enumerate(steps, start=1):
        label = step.get("bizStep") or step.get("eventType") if isinstance(step, dict) else None
        lines.append(f"step {number} ({label or 'unreadable'}):")
        lines += map(line, of_step.get(number, ()))
    for uid in claims:
        lines.append(f"claim {uid}:")
        lines += map(line, of_claim.get(uid, ()))
    failing = [c for c in verdict.checks if c.ok is False]
    lines.append(
        f"{len(steps)} steps: {'all verified' if verdict.status == 'verified' else verdict.status.upper()}"
        f" ({len(claims)} claims; {verdict.records_not_shown} records of these items not shown to you"
        + (f"; {len(failing)} checks failed" if failing else "")
        + ")"
    )
    typer.echo("\n".join(lines))


@verify_app.command("credential")
def verify_credential(
    sources: Annotated[
        list[str], typer.Argument(help="W3C Verifiable Credentials: URLs, JSON files, or '-' for standard input.")
    ],
    rpc_url: Annotated[str, typer.Option("--rpc-url", help="A JSON-RPC endpoint of the chain the credential names.")],
    registry: Annotated[
        str | None,
        typer.Option(
            "--registry",
            "--attestation-registry",
            help="The AttestationRegistry address you trust (the service publishes it).",
        ),
    ] = None,
    trust: TrustSource = None,
    as_json: VerdictJson = False,
) -> None:
    """Checks each credential (GET /attestations/{uid}/credential) with only the chain: the
    issuer's EIP-712 signature over the Attest message rebuilt from the credential, its uid,
    each shown field against the signed data hash, the attestation on the pinned registry, and
    that it is neither revoked nor expired. Prints every check; exit 1 unless each verifies."""
    from service.chain.proof_reader import RegistryReader
    from service.domain.credential_proofs import MalformedCredential
    from service.domain.credential_proofs import verify_credential as check

    if registry is None and trust is not None:
        try:
            loaded = _load_json(trust)
        except (OSError, ValueError) as exc:
            _bad_pins(f"--trust {trust}: {exc}")
        registry = loaded.get("attestationRegistry") if isinstance(loaded, dict) else None
    if registry is None:
        _bad_pins("no AttestationRegistry to trust: give --attestation-registry or --trust")
    try:
        reader = RegistryReader(rpc_url, registry)
    except ValueError as exc:
        _bad_pins(f"the AttestationRegistry pin cannot be used: {exc}")
    failed = False
    verdicts = []
    for source in sources:
        try:
            verdict = check(_load_json(source), reader)
        except (OSError, ValueError, MalformedCredential) as exc:
            _fail(exc)
        verdicts.append((source, verdict.as_json()))
        if not as_json:
            _print_verdict(source, verdict)
        failed = failed or verdict.status != "verified"
    if as_json:
        _echo_verdict_json(verdicts)
    if failed:
        raise typer.Exit(code=1)


@epcis_app.command("hash")
def epcis_hash(
    files: Annotated[list[Path], typer.Argument(help="EPCIS 2.0 JSON/JSON-LD documents (or '-' for standard input).")],
) -> None:
    """Print the CBV 2.0 event hash ID of every event, one per line, in document order."""
    from service.epcis.event_hash import hash_ids

    for path in files:
        try:
            text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
            document = json.loads(text)
            for hash_id in hash_ids(document):
                typer.echo(hash_id)
        except OSError as exc:
            _fail(ConstellateError(f"cannot read {path}: {exc.strerror}"))
        except (json.JSONDecodeError, ValueError) as exc:
            _fail(ConstellateError(f"{path} is not an EPCIS document: {exc}"))


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseUrl = None) -> None:
    """Migrate the database to the newest schema."""
    from service.db.migrate import upgrade

    settings = _settings(database_url=database_url)
    upgrade(settings.database_url)
    typer.echo("database schema is current")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address.")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port.")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes (one per core).")] = 1,
) -> None:
    """Run the API server. Several workers share the database; one of them leads anchoring.
    Logs go to stderr (CONSTELLATE_LOG_FORMAT, _LOG_LEVEL); with several workers, /metrics in
    any of them counts for all (one PROMETHEUS_MULTIPROC_DIR, made for the run unless set)."""
    import os

    import uvicorn

    from service.observability import configure_logging, shared_metrics_dir

    settings = _settings(host=host, port=port)
    configure_logging(settings)
    logs: dict[str, Any] = {
        "log_config": None,  # uvicorn's records go through ours
        "log_level": settings.log_level.lower(),
        "access_log": not settings.access_log,
        "timeout_keep_alive": settings.keep_alive_seconds,
    }
    if workers == 1:
        from service.api.app import create_app

        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, **logs)
        return
    os.environ["CONSTELLATE_HOST"], os.environ["CONSTELLATE_PORT"] = settings.host, str(settings.port)
    with shared_metrics_dir():
        uvicorn.run(
            "service.api.app:create_served_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            **logs,
        )


@app.command()
def up(
    rpc_url: RpcUrl = None,
    database_url: DatabaseUrl = None,
    port: Annotated[int | None, typer.Option(help="API port (default: settings).")] = None,
    state_dir: Annotated[
        Path,
        typer.Option(
            help="What this instance owns: its database (unless --database-url names one), deployment "
            "manifest, secrets, embedded chain, the demo's keys and QR codes. One running `up` per folder."
        ),
    ] = PROJECT_ROOT / "build" / "up",
    seed: Annotated[bool, typer.Option("--demo/--no-demo", help="Seed the demo constellations (idempotent).")] = True,
) -> None:
    """Run the main job: a local chain (unless --rpc-url), deployed contracts, a migrated
    database, the API, and the demo constellations (coffee, cocoa). Stops cleanly on Ctrl-C."""
    import httpx
    from sqlalchemy.exc import SQLAlchemyError

    from service.stack import LocalStack

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = _settings(rpc_url=rpc_url, database_url=database_url, port=port)
    stack = LocalStack(settings=settings, state_dir=state_dir)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:  # Ctrl-C while starting or seeding: KeyboardInterrupt, and nothing is left running
        stack.start(embedded_chain=rpc_url is None)
        seeded = stack.seed_demo() if seed else None
    except KeyboardInterrupt:
        stack.stop()
        typer.echo("stopped")
        raise typer.Exit(code=130) from None
    except (ConstellateError, ApiError, httpx.HTTPError, SQLAlchemyError, OSError) as exc:
        stack.stop()
        _fail(exc)
    except BaseException:
        stack.stop()
        raise
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    typer.echo("Constellate is up:")
    for name, url in stack.urls.items():
        typer.echo(f"  {name:<6} {url}")
    if stack.settings.admin_api_key is not None:
        typer.echo(f"  admin API key: {stack.settings.admin_api_key.get_secret_value()}")
    if seeded is not None:
        _print_demo(seeded, stack.urls["api"], stack.qr_dir)
    typer.echo("Press Ctrl-C to stop.")
    sys.stdout.flush()
    stop.wait()
    typer.echo("stopping...")
    stack.stop()
    typer.echo("stopped")


def _print_demo(seeded: Demo, base: str, qr_dir: Path | None) -> None:
    typer.echo(f"Demo: 2 constellations, {len(seeded.members)} members, {seeded.events} events (fictional companies)")
    typer.echo("  journeys (what the public sees; sign in as a brand to see what is shared with it):")
    for path, label in seeded.journeys.items():
        typer.echo(f"    {base}{path}  {label}")
    typer.echo(f"  recall report (signed in):  {base}{seeded.recall}")
    for path, coordinator in seeded.coordinators.items():
        typer.echo(f"  coordinator view:  {base}{path}  (sign in as {coordinator})")
    typer.echo(f"  sign in at {base}/login with a member's API key:")
    for member in seeded.members.values():
        typer.echo(f"    {member['name']:<30} {member['api_key']}")
    if qr_dir is not None:
        typer.echo(f"  QR codes (PNG): {qr_dir}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()

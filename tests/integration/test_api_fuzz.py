"""schemathesis against the service's own OpenAPI schema, on every operation: requests generated
from the schema, valid and invalid, reach a real service on 127.0.0.1 (real Anvil, SQLite)
holding real data — a constellation, members with roles, captured and anchored EPCIS events,
attestations with evidence, a grant — sent with a real member's API key (the operator's for its
own route), with real ids mixed into the generated ones so requests get past the 404s. No
answer may be a 5xx or break the schema: status, content type, headers and body as declared.
Half the generated bodies are made hostile (hostile.py: nesting at and past the bound, thousands
of keys, strings and member schemas built to make a backtracking regex explode).

A modest, derandomized number of random examples per operation; `scripts/bench/fuzz_api.py` is
the large run (also boundary values, unsupported methods and stateful sequences). The last tests
pin what the fuzzer found, each where it was found."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import strategies as st
from pydantic import SecretStr

from service.api import create_app
from service.api.schemas import PROBLEM_MEDIA_TYPE, Problem
from service.chain.anvil import AnvilProcess
from service.chain.deployment import DeploymentManifest
from service.chain.rpc import connect
from service.client import Client
from service.db.migrate import upgrade
from service.domain.keys import generate_key_encryption_key
from service.settings import Settings
from service.stack import ApiServer

from . import journey
from .conftest import ADMIN_KEY
from .hostile import hostile_body

EXAMPLES = 10
"""Random examples per operation: about half a minute for all of them on a quiet machine."""
OPERATOR_ONLY = {"POST /members"}
"""Operations only the operator may call: fuzzed with the operator's key, the others with a member's."""

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20261123,
        "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none"},
        # Boundary values and unsupported methods (coverage) and sequences (stateful) are the
        # large run's: here they would take minutes.
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        "checks": {
            # A request the schema allows may still break a rule no JSON Schema states (a GS1
            # check digit, a signature, a role): the service answers a 4xx naming it.
            "positive_data_acceptance": {"enabled": False},
        },
    }
)
SCHEMA = schemathesis.openapi.from_dict(create_app(Settings(database_url="sqlite://")).openapi(), config=CONFIG)
GRANT = {
    "constellation": "coffee",
    "categories": ["what", "when", "where", "why", "attestations"],
    "audience": {"kind": "public"},
    "purpose": "journey",
}
"""The roaster's grant: the public sees its journey."""
REAL_IDS: dict[str, list[str]] = {}
"""Ids of the seeded records by the name of the parameter that takes them (`seeded` fills it)."""


@schemathesis.serializer("application/x-ndjson")
def _json_lines(_ctx: schemathesis.SerializationContext, value: Any) -> bytes:
    """An attestation import as JSON Lines: one attestation a line."""
    lines = value if isinstance(value, list) else [value]
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


@schemathesis.deserializer("application/vc")
def _credential(_ctx: schemathesis.DeserializationContext, response: schemathesis.Response) -> Any:
    """A credential (JSON-LD) is JSON: read, so its body is checked against the schema too."""
    return json.loads(response.content)


def _half_real(values: dict[str, Any] | None) -> Any:
    """Each parameter that names a seeded kind of record: the generated value or a real one."""
    if not values:
        return st.just(values)
    return st.fixed_dictionaries(
        {
            name: st.one_of(st.just(value), st.sampled_from(REAL_IDS[name])) if name in REAL_IDS else st.just(value)
            for name, value in values.items()
        }
    )


@SCHEMA.hook
def flatmap_path_parameters(_ctx: schemathesis.HookContext, path_parameters: dict[str, Any] | None) -> Any:
    return _half_real(path_parameters)


@SCHEMA.hook
def flatmap_query(_ctx: schemathesis.HookContext, query: dict[str, Any] | None) -> Any:
    return _half_real(query)


@SCHEMA.hook
def flatmap_body(_ctx: schemathesis.HookContext, body: Any) -> Any:
    """Half the bodies hostile (hostile.py): too deep, thousands of keys, catastrophic patterns."""
    return hostile_body(body)


@dataclass
class Seeded:
    """The served service, the member the fuzzer speaks for, the operations it fuzzed."""

    base_url: str
    server: ApiServer
    member_key: str
    fuzzed: set[str] = field(default_factory=set)

    def http(self, key: str | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {key or self.member_key}"}, timeout=60
        )


def _seed(admin: Client) -> tuple[str, dict[str, list[str]]]:
    """The coffee journey of journey.py: the roaster coordinates (the member the fuzzer speaks
    for), brands the roast and states its footprint; a farm, a certifier and a shop take part."""
    roaster_m, roaster_key = admin.onboard("Roastery")
    farm_m, farm_key = admin.onboard("Farms Cooperative")
    certifier_m, certifier_key = admin.onboard("Bureau Veritas")
    shop_m, shop_key = admin.onboard("Coffee Shop")
    roaster, farm, certifier, shop = (admin.as_member(k) for k in (roaster_key, farm_key, certifier_key, shop_key))
    roaster.create_constellation("coffee", "Coffee")
    for member, roles in (
        (roaster_m, ["coordinator", "brand", "manufacturer", "logistics"]),
        (farm_m, ["supplier"]),
        (certifier_m, ["certifier"]),
        (shop_m, ["retailer"]),
    ):
        roaster.set_roles("coffee", member["id"], roles)
    prefix = journey.ROASTED[1:13]  # the roast's GTIN alone: the farm's green coffee is not under it
    admin.post(f"/company-prefixes/{roaster.post('/company-prefixes', {'prefix': prefix})['id']}/approve")
    roaster.put_product(journey.ROASTED, "Espresso", net_content=0.25, net_content_unit="kilogram")
    grant = roaster.post("/grants", GRANT)
    captures = [
        member.capture("coffee", journey.document(events))["captureID"]
        for member, events in (
            (farm, journey.origin_events()),
            (roaster, journey.roastery_events()),
            (shop, journey.shop_events()),
        )
    ]
    report = b"%PDF-1.7 audit"
    certified = certifier.attest(
        "coffee",
        "certification",
        {"kind": "item", "gtin": journey.GREEN, "lot": "FARM1-2026"},
        {"standard": "Fairtrade", "certificateId": "FLO-1", "issuingBody": "FLOCERT", "validUntil": "2030-12-31"},
        evidence=[
            {
                "filename": "audit.pdf",
                "media_type": "application/pdf",
                "content_base64": base64.b64encode(report).decode(),
            }
        ],
    )
    footprint = roaster.attest(
        "coffee",
        "product-carbon-footprint",
        {"kind": "item", "gtin": journey.ROASTED, "lot": "R-0042"},
        {
            "declaredUnit": "kilogram",
            "unitaryProductAmount": 1,
            "pCfExcludingBiogenic": 4.2,
            "referencePeriodStart": "2025-01-01T00:00:00Z",
            "referencePeriodEnd": "2025-12-31T00:00:00Z",
            "geographyCountry": "CH",
            "boundaryProcessesDescription": "cradle to gate",
            "primaryDataShare": 60,
        },
    )
    events = roaster.get("/epcis/events", perPage="100")["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    refs = [event["constellate:record"]["ref"] for event in events]
    return roaster_key, {
        "slug": ["coffee"],
        "constellation": ["coffee"],
        "member_id": [roaster_m["id"], farm_m["id"]],
        "reader": [farm_m["id"], "public"],
        "uid": [footprint["uid"], certified["uid"]],
        "record": [refs[0], footprint["uid"]],
        "grant_id": [grant["id"]],
        "capture_id": captures,
        "event_id": [*refs, events[0]["eventID"]],
        "sha256": [hashlib.sha256(report).hexdigest()],
        "gtin": [journey.GREEN, journey.ROASTED],
        "prefix": [prefix],
        "link": [journey.ROASTED],
        "name": ["certification", "product-carbon-footprint"],
        "id": [journey.LOT_1, journey.ROAST_LOT, journey.SSCC],
    }


@pytest.fixture(scope="module")
def seeded(
    anvil: AnvilProcess, base_settings: Settings, manifest: DeploymentManifest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Seeded]:
    """The service on a free port of 127.0.0.1 with the journey seeded and anchored, once for
    the module; the chain is put back as it was afterwards."""
    w3 = connect(anvil.rpc_url)
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'constellate.db'}"
    upgrade(url)
    settings = base_settings.model_copy(
        update={
            "database_url": url,
            "admin_api_key": SecretStr(ADMIN_KEY),
            "key_encryption_key": SecretStr(generate_key_encryption_key()),
            "relay_interval_seconds": 0,
            "host": "127.0.0.1",
            "port": 0,
        }
    )
    server = ApiServer(settings)
    server.start()
    try:
        base_url = f"http://127.0.0.1:{server.port}"
        with Client(base_url, ADMIN_KEY) as admin:
            member_key, ids = _seed(admin)
        server.app.state.runtime.relay(flush=True)  # every event anchored: verification reaches the chain
        REAL_IDS.update(ids)
        yield Seeded(base_url, server, member_key)
    finally:
        REAL_IDS.clear()
        server.stop()
        w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]


@SCHEMA.parametrize()
def test_no_operation_answers_5xx_or_breaks_its_schema(case: schemathesis.Case, seeded: Seeded) -> None:
    seeded.fuzzed.add(case.operation.label)
    key = ADMIN_KEY if case.operation.label in OPERATOR_ONLY else seeded.member_key
    case.call_and_validate(base_url=seeded.base_url, headers={"Authorization": f"Bearer {key}"})


def test_every_operation_the_service_serves_is_fuzzed(seeded: Seeded) -> None:
    served = seeded.server.app.openapi()["paths"]
    operations = {f"{method.upper()} {path}" for path, item in served.items() for method in item}
    assert len(operations) > 50
    assert {result.ok().label for result in SCHEMA.get_all_operations()} == operations
    assert seeded.fuzzed == operations, "run after the fuzz test: this checks what it reached"


def _problem(response: httpx.Response, status: int, *named: str) -> Problem:
    """The answer is the declared Problem body with this status, its detail naming each of `named`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    problem = Problem.model_validate(response.json())
    assert problem.status == status and all(name in problem.detail for name in named), problem
    return problem


def test_input_the_operation_cannot_take_is_a_4xx_naming_the_problem(seeded: Seeded) -> None:
    with seeded.http() as member:
        # Were 500s: an empty slug reached the domain unchecked; a negative deadline the signer.
        _problem(member.post("/constellations/prepare", json={"slug": "", "name": ""}), 422, "body/slug", "body/name")
        _problem(member.post("/constellations", json={"slug": "tea", "name": "Tea", "deadline": -1}), 422, "deadline")
        # Was a 500: an import that is not UTF-8 (refused before the route: JSON bodies are UTF-8).
        _problem(member.post("/attestations/import", content=b"\xff\xfe"), 400, "JSON bodies are UTF-8")
        # Was 200 (read as Unix time 0.5): `since` is a date-time.
        _problem(member.get("/access-log", params={"since": "0.5"}), 400, "since")
        # Were 500s: an empty signature, and one that recovers no key (eth_keys' BadSignature).
        offer = member.post("/auth/siwe/nonce", json={"address": "0x" + "5e" * 20}).json()
        _problem(member.post("/auth/siwe", json={"message": offer["message"], "signature": ""}), 422, "65 bytes")
        zero = "0x" + "00" * 65
        _problem(member.post("/auth/siwe", json={"message": offer["message"], "signature": zero}), 401, "recover")
        grant = member.post("/grants", json={**GRANT, "purpose": "a grant to revoke"}).json()["id"]
        _problem(member.post(f"/grants/{grant}/revoke", json={"signature": zero}), 422, "does not recover")
        # Were FastAPI's own bodies, not the declared Problem: a body that is not JSON, a field
        # the request model refuses, a path nobody serves.
        garbled = member.post("/members/me/api-keys", content=b"\xff{", headers={"Content-Type": "application/json"})
        assert _problem(garbled, 400, "not valid JSON").error == "MalformedInput"
        assert _problem(member.get("/access-log", params={"limit": 0}), 422, "query/limit").error == "ValidationFailed"
        assert _problem(member.get("/nowhere"), 404, "/nowhere").error == "NotFound"


def test_a_method_the_path_does_not_take_is_refused_naming_every_method_it_does(seeded: Seeded) -> None:
    with seeded.http() as member:
        refused = member.request("OPTIONS", "/members/me/api-keys")  # two routes serve this path
        assert _problem(refused, 405, "Method Not Allowed").error == "MethodNotAllowed"
        assert refused.headers["allow"] == "GET, POST"  # Starlette named the first route's only: POST
        assert member.request("PATCH", "/constellations/prepare").headers["allow"] == "POST"


def test_the_schema_declares_what_the_service_answers() -> None:
    schema = create_app(Settings(database_url="sqlite://")).openapi()
    operations = {(m.upper(), path): op for path, item in schema["paths"].items() for m, op in item.items()}
    for (method, path), operation in operations.items():
        for status, answer in operation["responses"].items():
            if status.startswith(("4", "5")) and (method, path) != ("GET", "/ready"):
                # Every error is a Problem (FastAPI's own 422 body and schema are gone).
                assert answer["content"][PROBLEM_MEDIA_TYPE]["schema"] == {"$ref": "#/components/schemas/Problem"}
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert declared == {part[1:-1] for part in path.split("/") if part.startswith("{")}, (method, path)
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    # Public reads take a key but need none; writes need one.
    assert {} in operations["GET", "/epcis/events"]["security"]
    assert {} not in operations["POST", "/epcis/capture"]["security"]
    # The bodies and parameters routes read themselves are declared too.
    assert "requestBody" in operations["POST", "/epcis/capture"]
    assert "requestBody" in operations["POST", "/attestations/import"]
    assert {p["name"] for p in operations["GET", "/epcis/events"]["parameters"]} >= {"MATCH_epc", "perPage"}

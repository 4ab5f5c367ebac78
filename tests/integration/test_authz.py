"""Authorization across the whole API, on a real Anvil and both databases: every route the app
mounts is classified (public by design, a public read the policy engine decides, member,
coordinator or operator), so a new route cannot escape; every protected route refuses a missing,
malformed, unknown, revoked or rotated-away key with 401; another member's ids (BOLA) are refused
with 404 where existence must not leak and 403 where the caller may see the record but not act
on it, the record is unchanged afterwards and the refusal carries none of its data; the pages'
sign-in cookie dies with its key and never opens the API."""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from service.api import create_app
from service.settings import Settings

from . import journey
from .conftest import Api

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
"""The full matrix runs on SQLite; the 401 sweep over every route runs on PostgreSQL too."""

# --- every route, classified -------------------------------------------------------------------

PUBLIC = "public"
"""No credentials by design; the reason is the value."""
READER = "reader"
"""Anyone: without a key the reader is the public, and the policy engine decides what each
reader sees (a bad key is still a 401, never a silent downgrade to the public)."""
MEMBER = "member"
COORDINATOR = "coordinator"
ADMIN = "admin"

ROUTES: dict[tuple[str, str], tuple[str, str]] = {
    # public by design
    ("GET", "/health"): (PUBLIC, "liveness probe"),
    ("GET", "/ready"): (PUBLIC, "readiness probe: names dependencies, holds no data"),
    ("GET", "/metrics"): (PUBLIC, "aggregate Prometheus numbers, no identifiers"),
    ("GET", "/openapi.json"): (PUBLIC, "the API's own description"),
    ("GET", "/docs"): (PUBLIC, "the API's own description"),
    ("GET", "/docs/oauth2-redirect"): (PUBLIC, "the API's own description"),
    ("GET", "/redoc"): (PUBLIC, "the API's own description"),
    ("GET", "/docs/assets/{name}"): (PUBLIC, "the API docs' scripts and styles, from a pinned package"),
    ("POST", "/auth/siwe/nonce"): (PUBLIC, "sign-in, step one: a one-time nonce"),
    ("POST", "/auth/siwe"): (PUBLIC, "sign-in: the signature is the credential"),
    ("GET", "/verify/trust"): (PUBLIC, "what a verifier pins: chain facts anyone can read"),
    ("POST", "/verify/record"): (PUBLIC, "checks a view the caller already holds against the chain"),
    ("POST", "/verify/journey"): (PUBLIC, "checks a journey the caller already holds against the chain"),
    ("GET", "/products/{gtin}"): (PUBLIC, "master data, public as the pack is"),
    ("GET", "/places/{gln}"): (PUBLIC, "location master data, public as a signpost is"),
    ("GET", "/static/{name}"): (PUBLIC, "the journey page's own scripts (the phone check), public as the page is"),
    ("GET", "/company-prefixes"): (PUBLIC, "who brands which GTINs, public as GS1's GEPIR is"),
    ("GET", "/qr/{rest:path}"): (PUBLIC, "a QR code of a URL"),
    ("GET", "/label/{rest:path}"): (PUBLIC, "a printable label: the QR code and the product's public name"),
    ("GET", "/"): (PUBLIC, "the home page"),
    ("GET", "/login"): (PUBLIC, "the sign-in form"),
    ("POST", "/login"): (PUBLIC, "sign-in: the API key is the credential"),
    ("POST", "/logout"): (PUBLIC, "drops the caller's own cookie"),
    # public reads, decided by the policy engine
    ("GET", "/01/{link:path}"): (READER, "the journey page: what owners share with the reader"),
    ("GET", "/epcis/events"): (READER, "SimpleEventQuery"),
    ("GET", "/epcis/events/{event_id:path}"): (READER, "one event"),
    ("GET", "/verify/events/{event_id:path}"): (READER, "one event's verdict"),
    ("GET", "/verify/trace"): (READER, "a trace's verdicts"),
    ("GET", "/trace/upstream"): (READER, "a trace"),
    ("GET", "/trace/downstream"): (READER, "a trace"),
    ("GET", "/trace/custody"): (READER, "a trace"),
    ("GET", "/attestations"): (READER, "attestation search"),
    ("GET", "/attestations/{uid}"): (READER, "one attestation"),
    ("GET", "/attestations/{uid}/credential"): (READER, "an attestation as a credential"),
    ("GET", "/attestations/{uid}/footprint"): (READER, "an attestation as a PACT footprint"),
    ("GET", "/evidence/{sha256}"): (READER, "an attestation's evidence"),
    # the operator
    ("POST", "/members"): (ADMIN, "onboarding"),
    ("PUT", "/company-prefixes/{prefix}/holder"): (ADMIN, "settles who holds a company prefix"),
    # a coordinator of the constellation (or the operator)
    ("GET", "/constellations/{slug}/map"): (COORDINATOR, "health view"),
    ("GET", "/constellations/{slug}/map.svg"): (COORDINATOR, "health view"),
    ("GET", "/constellations/{slug}/metrics"): (COORDINATOR, "health view"),
    ("GET", "/constellations/{slug}/scorecards"): (COORDINATOR, "health view"),
    ("GET", "/constellations/{slug}/commitments"): (COORDINATOR, "health view"),
    ("GET", "/coordinator/{slug}"): (COORDINATOR, "health views as a page"),
    ("PUT", "/constellations/{slug}/members/{member_id}"): (COORDINATOR, "roles"),
    ("POST", "/constellations/{slug}/members/{member_id}/prepare"): (COORDINATOR, "roles, self-custody"),
    # members, on their own records
    ("GET", "/members/me"): (MEMBER, "the caller"),
    ("GET", "/members/{member_id}"): (MEMBER, "the member directory (to name grant audiences)"),
    ("POST", "/members/me/api-keys"): (MEMBER, "own keys"),
    ("GET", "/members/me/api-keys"): (MEMBER, "own keys"),
    ("DELETE", "/members/me/api-keys/{key_id}"): (MEMBER, "own keys"),
    ("POST", "/members/me/key/export"): (MEMBER, "own managed key"),
    ("POST", "/members/me/key/rotate"): (MEMBER, "own managed key"),
    ("POST", "/constellations/prepare"): (MEMBER, "a new constellation, self-custody"),
    ("POST", "/constellations"): (MEMBER, "a new constellation"),
    ("GET", "/constellations"): (MEMBER, "own memberships"),
    ("GET", "/constellations/{slug}"): (MEMBER, "a constellation's roster, for its members"),
    ("GET", "/attestation-schemas"): (MEMBER, "the schema catalogue"),
    ("GET", "/attestation-schemas/{name}"): (MEMBER, "the schema catalogue"),
    ("POST", "/attestation-schemas"): (MEMBER, "a custom schema"),
    ("POST", "/attestations/prepare"): (MEMBER, "own attestation, self-custody"),
    ("POST", "/attestations"): (MEMBER, "own attestation"),
    ("POST", "/attestations/import"): (MEMBER, "own attestations"),
    ("POST", "/attestations/{uid}/revoke/prepare"): (MEMBER, "the issuer's revocation"),
    ("POST", "/attestations/{uid}/revoke"): (MEMBER, "the issuer's revocation"),
    ("POST", "/epcis/capture/prepare"): (MEMBER, "own capture, self-custody"),
    ("POST", "/epcis/capture"): (MEMBER, "own capture"),
    ("GET", "/epcis/capture"): (MEMBER, "own capture jobs"),
    ("GET", "/epcis/capture/{capture_id}"): (MEMBER, "own capture job"),
    ("GET", "/epcis/capture/{capture_id}/signature"): (
        MEMBER,
        "own migrated capture, self-custody: what to sign again",
    ),
    ("PUT", "/epcis/capture/{capture_id}/signature"): (MEMBER, "own migrated capture, self-custody: its new signature"),
    ("POST", "/grants/prepare"): (MEMBER, "own grant, self-custody"),
    ("POST", "/grants"): (MEMBER, "own grant"),
    ("GET", "/grants"): (MEMBER, "own grants"),
    ("GET", "/grants/defaults"): (MEMBER, "a constellation's defaults, for its members"),
    ("GET", "/grants/preview"): (MEMBER, "what a reader would see of an own record"),
    ("GET", "/grants/{grant_id}"): (MEMBER, "own grant"),
    ("POST", "/grants/{grant_id}/revoke/prepare"): (MEMBER, "own grant's revocation"),
    ("POST", "/grants/{grant_id}/revoke"): (MEMBER, "own grant's revocation"),
    ("GET", "/access-log"): (MEMBER, "reads of own data"),
    ("PUT", "/products"): (MEMBER, "a GTIN the caller brands"),
    ("PUT", "/places/{gln}"): (MEMBER, "a place under the caller's company prefix (or the operator)"),
    ("POST", "/company-prefixes"): (MEMBER, "a claim to a company prefix"),
    ("POST", "/company-prefixes/{claim_id}/approve"): (MEMBER, "a coordinator of the claimant (or the operator)"),
    ("GET", "/recall/{rest:path}"): (MEMBER, "the recall report: members only, then the policy"),
}

SAMPLE_PARAMS = {
    "gtin": journey.GREEN,
    "link": f"{journey.GREEN}/10/NO-SUCH-LOT",
    "rest": f"01/{journey.GREEN}/10/NO-SUCH-LOT",
    "slug": "coffee",
    "member_id": str(uuid.UUID(int=1)),
    "key_id": "0123456789abcdef",
    "name": "certification",
    "uid": "0x" + "ab" * 32,
    "sha256": "cd" * 32,
    "capture_id": str(uuid.UUID(int=2)),
    "event_id": "0x" + "ef" * 32,
    "grant_id": "0x" + "12" * 32,
    "claim_id": "1",
    "prefix": "9506000",
    "gln": journey.gtin("950600000001"),
}


def mounted_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves, from the app itself (HEAD rides on GET)."""
    return {
        (method, str(route.path))
        for route in iter_route_contexts(app.routes)
        for method in route.methods or ()
        if method != "HEAD"
    }


def concrete(path: str) -> str:
    """A route's path with sample values for its parameters (an unknown parameter fails)."""
    return re.sub(r"{(\w+)(?::path)?}", lambda m: SAMPLE_PARAMS[m[1]], path)


def protected() -> list[tuple[str, str]]:
    return sorted(route for route, (kind, _) in ROUTES.items() if kind != PUBLIC)


def test_every_route_is_classified(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'routes.db'}", metrics_enabled=True))
    mounted = mounted_routes(app)
    assert mounted - ROUTES.keys() == set(), "classify each new route in ROUTES (public needs a reason)"
    assert ROUTES.keys() - mounted == set(), "ROUTES names a route the app no longer serves"
    for path in {path for _, path in ROUTES}:
        assert concrete(path)  # a sample for every parameter


# --- bad credentials: 401 everywhere -----------------------------------------------------------


@dataclass
class Keys:
    """A member's live key and the keys that must not work any more."""

    live: dict[str, str]
    refused: dict[str, dict[str, str]] = field(default_factory=dict)
    """Tried on every protected route."""
    odd: dict[str, dict[str, str]] = field(default_factory=dict)
    """Odder ways to get it wrong, tried on one route of each kind."""


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _token(headers: dict[str, str]) -> str:
    return headers["Authorization"].split(" ", 1)[1]


def _new_key(api: Api, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    created = api.client.post("/members/me/api-keys", json=fields, headers=headers)
    assert created.status_code == 201, created.text
    return dict(created.json())


def _revoke_key(api: Api, headers: dict[str, str], key_id: str) -> None:
    revoked = api.client.delete(f"/members/me/api-keys/{key_id}", headers=headers)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"], revoked.text


def dead_keys(api: Api, headers: dict[str, str]) -> Keys:
    """The member's keys that must fail: revoked through the API, rotated away (a new key made
    with the old one, then the old one revoked); and made-up ones."""
    keys = Keys(live=headers)
    revoked = _new_key(api, headers, label="to revoke")
    _revoke_key(api, headers, revoked["id"])
    keys.refused["revoked"] = _bearer(revoked["token"])
    old = _new_key(api, headers, label="rotated away")
    keys.live = _bearer(_new_key(api, _bearer(old["token"]), label="rotated in")["token"])
    _revoke_key(api, keys.live, old["id"])
    keys.refused["rotated away"] = _bearer(old["token"])
    key_id, secret = _token(headers).split("_", 2)[1:]
    keys.refused["unknown"] = _bearer(f"cst_{'0' * 16}_{secret}")
    keys.refused["malformed"] = _bearer("not-a-key")
    keys.odd = {
        "revoked, as X-API-Key": {"X-API-Key": revoked["token"]},
        "right id, wrong secret": _bearer(f"cst_{key_id}_{secret[::-1]}"),
        "empty Bearer": {"Authorization": "Bearer "},
        "empty X-API-Key": {"X-API-Key": ""},
        "another scheme": {"Authorization": f"Basic {_token(keys.live)}"},
        "the admin key's prefix": _bearer("admin-test-key"),
    }
    return keys


def _call(api: Api, method: str, path: str, headers: dict[str, str]) -> Any:
    """The route called with `headers` (and an empty JSON body if it takes one)."""
    if method == "GET":
        return api.client.get(path, headers=headers)
    return api.client.request(method, path, content=b"{}", headers={**headers, "Content-Type": "application/json"})


ODD_ONES = {
    ("GET", "/members/me"),
    ("POST", "/grants"),
    ("GET", "/epcis/events"),
    ("GET", "/01/{link:path}"),
    ("GET", "/coordinator/{slug}"),
    ("POST", "/members"),
}


def test_every_protected_route_refuses_missing_bad_revoked_and_rotated_keys(api: Api) -> None:
    _, headers = api.onboard("Farms Cooperative")
    keys = dead_keys(api, headers)
    assert api.client.get("/members/me", headers=keys.live).status_code == 200
    failures = []
    for method, path in protected():
        kind = ROUTES[(method, path)][0]
        url = concrete(path)
        anonymous = _call(api, method, url, {})
        if kind == READER:  # the public reads; never a 5xx
            if anonymous.status_code == 401 or anonymous.status_code >= 500:
                failures.append(f"{method} {path} anonymous: {anonymous.status_code}")
        elif anonymous.status_code != 401:
            failures.append(f"{method} {path} anonymous: {anonymous.status_code} {anonymous.text[:120]}")
        tried = {**keys.refused, **(keys.odd if (method, path) in ODD_ONES else {})}
        for name, refused in tried.items():
            response = _call(api, method, url, refused)
            if response.status_code != 401:
                failures.append(f"{method} {path} {name} key: {response.status_code} {response.text[:120]}")
            elif "application/problem+json" not in response.headers.get("content-type", ""):
                failures.append(f"{method} {path} {name} key: 401 without a problem document")
    assert not failures, "\n".join(failures)


@SQLITE_ONLY
def test_a_session_from_sign_in_with_ethereum_ends_with_its_key_and_a_rotated_away_wallet(api: Api) -> None:
    """SIWE gives an API key like any other: revoked, it is refused; a managed member that
    exported its key and then rotated it can no longer sign in with the old one."""
    member, headers = api.onboard("Roastery")
    exported = api.client.post("/members/me/key/export", headers=headers)
    assert exported.status_code == 200, exported.text
    old_key = exported.json()["private_key"]

    def sign_in(private_key: str) -> Any:
        address = Account.from_key(private_key).address
        offer = api.client.post("/auth/siwe/nonce", json={"address": address})
        assert offer.status_code == 200, offer.text
        message = offer.json()["message"]
        signature = "0x" + bytes(Account.sign_message(encode_defunct(text=message), private_key).signature).hex()
        return api.client.post("/auth/siwe", json={"message": message, "signature": signature})

    session = sign_in(old_key)
    assert session.status_code == 201, session.text
    siwe = _bearer(session.json()["token"])
    assert api.client.get("/members/me", headers=siwe).json()["id"] == member["id"]
    _revoke_key(api, headers, session.json()["id"])
    assert api.client.get("/members/me", headers=siwe).status_code == 401
    assert api.client.get("/epcis/events", headers=siwe).status_code == 401

    rotated = api.client.post("/members/me/key/rotate", headers=headers)
    assert rotated.status_code == 200, rotated.text
    refused = sign_in(old_key)
    assert refused.status_code == 401 and "no member holds" in refused.json()["detail"]
    assert "token" not in refused.text


# --- BOLA: other members' records --------------------------------------------------------------

SLUG = "coffee"
SECRET_REGION = "Sidama-secret-region"
SECRET_PURPOSE = "secret supply agreement"
EVIDENCE = b"farm audit: confidential findings"


@dataclass
class World:
    """A brand coordinates `coffee`; the farm (supplier) captures its lots, packs one, attests
    its origin with evidence, brands the green coffee and shares what it handles and its
    attestations with the brand only; a rival (retailer) in the same constellation and an
    outsider get nothing of the farm's. Nothing is shared by default."""

    api: Api
    brand: dict[str, Any]
    brand_h: dict[str, str]
    farm: dict[str, Any]
    farm_h: dict[str, str]
    rival: dict[str, Any]
    rival_h: dict[str, str]
    outsider: dict[str, Any]
    outsider_h: dict[str, str]
    capture_id: str = ""
    refs: list[str] = field(default_factory=list)
    attestation: str = ""
    evidence: str = ""
    grant: str = ""
    farm_key: str = ""

    def get(self, path: str, headers: dict[str, str], **params: Any) -> Any:
        return self.api.client.get(path, params=params, headers=headers)

    def events(self, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
        body = self.get("/epcis/events", headers, perPage="100", **params).json()
        return list(body["epcisBody"]["queryResults"]["resultsBody"]["eventList"])


def _capture(api: Api, headers: dict[str, str], events: list[dict[str, Any]]) -> dict[str, Any]:
    response = api.client.post(
        "/epcis/capture",
        content=json.dumps(journey.document(events)).encode(),
        headers={**headers, "Constellate-Constellation": SLUG, "Content-Type": "application/json"},
    )
    assert response.status_code == 202, response.text
    return dict(response.json())


def _pack() -> dict[str, Any]:
    return {
        "type": "AggregationEvent",
        "eventTime": "2026-04-10T08:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "ADD",
        "bizStep": "packing",
        "parentID": journey.SSCC,
        "childQuantityList": [{"epcClass": journey.LOT_1, "quantity": 600, "uom": "KGM"}],
        "bizLocation": {"id": journey.FARM_1},
    }


@pytest.fixture
def world(api: Api) -> World:
    brand, brand_h = api.onboard("Roaster Brand")
    farm, farm_h = api.onboard("Farms Cooperative")
    rival, rival_h = api.onboard("Rival Retail")
    outsider, outsider_h = api.onboard("Outsider")
    w = World(api, brand, brand_h, farm, farm_h, rival, rival_h, outsider, outsider_h)
    client = api.client
    assert client.post("/constellations", json={"slug": SLUG, "name": "Coffee"}, headers=brand_h).status_code == 201
    for member, roles in ((farm, ["supplier"]), (rival, ["retailer"])):
        response = client.put(f"/constellations/{SLUG}/members/{member['id']}", json={"roles": roles}, headers=brand_h)
        assert response.status_code == 200, response.text
    w.capture_id = _capture(api, farm_h, [*journey.origin_events(), _pack()])["captureID"]
    w.refs = [e["constellate:record"]["ref"] for e in w.events(farm_h)]
    made = client.post(
        "/attestations",
        json={
            "constellation": SLUG,
            "schema": "origin",
            "subject": {"kind": "item", "gtin": journey.GREEN, "lot": "FARM1-2026"},
            "body": {"country": "ET", "region": SECRET_REGION},
            "evidence": [
                {
                    "filename": "audit.txt",
                    "media_type": "text/plain",
                    "content_base64": base64.b64encode(EVIDENCE).decode(),
                }
            ],
        },
        headers=farm_h,
    )
    assert made.status_code == 201, made.text
    w.attestation, w.evidence = made.json()["uid"], made.json()["evidence"][0]["sha256"]
    w.grant = api.grant(
        farm_h,
        SLUG,
        ["what", "when", "attestations"],
        audience={"kind": "member", "member_id": brand["id"]},
        purpose=SECRET_PURPOSE,
    )["id"]
    api.own_prefix(farm_h, journey.GREEN)
    product = client.put("/products", json={"gtin": journey.GREEN, "name": "Green coffee"}, headers=farm_h)
    assert product.status_code == 200, product.text
    w.farm_key = client.get("/members/me/api-keys", headers=farm_h).json()[0]["id"]
    # What the strangers are refused, its owner (and the brand, as shared) gets.
    assert w.get(f"/attestations/{w.attestation}", brand_h).status_code == 200  # a read the farm's log shows
    assert w.get(f"/evidence/{w.evidence}", farm_h).content == EVIDENCE
    assert journey.SSCC in w.get(f"/recall/01/{journey.GREEN}/10/FARM1-2026.csv", farm_h).text
    assert w.get("/trace/downstream", farm_h, id=journey.LOT_1).json()["edges"]
    assert w.get(f"/epcis/capture/{w.capture_id}", farm_h).status_code == 200
    assert w.get(f"/epcis/events/{w.refs[0]}", brand_h).status_code == 200
    return w


def _refused(response: Any, status: int, *secrets: str) -> list[str]:
    """Problems with a refusal: another status, or a body carrying data the refusal withholds."""
    where = f"{response.request.method} {response.request.url.path}"
    problems = [] if response.status_code == status else [f"{where}: {response.status_code} {response.text[:160]}"]
    problems += [f"{where}: the refusal shows {s!r}" for s in secrets if s in response.text]
    return problems


@SQLITE_ONLY
def test_other_members_ids_are_refused_and_their_records_unchanged(world: World) -> None:
    w, client = world, world.api.client
    ref = w.refs[0]
    farm_secrets = (SECRET_REGION, SECRET_PURPOSE, EVIDENCE.decode(), journey.FARM_1, "Farms Cooperative")
    problems: list[str] = []
    strangers = {"rival": w.rival_h, "outsider": w.outsider_h, "public": {}}
    for name, headers in strangers.items():
        member = name != "public"
        # events: 404 by id, absent from queries and traces
        for path in (f"/epcis/events/{ref}", f"/verify/events/{ref}"):
            problems += _refused(w.get(path, headers), 404, *farm_secrets)
        if w.events(headers, MATCH_anyEPC=journey.LOT_1):
            problems.append(f"{name}: the event query shows the farm's events")
        for direction in ("upstream", "downstream"):
            trace = w.get(f"/trace/{direction}", headers, id=journey.LOT_1)
            if trace.status_code != 200 or trace.json()["edges"]:
                problems.append(f"{name}: trace {direction} crosses the farm's events: {trace.text[:160]}")
        custody = w.get("/trace/custody", headers, id=journey.LOT_1).json()
        if custody["steps"]:
            problems.append(f"{name}: custody shows the farm's steps")
        problems += _refused(w.get("/verify/trace", headers, id=journey.LOT_1), 404, *farm_secrets)
        # the journey page of the farm's lot: nothing known to this reader
        problems += _refused(w.get(f"/01/{journey.GREEN}/10/FARM1-2026", headers), 404, *farm_secrets)
        # attestations and their exports and evidence: 404, existence does not leak
        for path in ("", "/credential", "/footprint"):
            problems += _refused(w.get(f"/attestations/{w.attestation}{path}", headers), 404, *farm_secrets)
        problems += _refused(w.get(f"/evidence/{w.evidence}", headers), 404, *farm_secrets)
        if w.get("/attestations", headers, issuer=w.farm["id"]).json():
            problems.append(f"{name}: the attestation search shows the farm's")
        if not member:
            continue
        for path in (f"/attestations/{w.attestation}/revoke/prepare", f"/attestations/{w.attestation}/revoke"):
            problems += _refused(client.post(path, json={}, headers=headers), 404, *farm_secrets)
        # capture jobs
        problems += _refused(w.get(f"/epcis/capture/{w.capture_id}", headers), 404)
        if w.capture_id in w.get("/epcis/capture", headers).text:
            problems.append(f"{name}: lists the farm's capture job")
        # grants: the owner's alone, even for its audience
        problems += _refused(w.get(f"/grants/{w.grant}", headers), 404, SECRET_PURPOSE)
        for path in (f"/grants/{w.grant}/revoke/prepare", f"/grants/{w.grant}/revoke"):
            problems += _refused(client.post(path, json={}, headers=headers), 404, SECRET_PURPOSE)
        if w.grant in w.get("/grants", headers).text:
            problems.append(f"{name}: lists the farm's grant")
        for record in (ref, w.attestation):
            problems += _refused(w.get("/grants/preview", headers, reader="public", record=record), 404, *farm_secrets)
        # API keys
        problems += _refused(client.delete(f"/members/me/api-keys/{w.farm_key}", headers=headers), 404)
        if w.farm_key in w.get("/members/me/api-keys", headers).text:
            problems.append(f"{name}: lists the farm's API keys")
        # the access log of the farm's data
        for params in ({}, {"record": w.attestation}, {"record": ref}):
            log = w.get("/access-log", headers, **params)
            if log.status_code != 200 or w.attestation in log.text or ref in log.text:
                problems.append(f"{name}: the access log {params} shows the farm's records: {log.text[:160]}")
        # the constellation: administration and the roster are its coordinator's and members'
        for target in (w.rival, w.farm):
            for roles in (["coordinator"], []):
                problems += _refused(
                    client.put(
                        f"/constellations/{SLUG}/members/{target['id']}", json={"roles": roles}, headers=headers
                    ),
                    403,
                )
                problems += _refused(
                    client.post(
                        f"/constellations/{SLUG}/members/{target['id']}/prepare", json={"roles": roles}, headers=headers
                    ),
                    403,
                )
        for view in ("map", "map.svg", "metrics", "scorecards", "commitments"):
            problems += _refused(w.get(f"/constellations/{SLUG}/{view}", headers), 403, "Farms Cooperative")
        problems += _refused(w.get(f"/coordinator/{SLUG}", headers), 403, "Farms Cooperative")
        # the farm's product
        problems += _refused(
            client.put("/products", json={"gtin": journey.GREEN, "name": "Counterfeit"}, headers=headers), 403
        )
        # the recall report of the farm's lot: a page of nothing
        recall = w.get(f"/recall/01/{journey.GREEN}/10/FARM1-2026.csv", headers)
        if recall.status_code != 200 or journey.SSCC in recall.text or recall.text.count("\n") != 1:
            problems.append(f"{name}: the recall report shows the farm's items: {recall.text[:160]}")
        # writing into a constellation where it holds no such role
        wrong = _capture_refused(w.api, headers)
        problems += _refused(wrong, 403)
    # the outsider does not read the roster; members do
    problems += _refused(w.get(f"/constellations/{SLUG}", w.outsider_h), 404, "Farms Cooperative")
    problems += _refused(w.get("/grants/defaults", w.outsider_h, constellation=SLUG), 404)
    assert w.get(f"/constellations/{SLUG}", w.rival_h).status_code == 200

    # The brand may see the farm's attestation, not act on it (403, it knows it exists), nor on
    # the grant made for it (the grantor's record).
    problems += _refused(client.post(f"/attestations/{w.attestation}/revoke", json={}, headers=w.brand_h), 403)
    problems += _refused(client.post(f"/grants/{w.grant}/revoke", json={}, headers=w.brand_h), 404)
    problems += _refused(w.get(f"/grants/{w.grant}", w.brand_h), 404, SECRET_PURPOSE)
    # Only the operator onboards.
    for headers in (w.farm_h, w.brand_h):
        problems += _refused(client.post("/members", json={"name": "Sneaky"}, headers=headers), 403)
    assert not problems, "\n".join(problems)

    # Everything is as it was.
    farm = w.farm_h
    assert w.get(f"/attestations/{w.attestation}", farm).json()["status"] == "valid"
    assert w.get(f"/grants/{w.grant}", farm).json()["revoked_at"] is None
    assert w.get(f"/products/{journey.GREEN}", {}).json()["name"] == "Green coffee"
    assert w.get("/members/me", farm).status_code == 200  # its key was not revoked
    roster = {m["member"]["name"]: m["roles"] for m in w.get(f"/constellations/{SLUG}", w.brand_h).json()["members"]}
    assert roster["Farms Cooperative"] == ["supplier"] and roster["Rival Retail"] == ["retailer"]
    assert roster["Roaster Brand"] == ["coordinator"]
    log = w.get("/access-log", farm, record=w.attestation).json()
    readers = {e["reader"]["id"] for e in log}
    assert w.brand["id"] in readers and not readers & {w.rival["id"], w.outsider["id"]}  # refusals read nothing
    assert len(w.events(farm)) == 5


def _capture_refused(api: Api, headers: dict[str, str]) -> Any:
    """A commissioning event in `coffee` by a member that is no producer there."""
    event = journey.origin_events()[0]
    return api.client.post(
        "/epcis/capture",
        content=json.dumps(journey.document([event])).encode(),
        headers={**headers, "Constellate-Constellation": SLUG, "Content-Type": "application/json"},
    )


# --- the pages' sign-in cookie -----------------------------------------------------------------


def _cookie(token: str) -> dict[str, str]:
    return {"Cookie": f"constellate_key={quote(token)}"}


@pytest.fixture
def signed_in(api: Api) -> Iterator[tuple[Api, dict[str, Any], dict[str, str], str]]:
    """A coordinator that signed in to the pages: its key, as the cookie the form set."""
    member, headers = api.onboard("Roaster Brand")
    assert api.client.post("/constellations", json={"slug": SLUG, "name": "Coffee"}, headers=headers).status_code == 201
    key = _new_key(api, headers, label="browser")
    login = api.sign_in_form(key["token"], f"/coordinator/{SLUG}")
    assert login.status_code == 303 and login.headers["location"] == f"/coordinator/{SLUG}", login.text
    cookie = login.cookies["constellate_key"]
    flags = login.headers["set-cookie"].lower()
    assert "httponly" in flags and "samesite=strict" in flags
    api.client.cookies.clear()  # each request below names its cookie
    yield api, member, headers, cookie
    api.client.cookies.clear()


@SQLITE_ONLY
def test_the_page_cookie_dies_with_its_key_is_never_forged_and_never_opens_the_api(
    signed_in: tuple[Api, dict[str, Any], dict[str, str], str],
) -> None:
    api, member, headers, cookie = signed_in
    html = {"Accept": "text/html"}
    page = api.client.get(f"/coordinator/{SLUG}", headers={**html, **_cookie(cookie)})
    assert page.status_code == 200 and "Signed in as" in page.text
    # The API never reads the cookie: no credentials there.
    for method, path in (("GET", "/members/me"), ("GET", "/grants"), ("POST", "/grants"), ("GET", "/access-log")):
        response = api.client.request(method, path, headers=_cookie(cookie), json={} if method == "POST" else None)
        assert response.status_code == 401, (method, path, response.text)
    # A forged or stale cookie reads as the public: sign in again, never a member's page.
    key_id = cookie.split("_", 2)[1]
    forged = {"made up": "cst_0000000000000000_x", "malformed": "<script>", "another secret": f"cst_{key_id}_forged"}
    for name, value in forged.items():
        for path in (f"/coordinator/{SLUG}", f"/recall/01/{journey.GREEN}/10/L1"):
            response = api.client.get(path, headers={**html, **_cookie(value)}, follow_redirects=False)
            assert response.status_code == 303 and response.headers["location"].startswith("/login"), (name, path)
        home = api.client.get("/", headers={**html, **_cookie(value)})
        assert home.status_code == 200 and "Signed in as" not in home.text, name
    # Sent to sign in first, a lot holding an encoded `&` and `/` comes back as it was and adds
    # no parameter of its own (no `next=//elsewhere`).
    lot = f"/recall/01/{journey.GREEN}/10/A%26next%3D%2F%2Fe"
    sent = api.client.get(lot, headers=html, follow_redirects=False)
    assert sent.status_code == 303 and parse_qs(urlsplit(sent.headers["location"]).query) == {"next": [lot]}
    back = api.sign_in_form(cookie, lot)
    assert back.status_code == 303 and back.headers["location"] == lot
    assert api.client.get(lot, headers={**html, **_cookie(cookie)}).status_code == 200
    api.client.cookies.clear()
    # Its key revoked, the session ends on the next request.
    _revoke_key(api, headers, key_id)
    gone = api.client.get(f"/coordinator/{SLUG}", headers={**html, **_cookie(cookie)}, follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"] == f"/login?next=/coordinator/{SLUG}"
    home = api.client.get("/", headers={**html, **_cookie(cookie)})
    assert "Signed in as" not in home.text and member["name"] not in home.text
    again = api.sign_in_form(cookie)
    assert again.status_code == 401 and "set-cookie" not in again.headers
    # The same revoked key sent as a header is refused outright on the pages too.
    assert api.client.get(f"/coordinator/{SLUG}", headers=_bearer(cookie)).status_code == 401
    assert api.client.get(f"/01/{journey.GREEN}", headers=_bearer(cookie)).status_code == 401


# --- the pages' forms: no cross-site sign-in or sign-out ---------------------------------------

FORM = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}


def _form_token(api: Api) -> str:
    page = api.client.get("/login", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "constellate_csrf=" in page.headers["set-cookie"]
    return page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]


@pytest.mark.parametrize(
    ("headers", "with_token", "problem"),
    [
        ({"Origin": "http://evil.example"}, True, "a page of http://evil.example cannot post"),
        ({"Origin": "http://testserver:8001"}, True, "a page of http://testserver:8001 cannot post"),
        ({"Origin": "null"}, True, "names Origin 'null'"),
        ({"Referer": "http://evil.example/win"}, True, "a page of http://evil.example cannot post"),
        ({}, True, "names no Origin or Referer"),
        ({"Origin": "http://testserver"}, False, "token is missing or out of date"),
    ],
    ids=["other host", "other port", "opaque origin", "other referer", "no origin", "no token"],
)
def test_the_sign_in_form_takes_posts_only_from_this_site_with_its_token(
    api: Api, headers: dict[str, str], with_token: bool, problem: str
) -> None:
    """Login CSRF: a page elsewhere posting its own key signed the visitor in as the attacker."""
    _, member = api.onboard("Attacker Ltd")
    attacker_key = member["Authorization"].split(" ", 1)[1]
    token = _form_token(api)
    body = {"api_key": attacker_key, "next": "/", **({"csrf": token} if with_token else {})}
    refused = api.client.post("/login", content=urlencode(body), headers={**FORM, **headers}, follow_redirects=False)
    assert refused.status_code == 403 and problem in refused.json()["detail"], refused.text
    assert "constellate_key" not in refused.headers.get("set-cookie", "")


def test_the_sign_in_form_works_from_this_site_and_the_configured_public_origin(api: Api) -> None:
    _, member = api.onboard("Roaster Brand")
    key = member["Authorization"].split(" ", 1)[1]
    for headers in (
        {"Origin": "http://testserver"},
        {"Origin": "http://127.0.0.1:8000"},
        {"Referer": "http://testserver/login"},
    ):
        body = {"api_key": key, "next": "/", "csrf": _form_token(api)}
        signed_in = api.client.post(
            "/login", content=urlencode(body), headers={**FORM, **headers}, follow_redirects=False
        )
        assert signed_in.status_code == 303, (headers, signed_in.text)
        assert "constellate_key=" in signed_in.headers["set-cookie"]
        api.client.cookies.clear()
    stale = {"api_key": key, "csrf": _form_token(api)}
    api.client.post("/login", content=urlencode(stale), headers={**FORM, "Origin": "http://testserver"})
    again = api.client.post("/login", content=urlencode(stale), headers={**FORM, "Origin": "http://testserver"})
    assert again.status_code == 403, "a token seen before sign-in is replaced by it"
    api.client.cookies.clear()


def test_sign_out_needs_a_form_of_this_site_with_its_token(api: Api) -> None:
    """Forced logout: any page could post to /logout and drop the visitor's session."""
    _, member = api.onboard("Roaster Brand")
    assert api.sign_in_form(member["Authorization"].split(" ", 1)[1]).status_code == 303
    home = api.client.get("/", headers={"Accept": "text/html"})
    assert "Signed in as" in home.text
    token = home.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    for headers, body in (
        ({"Origin": "http://evil.example"}, {"csrf": token}),
        ({"Origin": "http://testserver"}, {}),
        ({"Origin": "http://testserver"}, {"csrf": "x" * 43}),
    ):
        refused = api.client.post(
            "/logout", content=urlencode(body), headers={**FORM, **headers}, follow_redirects=False
        )
        assert refused.status_code == 403 and "set-cookie" not in refused.headers, refused.text
    assert "Signed in as" in api.client.get("/", headers={"Accept": "text/html"}).text
    out = api.client.post(
        "/logout",
        content=urlencode({"csrf": token}),
        headers={**FORM, "Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert out.status_code == 303 and 'constellate_key=""' in out.headers["set-cookie"]
    assert "Signed in as" not in api.client.get("/", headers={"Accept": "text/html"}).text
    api.client.cookies.clear()

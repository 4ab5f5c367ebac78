"""Deep JSON against `constellate serve` as a process of its own: nesting is bounded before any
parser recurses, on every route, with or without a key; a body too deep is a 400 naming the
limit, the connection it came on keeps serving, and the process lives. A body at the limit is
taken whole, stored and read back on both databases."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.api import create_app
from service.db.migrate import upgrade
from service.json_bounds import MAX_JSON_DEPTH, MAX_STORED_JSON_DEPTH, RECURSION_LIMIT, json_depth
from service.settings import Settings

from . import journey, test_faults
from .conftest import Api
from .test_faults import ADMIN, Service, _coffee

service_env = test_faults.service_env  # the environment of a served process on the session's chain

LIMIT_NAMED = f"the limit is {MAX_JSON_DEPTH} levels"


def nested(depth: int, leaf: Any = 1) -> Any:
    """`depth` arrays, one inside the other."""
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def at_the_limit(wrap: Callable[[Any], Any]) -> Any:
    """`wrap` around as many arrays as make the whole nest exactly MAX_JSON_DEPTH deep."""
    around = json_depth(json.dumps(wrap(1)).encode())
    return nested(MAX_JSON_DEPTH - around)


def _local_port(response: httpx.Response) -> int:
    """The client side's port of the connection the response came on."""
    return int(response.extensions["network_stream"].get_extra_info("client_addr")[1])


def _schema_with(value: Any) -> dict[str, Any]:
    return {"name": "deep-one", "title": "Deep", "json_schema": {"type": "object", "examples": [value]}}


def _capture_with(value: Any) -> bytes:
    return json.dumps(_document_with(value)).encode()


def _document_with(value: Any) -> dict[str, Any]:
    event = {
        "type": "ObjectEvent",
        "eventTime": "2026-03-01T08:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "ADD",
        "bizStep": "commissioning",
        "quantityList": [{"epcClass": journey.lot(journey.GREEN, "DEEP-1"), "quantity": 1, "uom": "KGM"}],
        "bizLocation": {"id": journey.FARM_1},
        "example:deep": value,
    }
    document = journey.document([event])
    document["@context"] = [*document["@context"], {"example": "https://example.org/"}]
    return document


def test_the_recursion_limit_is_python_s_own_once_the_app_is_made(settings: Settings) -> None:
    """py_ecc raises it to 100,000 at import (a C parser then recurses until the thread's stack
    overflows); the service sets it back once, wherever the import happens first."""
    from py_ecc import bls  # noqa: F401  (the submodules load late; none raises it again)

    create_app(settings)
    assert sys.getrecursionlimit() == RECURSION_LIMIT


def test_a_hundred_thousand_nested_arrays_without_a_key_are_a_400_and_the_service_lives(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    """The issue's crash: 200 KB of brackets to POST /members (no key) killed the process."""
    body = b"[" * 100_000 + b"]" * 100_000
    env = {**service_env, "CONSTELLATE_DATABASE_URL": f"sqlite:///{tmp_path / 'deep.db'}"}
    service = Service(env, tmp_path / "serve.log").start()
    try:
        with service.client() as client:
            for path in ("/members", "/auth/siwe/verify", "/epcis/capture", "/verify/record"):
                refused = client.post(path, content=body, headers={"Content-Type": "application/json"})
                assert refused.status_code == 400, (path, refused.text)
                assert refused.json()["error"] == "JsonTooDeep" and LIMIT_NAMED in refused.json()["detail"]
            text_plain = client.post("/members", content=body, headers={"Content-Type": "text/plain"})
            assert text_plain.status_code == 400  # whatever it claims to be
            assert client.get("/health").status_code == 200
        assert service.process is not None and service.process.poll() is None
    finally:
        service.stop()


def test_json_too_deep_to_store_is_a_400_and_the_connection_keeps_serving(
    service_env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    """~300 levels (under the parser's reach, past the storage serializer's) gave a 500 on three
    routes of a signed-in member, and reset the next request on the same connection."""
    service = Service({**service_env, "CONSTELLATE_DATABASE_URL": database_url}, tmp_path / "serve.log").start()
    try:
        with service.client() as client:
            farm = _coffee(client)
            open_schema = {"name": "open-notes", "title": "Notes", "json_schema": {"type": "object"}}
            assert client.post("/attestation-schemas", json=open_schema, headers=farm).status_code == 201
            deep = nested(300)
            attestation = {
                "schema": "open-notes",
                "constellation": "coffee",
                "subject": {"kind": "item", "gtin": journey.GREEN},
                "body": {"notes": deep},
            }
            ports: set[int] = set()

            def post(path: str, **request: Any) -> httpx.Response:
                answer = client.post(path, **request)
                ports.add(_local_port(answer))
                return answer

            answers = [
                post("/attestation-schemas", json=_schema_with(deep), headers=farm),
                post("/attestations", json=attestation, headers=farm),
                post(
                    "/epcis/capture",
                    content=_capture_with(deep),
                    headers={**farm, "Content-Type": "application/json", "Constellate-Constellation": "coffee"},
                ),
            ]
            after = client.get("/health")
            ports.add(_local_port(after))
        for answer in answers:
            assert answer.status_code == 400, (answer.request.url.path, answer.text)
            assert LIMIT_NAMED in answer.json()["detail"]
        assert after.status_code == 200
        assert len(ports) == 1, "each answer must keep the connection open"
    finally:
        service.stop()


def test_json_at_the_limit_is_stored_and_read_back(
    service_env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    """The bound leaves room below it: a schema and an event nesting to the limit itself are
    taken, stored and read back (the parsers, validators and serializers all reach it)."""
    service = Service({**service_env, "CONSTELLATE_DATABASE_URL": database_url}, tmp_path / "serve.log").start()
    try:
        with service.client() as client:
            farm = _coffee(client)
            schema = _schema_with(at_the_limit(_schema_with))
            registered = client.post("/attestation-schemas", json=schema, headers=farm)
            assert registered.status_code == 201, registered.text
            read = client.get("/attestation-schemas/deep-one", headers=farm)
            assert read.json()["json_schema"] == schema["json_schema"]

            deep = at_the_limit(_document_with)
            captured = client.post(
                "/epcis/capture",
                content=_capture_with(deep),
                headers={**farm, "Content-Type": "application/json", "Constellate-Constellation": "coffee"},
            )
            assert captured.status_code == 202, captured.text
            events = client.get("/epcis/events", headers=farm).json()["epcisBody"]["queryResults"]["resultsBody"]
            assert events["eventList"][0]["example:deep"] == deep
    finally:
        service.stop()


def test_a_json_column_too_deep_is_neither_written_nor_read(database_url: str) -> None:
    """The storage side of the bound, whatever writes it: a domain error on write, not
    SQLAlchemy's wrapped TypeError; an error naming the limit on read."""
    from sqlalchemy import JSON, Column, Integer, MetaData, Table, insert, select, text

    from service.db.session import make_engine
    from service.json_bounds import JsonTooDeep

    engine = make_engine(database_url)
    table = Table("deep_values", MetaData(), Column("id", Integer, primary_key=True), Column("value", JSON))
    table.metadata.create_all(engine)
    try:
        with pytest.raises(JsonTooDeep, match=f"the limit is {MAX_STORED_JSON_DEPTH}"), engine.begin() as connection:
            connection.execute(insert(table).values(value=nested(MAX_STORED_JSON_DEPTH + 1)))
        with engine.begin() as connection:
            connection.execute(insert(table).values(value=nested(MAX_STORED_JSON_DEPTH)))
            deep = "[" * 300 + "]" * 300
            cast = "CAST(:v AS JSON)" if engine.dialect.name == "postgresql" else ":v"
            connection.execute(text(f"INSERT INTO deep_values (value) VALUES ({cast})"), {"v": deep})
        with engine.connect() as connection:
            first = connection.scalar(select(table.c.value).order_by(table.c.id).limit(1))
            assert first == nested(MAX_STORED_JSON_DEPTH)
            with pytest.raises(Exception, match=f"the limit is {MAX_STORED_JSON_DEPTH}"):
                connection.scalar(select(table.c.value).order_by(table.c.id.desc()).limit(1))
    finally:
        table.metadata.drop_all(engine)
        engine.dispose()


def _served(service_env: dict[str, str], tmp_path: Path) -> Service:
    """A served process on a migrated SQLite database (the refusals come before any database)."""
    url = f"sqlite:///{tmp_path / 'bounds.db'}"
    upgrade(url)
    return Service({**service_env, "CONSTELLATE_DATABASE_URL": url}, tmp_path / "serve.log").start()


def test_a_body_is_scanned_whatever_its_content_type_says(service_env: dict[str, str], tmp_path: Path) -> None:
    """Form bodies were let through unread, but capture and the import parse any body as JSON:
    a capture typed multipart/form-data with an extension 900 arrays deep gave a 500."""
    service = _served(service_env, tmp_path)
    try:
        with service.client() as client:
            farm = _coffee(client)
            deep = _capture_with(nested(900))
            for content_type in ("multipart/form-data; boundary=x", "application/x-www-form-urlencoded"):
                for path in ("/epcis/capture", "/attestations/import"):
                    headers = {**farm, "Content-Type": content_type, "Constellate-Constellation": "coffee"}
                    refused = client.post(path, content=deep, headers=headers)
                    assert refused.status_code == 400, (path, content_type, refused.text)
                    assert refused.json()["error"] == "JsonTooDeep" and LIMIT_NAMED in refused.json()["detail"]
            assert client.get("/health").status_code == 200
        assert service.process is not None and service.process.poll() is None
    finally:
        service.stop()


def test_a_request_with_two_content_types_is_refused(service_env: dict[str, str], tmp_path: Path) -> None:
    """The bound read the last Content-Type (a form: let through) while the route read the first
    (JSON): one request, two readings. Such a request is a 400 whatever its body."""
    service = _served(service_env, tmp_path)
    try:
        with service.client() as client:
            body = json.dumps({"name": nested(900)}).encode()
            for types in (("application/json", "multipart/form-data; boundary=x"), ("application/json",) * 2):
                headers = [("Content-Type", content_type) for content_type in types]
                refused = client.post("/members", content=body, headers=headers)
                assert refused.status_code == 400, refused.text
                assert "one Content-Type; this one has 2" in refused.json()["detail"]
            assert client.post("/members", content=b"{}", headers=ADMIN).status_code == 422  # one is fine
    finally:
        service.stop()


def test_a_json_body_that_is_not_utf8_is_refused(service_env: dict[str, str], tmp_path: Path) -> None:
    """Python's parser decodes UTF-16 and UTF-32 bodies the byte scan cannot follow (an escaped
    quote hid 900 levels of nesting in what the scan took for a string): JSON bodies are UTF-8."""
    service = _served(service_env, tmp_path)
    hidden = '{"name": "\\"", "x": ' + json.dumps(nested(900)) + "}"
    try:
        with service.client() as client:
            bodies = {
                "UTF-16 hiding nesting": hidden.encode("utf-16"),
                "UTF-16 without a mark": json.dumps({"name": "Sixteen"}).encode("utf-16-le"),
                "UTF-32": json.dumps({"name": "Thirty-two"}).encode("utf-32"),
                "UTF-8 with a mark": b"\xef\xbb\xbf" + json.dumps({"name": "Marked"}).encode(),
            }
            for case, body in bodies.items():
                refused = client.post("/members", content=body, headers={**ADMIN, "Content-Type": "application/json"})
                assert refused.status_code == 400, (case, refused.text)
                assert "JSON bodies are UTF-8" in refused.json()["detail"], case
            utf8 = json.dumps({"name": "Eight ü"}).encode()
            assert (
                client.post("/members", content=utf8, headers={**ADMIN, "Content-Type": "application/json"}).status_code
                == 201
            )
    finally:
        service.stop()


def test_values_orjson_cannot_store_are_a_400_and_the_connection_keeps_serving(
    service_env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    """Python's parser takes an integer of any size; the storage serializer stops at 64 bits. An
    attestation body or a schema holding a larger one gave a 500 and reset the keep-alive
    connection."""
    service = Service({**service_env, "CONSTELLATE_DATABASE_URL": database_url}, tmp_path / "serve.log").start()
    try:
        with service.client() as client:
            farm = _coffee(client)
            open_schema = {"name": "open-notes", "title": "Notes", "json_schema": {"type": "object"}}
            assert client.post("/attestation-schemas", json=open_schema, headers=farm).status_code == 201

            def attestation(body: str) -> bytes:
                subject = {"kind": "item", "gtin": journey.GREEN}
                head = json.dumps({"schema": "open-notes", "constellation": "coffee", "subject": subject})
                return (head[:-1] + f', "body": {body}}}').encode()

            huge = str(2**64)
            requests = {
                # committed values are RFC 8785 canonical JSON: an integer past 2^53 has no portable form
                "integer": ("/attestations", attestation('{"x": ' + huge + "}"), "2^53"),
                "negative": ("/attestations", attestation('{"x": -' + huge + "}"), "2^53"),
                "past 2^53": ("/attestations", attestation('{"x": ' + str(2**53 + 1) + "}"), "2^53"),
                "schema": (
                    "/attestation-schemas",
                    b'{"name": "huge", "title": "Huge", "json_schema": {"type": "object", "maximum": '
                    + huge.encode()
                    + b"}}",
                    "2^53",
                ),
            }
            ports: set[int] = set()
            for case, (path, body, problem) in requests.items():
                refused = client.post(path, content=body, headers={**farm, "Content-Type": "application/json"})
                ports.add(_local_port(refused))
                assert refused.status_code == 400, (case, refused.text)
                assert problem in refused.json()["detail"], (case, refused.text)
            after = client.get("/health")
            ports.add(_local_port(after))
            assert after.status_code == 200
            assert len(ports) == 1, "each answer must keep the connection open"
    finally:
        service.stop()


@pytest.mark.parametrize("number", ["1e999", "-1e400", "NaN", "Infinity", "-Infinity"])
def test_a_number_json_has_no_form_for_is_refused_before_any_route(api: Api, number: str) -> None:
    """Python's parser reads 1e999 as infinity and takes NaN and Infinity literals: an
    attestation with {"x": 1e999} was stored (201) with a data hash over Infinity while the
    database kept null, so it could never verify. Bodies are strict RFC 8259 JSON."""
    _, brand = api.onboard("Numbers Brand")
    assert api.client.post("/constellations", json={"slug": "num", "name": "Num"}, headers=brand).status_code == 201
    schema = {"name": "open-numbers", "title": "Numbers", "json_schema": {"type": "object"}}
    assert api.client.post("/attestation-schemas", json=schema, headers=brand).status_code == 201
    member_id = api.client.get("/members/me", headers=brand).json()["id"]
    head = {"schema": "open-numbers", "constellation": "num", "subject": {"kind": "member", "member_id": member_id}}

    def attestation(x: str) -> bytes:
        return (json.dumps(head)[:-1] + f', "body": {{"x": {x}}}}}').encode()

    for content_type in ("application/json", "application/merge-patch+json", None):
        headers = {**brand, **({"Content-Type": content_type} if content_type else {})}
        refused = api.client.post("/attestations", content=attestation(number), headers=headers)
        assert refused.status_code == 400, (content_type, refused.text)
        assert "not valid JSON (RFC 8259" in refused.json()["detail"], refused.text
    for import_type in ("application/json", "application/x-ndjson"):
        body = attestation(number) if import_type.endswith("ndjson") else b"[" + attestation(number) + b"]"
        refused = api.client.post("/attestations/import", content=body, headers={**brand, "Content-Type": import_type})
        detail = refused.json()["detail"]
        assert refused.status_code in (400, 422), (import_type, refused.text)
        assert "not valid JSON" in detail or "line 1 is not JSON" in detail, (import_type, detail)
    finite = attestation("1e308")
    accepted = api.client.post("/attestations", content=finite, headers={**brand, "Content-Type": "application/json"})
    assert accepted.status_code in (201, 202), accepted.text


def test_canonical_json_has_no_form_for_nan_or_infinity() -> None:
    """The commitments' byte format refuses what JSON cannot say (a defence behind the body
    check: json.dumps writes Infinity by default)."""
    from service.domain.commitments import canonical_json
    from service.errors import MalformedInput

    for value in (float("inf"), float("-inf"), float("nan")):
        with pytest.raises(MalformedInput, match="NaN and Infinity have no JSON form"):
            canonical_json({"x": value})


def test_a_body_past_its_route_s_small_limit_is_a_413_and_a_bulk_document_is_taken(
    service_env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    """Every route took bodies up to the capture limit (32 MB), read and scanned on the event
    loop before any key was checked: about 1.6 s of a stalled loop per unauthenticated request.
    Every route but the bulk ones now takes 1 MiB; a bulk document is still taken whole."""
    service = Service({**service_env, "CONSTELLATE_DATABASE_URL": database_url}, tmp_path / "serve.log").start()
    two_mib = json.dumps({"name": "x" * (2 * 1024 * 1024)}).encode()
    named = "the limit of POST /members is 1048576 (CONSTELLATE_REQUEST_MAX_BYTES)"
    try:
        with service.client() as client:
            declared = client.post("/members", content=two_mib, headers={"Content-Type": "application/json"})
            assert declared.status_code == 413 and named in declared.json()["detail"], declared.text

            def chunks() -> Any:
                yield from (two_mib[start : start + 65536] for start in range(0, len(two_mib), 65536))

            streamed = client.post("/members", content=chunks(), headers={"Content-Type": "application/json"})
            assert streamed.status_code == 413 and named in streamed.json()["detail"], streamed.text
            farm = _coffee(client)
            document = _capture_with("x" * (2 * 1024 * 1024))
            captured = client.post(
                "/epcis/capture",
                content=document,
                headers={**farm, "Content-Type": "application/json", "Constellate-Constellation": "coffee"},
            )
            assert len(document) > 2 * 1024 * 1024 and captured.status_code == 202, captured.text
            assert client.get("/health").status_code == 200
    finally:
        service.stop()


def test_a_nul_character_in_a_json_string_is_refused_before_any_route(api: Api) -> None:
    """PostgreSQL stores U+0000 neither in text nor in jsonb: a member name, a product name or an
    attestation body holding one was a 500 there and a stored value on SQLite."""
    refused = api.client.post("/members", content=b'{"name": "Nul\\u0000Farm"}')
    assert refused.status_code == 400 and "U+0000" in refused.json()["detail"], refused.text
    _, brand = api.onboard("Nul Brand")
    product = b'{"gtin": "' + journey.ROASTED.encode() + b'", "name": "Beans\\u0000"}'
    refused = api.client.put("/products", content=product, headers={**brand, "Content-Type": "application/json"})
    assert refused.status_code == 400 and "U+0000" in refused.json()["detail"], refused.text
    literal = b'{"name": "Back\\\\u0000slash"}'  # a backslash, then "u0000": no NUL
    stored = api.client.post("/members", content=literal, headers={**api.admin, "Content-Type": "application/json"})
    assert stored.status_code == 201 and stored.json()["member"]["name"] == "Back\\u0000slash", stored.text

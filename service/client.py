"""A small HTTP client of the Constellate API, for the command line and the demo seed: one
place that knows the routes' shapes, authenticates with an API key and turns error answers
into `ApiError` naming the problem the service named."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

import httpx

JsonObject = dict[str, Any]


class ApiError(Exception):
    """The service refused a request: its status, error name and detail."""

    def __init__(self, status: int, error: str, detail: str, method: str, path: str) -> None:
        super().__init__(f"{method} {path} answered {status} {error}: {detail}")
        self.status, self.error, self.detail = status, error, detail


class Client:
    """The API as one member (or the operator) sees it. `http` may be any httpx.Client — a
    TestClient in tests; otherwise one is opened on `base_url`."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        api_key: str | None = None,
        *,
        http: httpx.Client | None = None,
        timeout: float = 120.0,
    ) -> None:
        self.http = http or httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)
        self.api_key = api_key

    def as_member(self, api_key: str) -> Client:
        """The same connection, another key."""
        return Client(api_key=api_key, http=self.http)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        missing_ok: bool = False,
    ) -> Any:
        """The decoded JSON answer; None for a 404 when `missing_ok`; ApiError otherwise."""
        if content is not None:
            headers = {"Content-Type": "application/json", **(headers or {})}
        response = self.http.request(
            method, path, json=json_body, content=content, params=dict(params or {}), headers=self._headers(headers)
        )
        if response.status_code == 404 and missing_ok:
            return None
        if response.status_code >= 400:
            raise _error(response, method, path)
        if not response.content:
            return None
        return response.json()

    def response(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """The whole answer (its headers, a CSV body); ApiError unless it succeeded."""
        answer = self.http.request(method, path, params=dict(params or {}), headers=self._headers(headers))
        if answer.status_code >= 400:
            raise _error(answer, method, path)
        return answer

    def _headers(self, headers: Mapping[str, str] | None) -> dict[str, str]:
        sent = dict(headers or {})
        if self.api_key is not None:
            sent["Authorization"] = f"Bearer {self.api_key}"
        return sent

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, json_body=body)

    def put(self, path: str, body: Any) -> Any:
        return self.request("PUT", path, json_body=body)

    # Members and constellations -------------------------------------------------------

    def onboard(self, name: str, **fields: Any) -> tuple[JsonObject, str]:
        """Onboards a member (operator key): the member and its first API key."""
        created = self.post("/members", {"name": name, **_given(fields)})
        return created["member"], created["api_key"]["token"]

    def me(self) -> JsonObject:
        return dict(self.get("/members/me"))

    def constellation(self, slug: str) -> JsonObject | None:
        found = self.request("GET", f"/constellations/{slug}", missing_ok=True)
        return dict(found) if found is not None else None

    def create_constellation(self, slug: str, name: str) -> JsonObject:
        return dict(self.post("/constellations", {"slug": slug, "name": name}))

    def set_roles(self, slug: str, member_id: str, roles: list[str]) -> JsonObject:
        return dict(self.put(f"/constellations/{slug}/members/{member_id}", {"roles": roles}))

    # Events, attestations, grants -------------------------------------------------------

    def capture(self, slug: str, document: Any) -> JsonObject:
        """Captures an EPCIS document (all or nothing): the finished capture job."""
        return dict(
            self.request(
                "POST",
                "/epcis/capture",
                content=json.dumps(document).encode(),
                headers={"Constellate-Constellation": slug},
            )
        )

    def attest(self, slug: str, schema: str, subject: JsonObject, body: JsonObject, **fields: Any) -> JsonObject:
        request = {"constellation": slug, "schema": schema, "subject": subject, "body": body, **_given(fields)}
        return dict(self.post("/attestations", request))

    def revoke_attestation(self, uid: str) -> JsonObject:
        return dict(self.post(f"/attestations/{uid}/revoke", {}))

    def grant(self, slug: str, categories: list[str], audience: JsonObject, purpose: str, **fields: Any) -> JsonObject:
        request = {
            "constellation": slug,
            "categories": categories,
            "audience": audience,
            "purpose": purpose,
            **_given(fields),
        }
        return dict(self.post("/grants", request))

    def revoke_grant(self, grant_id: str) -> JsonObject:
        return dict(self.post(f"/grants/{grant_id}/revoke", {}))

    def put_product(self, gtin: str, name: str, **fields: Any) -> JsonObject:
        return dict(self.put("/products", {"gtin": gtin, "name": name, **_given(fields)}))

    # Members' keys, listings, traces, reports, exports -------------------------------------

    def member(self, member_id: str) -> JsonObject:
        return dict(self.get("/members/me" if member_id == "me" else f"/members/{quote(member_id, safe='')}"))

    def api_keys(self) -> list[JsonObject]:
        return list(self.get("/members/me/api-keys"))

    def create_api_key(self, scopes: list[str] | None = None, label: str = "") -> JsonObject:
        """A new API key of the caller (all member scopes by default): its token is shown once."""
        return dict(self.post("/members/me/api-keys", {"scopes": scopes, "label": label}))

    def revoke_api_key(self, key_id: str) -> JsonObject:
        return dict(self.request("DELETE", f"/members/me/api-keys/{quote(key_id, safe='')}"))

    def export_key(self) -> JsonObject:
        """The caller's managed private key: the service gives it out once."""
        return dict(self.post("/members/me/key/export", {}))

    def rotate_key(self) -> JsonObject:
        return dict(self.post("/members/me/key/rotate", {}))

    def constellations(self) -> list[JsonObject]:
        """The caller's memberships: constellation, slug, roles."""
        return list(self.get("/constellations"))

    def attestations(self, **filters: Any) -> list[JsonObject]:
        """GET /attestations?gtin=&lot=&serial=&gln=&subject_member=&issuer=&schema=&limit=&offset="""
        return list(self.get("/attestations", **filters))

    def attestation(self, uid: str) -> JsonObject:
        return dict(self.get(f"/attestations/{quote(uid, safe='')}"))

    def grants(self) -> list[JsonObject]:
        return list(self.get("/grants"))

    def trace(self, direction: str, identifier: str, **bounds: Any) -> JsonObject:
        """GET /trace/{upstream|downstream|custody}?id=… (max_depth, since, until)."""
        return dict(self.get(f"/trace/{direction}", id=identifier, **bounds))

    def query_events(self, params: Mapping[str, str]) -> Iterator[JsonObject]:
        """The EPCISQueryDocument pages of a SimpleEventQuery, following nextPageToken."""
        query = dict(params)
        while True:
            answer = self.response("GET", "/epcis/events", params=query)
            yield dict(answer.json())
            token = answer.headers.get("GS1-Next-Page-Token")
            if not token:
                return
            query = {**params, "nextPageToken": token}

    def recall_csv(self, item_path: str) -> str:
        """The recall report of a lot as the service's CSV; `item_path` is /01/{gtin}/10/{lot}."""
        return self.response("GET", f"/recall{item_path}.csv", headers={"Accept": "text/csv"}).text

    def credential(self, uid: str) -> JsonObject:
        """The attestation as a W3C Verifiable Credential 2.0 with the issuer's EIP-712 proof."""
        return dict(self.get(f"/attestations/{quote(uid, safe='')}/credential"))

    def footprint(self, uid: str) -> JsonObject:
        """A product-carbon-footprint attestation as a PACT ProductFootprint."""
        return dict(self.get(f"/attestations/{quote(uid, safe='')}/footprint"))

    def trust(self) -> JsonObject:
        """What the service says a verifier should pin (never a substitute for pinning)."""
        return dict(self.get("/verify/trust"))


def _given(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


def _error(response: httpx.Response, method: str, path: str) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = str(body.get("error") or body.get("title") or response.reason_phrase)
        detail = body.get("detail")
        detail = detail if isinstance(detail, str) else json.dumps(detail)
    else:
        error, detail = response.reason_phrase, response.text[:500]
    return ApiError(response.status_code, error, detail, method, path)

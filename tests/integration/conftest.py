"""A real Anvil per session (snapshot/revert per test) and a real database per test,
SQLite and PostgreSQL (the server scripts/test starts; CONSTELLATE_TEST_POSTGRES_URL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3

from service.chain.anvil import DEV_PRIVATE_KEY, AnvilProcess
from service.chain.compiler import Artifact
from service.chain.deployment import Chain, DeploymentManifest, deploy_contracts, new_sender
from service.chain.rpc import connect
from service.db.migrate import upgrade
from service.db.session import make_engine, make_session_factory
from service.domain.policy import EVENT_CATEGORIES
from service.settings import Settings

POSTGRES_URL = os.environ.get("CONSTELLATE_TEST_POSTGRES_URL")
REQUIRE_POSTGRES = os.environ.get("CONSTELLATE_REQUIRE_POSTGRES") == "1"

# Anvil's funded development accounts 1..4 (account 0 is the relayer).
MEMBER_KEYS = [
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
]


@pytest.fixture(scope="session")
def anvil() -> Iterator[AnvilProcess]:
    with AnvilProcess() as node:
        yield node


@pytest.fixture(scope="session")
def base_settings(anvil: AnvilProcess, build_dir: Path, artifacts: dict[str, Artifact]) -> Settings:
    return Settings(
        rpc_url=anvil.rpc_url,
        relayer_private_key=SecretStr(DEV_PRIVATE_KEY),
        build_dir=build_dir / "contracts",
        manifest_path=build_dir / "deployment.json",
        database_url=f"sqlite:///{build_dir / 'unused.db'}",
        tx_timeout_seconds=20,
        dev_mode=True,  # the test chain is Anvil: members' self-custody keys are its published accounts
    )


@pytest.fixture(scope="session")
def manifest(base_settings: Settings, artifacts: dict[str, Artifact]) -> DeploymentManifest:
    w3 = connect(base_settings.rpc_url)
    deployed = deploy_contracts(new_sender(w3, base_settings, artifacts), artifacts)
    deployed.save(base_settings.manifest_path)
    return deployed


@pytest.fixture
def w3(anvil: AnvilProcess) -> Web3:
    return connect(anvil.rpc_url)


@pytest.fixture
def chain(base_settings: Settings, manifest: DeploymentManifest, w3: Web3) -> Iterator[Chain]:
    """The deployed contracts; every chain change a test makes is reverted after it."""
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    opened = Chain.open(base_settings, w3=w3)
    try:
        yield opened
    finally:
        w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
        w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]


def _postgres_database() -> Iterator[str]:
    if not POSTGRES_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("CONSTELLATE_TEST_POSTGRES_URL is not set but PostgreSQL tests are required")
        pytest.skip("no PostgreSQL server: run ./scripts/test")
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database of each kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'constellate.db'}"
        upgrade(url)
        yield url
    else:
        for url in _postgres_database():
            upgrade(url)
            yield url


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def settings(base_settings: Settings, database_url: str, manifest: DeploymentManifest) -> Settings:
    return base_settings.model_copy(update={"database_url": database_url})


ADMIN_KEY = "admin-test-key-0123456789"


class Api:
    """A TestClient on the app, with helpers to act as the operator or as a member."""

    def __init__(self, client: object) -> None:
        from fastapi.testclient import TestClient

        assert isinstance(client, TestClient)
        self.client = client
        self.admin = {"Authorization": f"Bearer {ADMIN_KEY}"}

    def sign_in_form(self, api_key: str, next: str = "/") -> Any:
        """Signs in through the pages' form as a browser would: the form's token and cookie, an
        Origin of this site; the response is the POST's (303 on success)."""
        form = self.client.get("/login", headers={"Accept": "text/html"})
        token = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        return self.client.post(
            "/login",
            data={"csrf": token, "api_key": api_key, "next": next},
            headers={"Origin": "http://testserver"},
            follow_redirects=False,
        )

    def onboard(self, name: str, **fields: object) -> tuple[dict[str, object], dict[str, str]]:
        response = self.client.post("/members", json={"name": name, **fields}, headers=self.admin)
        assert response.status_code == 201, response.text
        body = response.json()
        return body["member"], {"Authorization": f"Bearer {body['api_key']['token']}"}

    def grant(self, headers: dict[str, str], slug: str, categories: list[str], **fields: object) -> dict[str, Any]:
        """A sharing grant (to the whole constellation unless `audience` says otherwise)."""
        body = {
            "constellation": slug,
            "categories": categories,
            "audience": {"kind": "constellation"},
            "purpose": "traceability",
            **fields,
        }
        response = self.client.post("/grants", json=body, headers=headers)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def own_prefix(self, headers: dict[str, str], gtin: str) -> dict[str, Any]:
        """The member claims the company prefix of a GTIN (its 12 digits after the indicator, so
        no other test GTIN falls under it) and the operator approves it: the member brands it."""
        claimed = self.client.post("/company-prefixes", json={"prefix": gtin[-13:-1]}, headers=headers)
        assert claimed.status_code == 201, claimed.text
        approved = self.client.post(f"/company-prefixes/{claimed.json()['id']}/approve", headers=self.admin)
        assert approved.status_code == 200, approved.text
        return dict(approved.json())

    def share_everything_by_default(self, coordinator: dict[str, str], slug: str) -> dict[str, Any]:
        """A constellation default showing every member's events and attestations to its members."""
        return self.grant(
            coordinator, slug, [*EVENT_CATEGORIES, "attestations", "evidence"], default=True, purpose="open books"
        )


@pytest.fixture
def browser_page() -> Iterator[Any]:
    """A page in Debian's headless Chromium (tests/integration/browser.py serves the app to it)."""
    from playwright.sync_api import sync_playwright

    from .browser import CHROMIUM

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone first
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


@pytest.fixture
def api(settings: Settings, chain: Chain) -> Iterator[Api]:
    from fastapi.testclient import TestClient

    from service.api import create_app
    from service.domain.keys import generate_key_encryption_key

    configured = settings.model_copy(
        update={
            "admin_api_key": SecretStr(ADMIN_KEY),
            "key_encryption_key": SecretStr(generate_key_encryption_key()),
            "relay_interval_seconds": 0,
        }
    )
    with TestClient(create_app(configured)) as client:
        yield Api(client)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """schemathesis gives the test of every API operation the same node id (only its name names
    the operation): each gets its own, so pytest-xdist, which schedules by id, runs all of them."""
    for item in items:
        label = getattr(item, "operation_label", None)
        if label is not None and item.parent is not None and not item.nodeid.endswith("]"):
            item._id = item.parent.id.child(item.name)  # the name is `test_...[GET /path]`
    ids = [item.nodeid for item in items]
    if len(set(ids)) != len(ids):  # xdist would silently run one test of each repeated id
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        raise pytest.UsageError(f"tests share node ids (pytest-xdist would skip all but one): {repeated[:5]}")

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from service.api import create_app
from service.chain.anvil import AnvilProcess
from service.settings import Settings


def _checks(body: dict[str, object]) -> dict[str, dict[str, object]]:
    return {check["name"]: check for check in body["checks"]}  # type: ignore[union-attr,index]


def test_health_answers_without_dependencies(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"rpc_url": "http://127.0.0.1:9"}))) as client:
        assert client.get("/health").json() == {"status": "ok"}


def test_ready_when_database_and_chain_match(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        response = client.get("/ready")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok"
    assert all(check["ok"] for check in response.json()["checks"])


def test_not_ready_names_an_unreachable_chain(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"rpc_url": "http://127.0.0.1:9"}))) as client:
        response = client.get("/ready")
    assert response.status_code == 503
    checks = _checks(response.json())
    assert checks["database"]["ok"] is True
    assert checks["chain"]["ok"] is False and "unreachable" in str(checks["chain"]["detail"])


def test_not_ready_names_a_chain_the_manifest_does_not_describe(settings: Settings) -> None:
    with (
        AnvilProcess(chain_id=999) as other,
        TestClient(create_app(settings.model_copy(update={"rpc_url": other.rpc_url}))) as client,
    ):
        response = client.get("/ready")
    assert response.status_code == 503
    assert "chain id 999" in str(_checks(response.json())["chain"]["detail"])


def test_not_ready_names_an_unmigrated_database(settings: Settings, tmp_path: Path) -> None:
    fresh = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'empty.db'}"})
    with TestClient(create_app(fresh)) as client:
        response = client.get("/ready")
    assert response.status_code == 503
    assert "migration" in str(_checks(response.json())["database"]["detail"])

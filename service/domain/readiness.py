"""Whether the service can do its work: each dependency checked and named."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from service.chain.compiler import load_artifacts
from service.chain.deployment import DeploymentManifest, check_manifest
from service.chain.rpc import connect
from service.db.migrate import is_current
from service.db.session import ping
from service.errors import ConstellateError
from service.settings import Settings


class ReadinessCheck(BaseModel):
    name: str
    ok: bool
    detail: str


def _check_database(engine: Engine) -> ReadinessCheck:
    try:
        ping(engine)
        if not is_current(engine):
            return ReadinessCheck(name="database", ok=False, detail="schema is not at the newest migration")
    except (ConstellateError, SQLAlchemyError) as exc:
        return ReadinessCheck(name="database", ok=False, detail=str(exc))
    return ReadinessCheck(name="database", ok=True, detail=f"{engine.dialect.name}, schema current")


def _check_chain(settings: Settings) -> ReadinessCheck:
    try:
        w3 = connect(settings.rpc_url, timeout=min(settings.rpc_timeout_seconds, 5.0))
        manifest = DeploymentManifest.load(settings.manifest_path)
        check_manifest(w3, manifest, load_artifacts(settings))
    except ConstellateError as exc:
        return ReadinessCheck(name="chain", ok=False, detail=str(exc))
    return ReadinessCheck(name="chain", ok=True, detail=f"chain id {manifest.chain_id}, contracts match the manifest")


def check_readiness(settings: Settings, engine: Engine) -> list[ReadinessCheck]:
    return [_check_database(engine), _check_chain(settings)]

"""Migration 0012 on a real Anvil and both databases: records committed and anchored in the
first proof format (Python's json.dumps, code-point field order, a capture signature over
event hashes) are committed again, re-anchored and signed again — by the service for managed
members, by a self-custody member itself — and then verify, inside the service and from outside."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from eth_account import Account
from eth_account.messages import encode_typed_data
from sqlalchemy import delete, select, update

from service.db.models import CaptureJob, EpcisEvent, ItemChain, ItemRecord, ItemState
from service.domain import verification
from service.domain.commitments import event_leaf
from service.domain.merkle import MerkleTree
from service.hashing import keccak256
from service.runtime import Runtime

from .conftest import Api
from .test_epcis_api import SELF_KEY, Coffee, _large_document

MIGRATION = importlib.import_module("service.db.migrations.versions.0012_proof_format_v2")


def _v1_root(payload: dict[str, Any], digest: str, salts: dict[str, str]) -> bytes:
    """The first format's record root: json.dumps with sorted keys (12.0 stays 12.0), fields in
    code-point order, the field list sorted likewise."""
    fields = dict(payload)
    fields["#fields"] = sorted(fields)
    fields["#eventHash"] = digest

    def leaf(path: str) -> bytes:
        value = json.dumps(fields[path], sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        return keccak256(bytes.fromhex(salts[path]) + keccak256(path.encode()) + keccak256(value))

    return MerkleTree([leaf(path) for path in sorted(fields)]).root


def _age_into_v1(coffee: Coffee) -> None:
    """Rewrites every record as the first format stored it, anchored in its old batch."""
    with _runtime(coffee).sessions() as session, session.begin():
        for row in session.scalars(select(EpcisEvent)):
            root = _v1_root(row.payload, row.event_hash, row.salts)
            row.record_root = "0x" + root.hex()
            row.leaf = "0x" + event_leaf(root, row.signer, row.constellation).hex()
            row.capture_proof = None
        session.execute(update(CaptureJob).values(capture_root=None, record_count=None, signature="0x" + "00" * 65))
        for table in (ItemState, ItemRecord, ItemChain):
            session.execute(delete(table))


def _migrate(coffee: Coffee) -> None:
    with _runtime(coffee).engine.begin() as connection, Operations.context(MigrationContext.configure(connection)):
        MIGRATION._recommit()


def _runtime(coffee: Coffee) -> Runtime:
    runtime: Runtime = coffee.api.client.app.state.runtime  # type: ignore[attr-defined]
    return runtime


@pytest.fixture
def coffee(api: Api) -> Coffee:
    return Coffee(api)


def _verdicts(coffee: Coffee) -> dict[str, dict[str, bool | None]]:
    runtime = _runtime(coffee)
    with runtime.sessions() as session:
        return {
            row.owner_id: {
                c.name: c.ok for c in verification.verify_event(session=session, chain=runtime.chain, row=row).checks
            }
            for row in session.scalars(select(EpcisEvent))
        }


def test_old_records_verify_after_the_migration_once_signed_again(coffee: Coffee) -> None:
    document = _large_document(2)
    for event in document["epcisBody"]["eventList"]:
        event["quantityList"] = [{"epcClass": "urn:epc:class:lgtin:0614141.107346.LOT", "quantity": 12.0}]
    assert coffee.capture(document).status_code == 202  # a managed member
    mine = _large_document(1)
    mine["epcisBody"]["eventList"][0]["bizStep"] = "commissioning"
    prepared = coffee.api.client.post(
        "/epcis/capture/prepare",
        content=json.dumps(mine).encode(),
        headers={**coffee.coop_h, "Constellate-Constellation": "coffee"},
    ).json()
    signature = Account.sign_message(encode_typed_data(full_message=prepared["messages"][0]), SELF_KEY).signature
    own = coffee.capture(
        mine,
        headers=coffee.coop_h,
        **{"Constellate-Signature": "0x" + bytes(signature).hex(), "Constellate-Capture-Seed": prepared["seed"]},
    )
    assert own.status_code == 202, own.text
    runtime = _runtime(coffee)
    runtime.relay(flush=True)
    _age_into_v1(coffee)
    with runtime.sessions() as session:
        old_leaves = set(session.scalars(select(EpcisEvent.leaf)))

    _migrate(coffee)
    with runtime.sessions() as session:
        rows = list(session.scalars(select(EpcisEvent)))
        changed = {r.owner_id for r in rows if r.leaf not in old_leaves}
        assert changed == {coffee.producer["id"]}, "12.0 commits as 12 now; a record without a float keeps its root"
        assert all(r.batch_id is None for r in rows), "and waits to be anchored again"
        jobs = {j.member_id: j for j in session.scalars(select(CaptureJob))}
        assert {j.signature for j in jobs.values()} == {""} and jobs[coffee.coop["id"]].signed_by == "self"

    runtime.relay(flush=True)  # the service signs for the managed member, the anchorer anchors all
    checks = _verdicts(coffee)
    assert all(ok is True for ok in checks[coffee.producer["id"]].values()), checks
    assert checks[coffee.coop["id"]]["signature"] is False, "nobody signed the self-custody capture's new root"
    assert all(ok is True for name, ok in checks[coffee.coop["id"]].items() if name != "signature")

    job_id = jobs[coffee.coop["id"]].id
    path = f"/epcis/capture/{job_id}/signature"
    assert coffee.api.client.get(path, headers=coffee.producer_h).status_code == 404  # not the producer's
    typed = coffee.api.client.get(path, headers=coffee.coop_h).json()["messages"][0]
    forged = Account.sign_message(encode_typed_data(full_message=typed), "0x" + "33" * 32).signature
    refused = coffee.api.client.put(path, json={"signature": "0x" + bytes(forged).hex()}, headers=coffee.coop_h)
    assert refused.status_code == 422, refused.text
    signed = Account.sign_message(encode_typed_data(full_message=typed), SELF_KEY).signature
    stored = coffee.api.client.put(path, json={"signature": "0x" + bytes(signed).hex()}, headers=coffee.coop_h)
    assert stored.status_code == 200 and stored.json()["signedBy"] == "self", stored.text
    assert (
        coffee.api.client.put(path, json={"signature": "0x" + bytes(signed).hex()}, headers=coffee.coop_h).status_code
        == 409
    )
    assert all(ok is True for ok in _verdicts(coffee)[coffee.coop["id"]].values())

"""A claim's validity period from the claim itself (each built-in schema's fields and the
on-chain expiry), and the demo's teasers from the journey document they describe."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from service.db.models import Attestation, Base
from service.demo import teaser
from service.domain.claim_status import claim_status
from service.domain.claim_validity import validity_of


@pytest.mark.parametrize(
    ("schema", "body", "expires_at", "valid_from", "valid_until"),
    [
        ("certification", {"validUntil": "2025-01-31"}, 0, None, date(2025, 1, 31)),
        ("certification", {"validUntil": "2027-09-30"}, int(datetime(2027, 3, 31, 12, tzinfo=UTC).timestamp()), None,
         date(2027, 3, 31)),
        ("product-carbon-footprint", {"referencePeriodEnd": "2025-12-31T00:00:00Z"}, 0, date(2025, 12, 31),
         date(2028, 12, 30)),
        ("product-carbon-footprint", {"referencePeriodEnd": "2024-02-29T00:00:00Z"}, 0, date(2024, 2, 29),
         date(2027, 2, 27)),
        ("labour-audit", {"auditDate": "2026-08-14", "nextAuditDue": "2027-02-14"}, 0, date(2026, 8, 14),
         date(2027, 2, 14)),
        ("origin", {"country": "ET"}, 0, None, None),
        ("my-custom", {"validFrom": "2026-01-01", "validUntil": "2026-12-31T12:00:00Z"}, 0, date(2026, 1, 1),
         date(2026, 12, 31)),
        ("certification", {"validUntil": "not a date"}, 0, None, None),
    ],
)  # fmt: skip
def test_the_validity_period_comes_from_the_schemas_own_fields_and_the_chain(
    schema: str, body: dict[str, Any], expires_at: int, valid_from: date | None, valid_until: date | None
) -> None:
    validity = validity_of(schema, body, expires_at)
    assert (validity.valid_from, validity.valid_until) == (valid_from, valid_until)


@pytest.mark.parametrize(
    ("written", "moment"),
    [
        ("2025-12-31t00:00:00z", datetime(2025, 12, 31, tzinfo=UTC)),
        ("2025-12-31 00:00:00Z", datetime(2025, 12, 31, tzinfo=UTC)),
        ("2016-12-31T23:59:60Z", datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("2025-12-31T01:30:00.123456789+01:30", datetime(2025, 12, 31, 0, 0, 0, 123456, tzinfo=UTC)),
        ("2025-12-30T23:00:00-01:00", datetime(2025, 12, 31, tzinfo=UTC)),
        ("2025-12-31T00:00:00-00:00", datetime(2025, 12, 31, tzinfo=UTC)),
    ],
)
def test_validity_reads_rfc_3339_as_rfc_3339_writes_it(written: str, moment: datetime) -> None:
    validity = validity_of("certification", {"validFrom": written}, 0)
    assert (validity.starts_at, validity.unreadable) == (moment, ())


def _claim(body: dict[str, Any], schema: str = "certification") -> str:
    row = Attestation(uid="0x" + "ab" * 32, body=body, expires_at=0, anchored_tx="0x" + "cd" * 32, revoked_tx=None)
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        status = claim_status(session=session, row=row, schema_name=schema, now=datetime(2026, 6, 1, tzinfo=UTC))
    return f"{status.state} {status.since}"


@pytest.mark.parametrize(
    ("schema", "body"),
    [
        ("certification", {"validUntil": "not a date"}),
        ("certification", {"validUntil": "2099-02-30"}),
        ("certification", {"validFrom": "2020-01-01", "validUntil": 20991231}),
        ("certification", {"validFrom": "someday", "validUntil": "2099-12-31"}),
        ("certification", {"validUntil": "2099-12-31T00:00:00+24:00"}),
        ("product-carbon-footprint", {"referencePeriodEnd": "31/12/2025"}),
        ("labour-audit", {"auditDate": "2026-01-01", "nextAuditDue": "soon"}),
    ],
)
def test_a_validity_field_no_one_can_read_fails_closed(schema: str, body: dict[str, Any]) -> None:
    assert _claim(body, schema) == "expired None"


def test_a_readable_period_decides_the_status() -> None:
    assert _claim({"validUntil": "2099-12-31t12:00:00z"}) == "valid 2099-12-31"
    assert _claim({"validUntil": "2026-05-31T23:59:60Z"}) == "expired 2026-05-31"
    assert _claim({"country": "ET"}, "origin") == "valid None"
    assert _claim({"referencePeriodEnd": "2025-12-31t00:00:00z"}, "product-carbon-footprint") == "valid 2028-12-30"


def test_a_last_valid_day_lasts_until_its_end() -> None:
    validity = validity_of("certification", {"validUntil": "2025-01-31"}, 0)
    assert validity.ends_at == datetime(2025, 2, 1, tzinfo=UTC)


OWN = "https://id.gs1.org/01/07612345000176/10/AR-2603"


def _journey(**fields: Any) -> dict[str, Any]:
    return {
        "item": {"digitalLink": OWN},
        "recall": None,
        "summary": {"certifications": []},
        "claims": [],
        "footprint": {"headline": "not-enough-data", "kgCO2ePerDeclaredUnit": None, "declaredUnit": None},
        **fields,
    }


def test_a_teaser_says_only_what_the_journey_shows() -> None:
    assert teaser("Huila, lot 2", _journey()) == "Huila, lot 2"
    shown = _journey(
        recall={"by": {"name": "Lumen"}},
        summary={
            "certifications": [
                {"title": "Fairtrade", "subject": {"id": OWN}},
                {"title": "Rainforest Alliance", "subject": {"id": "https://id.gs1.org/414/7612345000015"}},
            ]
        },
        claims=[
            {"kind": "certification", "title": "Organic (EU)", "status": "expired"},
            {"kind": "footprint", "title": "Carbon footprint", "status": "revoked"},
        ],
        footprint={"headline": "at-least", "kgCO2ePerDeclaredUnit": 4.321, "declaredUnit": "kilogram"},
    )
    assert teaser("Bar", shown) == (
        "Bar (recalled by Lumen; certified Fairtrade; Rainforest Alliance certified upstream; "
        "Organic (EU) certificate expired; "
        "at least 4.32 kg CO2e per kilogram)"
    )

"""A claim's validity period from the claim itself (each built-in schema's fields and the
on-chain expiry), and the demo's teasers from the journey document they describe."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from service.demo import teaser
from service.domain.claim_status import validity_of


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


def test_a_last_valid_day_lasts_until_its_end() -> None:
    validity = validity_of("certification", {"validUntil": "2025-01-31"}, 0)
    assert validity.ends_at == datetime(2025, 2, 1, tzinfo=UTC)


def _journey(**fields: Any) -> dict[str, Any]:
    return {
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
        summary={"certifications": [{"title": "Fairtrade"}]},
        claims=[
            {"kind": "certification", "title": "Organic (EU)", "status": "expired"},
            {"kind": "footprint", "title": "Carbon footprint", "status": "revoked"},
        ],
        footprint={"headline": "at-least", "kgCO2ePerDeclaredUnit": 4.321, "declaredUnit": "kilogram"},
    )
    assert teaser("Bar", shown) == (
        "Bar (recalled by Lumen; certified Fairtrade; Organic (EU) certificate expired; "
        "at least 4.32 kg CO2e per kilogram)"
    )

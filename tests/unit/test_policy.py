"""The policy engine against a reference model written separately here: random grant sets,
readers and times (hypothesis); plus the rules stated one by one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from service.chain.contracts import Role
from service.domain.policy import GrantTerms, Reader, RecordRef, event_view, visible_categories
from service.epcis.categories import CATEGORIES

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
MEMBERS = ["farm", "roaster", "brand", "shop"]
CONSTELLATIONS = ["coffee", "cocoa"]
CATEGORY_NAMES = sorted(CATEGORIES)
ROLE_NAMES = sorted(Role.NAMES)


def reference(
    reader_id: str | None, roles: dict[str, set[str]], record: RecordRef, grants: list[GrantTerms]
) -> set[str] | None:
    """Category by category: shown iff the reader owns the record, or some grant of the owner in
    the record's constellation, live now, names the category and an audience the reader is in."""
    if reader_id == record.owner_id:
        return None
    result = set()
    for category in CATEGORY_NAMES:
        for grant in grants:
            live = (
                grant.valid_from <= NOW
                and (grant.valid_until is None or grant.valid_until > NOW)
                and (grant.revoked_at is None or grant.revoked_at > NOW)
            )
            audience = {
                "public": True,
                "constellation": reader_id is not None and bool(roles.get(grant.constellation)),
                "role": reader_id is not None and grant.audience_value in roles.get(grant.constellation, set()),
                "member": reader_id is not None and grant.audience_value == reader_id,
            }[grant.audience_kind]
            if (
                category in grant.categories
                and grant.owner_id == record.owner_id
                and grant.constellation == record.constellation
                and live
                and audience
            ):
                result.add(category)
    return result


offsets = st.sampled_from([None, -48, -1, 1, 48])


@st.composite
def grants(draw: st.DrawFn) -> GrantTerms:
    kind = draw(st.sampled_from(["public", "constellation", "role", "member"]))
    value = {"role": draw(st.sampled_from(ROLE_NAMES)), "member": draw(st.sampled_from(MEMBERS))}.get(kind)
    start = draw(st.sampled_from([-48, -1, 1]))
    until, revoked = draw(offsets), draw(offsets)
    return GrantTerms(
        owner_id=draw(st.sampled_from(MEMBERS)),
        constellation=draw(st.sampled_from(CONSTELLATIONS)),
        categories=frozenset(draw(st.sets(st.sampled_from(CATEGORY_NAMES), min_size=1))),
        audience_kind=kind,
        audience_value=value,
        valid_from=NOW + timedelta(hours=start),
        valid_until=None if until is None else NOW + timedelta(hours=until),
        revoked_at=None if revoked is None else NOW + timedelta(hours=revoked),
    )


@settings(max_examples=400, deadline=None)
@given(
    grant_set=st.lists(grants(), max_size=8),
    reader_id=st.sampled_from([None, *MEMBERS]),
    roles=st.dictionaries(st.sampled_from(CONSTELLATIONS), st.sets(st.sampled_from(ROLE_NAMES), min_size=1)),
    owner=st.sampled_from(MEMBERS),
    constellation=st.sampled_from(CONSTELLATIONS),
)
def test_the_engine_agrees_with_the_reference_model(
    grant_set: list[GrantTerms], reader_id: str | None, roles: dict[str, set[str]], owner: str, constellation: str
) -> None:
    record = RecordRef(owner_id=owner, constellation=constellation, kind="event")
    reader = Reader(reader_id, {c: Role.mask(sorted(r)) for c, r in roles.items()} if reader_id else {})
    expected = reference(reader_id, roles if reader_id else {}, record, grant_set)
    actual = visible_categories(reader=reader, record=record, grants=grant_set, now=NOW)
    assert (None if actual is None else set(actual)) == expected


def _grant(**fields: object) -> GrantTerms:
    base: dict[str, object] = dict(
        owner_id="farm",
        constellation="coffee",
        categories=frozenset({"when", "why"}),
        audience_kind="constellation",
        audience_value=None,
        valid_from=NOW - timedelta(days=1),
        valid_until=None,
        revoked_at=None,
    )
    return GrantTerms(**(base | fields))  # type: ignore[arg-type]


def test_the_rules_one_by_one() -> None:
    record = RecordRef(owner_id="farm", constellation="coffee", kind="event")
    member = Reader("roaster", {"coffee": Role.MANUFACTURER})
    outsider = Reader("rival", {"cocoa": Role.BRAND})
    public = Reader(None)
    grant = _grant()
    assert visible_categories(reader=Reader("farm"), record=record, grants=[], now=NOW) is None
    assert visible_categories(reader=member, record=record, grants=[grant], now=NOW) == {"when", "why"}
    assert visible_categories(reader=outsider, record=record, grants=[grant], now=NOW) == frozenset()
    assert visible_categories(reader=public, record=record, grants=[grant], now=NOW) == frozenset()
    expired = _grant(valid_until=NOW)
    revoked = _grant(revoked_at=NOW - timedelta(seconds=1))
    other_owner = _grant(owner_id="brand")
    assert (
        visible_categories(reader=member, record=record, grants=[expired, revoked, other_owner], now=NOW) == frozenset()
    )
    public_grant = _grant(audience_kind="public", categories=frozenset({"what"}))
    assert visible_categories(reader=public, record=record, grants=[grant, public_grant], now=NOW) == {"what"}
    role_grant = _grant(audience_kind="role", audience_value="brand", categories=frozenset({"where"}))
    assert visible_categories(reader=member, record=record, grants=[role_grant], now=NOW) == frozenset()
    assert visible_categories(
        reader=Reader("brand", {"coffee": Role.BRAND}), record=record, grants=[role_grant], now=NOW
    ) == {"where"}


def test_an_event_view_keeps_its_shape_and_names_what_is_withheld() -> None:
    payload = {
        "type": "ObjectEvent",
        "eventTime": "2026-01-01T00:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "bizStep": "shipping",
        "bizLocation": {"id": "x"},
        "example:secret": 1,
    }
    view = event_view(payload, frozenset({"when"}))
    assert view.shown == {"type": "ObjectEvent", "eventTime": "2026-01-01T00:00:00Z", "eventTimeZoneOffset": "+00:00"}
    assert view.withheld == ["bizLocation", "bizStep", "example:secret"]
    assert event_view(payload, None).withheld == []

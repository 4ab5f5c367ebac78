"""The policy engine against a reference model written separately here: random grant sets —
shares, withholds, constellation defaults — readers and times (hypothesis); the SQL form of
the rule against the Python form on a real SQLite table; and the rules stated one by one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.domain.policy import Access, GrantTerms, Reader
from service.epcis.categories import CATEGORIES
from service.roles import Role

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
MEMBERS = ["farm", "roaster", "brand", "shop"]
CONSTELLATIONS = ["coffee", "cocoa"]
CATEGORY_NAMES = sorted(CATEGORIES)
ROLE_NAMES = sorted(Role.NAMES)
SCHEMA_FIELDS = ["attestation:cert/standard", "attestation:cert/expires", "attestation:pcf/co2e", "evidence"]
GRANTABLE = [*CATEGORY_NAMES, "attestations", "attestation:cert", "attestation:pcf", *SCHEMA_FIELDS]


def _live(grant: GrantTerms) -> bool:
    return (
        grant.valid_from <= NOW
        and (grant.valid_until is None or grant.valid_until > NOW)
        and (grant.revoked_at is None or grant.revoked_at > NOW)
    )


def _names(grant: GrantTerms, concrete: str) -> bool:
    """Whether the grant names the concrete category, itself or by the schema or all."""
    for named in grant.categories:
        if named == concrete:
            return True
        if concrete.startswith("attestation:") and named in ("attestations", concrete.split("/")[0]):
            return True
    return False


def reference(
    reader_id: str | None, roles: dict[str, set[str]], owner: str, constellation: str, grants: list[GrantTerms]
) -> set[str] | None:
    """Concrete category by concrete category: shown iff the reader owns the record; or the
    owner shares it with the reader; or a default of the constellation shows it to the reader
    and the owner does not withhold it from the reader."""
    if reader_id == owner:
        return None

    def audience(grant: GrantTerms) -> bool:
        return {
            "public": True,
            "constellation": reader_id is not None and bool(roles.get(grant.constellation)),
            "role": reader_id is not None and grant.audience_value in roles.get(grant.constellation, set()),
            "member": reader_id is not None and grant.audience_value == reader_id,
        }[grant.audience_kind]

    def applies(grant: GrantTerms, concrete: str) -> bool:
        return grant.constellation == constellation and _live(grant) and audience(grant) and _names(grant, concrete)

    shown = set()
    for concrete in CATEGORY_NAMES + SCHEMA_FIELDS:
        shared = any(
            applies(g, concrete) and g.owner_id == owner and g.effect == "share" and not g.is_default for g in grants
        )
        by_default = any(applies(g, concrete) and g.is_default for g in grants)
        withheld = any(applies(g, concrete) and g.owner_id == owner and g.effect == "withhold" for g in grants)
        if shared or (by_default and not withheld):
            shown.add(concrete)
    return shown


offsets = st.sampled_from([None, -48, -1, 1, 48])


@st.composite
def grants(draw: st.DrawFn) -> GrantTerms:
    kind = draw(st.sampled_from(["public", "constellation", "role", "member"]))
    value = {"role": draw(st.sampled_from(ROLE_NAMES)), "member": draw(st.sampled_from(MEMBERS))}.get(kind)
    start = draw(st.sampled_from([-48, -1, 1]))
    until, revoked = draw(offsets), draw(offsets)
    layer = draw(st.sampled_from(["share", "share", "withhold", "default"]))
    return GrantTerms(
        owner_id=draw(st.sampled_from(MEMBERS)),
        constellation=draw(st.sampled_from(CONSTELLATIONS)),
        categories=frozenset(draw(st.sets(st.sampled_from(GRANTABLE), min_size=1, max_size=4))),
        audience_kind=kind,
        audience_value=value,
        valid_from=NOW + timedelta(hours=start),
        valid_until=None if until is None else NOW + timedelta(hours=until),
        revoked_at=None if revoked is None else NOW + timedelta(hours=revoked),
        effect="withhold" if layer == "withhold" else "share",
        is_default=layer == "default",
        id=f"g{draw(st.integers(0, 10**6))}",
    )


readers = st.sampled_from([None, *MEMBERS])
role_sets = st.dictionaries(st.sampled_from(CONSTELLATIONS), st.sets(st.sampled_from(ROLE_NAMES), min_size=1))


def _reader(reader_id: str | None, roles: dict[str, set[str]]) -> Reader:
    return Reader(reader_id, {c: Role.mask(sorted(r)) for c, r in roles.items()} if reader_id else {})


@settings(max_examples=500, deadline=None)
@given(
    grant_set=st.lists(grants(), max_size=10),
    reader_id=readers,
    roles=role_sets,
    owner=st.sampled_from(MEMBERS),
    constellation=st.sampled_from(CONSTELLATIONS),
)
def test_the_engine_agrees_with_the_reference_model(
    grant_set: list[GrantTerms], reader_id: str | None, roles: dict[str, set[str]], owner: str, constellation: str
) -> None:
    roles = roles if reader_id else {}
    access = Access(_reader(reader_id, roles), grant_set, NOW)
    actual = access.visible(owner, constellation, CATEGORY_NAMES + SCHEMA_FIELDS)
    expected = reference(reader_id, roles, owner, constellation, grant_set)
    assert (None if actual is None else set(actual)) == expected


_engine = sa.create_engine("sqlite://")
_meta = sa.MetaData()
_records = sa.Table("records", _meta, sa.Column("owner", sa.String), sa.Column("constellation", sa.String))
_meta.create_all(_engine)
with _engine.begin() as _connection:
    _connection.execute(
        sa.insert(_records), [{"owner": m, "constellation": c} for m in [*MEMBERS, "gone"] for c in CONSTELLATIONS]
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grant_set=st.lists(grants(), max_size=10), reader_id=readers, roles=role_sets)
def test_the_sql_form_selects_exactly_the_rows_the_python_form_shows(
    grant_set: list[GrantTerms], reader_id: str | None, roles: dict[str, set[str]]
) -> None:
    """What a query may match on is what a view shows: for each category, the rows `sees`
    selects are the rows whose `visible` includes it."""
    access = Access(_reader(reader_id, roles if reader_id else {}), grant_set, NOW)
    with _engine.connect() as connection:
        for category in [*CATEGORY_NAMES, "attestation:cert/standard", "evidence"]:
            selected = set(
                connection.execute(
                    sa.select(_records.c.owner, _records.c.constellation).where(
                        access.sees(category, _records.c.owner, _records.c.constellation)
                    )
                )
            )
            expected = {
                (o, c)
                for o in [*MEMBERS, "gone"]
                for c in CONSTELLATIONS
                if (v := access.visible(o, c, [category])) is None or category in v
            }
            assert selected == expected, category


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


def _sees(reader: Reader, *grant_set: GrantTerms, owner: str = "farm") -> frozenset[str] | None:
    return Access(reader, grant_set, NOW).visible(owner, "coffee", CATEGORY_NAMES)


def test_the_rules_one_by_one() -> None:
    member = Reader("roaster", {"coffee": Role.MANUFACTURER})
    outsider = Reader("rival", {"cocoa": Role.BRAND})
    public = Reader(None)
    grant = _grant()
    assert _sees(Reader("farm")) is None
    assert _sees(Reader(None, operator=True)) is None
    assert _sees(member, grant) == {"when", "why"}
    assert _sees(outsider, grant) == frozenset()
    assert _sees(public, grant) == frozenset()
    assert _sees(member, _grant(valid_until=NOW), _grant(revoked_at=NOW - timedelta(seconds=1))) == frozenset()
    assert _sees(member, _grant(owner_id="brand")) == frozenset()
    public_grant = _grant(audience_kind="public", categories=frozenset({"what"}))
    assert _sees(public, grant, public_grant) == {"what"}
    role_grant = _grant(audience_kind="role", audience_value="brand", categories=frozenset({"where"}))
    assert _sees(member, role_grant) == frozenset()
    assert _sees(Reader("brand", {"coffee": Role.BRAND}), role_grant) == {"where"}


def test_defaults_narrowing_and_widening_combine_as_documented() -> None:
    """(defaults minus the owner's withholds) plus the owner's shares."""
    member = Reader("roaster", {"coffee": Role.MANUFACTURER})
    default = _grant(owner_id="coordinator", is_default=True, categories=frozenset({"when", "why", "where"}))
    narrow = _grant(effect="withhold", categories=frozenset({"where"}))
    widen = _grant(audience_kind="member", audience_value="roaster", categories=frozenset({"where", "quantities"}))
    assert _sees(member, default) == {"when", "why", "where"}
    assert _sees(member, default, owner="shop") == {"when", "why", "where"}  # defaults cover every owner
    assert _sees(member, default, narrow) == {"when", "why"}
    assert _sees(member, default, narrow, owner="shop") == {"when", "why", "where"}  # a withhold is its owner's
    assert _sees(member, default, narrow, widen) == {"when", "why", "where", "quantities"}
    other_owner_narrow = _grant(owner_id="shop", effect="withhold", categories=frozenset({"when"}))
    assert _sees(member, default, other_owner_narrow) == {"when", "why", "where"}
    assert _sees(Reader(None), default) == frozenset()  # a constellation default is for its members


def test_schema_and_field_categories_cover_attestation_fields() -> None:
    member = Reader("roaster", {"coffee": Role.MANUFACTURER})
    fields = ["attestation:cert/standard", "attestation:cert/expires", "attestation:pcf/co2e", "evidence"]

    def seen(*grant_set: GrantTerms) -> set[str]:
        return set(Access(member, grant_set, NOW).visible("farm", "coffee", fields) or ())

    assert seen(_grant(categories=frozenset({"attestations"}))) == set(fields) - {"evidence"}
    assert seen(_grant(categories=frozenset({"attestation:cert"}))) == {
        "attestation:cert/standard",
        "attestation:cert/expires",
    }
    assert seen(_grant(categories=frozenset({"attestation:cert/standard", "evidence"}))) == {
        "attestation:cert/standard",
        "evidence",
    }
    default = _grant(owner_id="coordinator", is_default=True, categories=frozenset({"attestations"}))
    narrow = _grant(effect="withhold", categories=frozenset({"attestation:cert/expires"}))
    assert seen(default, narrow) == {"attestation:cert/standard", "attestation:pcf/co2e"}

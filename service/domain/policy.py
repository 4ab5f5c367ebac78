"""The policy engine: which parts of a record a reader may see. Every read path asks it — in
Python for the record it is about to show (`Access.visible`), in SQL for the records a query
may match or a trace may cross (`Access.sees`) — and both forms come from the same grants, so
a query can never match on a field its result would withhold.

Rules (docs/design.md, "Sharing"), for a reader R and a record of owner O in constellation C:
- O sees all of its records; so does the operator (it holds the payloads anyway; its reads
  are logged like everyone's);
- a grant reaches R when it is live at the read (from `valid_from`, before `valid_until`, not
  revoked) and its audience is R (member), a role R holds in C now (role), any member of C
  (constellation), or anyone, signed in or not (public);
- D: the categories of C's defaults (grants a coordinator of C made for all members' data
  there) that reach R; N: the categories O withholds from those defaults (O's `withhold`
  grants in C that reach R); G: the categories O shares (O's `share` grants in C that reach R);
- R sees (D minus N) plus G: an owner narrows the constellation's defaults for its own data, and
  widens them with its own grants; its explicit grant wins over its own narrowing.
Categories are EPCIS field groups (`what`, `when`, ...; service/epcis/categories.py) and, for
attestations, `attestations` (all), `attestation:<schema>` (one schema) or
`attestation:<schema>/<field>` (one field), and `evidence`."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, insert, or_, select, true, tuple_
from sqlalchemy.orm import Session

from service.db.models import AccessLogEntry, Member, SharingGrant
from service.domain.constellations import constellations_of, current_roles
from service.epcis.categories import CATEGORIES
from service.roles import Role

EVENT_CATEGORIES = tuple(CATEGORIES)
ATTESTATIONS = "attestations"
EVIDENCE = "evidence"


@dataclass(frozen=True)
class Reader:
    """Who reads: a member with its current roles per constellation, the public (no member),
    or the operator. `purpose` is what the reader says the read is for (logged)."""

    member_id: str | None
    roles: Mapping[str, int] = field(default_factory=dict)
    operator: bool = False
    purpose: str = ""

    @property
    def kind(self) -> str:
        return "operator" if self.operator else "public" if self.member_id is None else "member"


PUBLIC = Reader(None)


@dataclass(frozen=True)
class GrantTerms:
    owner_id: str
    constellation: str
    categories: frozenset[str]
    audience_kind: str
    audience_value: str | None
    valid_from: datetime
    valid_until: datetime | None
    revoked_at: datetime | None
    effect: str = "share"  # share | withhold
    is_default: bool = False
    id: str = ""

    @classmethod
    def of(cls, row: SharingGrant) -> GrantTerms:
        return cls(
            owner_id=row.owner_id,
            constellation=row.constellation,
            categories=frozenset(row.categories),
            audience_kind=row.audience_kind,
            audience_value=row.audience_value,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            revoked_at=row.revoked_at,
            effect=row.effect,
            is_default=row.is_default,
            id=row.id,
        )


def is_live(grant: GrantTerms, now: datetime) -> bool:
    if grant.revoked_at is not None and grant.revoked_at <= now:
        return False
    if grant.valid_from > now:
        return False
    return grant.valid_until is None or now < grant.valid_until


def reaches(grant: GrantTerms, reader: Reader) -> bool:
    """Whether the grant's audience includes the reader (roles as the reader holds them now)."""
    if grant.audience_kind == "public":
        return True
    if reader.member_id is None:
        return False
    held = reader.roles.get(grant.constellation, 0)
    if grant.audience_kind == "constellation":
        return held != 0
    if grant.audience_kind == "role":
        return bool(held & Role.NAMES.get(grant.audience_value or "", 0))
    return grant.audience_kind == "member" and grant.audience_value == reader.member_id


def covers(granted: str, concrete: str) -> bool:
    """Whether a category named in a grant covers a record's concrete category: itself, a whole
    schema its fields (`attestation:s` covers `attestation:s/f`), `attestations` every schema."""
    return (
        granted == concrete
        or concrete.startswith(granted + "/")
        or (granted == ATTESTATIONS and concrete.startswith("attestation:"))
    )


def _covered(categories: Mapping[str, Any], concrete: str) -> list[str]:
    return [granted for granted in categories if covers(granted, concrete)]


Pair = tuple[str, str]  # (owner id, constellation id)


class Access:
    """What one reader may see at one moment: the grants that reach it, indexed by layer."""

    def __init__(self, reader: Reader, grants: Iterable[GrantTerms], now: datetime) -> None:
        self.reader = reader
        self.now = now
        self.everything = reader.operator
        self.defaults: dict[str, dict[str, list[str]]] = {}
        self.shared: dict[Pair, dict[str, list[str]]] = {}
        self.narrowed: dict[Pair, set[str]] = {}
        for grant in grants:
            if not (is_live(grant, now) and reaches(grant, reader)):
                continue
            if grant.is_default:
                layer = self.defaults.setdefault(grant.constellation, {})
            elif grant.effect == "withhold":
                self.narrowed.setdefault((grant.owner_id, grant.constellation), set()).update(grant.categories)
                continue
            else:
                layer = self.shared.setdefault((grant.owner_id, grant.constellation), {})
            for category in grant.categories:
                layer.setdefault(category, []).append(grant.id)

    def owns_all(self, owner_id: str) -> bool:
        return self.everything or (self.reader.member_id is not None and self.reader.member_id == owner_id)

    def visible(self, owner_id: str, constellation: str, concrete: Collection[str]) -> frozenset[str] | None:
        """Which of a record's concrete categories the reader sees; None: all of the record."""
        if self.owns_all(owner_id):
            return None
        shared = self.shared.get((owner_id, constellation), {})
        defaults = self.defaults.get(constellation, {})
        narrowed = self.narrowed.get((owner_id, constellation), set())
        return frozenset(
            c
            for c in concrete
            if _covered(shared, c) or (_covered(defaults, c) and not any(covers(n, c) for n in narrowed))
        )

    def basis(self, owner_id: str, constellation: str, shown: Collection[str]) -> list[str]:
        """Why the reader sees `shown`: the ids of the grants that disclose it (for the log)."""
        if self.everything:
            return ["operator"]
        if self.owns_all(owner_id):
            return ["owner"]
        shared = self.shared.get((owner_id, constellation), {})
        defaults = self.defaults.get(constellation, {})
        ids: dict[str, None] = {}
        for concrete in shown:
            for layer in (shared, defaults):
                for granted in _covered(layer, concrete):
                    ids.update(dict.fromkeys(layer[granted]))
        return list(ids)

    # --- the same rule in SQL ---------------------------------------------------------------

    def sees(self, category: str, owner: Any, constellation: Any) -> ColumnElement[bool]:
        """SQL: the row (owner and constellation columns given) shows `category` to the reader.
        Exact for event categories; for attestation categories see `may_see_some`."""
        if self.everything:
            return true()
        parts: list[ColumnElement[bool]] = []
        if self.reader.member_id is not None:
            parts.append(owner == self.reader.member_id)
        pairs = [pair for pair, layer in self.shared.items() if _covered(layer, category)]
        if pairs:
            parts.append(tuple_(owner, constellation).in_(pairs))
        for cid, layer in self.defaults.items():
            if not _covered(layer, category):
                continue
            narrowing = [
                o
                for (o, c), withheld in self.narrowed.items()
                if c == cid and any(covers(n, category) for n in withheld)
            ]
            parts.append(and_(constellation == cid, owner.not_in(narrowing)) if narrowing else constellation == cid)
        return or_(*parts) if parts else false()

    def sees_all(self, categories: Iterable[str], owner: Any, constellation: Any) -> ColumnElement[bool]:
        return and_(true(), *(self.sees(c, owner, constellation) for c in dict.fromkeys(categories)))

    def sees_any(self, categories: Iterable[str], owner: Any, constellation: Any) -> ColumnElement[bool]:
        return or_(false(), *(self.sees(c, owner, constellation) for c in dict.fromkeys(categories)))

    def may_see_some(self, prefix: str, owner: Any, constellation: Any) -> ColumnElement[bool]:
        """SQL superset: rows where some grant category starting with `prefix` (e.g.
        `attestation`) reaches the reader. Callers refine each row with `visible`."""
        if self.everything:
            return true()
        parts: list[ColumnElement[bool]] = []
        if self.reader.member_id is not None:
            parts.append(owner == self.reader.member_id)
        pairs = [pair for pair, layer in self.shared.items() if any(c.startswith(prefix) for c in layer)]
        if pairs:
            parts.append(tuple_(owner, constellation).in_(pairs))
        cids = [cid for cid, layer in self.defaults.items() if any(c.startswith(prefix) for c in layer)]
        if cids:
            parts.append(constellation.in_(cids))
        return or_(*parts) if parts else false()

    # --- the access log ---------------------------------------------------------------------

    def entries(self, *, endpoint: str, decisions: Iterable[Decision]) -> list[dict[str, Any]]:
        """The access-log rows of read decisions (who read which record, what was shown and
        withheld, for which purpose, on which grants)."""
        return [
            {
                "at": self.now,
                "owner_id": d.owner_id,
                "reader_id": self.reader.member_id,
                "reader_kind": self.reader.kind,
                "record_kind": d.record_kind,
                "record_ref": d.record_ref,
                "constellation": d.constellation,
                "shown": sorted(d.shown),
                "withheld": sorted(d.withheld),
                "purpose": self.reader.purpose,
                "basis": self.basis(d.owner_id, d.constellation, d.shown_categories),
                "endpoint": endpoint,
            }
            for d in decisions
        ]

    def log(
        self,
        session: Session,
        *,
        endpoint: str,
        decisions: Iterable[Decision],
    ) -> None:
        """Records each read decision and commits, before the answer leaves the service."""
        write_log(session, self.entries(endpoint=endpoint, decisions=decisions))


def write_log(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(AccessLogEntry), rows)
        session.commit()


@dataclass(frozen=True)
class Decision:
    """One read decision: a record, the fields shown and withheld (and the categories shown)."""

    owner_id: str
    constellation: str
    record_kind: str  # event | attestation | evidence
    record_ref: str
    shown: Collection[str]
    withheld: Collection[str]
    shown_categories: Collection[str]


def grants_reaching(*, session: Session, reader: Reader, now: datetime) -> list[GrantTerms]:
    """The live grants whose audience could include the reader (the engine checks again)."""
    audience = [SharingGrant.audience_kind == "public"]
    if reader.member_id is not None:
        audience += [
            and_(
                SharingGrant.audience_kind.in_(("constellation", "role")),
                SharingGrant.constellation.in_(list(reader.roles)),
            ),
            and_(SharingGrant.audience_kind == "member", SharingGrant.audience_value == reader.member_id),
        ]
    rows = session.scalars(
        select(SharingGrant).where(
            or_(*audience),
            SharingGrant.valid_from <= now,
            or_(SharingGrant.valid_until.is_(None), SharingGrant.valid_until > now),
            or_(SharingGrant.revoked_at.is_(None), SharingGrant.revoked_at > now),
        )
    )
    grants = [GrantTerms.of(row) for row in rows]
    return [g for g in grants if not g.is_default or _coordinates(session, g.owner_id, g.constellation)]


def _coordinates(session: Session, member_id: str, cid: str) -> bool:
    """Whether the maker of a default still coordinates its constellation: defaults lapse with
    the role (a later coordinator sets its own)."""
    address = session.scalar(select(Member.address).where(Member.id == member_id))
    return address is not None and bool(current_roles(session=session, cid=cid, address=address) & Role.COORDINATOR)


def reader_of(*, session: Session, member: Member | None, operator: bool = False, purpose: str = "") -> Reader:
    """The reader behind a request: its member and the roles it holds now (None: the public)."""
    if member is None:
        return Reader(None, purpose=purpose)
    roles = {m.constellation: m.roles for m in constellations_of(session=session, address=member.address)}
    return Reader(member.id, roles, operator=operator, purpose=purpose)


def access_for(*, session: Session, reader: Reader, now: datetime | None = None) -> Access:
    now = now or datetime.now(UTC)
    if reader.operator:
        return Access(reader, [], now)
    return Access(reader, grants_reaching(session=session, reader=reader, now=now), now)

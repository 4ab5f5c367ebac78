"""Who may speak about an item on its journey (docs/design.md, "Who speaks for an item").

The item's brand is the member holding the approved company prefix of its GTIN
(service/domain/company_prefixes.py). The journey is what the brand recorded, anywhere, and
what was recorded in the constellations the brand has taken part in, by the members those
constellations admitted: their coordinators chose who may write there. Taking part is the
brand's own act — it coordinates the constellation, or recorded events there itself — because
any coordinator can enrol any address in a constellation of its own without its consent: a
role alone would let a competitor make its own constellation the brand's. Everyone else's events
about the item are observations, shown apart under their author's name and never as the
item's own story or status. A recall is the item's status only when the brand or a
coordinator of one of the brand's constellations (in that constellation) states it.

An item whose GTIN no member brands has nobody to speak for it: every step the reader may see
is its journey, and it has no status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.orm import Session

from service.db.models import EpcisEvent, Member
from service.domain.company_prefixes import brand_of
from service.domain.constellations import constellations_of, members_of
from service.roles import Role

RECALL_ROLES = Role.COORDINATOR
"""Besides the brand, who may recall its items: holders of these roles in a constellation the
brand belongs to, for what they record there."""


@dataclass(frozen=True)
class Speakers:
    brand_id: str | None
    """The member branding the item's GTIN; None: nobody does."""
    constellations: frozenset[str]
    """The constellations the brand holds a role in now and has taken part in (coordinates, or
    recorded events there)."""
    recallers: frozenset[tuple[str, str]]
    """(member id, constellation) pairs that may state a recall besides the brand."""

    def speaks(self, owner_id: str, constellation: str) -> bool:
        """Whether a record of `owner_id` in `constellation` belongs to the item's journey."""
        return self.brand_id is None or owner_id == self.brand_id or constellation in self.constellations

    def sql(self, owner: Any, constellation: Any) -> ColumnElement[bool]:
        """`speaks` as a SQL condition on a record's owner and constellation columns."""
        if self.brand_id is None:
            return true()
        return or_(owner == self.brand_id, constellation.in_(sorted(self.constellations)))

    def may_recall(self, owner_id: str, constellation: str) -> bool:
        if self.brand_id is None:
            return False
        return owner_id == self.brand_id or (owner_id, constellation) in self.recallers


def speakers_of(*, session: Session, gtin: str) -> Speakers:
    """Who speaks for the items of a GTIN, as the prefixes and the mirrored roles say now."""
    brand_id = brand_of(session=session, gtin=gtin)
    brand = session.get(Member, brand_id) if brand_id is not None else None
    if brand is None:
        return Speakers(None, frozenset(), frozenset())
    cids = frozenset(
        m.constellation
        for m in constellations_of(session=session, address=brand.address)
        if m.roles & Role.COORDINATOR or _has_recorded_in(session, brand.id, m.constellation)
    )
    addresses = {
        (m.address, cid) for cid in cids for m in members_of(session=session, cid=cid) if m.roles & RECALL_ROLES
    }
    ids = dict(
        session.execute(select(Member.address, Member.id).where(Member.address.in_({a for a, _ in addresses}))).all()
    )
    recallers = frozenset((ids[a], cid) for a, cid in addresses if a in ids)
    return Speakers(brand.id, cids, recallers)


def _has_recorded_in(session: Session, member_id: str, cid: str) -> bool:
    """Whether `member_id` has captured any event in constellation `cid` (its consent by acting)."""
    found = select(EpcisEvent.id).where(EpcisEvent.owner_id == member_id, EpcisEvent.constellation == cid).limit(1)
    return session.scalar(found) is not None

"""A product's carbon footprint, honestly: its own PACT footprint if a trusted issuer attested
one, else a roll-up of its inputs' footprints through the transformation that made it — which
is never the product's whole footprint (the processing is not attested), only a lower bound, and
says how much of the input mass verified footprints cover.

One source of truth: each input of a roll-up names the footprint claim it weighed (its uid and
that claim's status, as the claims list shows it) and, when the claim does not count, why."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from service.domain.disclosure import EventView
from service.domain.gs1 import class_of, lot_of
from service.domain.units import UNITS
from service.domain.view_format import RECORD_KEY
from service.epcis.identifiers import canonical_id

FOOTPRINT_SCHEMA = "product-carbon-footprint"
TRANSFORMATION_FIELDS = ("inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList")
COMPLETE, AT_LEAST, NOT_ENOUGH = "complete", "at-least", "not-enough-data"


@dataclass(frozen=True)
class Amount:
    value: float
    unit: str  # a PACT declared unit, or "each"


@dataclass(frozen=True)
class Attested:
    """One footprint claim about an item, as the roll-up weighs it."""

    uid: str
    status: str
    """The claim's status (service/domain/claim_status.py), as the claims list shows it."""
    intensity: float | None
    unit: str | None
    boundary: str
    reason: str = ""
    """Why it cannot count whatever its status: `figure-withheld`, `issuer-not-trusted`; "": it can."""

    @property
    def counts(self) -> bool:
        return not self.reason and self.status == "valid"


def boundary_of(description: Any) -> str:
    """A PACT footprint is cradle-to-gate unless its boundary says it reaches the grave."""
    return "cradle-to-grave" if isinstance(description, str) and "grave" in description.lower() else "cradle-to-gate"


def attested_footprint(
    *, uid: str, status: str, body: dict[str, Any], shown: frozenset[str] | None, trusted: bool
) -> Attested:
    """A footprint claim as the roll-up weighs it (`shown`: the body paths the reader sees, None: all)."""
    visible = shown is None or {"body/pCfExcludingBiogenic", "body/declaredUnit"} <= shown
    figure = body.get("pCfExcludingBiogenic") if visible else None
    unit = body.get("declaredUnit") if visible else None
    reason = "figure-withheld" if not visible else "" if trusted else "issuer-not-trusted"
    return Attested(
        uid,
        status,
        float(figure) if isinstance(figure, int | float) else None,
        str(unit) if isinstance(unit, str) else None,
        boundary_of(body.get("boundaryProcessesDescription")),
        reason,
    )


def preferred(current: Attested | None, candidate: Attested) -> Attested:
    """Of two footprint claims about one item (the candidate newer): one that counts first, then
    one that may yet count (pending), then the newer."""

    def rank(a: Attested) -> int:
        return 2 if a.counts else 1 if not a.reason and a.status == "pending" else 0

    return candidate if current is None or rank(candidate) >= rank(current) else current


@dataclass
class Footprint:
    """kgCO2e per declared unit of one item, how well it is backed and how much it covers."""

    identifier: str
    status: str  # verified · partly verified · unverified · missing
    intensity: float | None = None
    unit: str | None = None
    source: str = "missing"  # attested · rolled up · missing
    attestations: list[str] = field(default_factory=list)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    """For a roll-up: each input, its amount, its footprint claim and its share of the emissions."""
    note: str = ""
    headline: str = NOT_ENOUGH
    """complete: the item's own footprint · at-least: a lower bound (inputs only) · not-enough-data."""
    mass_share: float | None = None
    """The share of the input amount (same unit) that verified footprints cover; None: unknown."""
    inputs_covered: int = 0
    inputs_total: int = 0
    processing_included: bool = False
    boundary: str | None = None
    claim: Attested | None = None
    """The item's own footprint claim, if one is shown (counting or not)."""
    made_by: str | None = None
    """For a roll-up: the ref of the step that made the item (or its lot), whose quantities it allocates by."""

    def as_json(self) -> dict[str, Any]:
        return {
            "identifier": self.identifier,
            "status": self.status,
            "headline": self.headline,
            "kgCO2ePerDeclaredUnit": round(self.intensity, 6) if self.intensity is not None else None,
            "declaredUnit": self.unit,
            "source": self.source,
            "coverage": {
                "massShare": round(self.mass_share, 4) if self.mass_share is not None else None,
                "inputsCovered": self.inputs_covered,
                "inputsTotal": self.inputs_total,
            },
            "processingIncluded": self.processing_included,
            "boundary": self.boundary,
            "biogenic": "excluded" if self.intensity is not None else None,
            "claimUid": self.claim.uid if self.claim else None,
            "claimStatus": self.claim.status if self.claim else None,
            "attestations": self.attestations,
            "inputs": self.inputs,
            "madeBy": self.made_by,
            "note": self.note,
        }


def _amounts(
    document: dict[str, Any], epc_field: str, quantity_field: str, net: dict[str, Amount]
) -> dict[str, Amount | None]:
    """Each identifier of a side of a transformation with its amount in declared units, entries
    of the same identifier summed (None: the amount cannot be known — no unit and no net content,
    or units that do not add up)."""
    found: dict[str, Amount | None] = {}

    def add(identifier: str, amount: Amount | None) -> None:
        if identifier not in found:
            found[identifier] = amount
            return
        before = found[identifier]
        same = before is not None and amount is not None and before.unit == amount.unit
        found[identifier] = Amount(before.value + amount.value, amount.unit) if same else None  # type: ignore[union-attr]

    for entry in document.get(quantity_field) or ():
        identifier = canonical_id(entry.get("epcClass", ""))
        quantity = entry.get("quantity")
        unit = UNITS.get(entry.get("uom") or "")
        if isinstance(quantity, int | float) and unit is not None:
            add(identifier, Amount(float(quantity) * unit[1], unit[0]))
        elif isinstance(quantity, int | float):
            per = net.get(class_of(identifier))
            add(identifier, Amount(float(quantity) * per.value, per.unit) if per else None)
        else:
            add(identifier, None)
    for epc in document.get(epc_field) or ():
        identifier = canonical_id(epc)
        per = net.get(class_of(identifier))
        add(identifier, Amount(per.value, per.unit) if per else None)
    return found


class FootprintRollup:
    """Footprints of the items of a lineage: an item's own PACT footprint (or its class's) if a
    valid one counts; else its inputs' footprints allocated by quantity through the
    transformation that made it (mass or volume allocation over the outputs) — a lower bound,
    since the processing itself is not attested. Only valid claims count; a pending own
    footprint shows as unverified."""

    def __init__(self, attested: dict[str, Attested], made_by: dict[str, EventView], net: dict[str, Amount]) -> None:
        self.attested = attested
        self.made_by = made_by
        self.net = net
        self.memo: dict[str, Footprint] = {}

    def of(self, identifier: str, visiting: frozenset[str] = frozenset()) -> Footprint:
        if identifier not in self.memo:
            self.memo[identifier] = self._compute(identifier, visiting | {identifier})
        return self.memo[identifier]

    def own(self, identifier: str) -> Attested | None:
        return self.attested.get(identifier) or self.attested.get(class_of(identifier))

    def _compute(self, identifier: str, visiting: frozenset[str]) -> Footprint:
        own = self.own(identifier)
        lot = lot_of(identifier)
        if own is None and identifier not in self.made_by and lot is not None and lot not in visiting:
            of_lot = self.of(lot, visiting)  # a unit of a lot carries the lot's footprint per unit
            return Footprint(**{**of_lot.__dict__, "identifier": identifier})
        if (
            own is not None
            and own.intensity is not None
            and (own.counts or (own.status == "pending" and not own.reason))
        ):
            return Footprint(
                identifier,
                "verified" if own.counts else "unverified",
                own.intensity,
                own.unit,
                "attested",
                [own.uid],
                headline=COMPLETE,
                mass_share=1.0,
                processing_included=True,
                boundary=own.boundary,
                claim=own,
                note="" if own.counts else "the footprint is attested but not yet anchored on chain",
            )
        view = self.made_by.get(identifier)
        if view is None:
            return Footprint(
                identifier, "missing", claim=own, note="no footprint counts, and no transformation made it"
            )
        return self._rolled_up(identifier, view, own, visiting)

    def _rolled_up(self, identifier: str, view: EventView, own: Attested | None, visiting: frozenset[str]) -> Footprint:
        document = view.document
        outputs = _amounts(document, "outputEPCList", "outputQuantityList", self.net)
        inputs = _amounts(document, "inputEPCList", "inputQuantityList", self.net)
        mine = outputs.get(identifier)
        total_out = sum(a.value for a in outputs.values() if a is not None and mine is not None and a.unit == mine.unit)
        withheld = set(document.get(RECORD_KEY, {}).get("withheld") or ())
        certain = all(
            a is not None and mine is not None and a.unit == mine.unit and a.value > 0 for a in outputs.values()
        ) and not withheld & set(TRANSFORMATION_FIELDS)
        emitted, uids, parts, boundaries = 0.0, [], [], set()
        covered_amount, input_units = 0.0, {a.unit for a in inputs.values() if a is not None}
        known_amounts = all(a is not None and a.value > 0 for a in inputs.values()) and len(input_units) == 1
        covered = 0
        for source, amount in inputs.items():
            upstream = self.of(source, visiting) if source not in visiting else Footprint(source, "missing")
            backed = upstream.status in ("verified", "partly verified") and upstream.intensity is not None
            counted = backed and amount is not None and upstream.unit == amount.unit
            share = (1.0 if upstream.headline == COMPLETE else upstream.mass_share or 0.0) if counted else 0.0
            kg = amount.value * upstream.intensity if counted and amount and upstream.intensity is not None else None
            if kg is not None and amount is not None:
                emitted += kg
                uids += upstream.attestations
                covered_amount += amount.value * share
                boundaries.add(upstream.boundary)
                covered += 1 if share >= 1.0 else 0
            claim = self.own(source)
            part: dict[str, Any] = {}
            if kg is not None and (upstream.source == "rolled up" or claim is None):
                part["footprint"] = upstream.as_json()  # its figure is no claim of its own: how it was had
            parts.append(
                part
                | {
                    "identifier": source,
                    "amount": amount.value if amount else None,
                    "unit": amount.unit if amount else None,
                    "kgCO2e": round(kg, 6) if kg is not None else None,
                    "claimUid": claim.uid if claim else None,
                    "status": claim.status if claim else ("rolled up" if upstream.source == "rolled up" else "missing"),
                    "counted": kg is not None,
                    "headline": upstream.headline if kg is not None else NOT_ENOUGH,
                    "reason": None if kg is not None else _reason(claim, amount, backed, upstream),
                }
            )
        total_in = sum(a.value for a in inputs.values() if a is not None) if known_amounts else 0.0
        mass_share = covered_amount / total_in if known_amounts and total_in > 0 else None
        base = Footprint(
            identifier,
            "missing",
            source="rolled up",
            inputs=parts,
            mass_share=mass_share,
            inputs_covered=covered,
            inputs_total=len(inputs),
            claim=own,
            made_by=document[RECORD_KEY]["ref"],
        )
        if not uids or mine is None or mine.value <= 0 or total_out <= 0:
            base.note = "no input has a footprint that counts, or the amount made is not known"
            return base
        complete = certain and known_amounts and covered == len(inputs)
        base.status = "verified" if complete else "partly verified"
        base.intensity = emitted * (mine.value / total_out) / mine.value
        base.unit = mine.unit
        base.attestations = list(dict.fromkeys(uids))
        base.headline = AT_LEAST
        base.boundary = boundaries.pop() if len(boundaries) == 1 else None
        base.note = (
            "inputs' footprints allocated by quantity; the processing is not attested"
            if complete
            else "some inputs have no footprint that counts, or some quantities are unknown or withheld"
        )
        return base


def _reason(claim: Attested | None, amount: Amount | None, backed: bool, upstream: Footprint) -> str:
    """Why an input adds nothing to a roll-up (a code the page words)."""
    if amount is None:
        return "amount-unknown"
    if backed:
        return "unit-mismatch"
    if claim is not None:
        return claim.reason or "claim-not-valid"
    return "inputs-unknown" if upstream.source == "rolled up" else "no-claim"


def per_unit(footprint: Footprint, net_content: float | None, net_content_unit: str | None) -> float | None:
    """kgCO2e of one unit of the product (its net content times the intensity)."""
    if footprint.intensity is None or not net_content or net_content_unit != footprint.unit:
        return None
    return footprint.intensity * net_content


__all__ = [
    "AT_LEAST",
    "COMPLETE",
    "FOOTPRINT_SCHEMA",
    "NOT_ENOUGH",
    "Amount",
    "Attested",
    "Footprint",
    "FootprintRollup",
    "attested_footprint",
    "per_unit",
    "preferred",
]

"""Units of measure in declared units: an EPCIS quantity's `uom` (UN/CEFACT Rec. 20 code) as a
PACT declared unit and the factor to it — what the footprint roll-up (footprints.py) and its
verifier (journey_proofs.py, docs/proof-format.md §8) both convert with."""

from __future__ import annotations

UNITS: dict[str, tuple[str, float]] = {
    "KGM": ("kilogram", 1.0),
    "GRM": ("kilogram", 0.001),
    "TNE": ("kilogram", 1000.0),
    "LTR": ("liter", 1.0),
    "MLT": ("liter", 0.001),
    "MTQ": ("cubic meter", 1.0),
    "KWH": ("kilowatt hour", 1.0),
    "3B": ("megajoule", 1.0),
    "MTK": ("square meter", 1.0),
}

__all__ = ["UNITS"]

"""Which roles may sign which events: one table, consulted at capture and at verification.

A constellation member signs events about its own part of the journey: a retailer does not
commission raw material, a certifier does not ship. CBV business steps map to the roles that
perform them; custom (non-CBV) steps and steps anyone may observe need any writing role."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from service.roles import Role

PRODUCERS = Role.SUPPLIER | Role.MANUFACTURER | Role.BRAND
HANDLERS = PRODUCERS | Role.LOGISTICS | Role.RETAILER
WRITERS = HANDLERS | Role.CERTIFIER

BIZ_STEP_ROLES: dict[str, int] = {
    **dict.fromkeys(
        ("commissioning", "creating_class_instance", "encoding", "decommissioning", "destroying", "killing"), PRODUCERS
    ),
    **dict.fromkeys(
        ("assembling", "disassembling", "repairing", "replacing", "installing", "removing", "dispensing"),
        PRODUCERS | Role.LOGISTICS,
    ),
    **dict.fromkeys(
        (
            "packing",
            "unpacking",
            "repackaging",
            "shipping",
            "departing",
            "arriving",
            "receiving",
            "loading",
            "unloading",
            "transporting",
            "staging_outbound",
            "void_shipping",
            "consigning",
            "accepting",
            "picking",
            "storing",
            "stocking",
            "holding",
            "entering_exiting",
            "collecting",
            "reserving",
        ),
        HANDLERS,
    ),
    "retail_selling": Role.RETAILER | Role.BRAND,
    **dict.fromkeys(("inspecting", "sampling", "sensor_reporting", "cycle_counting", "stock_taking", "other"), WRITERS),
}
TRANSFORMATION_ROLES = PRODUCERS
"""A TransformationEvent turns inputs into outputs: a producer's act, whatever its step."""

_CBV_URI = re.compile(r"^https?://(?:ref\.gs1\.org/cbv|(?:www\.|id\.)?gs1\.org/voc)/(BizStep|Disp)-([A-Za-z0-9_]+)$")
_DEFAULT_PREFIXES = {"cbv": "https://ref.gs1.org/cbv/", "gs1": "https://gs1.org/voc/"}
Expand = Callable[[str], str]


def _default_expand(value: str) -> str:
    prefix, colon, rest = value.partition(":")
    namespace = _DEFAULT_PREFIXES.get(prefix) if colon else None
    return namespace + rest if namespace else value


def cbv_term(value: str | None, vocabulary: str, expand: Expand | None = None) -> str | None:
    """The bare CBV term of a business step ("BizStep") or disposition ("Disp") however it is
    written — bare, as a CBV or GS1 Web Vocabulary URI (http or https), or as a CURIE under the
    document's prefixes; any other value unchanged."""
    if value is None:
        return None
    expanded = (expand or _default_expand)(value)
    if expanded is value and expand is not None:
        expanded = _default_expand(value)
    match = _CBV_URI.match(expanded)
    return match.group(2) if match and match.group(1) == vocabulary else value


def biz_step_term(value: str | None, expand: Expand | None = None) -> str | None:
    return cbv_term(value, "BizStep", expand)


def disposition_term(value: str | None, expand: Expand | None = None) -> str | None:
    return cbv_term(value, "Disp", expand)


def roles_for(event: dict[str, Any], expand: Expand | None = None) -> int:
    """The roles any one of which permits signing `event`."""
    allowed = BIZ_STEP_ROLES.get(biz_step_term(event.get("bizStep"), expand) or "other", WRITERS)
    if event.get("type") == "TransformationEvent":
        allowed &= TRANSFORMATION_ROLES
    return allowed


def denial(event: dict[str, Any], held: int, expand: Expand | None = None) -> str | None:
    """Why a member holding `held` may not sign `event`, or None if it may. `expand` resolves
    CURIEs with the prefixes of the event's document."""
    allowed = roles_for(event, expand)
    if held & allowed:
        return None
    step = biz_step_term(event.get("bizStep"), expand) or "no business step"
    return (
        f"a {event.get('type', 'event')} with {step!r} needs the {' or '.join(Role.names(allowed))} role; "
        f"the signer holds {Role.names(held) or 'no role'}"
    )

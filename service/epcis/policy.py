"""Which roles may sign which events: one table, consulted at capture and at verification.

A constellation member signs events about its own part of the journey: a retailer does not
commission raw material, a certifier does not ship. CBV business steps map to the roles that
perform them; custom (non-CBV) steps and steps anyone may observe need any writing role."""

from __future__ import annotations

from typing import Any

from service.chain.contracts import Role

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

CBV_BIZ_STEP_PREFIXES = ("https://ref.gs1.org/cbv/BizStep-", "https://gs1.org/voc/BizStep-", "cbv:BizStep-")


def biz_step_term(value: str | None) -> str | None:
    """The bare CBV term of a business step given bare, as a CBV URI or as a CURIE; others unchanged."""
    if value is None:
        return None
    for prefix in CBV_BIZ_STEP_PREFIXES:
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


def roles_for(event: dict[str, Any]) -> int:
    """The roles any one of which permits signing `event`."""
    allowed = BIZ_STEP_ROLES.get(biz_step_term(event.get("bizStep")) or "other", WRITERS)
    if event.get("type") == "TransformationEvent":
        allowed &= TRANSFORMATION_ROLES
    return allowed


def denial(event: dict[str, Any], held: int) -> str | None:
    """Why a member holding `held` may not sign `event`, or None if it may."""
    allowed = roles_for(event)
    if held & allowed:
        return None
    step = biz_step_term(event.get("bizStep")) or "no business step"
    return (
        f"a {event.get('type', 'event')} with {step!r} needs the {' or '.join(Role.names(allowed))} role; "
        f"the signer holds {Role.names(held) or 'no role'}"
    )

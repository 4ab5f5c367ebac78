"""The attestation schema catalogue: built-in ESG schemas (certification, PACT product carbon
footprint, labour audit, origin, recycled content, a member's commitment, a dispute of a claim)
and members' custom schemas. A schema's JSON Schema validates bodies off chain; its definition, registered on the
AttestationRegistry, pins the JSON Schema by hash so anyone can check which rules a body was
held to. A built-in added later is registered the next time the catalogue is used
(`ensure_builtin_schemas`).

A member's schema is untrusted input: bodies are validated by jsonschema-rs with Rust's
linear-time regex engine (a pattern such as `^(a+)+$` cannot backtrack and hold the process),
and no `$ref` is fetched from the network. A pattern that needs a backtracking engine
(look-around, back-references) is refused when the schema is registered."""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

import jsonschema_rs
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.chain.deployment import Chain
from service.db.models import AttestationSchema
from service.domain.commitments import canonical_json
from service.domain.schema_cost import check_schema_cost
from service.errors import Conflict, NotFound, ValidationFailed
from service.roles import Role

_NAME = re.compile(r"^[a-z][a-z0-9-]{1,63}$")
_DATE = {"type": "string", "format": "date"}
_DATETIME = {"type": "string", "format": "date-time"}
_TEXT = {"type": "string", "minLength": 1, "maxLength": 500}
_COUNTRY = {"type": "string", "pattern": "^[A-Z]{2}$", "description": "ISO 3166-1 alpha-2"}
_DQR = {"type": "number", "minimum": 1, "maximum": 3}
log = logging.getLogger(__name__)


def _object(properties: dict[str, Any], required: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
        **extra,
    }


BUILTIN: dict[str, dict[str, Any]] = {
    "certification": {
        "title": "Certification (e.g. Fairtrade, Rainforest Alliance, organic)",
        "required_roles": Role.CERTIFIER,
        "revocable": True,
        "json_schema": _object(
            {
                "standard": _TEXT,
                "certificateId": _TEXT,
                "issuingBody": _TEXT,
                "scope": _TEXT,
                "validUntil": _DATE,
            },
            ["standard", "certificateId", "issuingBody", "validUntil"],
        ),
    },
    "product-carbon-footprint": {
        "title": "Product carbon footprint (WBCSD PACT data model)",
        "required_roles": 0,
        "revocable": True,
        "json_schema": _object(
            {
                "declaredUnit": {
                    "enum": [
                        "liter",
                        "kilogram",
                        "cubic meter",
                        "kilowatt hour",
                        "megajoule",
                        "ton kilometer",
                        "square meter",
                    ]
                },
                "unitaryProductAmount": {"type": "number", "exclusiveMinimum": 0},
                "pCfExcludingBiogenic": {"type": "number", "minimum": 0, "description": "kgCO2e per declared unit"},
                "pCfIncludingBiogenic": {"type": "number"},
                "fossilGhgEmissions": {"type": "number", "minimum": 0},
                "fossilCarbonContent": {"type": "number", "minimum": 0},
                "biogenicCarbonContent": {"type": "number", "minimum": 0},
                "dLucGhgEmissions": {"type": "number", "minimum": 0},
                "referencePeriodStart": _DATETIME,
                "referencePeriodEnd": _DATETIME,
                "geographyCountry": _COUNTRY,
                "geographyRegionOrSubregion": _TEXT,
                "boundaryProcessesDescription": _TEXT,
                "crossSectoralStandardsUsed": {"type": "array", "items": _TEXT},
                "primaryDataShare": {"type": "number", "minimum": 0, "maximum": 100},
                "dqi": _object(
                    {
                        "coveragePercent": {"type": "number", "minimum": 0, "maximum": 100},
                        "technologicalDQR": _DQR,
                        "temporalDQR": _DQR,
                        "geographicalDQR": _DQR,
                        "completenessDQR": _DQR,
                        "reliabilityDQR": _DQR,
                    },
                    [
                        "coveragePercent",
                        "technologicalDQR",
                        "temporalDQR",
                        "geographicalDQR",
                        "completenessDQR",
                        "reliabilityDQR",
                    ],
                ),
            },
            [
                "declaredUnit",
                "unitaryProductAmount",
                "pCfExcludingBiogenic",
                "referencePeriodStart",
                "referencePeriodEnd",
                "boundaryProcessesDescription",
            ],
            allOf=[
                {"anyOf": [{"required": ["geographyCountry"]}, {"required": ["geographyRegionOrSubregion"]}]},
                {"anyOf": [{"required": ["primaryDataShare"]}, {"required": ["dqi"]}]},
            ],
        ),
    },
    "labour-audit": {
        "title": "Labour / social audit (e.g. SMETA, SA8000, amfori BSCI)",
        "required_roles": Role.CERTIFIER,
        "revocable": True,
        "json_schema": _object(
            {
                "standard": _TEXT,
                "auditor": _TEXT,
                "auditDate": _DATE,
                "result": {"enum": ["pass", "conditional", "fail"]},
                "findings": {"type": "integer", "minimum": 0},
                "nextAuditDue": _DATE,
            },
            ["standard", "auditor", "auditDate", "result"],
        ),
    },
    "origin": {
        "title": "Origin of a product or lot",
        "required_roles": 0,
        "revocable": True,
        "json_schema": _object(
            {
                "country": _COUNTRY,
                "region": _TEXT,
                "farmGln": {"type": "string", "pattern": "^[0-9]{13}$"},
                "latitude": {"type": "number", "minimum": -90, "maximum": 90},
                "longitude": {"type": "number", "minimum": -180, "maximum": 180},
                "harvestYear": {"type": "integer", "minimum": 1900, "maximum": 2200},
            },
            ["country"],
        ),
    },
    "recycled-content": {
        "title": "Recycled content of a product or material",
        "required_roles": 0,
        "revocable": True,
        "json_schema": _object(
            {
                "material": _TEXT,
                "recycledSharePercent": {"type": "number", "minimum": 0, "maximum": 100},
                "chainOfCustody": {"enum": ["identity-preserved", "segregated", "mass-balance", "book-and-claim"]},
                "standard": _TEXT,
            },
            ["material", "recycledSharePercent", "chainOfCustody"],
        ),
    },
    "commitment": {
        "title": "Commitment: a member's pledge to its constellation (e.g. 80 % Fairtrade-certified lots by 2027)",
        "required_roles": 0,
        "revocable": True,
        "json_schema": _object(
            {
                "metric": {
                    "enum": ["certified-share"],
                    "description": "certified-share: the share of the pledging member's lots holding a valid certification",
                },
                "standard": {**_TEXT, "description": "Only certifications of this standard count (e.g. Fairtrade)"},
                "gtins": {
                    "type": "array",
                    "items": {"type": "string", "pattern": "^[0-9]{14}$"},
                    "minItems": 1,
                    "uniqueItems": True,
                    "description": "The products (GTIN-14) whose lots the pledge covers",
                },
                "targetPercent": {"type": "number", "minimum": 0, "maximum": 100},
                "deadline": _DATE,
                "statement": _TEXT,
            },
            ["metric", "gtins", "targetPercent", "deadline", "statement"],
        ),
    },
    "dispute": {
        "title": "Dispute: a certifier or coordinator contests a claim (named by ref_uid)",
        "required_roles": Role.CERTIFIER | Role.COORDINATOR,
        "revocable": True,
        "json_schema": _object({"reason": _TEXT}, ["reason"]),
    },
}
"""A commitment is issued by the pledging member about itself (subject kind `member`); the
coordinator's health views (service/domain/health.py) measure its progress."""


class SchemaCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    title: str = Field(min_length=1, max_length=200)
    json_schema: dict[str, Any]
    revocable: bool = True
    required_roles: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("name must be 2-64 lower-case letters, digits or dashes, starting with a letter")
        return value


def definition_of(name: str, json_schema: dict[str, Any]) -> str:
    """The on-chain definition: the schema's name and the SHA-256 of its canonical JSON Schema."""
    return f"constellate/{name} json-schema sha256:{hashlib.sha256(canonical_json(json_schema)).hexdigest()}"


def _where(path: list[str | int]) -> str:
    return "/".join(str(part) for part in path) or "(root)"


def compile_json_schema(json_schema: dict[str, Any]) -> jsonschema_rs.Validator:
    """A validator for `json_schema`: formats enforced, patterns on the linear-time engine,
    references resolved only inside the schema. ValidationFailed names what cannot be used."""
    try:
        jsonschema_rs.meta.validate(json_schema)
    except jsonschema_rs.ValidationError as exc:
        raise ValidationFailed(
            f"json_schema is not a valid JSON Schema: {exc.message} (at {_where(exc.instance_path)})"
        ) from None
    except jsonschema_rs.ReferencingError as exc:
        raise ValidationFailed(f"json_schema is not a valid JSON Schema: {exc.message}") from None
    try:
        return jsonschema_rs.validator_for(
            json_schema, validate_formats=True, pattern_options=jsonschema_rs.RegexOptions(), offline=True
        )
    except jsonschema_rs.ValidationError as exc:
        if exc.kind.name == "format":  # a pattern the linear-time engine cannot run
            raise ValidationFailed(
                f"json_schema: the pattern {exc.instance!r} at {_where(exc.instance_path)} is not supported:"
                " patterns run on a linear-time engine (no look-around, no back-references, bounded size)"
            ) from None
        raise ValidationFailed(f"json_schema cannot be used: {exc.message}") from None
    except ValueError as exc:  # the validator's own bound ("Recursion limit reached"), not a crash
        raise ValidationFailed(f"json_schema cannot be used: {exc}") from None


def _check_json_schema(json_schema: dict[str, Any]) -> None:
    compile_json_schema(json_schema)
    check_schema_cost(json_schema)
    if json_schema.get("type") != "object":
        raise ValidationFailed('json_schema must describe an object ("type": "object")')


def _register(
    *,
    session: Session,
    chain: Chain,
    name: str,
    title: str,
    json_schema: dict[str, Any],
    revocable: bool,
    required_roles: int,
    builtin: bool,
    registered_by: str | None,
) -> AttestationSchema:
    definition = definition_of(name, json_schema)
    uid = chain.attestations.schema_uid(definition, revocable=revocable, required_roles=required_roles)
    tx_hash = None
    if chain.attestations.get_schema(uid).registrant == "0x" + "00" * 20:
        tx_hash = chain.attestations.register_schema(
            definition, revocable=revocable, required_roles=required_roles
        ).tx_hash
    row = AttestationSchema(
        uid="0x" + uid.hex(),
        name=name,
        title=title,
        definition=definition,
        json_schema=json_schema,
        revocable=revocable,
        required_roles=required_roles,
        builtin=builtin,
        registered_by=registered_by,
        tx_hash=tx_hash,
    )
    session.add(row)
    return row


def ensure_builtin_schemas(*, session: Session, chain: Chain) -> None:
    """Registers every built-in schema that the database or the chain lacks (idempotent)."""
    names = {
        name: builtin for name, builtin in session.execute(select(AttestationSchema.name, AttestationSchema.builtin))
    }
    for name, spec in BUILTIN.items():
        if name not in names:
            _register(session=session, chain=chain, name=name, builtin=True, registered_by=None, **spec)
        elif not names[name]:
            # a member registered a custom schema of this name before the built-in one was added:
            # it keeps it (its attestations reference it), and the built-in stays unregistered
            log.warning("built-in schema %r not registered: a custom schema holds the name", name)
    session.flush()


def create_schema(*, session: Session, chain: Chain, member_id: str, schema_in: SchemaCreate) -> AttestationSchema:
    from service.domain.constellations import role_mask

    if schema_in.name in BUILTIN or session.scalar(
        select(AttestationSchema).where(AttestationSchema.name == schema_in.name)
    ):
        raise Conflict(f"a schema named {schema_in.name!r} already exists")
    _check_json_schema(schema_in.json_schema)
    return _register(
        session=session,
        chain=chain,
        name=schema_in.name,
        title=schema_in.title,
        json_schema=schema_in.json_schema,
        revocable=schema_in.revocable,
        required_roles=role_mask(schema_in.required_roles),
        builtin=False,
        registered_by=member_id,
    )


def get_schema(*, session: Session, name: str) -> AttestationSchema:
    row = session.scalar(select(AttestationSchema).where(AttestationSchema.name == name))
    if row is None:
        known = sorted(session.scalars(select(AttestationSchema.name)))
        raise NotFound(f"unknown schema {name!r}; known schemas: {known}")
    return row


_VALIDATORS: dict[str, jsonschema_rs.Validator] = {}
"""Compiled validators by schema definition (which pins the JSON Schema by hash)."""


def validate_body(schema: AttestationSchema, body: dict[str, Any]) -> None:
    """Raises ValidationFailed naming every field that breaks the schema."""
    validator = _VALIDATORS.get(schema.definition)
    if validator is None:
        validator = _VALIDATORS[schema.definition] = compile_json_schema(schema.json_schema)
    errors = sorted(validator.iter_errors(body), key=lambda e: [str(p) for p in e.instance_path])
    if errors:
        problems = "; ".join(f"{'/'.join(str(p) for p in e.instance_path) or '(body)'}: {e.message}" for e in errors)
        raise ValidationFailed(f"body does not match schema {schema.name!r}: {problems}")

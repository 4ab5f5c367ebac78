"""What a member's JSON Schema costs to validate, measured once at registration: `$ref`s make a
small schema a large one (two references to the next definition, forty times over, is 2^40
checks of one value), so a schema is refused when a value could make the validator visit more
than SCHEMA_COST_BUDGET of its nodes."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from service.errors import ValidationFailed
from service.json_bounds import MAX_JSON_DEPTH

SCHEMA_COST_BUDGET = 10_000
"""Most schema nodes one value may be checked against, `$ref`s expanded (a built-in schema
costs under 30)."""

_SAME_VALUE = ("not", "if", "then", "else")
"""Keywords whose one subschema applies to the value itself."""
_SAME_VALUE_LISTS = ("allOf", "anyOf", "oneOf")
_SAME_VALUE_MAPS = ("dependentSchemas", "dependencies")
_CHILD = ("additionalProperties", "unevaluatedProperties", "propertyNames", "additionalItems", "contains")
"""Keywords whose one subschema applies to each member (or key) of the value."""
_CHILD_EACH_MAPS = ("patternProperties",)
"""Several of these may apply to the same member: they add up."""
_CHILD_ALTERNATIVES = ("properties", "prefixItems", "items", "unevaluatedItems")
"""One entry of these applies to a given member (a name, an index): the costliest counts."""
_NOT_APPLIED = ("$defs", "definitions", "enum", "const", "examples", "default", "required")
"""Definitions count where they are referenced; data counts as one check."""


class SchemaTooCostly(ValidationFailed):
    """A JSON Schema whose `$ref`s expand beyond what one value may be checked against (422)."""


def check_schema_cost(json_schema: dict[str, Any], *, budget: int = SCHEMA_COST_BUDGET) -> int:
    """The most schema nodes one value may be checked against (each `$ref` expanded where it is
    used, memoised per reference and depth of the value; a reference back into itself for the
    same value is one visit, one for a member of the value is expanded again for each level the
    value can nest). Raises SchemaTooCostly over `budget`."""
    try:
        return _Cost(json_schema, budget).of(json_schema, MAX_JSON_DEPTH)
    except RecursionError:
        raise SchemaTooCostly(
            "json_schema's $refs chain too deep to be measured; reference definitions less deeply"
        ) from None


class _Cost:
    def __init__(self, root: dict[str, Any], budget: int) -> None:
        self.root = root
        self.base = root.get("$id", "") if isinstance(root.get("$id"), str) else ""
        self.budget = budget
        self.known: dict[tuple[str, int], int] = {}
        self.expanding: set[tuple[str, int]] = set()

    def of(self, schema: Any, depth: int) -> int:
        """Nodes of `schema` one value nesting up to `depth` more levels may be checked against."""
        if not isinstance(schema, dict):
            return 1
        total = 1
        for keyword, value in schema.items():
            total += self._keyword(keyword, value, depth)
            if total > self.budget:
                raise SchemaTooCostly(
                    f"json_schema is too costly to validate: with its $refs expanded, one value may be checked"
                    f" against more than {self.budget} of its nodes (the limit is {self.budget});"
                    " reference a definition that references others fewer times"
                )
        return total

    def _keyword(self, keyword: str, value: Any, depth: int) -> int:
        if keyword in ("$ref", "$dynamicRef") and isinstance(value, str):
            return self._reference(value, depth)
        if keyword in _NOT_APPLIED:
            return 0 if keyword in ("$defs", "definitions") else 1
        if keyword in _SAME_VALUE:
            return self.of(value, depth)
        if keyword in _SAME_VALUE_LISTS and isinstance(value, list):
            return sum(self.of(each, depth) for each in value)
        if keyword in _SAME_VALUE_MAPS and isinstance(value, dict):
            return sum(self.of(each, depth) for each in value.values())
        if depth == 0:
            return 1  # no value nests deeper: what applies to its members never runs
        if keyword in _CHILD:
            return self.of(value, depth - 1)
        if keyword in _CHILD_EACH_MAPS and isinstance(value, dict):
            return sum(self.of(each, depth - 1) for each in value.values())
        if keyword in _CHILD_ALTERNATIVES:
            entries = value.values() if isinstance(value, dict) else value if isinstance(value, list) else [value]
            return max((self.of(each, depth - 1) for each in entries), default=0)
        return 1

    def _reference(self, reference: str, depth: int) -> int:
        key = (reference, depth)
        if key in self.known:
            return self.known[key]
        if key in self.expanding:
            return 1  # back into itself for the same value: the validator stops there
        self.expanding.add(key)
        cost = self.of(self._target(reference), depth)
        self.expanding.discard(key)
        self.known[key] = cost
        return cost

    def _target(self, reference: str) -> Any:
        local = reference.removeprefix(self.base) if self.base else reference
        if not local.startswith("#"):
            raise ValidationFailed(f"json_schema: the $ref {reference!r} is not a reference inside the schema (#/...)")
        pointer = local[1:]
        if pointer and not pointer.startswith("/"):
            return self._anchor(reference, pointer)
        node: Any = self.root
        for step in pointer.split("/")[1:]:
            step = unquote(step).replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and step in node:
                node = node[step]
            elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
                node = node[int(step)]
            else:
                raise ValidationFailed(f"json_schema: the $ref {reference!r} names nothing in the schema")
        return node

    def _anchor(self, reference: str, name: str) -> Any:
        pending = [self.root]
        while pending:
            node = pending.pop()
            if isinstance(node, dict):
                if name in (node.get("$anchor"), node.get("$dynamicAnchor")):
                    return node
                pending.extend(node.values())
            elif isinstance(node, list):
                pending.extend(node)
        raise ValidationFailed(f"json_schema: the $ref {reference!r} names no anchor in the schema")

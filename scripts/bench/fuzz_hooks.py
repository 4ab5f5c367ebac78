"""schemathesis hooks of the large run (fuzz_api.py loads them through SCHEMATHESIS_HOOKS): half
the generated bodies hostile, as in the small run (tests/integration/hostile.py)."""

from __future__ import annotations

from typing import Any

import schemathesis

from tests.integration.hostile import hostile_body


@schemathesis.hook
def flatmap_body(_ctx: schemathesis.HookContext, body: Any) -> Any:
    return hostile_body(body)

"""The verifiers' path stays lean: a fresh interpreter that imports the record, journey and
credential verifiers, their chain reader and the `verify` commands loads no database
(SQLAlchemy, alembic), no web3 and no eth_account — `constellate verify journey` of a 200-event
journey must take ≤ 1 s as a whole process (docs/benchmarks.md), and those imports alone took 2 s."""

from __future__ import annotations

import json
import subprocess
import sys

from service.settings import PROJECT_ROOT

VERIFIER_MODULES = (
    "service.chain.proof_reader",
    "service.chain.typed_data",
    "service.domain.proofs",
    "service.domain.journey_proofs",
    "service.domain.credential_proofs",
    "service.cli",
)
HEAVY = ("sqlalchemy", "alembic", "eth_account", "web3", "eth_keyfile", "prometheus_client")


def test_the_verifiers_import_no_database_web3_or_eth_account() -> None:
    script = (
        "import json, sys\n"
        f"for name in {VERIFIER_MODULES!r}:\n"
        "    __import__(name)\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True, cwd=PROJECT_ROOT
    )
    assert json.loads(ran.stdout) == [], f"the verifiers' imports load {ran.stdout.strip()}"

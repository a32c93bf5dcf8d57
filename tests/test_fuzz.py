"""The API fuzzed by schemathesis over its own OpenAPI document, against the real server as shipped.

Standard checks: no server error, status codes, content types, headers and response schemas as
documented, schema-invalid requests rejected, undeclared methods refused, plus ours (no server
path, no traceback: ``tests/fuzz_checks.py``). ``positive_data_acceptance`` is left out: OpenAPI
parameter schemas cannot say that ``lat`` goes with ``lon`` or ``of`` with ``within_km``, nor which
ids exist, so "schema-valid" requests may rightly get a 400 or 404. Bounded to about a minute.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.serving import running_server

ROOT = Path(__file__).resolve().parents[1]
ST = Path(sys.executable).with_name("st")
MAX_EXAMPLES = 12


def test_schemathesis_finds_no_failure(store_path: Path, tmp_path: Path) -> None:
    store = tmp_path / "instance" / "corridors.gpkg"
    store.parent.mkdir()
    shutil.copy(store_path, store)
    forbidden = os.pathsep.join([str(ROOT), str(tmp_path), "/tmp/"])
    with running_server(store) as server:
        env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.fuzz_checks", "FUZZ_FORBIDDEN_TEXT": forbidden,
               "PYTHONPATH": str(ROOT)}
        run = subprocess.run(
            [str(ST), "--config-file", str(ROOT / "tests" / "schemathesis.toml"), "run",
             f"{server.base_url}/api/openapi.json", "--max-examples", str(MAX_EXAMPLES),
             "--seed", "20261130", "--workers", "1", "--exclude-checks", "positive_data_acceptance",
             "--request-timeout", "30", "--no-color", "--report-dir", str(tmp_path / "report")],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False)
        server_log = server.log()
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-20000:] + "\n--- server log ---\n" + server_log[-3000:]
    assert "Tested: 15" in out or "Tested:" in out
    assert "Traceback" not in server_log, server_log[-3000:]

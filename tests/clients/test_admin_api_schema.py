"""The admin API's OpenAPI document exercised by schemathesis against a running gateway: every
operation fuzzed and driven statefully, with every check on (no 5xx, statuses, content types
and bodies as documented, schema-valid input accepted and invalid input refused).

The gateway here is its own process (the fuzzing quarantines credentials and revokes keys,
which other tests must not see), with a known admin token. The token-rotation operation is
left out: it would end the run's own authority on its first call.
"""

import os
import subprocess
from pathlib import Path

import pytest

from conftest import binary, read_line, start, stop, wait_healthy

TOKEN = "sya-schemathesis-run"
VENV_BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"


@pytest.fixture(scope="module")
def admin_gateway(mock_upstream, tmp_path_factory):
    exe = binary("SWITCHYARD_BIN", "switchyard")
    work = tmp_path_factory.mktemp("admin")
    cfg = work / "switchyard.toml"
    cfg.write_text(
        f"""
[[providers]]
name = "up"
kind = "openai"
base_url = "{mock_upstream}/v1"
credentials = [{{ name = "file", secret = "sk-file" }}]

[[routes]]
model = "*"
targets = [{{ provider = "up" }}]
"""
    )
    log = work / "stderr.log"
    os.environ["SWITCHYARD_ADMIN_TOKEN"] = TOKEN
    try:
        proc = start(
            [exe, "serve", "--config", cfg, "--listen", "127.0.0.1:0", "--data-dir", work / "data"],
            "switchyard (admin)",
            log,
        )
    finally:
        del os.environ["SWITCHYARD_ADMIN_TOKEN"]
    line = read_line(proc, "switchyard (admin)", log)
    url = line.rsplit(" ", 1)[-1]
    wait_healthy(url, proc, log)
    yield url
    stop(proc, "switchyard (admin)", log)


def test_schemathesis_finds_nothing(admin_gateway):
    run = subprocess.run(
        [
            str(VENV_BIN / "schemathesis"),
            "run",
            f"{admin_gateway}/api/openapi.json",
            "-H",
            f"Authorization: Bearer {TOKEN}",
            "--checks",
            "all",
            "--exclude-path",
            "/api/admin-token/rotate",
            "--max-examples",
            "40",
            "--seed",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]

"""The gateway under test, as real processes: `switchyard-mock` (the testkit's fake upstream,
speaking all four dialects) and `switchyard serve` in front of it, with one provider of each
upstream kind and routes that pick the upstream by the model's name (`via-<upstream>-...`).

Both processes start once per session on ports they choose themselves (each prints its URL),
are polled for readiness with a bound, and are stopped with SIGTERM on teardown; the gateway
must then exit 0. Only processes started here are signalled, by their PID.
"""

import json
import os
import selectors
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from shared import TOOL_ARGS, TOOL_NAME, UPSTREAMS

REPO = Path(__file__).resolve().parents[2]

START_TIMEOUT = 30.0  # seconds a process may take to print its URL or become healthy
STOP_TIMEOUT = 30.0  # seconds a process may take to exit after SIGTERM

# Traffic stays on this machine even when the environment names a proxy.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"


def binary(env: str, name: str) -> Path:
    path = Path(os.environ.get(env) or REPO / "target" / "debug" / name)
    if not path.is_file():
        pytest.exit(
            f"{path} not found: build it with `cargo build -p switchyard-server "
            f"-p switchyard-testkit --bins` (or set {env})",
            returncode=1,
        )
    return path


def read_line(proc: subprocess.Popen, what: str, log: Path) -> str:
    """The first line `proc` prints on stdout, waited for at most START_TIMEOUT seconds."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    try:
        if not sel.select(timeout=START_TIMEOUT):
            stop(proc, what, log, expect_clean=False)
            raise RuntimeError(f"{what} printed nothing in {START_TIMEOUT}s\n{tail(log)}")
    finally:
        sel.close()
    line = proc.stdout.readline().decode().strip()
    if not line:
        stop(proc, what, log, expect_clean=False)
        raise RuntimeError(f"{what} exited before printing its URL\n{tail(log)}")
    return line


def tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def stop(proc: subprocess.Popen, what: str, log: Path, expect_clean: bool = True) -> None:
    """SIGTERM, then wait (bounded); SIGKILL if it hangs. Fails unless it exited 0."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT)
            if expect_clean:
                raise AssertionError(f"{what} ignored SIGTERM for {STOP_TIMEOUT}s\n{tail(log)}")
    if proc.stdout:
        proc.stdout.close()
    if expect_clean and proc.returncode != 0:
        raise AssertionError(f"{what} exited with {proc.returncode}\n{tail(log)}")


def start(args: list, what: str, log: Path) -> subprocess.Popen:
    with open(log, "wb") as err:
        return subprocess.Popen(
            [str(a) for a in args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
        )


def wait_healthy(url: str, proc: subprocess.Popen, log: Path) -> None:
    """Bounded polling of `/health` until it answers 200."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the gateway exited with {proc.returncode}\n{tail(log)}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop(proc, "switchyard", log, expect_clean=False)
            raise RuntimeError(f"{url}/health not ready in {START_TIMEOUT}s\n{tail(log)}")
        time.sleep(0.05)


def config(mock_url: str) -> str:
    """One provider per upstream kind, all on the fake upstream, and a route per provider.
    No catch-all route: any other model is not served (the error tests rely on it)."""
    providers = [
        ("openai", "openai", f"{mock_url}/v1", "gpt-4o"),
        ("anthropic", "anthropic", mock_url, "claude-sonnet-4-5"),
        ("gemini", "gemini", mock_url, "gemini-2.5-flash"),
        ("responses", "openai-responses", f"{mock_url}/v1", "gpt-4o"),
    ]
    out = []
    for name, kind, base_url, model in providers:
        out.append(
            f"""
[[providers]]
name = "{name}"
kind = "{kind}"
base_url = "{base_url}"
credentials = [{{ name = "{name}-key", secret = "sk-{name}" }}]

[[routes]]
model = "via-{name}-*"
targets = [{{ provider = "{name}", model = "{model}" }}]
"""
        )
    out.append(
        """
[[providers]]
name = "mock"
kind = "mock"

[[routes]]
model = "via-mock-*"
targets = [{ provider = "mock" }]
"""
    )
    return "".join(out)


@pytest.fixture(scope="session")
def mock_upstream(tmp_path_factory):
    """The fake upstream's base URL; it echoes the last user text, and answers requests that
    offer tools with a call of TOOL_NAME with TOOL_ARGS."""
    exe = binary("SWITCHYARD_MOCK_BIN", "switchyard-mock")
    log = tmp_path_factory.mktemp("mock") / "stderr.log"
    tool = f"{TOOL_NAME}:{json.dumps(TOOL_ARGS)}"
    proc = start([exe, "--listen", "127.0.0.1:0", "--tool-call", tool], "switchyard-mock", log)
    url = read_line(proc, "switchyard-mock", log)
    assert url.startswith("http://127.0.0.1:"), url
    yield url
    stop(proc, "switchyard-mock", log)


@pytest.fixture(scope="session")
def gateway(mock_upstream, tmp_path_factory):
    """The base URL of a running `switchyard serve` in front of the fake upstream."""
    exe = binary("SWITCHYARD_BIN", "switchyard")
    work = tmp_path_factory.mktemp("gateway")
    cfg = work / "switchyard.toml"
    cfg.write_text(config(mock_upstream))
    log = work / "stderr.log"
    args = [exe, "serve", "--config", cfg, "--listen", "127.0.0.1:0", "--data-dir", work / "data"]
    proc = start(args, "switchyard", log)
    line = read_line(proc, "switchyard", log)
    prefix = "switchyard listening on "
    assert line.startswith(prefix), line
    url = line[len(prefix) :]
    wait_healthy(url, proc, log)
    yield url
    stop(proc, "switchyard", log)


@pytest.fixture(params=UPSTREAMS)
def upstream(request) -> str:
    """The upstream a test's model name routes to."""
    return request.param


@pytest.fixture
def model(upstream) -> str:
    return f"via-{upstream}-model"


@pytest.fixture
def tool_args(upstream) -> dict:
    """The arguments of the tool call each upstream answers with: the fake's scripted ones;
    the built-in mock calls the forced tool with empty arguments."""
    return {} if upstream == "mock" else TOOL_ARGS

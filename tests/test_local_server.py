"""The bundled model's server lives exactly as long as the litreview process that started it,
finds a port even when another process takes the first one, and is only trusted once it is
our own child serving our model."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO

import httpx
import pytest
from conftest import default_signals, litreview_process

from assistant.errors import LocalModelError
from assistant.llm import local
from assistant.llm.local import MODEL_ALIAS, free_port, listening, local_model_server
from assistant.settings import LocalModelSettings

# The library's context manager as a real process: it prints the URL once the model serves.
HOLD_LOCAL_SERVER = """
import time
from assistant.llm.local import local_model_server
from assistant.settings import LocalModelSettings
with local_model_server(LocalModelSettings()) as base_url:
    print(base_url, flush=True)
    time.sleep(600)
"""


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (psutil is not a dependency: read /proc)."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue  # gone meanwhile
        if f"\nPPid:\t{pid}\n" in text:
            found.append(int(status.parent.name))
    return found


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's reaper may be slow, or absent in a container)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return bool(condition())


def serves(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/models", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def reap() -> Iterator[list[int]]:
    """Pids a test saw; any still running at the end are killed, so a failure leaks nothing."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if running(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def require_linux() -> None:
    if not Path("/proc/self/status").exists():
        pytest.skip("finds the server's process through /proc")


# --- the server dies with litreview ----------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL])
def test_model_serve_takes_the_server_down_with_it(require_linux, reap, sig) -> None:
    port = free_port()
    process = litreview_process("model", "serve", "--port", str(port))
    reap.append(process.pid)
    assert wait_for(lambda: serves(f"http://127.0.0.1:{port}/v1"), 60)
    servers = children(process.pid)
    reap.extend(servers)
    assert servers, "model serve runs the server as its child"
    process.send_signal(sig)
    process.wait(timeout=30)
    assert wait_for(lambda: not any(map(running, servers)), 10), "the server outlived litreview"
    assert not serves(f"http://127.0.0.1:{port}/v1")
    assert process.returncode == (-sig if sig == signal.SIGKILL else 128 + sig)
    assert process.stderr is not None and "Traceback" not in process.stderr.read()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_local_model_server_takes_the_server_down_with_it(require_linux, reap, sig) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCAL_SERVER],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=default_signals,  # noqa: PLW1509 - no thread is running in the suite yet
    )
    reap.append(process.pid)
    assert process.stdout is not None
    base_url = process.stdout.readline().strip()
    assert serves(base_url)
    servers = children(process.pid)
    reap.extend(servers)
    assert servers
    process.send_signal(sig)
    process.wait(timeout=30)
    assert wait_for(lambda: not any(map(running, servers)), 10), "the server outlived litreview"
    assert not serves(base_url)


# --- a port taken between choosing it and binding it -----------------------------------------


def test_the_server_moves_on_when_its_port_is_taken(monkeypatch) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        ports = iter([taken])
        monkeypatch.setattr(local, "free_port", lambda: next(ports, None) or free_port())
        with local_model_server(LocalModelSettings()) as base_url:
            assert httpx.URL(base_url).port != taken
            models = httpx.get(f"{base_url}/models", timeout=5).json()
    assert [model["id"] for model in models["data"]] == [MODEL_ALIAS]


def test_a_decoy_on_the_taken_port_is_not_mistaken_for_our_server(monkeypatch) -> None:
    with decoy([MODEL_ALIAS]) as decoy_url:
        taken = httpx.URL(decoy_url).port
        ports = iter([taken])
        monkeypatch.setattr(local, "free_port", lambda: next(ports, None) or free_port())
        with local_model_server(LocalModelSettings()) as base_url:
            assert httpx.URL(base_url).port != taken
            assert serves(base_url)


# --- readiness: our child, serving our model -------------------------------------------------


@contextmanager
def decoy(models: list[str], on_request: Callable[[], object] = lambda: None) -> Iterator[str]:
    """Another process's server on loopback listing `models`; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: object) -> None:
            pass

        def do_GET(self) -> None:
            on_request()
            body = json.dumps({"object": "list", "data": [{"id": m} for m in models]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}/v1"
    finally:
        httpd.shutdown()
        httpd.server_close()


def stand_in(log: IO[bytes], listening_on: str | None) -> subprocess.Popen[bytes]:
    """A live child standing in for our server: it logs what uvicorn logs once it has bound
    `listening_on` (a base URL), while a decoy in this process answers there."""
    line = ""
    if listening_on is not None:
        url = httpx.URL(listening_on)
        line = local.LISTENING.format(host=url.host, port=url.port)
    script = f"print({line!r}, flush=True); import time; time.sleep(60)"
    return subprocess.Popen([sys.executable, "-c", script], stdout=log)


@pytest.fixture
def log() -> Iterator[IO[bytes]]:
    with tempfile.TemporaryFile() as file:
        yield file


@pytest.fixture
def children_started() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        process.kill()
        process.wait()


def test_readiness_accepts_our_live_child_serving_our_model(log, children_started) -> None:
    with decoy([MODEL_ALIAS]) as base_url:
        children_started.append(child := stand_in(log, base_url))
        started = time.monotonic()
        assert local._wait_until_ready(child, base_url, 5, log)
    assert time.monotonic() - started < 3


def test_readiness_refuses_a_server_with_another_model(log, children_started) -> None:
    with decoy(["llama3"]) as base_url:
        children_started.append(child := stand_in(log, base_url))
        with pytest.raises(LocalModelError, match="did not answer"):
            local._wait_until_ready(child, base_url, 1.5, log)


def test_readiness_refuses_our_model_served_before_our_child_binds(log, children_started) -> None:
    with decoy([MODEL_ALIAS]) as base_url:
        children_started.append(child := stand_in(log, None))
        with pytest.raises(LocalModelError, match="did not answer"):
            local._wait_until_ready(child, base_url, 1.5, log)


def test_readiness_refuses_our_model_once_our_child_is_gone(log, children_started) -> None:
    def child_dies() -> None:  # between the liveness check and the answer: the race
        child.kill()
        child.wait()

    with decoy([MODEL_ALIAS], on_request=child_dies) as base_url:
        children_started.append(child := stand_in(log, base_url))
        with pytest.raises(LocalModelError, match="exited"):
            local._wait_until_ready(child, base_url, 5, log)


def test_listening_tells_a_port_in_use_from_a_free_one() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert listening(server.getsockname()[1], 5)
    assert not listening(free_port(), 0.5)

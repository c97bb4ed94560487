"""The OpenAI-compatible embedder over real HTTP, against a small /v1/embeddings server on loopback."""

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import numpy as np
import pytest

from tests.conftest import SEEDS

DIMENSION = 16


def _vector(text: str) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [b - 128.0 for b in digest[:DIMENSION]]


class EmbeddingsHandler(BaseHTTPRequestHandler):
    """Answers POST /v1/embeddings like OpenAI does, with a vector derived from each text."""

    requests: ClassVar[list[dict]] = []
    delay = 0.0  # seconds before answering, to outlast a client's timeout

    def do_POST(self) -> None:  # http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        time.sleep(self.delay)
        if self.path != "/v1/embeddings":
            self.send_error(404)
            return
        inputs = body["input"]
        data = [
            {"object": "embedding", "index": i, "embedding": _vector(text)}
            for i, text in reversed(list(enumerate(inputs)))  # out of order, as servers may be
        ]
        payload = json.dumps(
            {
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        try:
            self.wfile.write(payload)
        except OSError:  # the client gave up waiting
            pass

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def embeddings_server() -> Iterator[str]:
    EmbeddingsHandler.requests = []
    EmbeddingsHandler.delay = 0.0
    server = ThreadingHTTPServer(("127.0.0.1", 0), EmbeddingsHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_openai_embedder_returns_unit_vectors_in_input_order(embeddings_server: str) -> None:
    from assistant.embedders import make_embedder
    from assistant.settings import EmbeddingSettings

    settings = EmbeddingSettings(
        backend="openai", model="nomic-embed-text", base_url=embeddings_server, batch_size=2
    )
    vectors = make_embedder(settings).embed(["alpha", "beta", "gamma"])
    expected = np.array([_vector(t) for t in ["alpha", "beta", "gamma"]])
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(vectors, expected, rtol=1e-5)
    assert [len(r["input"]) for r in EmbeddingsHandler.requests] == [2, 1]


def test_ingest_through_an_embeddings_endpoint_records_that_embedder(
    cli, monkeypatch, embeddings_server: str
) -> None:
    monkeypatch.setenv("LITREVIEW_EMBEDDINGS__BACKEND", "openai")
    monkeypatch.setenv("LITREVIEW_EMBEDDINGS__MODEL", "nomic-embed-text")
    monkeypatch.setenv("LITREVIEW_EMBEDDINGS__BASE_URL", embeddings_server)
    monkeypatch.setenv("LITREVIEW_EMBEDDINGS__API_KEY", "sk-test-secret")
    result = cli("ingest", SEEDS / "000_ed3e69f438f02173.txt", "--json")
    assert result.code == 0, result.err
    assert result.json()["added"] == 39
    info = cli("store", "info", "--json").json()
    assert (info["embedder"], info["dimension"]) == ("openai:nomic-embed-text", DIMENSION)
    assert EmbeddingsHandler.requests[0]["auth"] == "Bearer sk-test-secret"

    monkeypatch.setenv("LITREVIEW_EMBEDDINGS__BACKEND", "minilm")
    monkeypatch.setenv("LITREVIEW_EMBEDDINGS__MODEL", "all-MiniLM-L6-v2")
    refused = cli("ingest", SEEDS / "000_ed3e69f438f02173.txt")
    assert refused.code == 1 and "'openai:nomic-embed-text'" in refused.err


def test_unreachable_endpoint_is_one_clear_line(cli, monkeypatch) -> None:
    monkeypatch.setenv("LITREVIEW_EMBEDDINGS__BACKEND", "openai")
    monkeypatch.setenv("LITREVIEW_EMBEDDINGS__BASE_URL", "http://127.0.0.1:9/v1")
    result = cli("ingest", SEEDS / "000_ed3e69f438f02173.txt")
    assert result.code == 1
    assert "LITREVIEW_EMBEDDINGS__BASE_URL" in result.err and "Traceback" not in result.err
    assert cli("store", "info", "--json").json()["papers"] == 0


def test_the_configured_timeout_and_retries_reach_the_client(
    cli, monkeypatch, embeddings_server: str
) -> None:
    EmbeddingsHandler.delay = 1.5  # well past the timeout, well within the old fixed 60 s
    monkeypatch.setenv("LITREVIEW_EMBEDDINGS__BACKEND", "openai")
    monkeypatch.setenv("LITREVIEW_EMBEDDINGS__BASE_URL", embeddings_server)
    monkeypatch.setenv("LITREVIEW_EMBEDDINGS__TIMEOUT", "0.2")
    monkeypatch.setenv("LITREVIEW_EMBEDDINGS__MAX_RETRIES", "1")
    result = cli("ingest", SEEDS / "000_ed3e69f438f02173.txt")
    assert result.code == 1
    assert "within 0.2 s (1 retry)" in result.err and "LITREVIEW_EMBEDDINGS__TIMEOUT" in result.err
    assert len(EmbeddingsHandler.requests) == 2  # the first try and one retry

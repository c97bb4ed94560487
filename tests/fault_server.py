"""A scripted OpenAI-compatible server on loopback that misbehaves on purpose.

Each chat request takes the next reply from the script; the last one repeats once the script
runs out. Every request is recorded. Hangs are bounded, so the server always stops by itself.
"""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

MODEL = "scripted-model"
HANG_SECONDS = 3.0


@dataclass
class Reply:
    """One scripted answer: `kind` picks the behaviour, `content` the text where there is one."""

    kind: str = "ok"
    content: str = "scripted answer"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


def ok(content: str = "scripted answer") -> Reply:
    return Reply("ok", content)


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply("error", message, status, headers or {})


class FaultServer:
    """Start with `with FaultServer([...]) as server:`; `server.base_url` ends in /v1."""

    def __init__(self, script: list[Reply], models: list[str] | None = None) -> None:
        self.script = list(script)
        self.models = [MODEL] if models is None else models
        self.requests: list[dict[str, Any]] = []
        self.authorizations: list[str] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_port}/v1"

    def __enter__(self) -> Self:
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        return [request for request in self.requests if "messages" in request]

    def next_reply(self, request: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(request)
            return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: object) -> None:
                pass

            def do_GET(self) -> None:
                server.authorizations.append(self.headers.get("Authorization", ""))
                if self.path.rstrip("/") != "/v1/models":
                    self._json(404, {"detail": "Not Found"})
                    return
                models = [
                    {"id": name, "object": "model", "owned_by": "test"} for name in server.models
                ]
                self._json(200, {"object": "list", "data": models})

            def do_POST(self) -> None:
                server.authorizations.append(self.headers.get("Authorization", ""))
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                reply = server.next_reply(body)
                if self.path != "/v1/chat/completions":
                    self._json(404, {"detail": "Not Found"})
                elif reply.kind == "error":
                    self._json(
                        reply.status,
                        {"error": {"message": reply.content}},
                        reply.headers,
                    )
                elif reply.kind == "hang":
                    time.sleep(HANG_SECONDS)
                    self.close_connection = True
                elif reply.kind == "malformed":
                    self._raw(
                        200,
                        b'{"id": "x", "choices": [ {"message": ',
                        "application/json",
                    )
                else:
                    self._json(200, completion(body, reply.content))

            def _json(
                self, status: int, payload: Any, headers: dict[str, str] | None = None
            ) -> None:
                self._raw(status, json.dumps(payload).encode(), "application/json", headers)

            def _raw(
                self,
                status: int,
                body: bytes,
                content_type: str,
                headers: dict[str, str] | None = None,
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        return Handler


def completion(request: dict[str, Any], content: str) -> dict[str, Any]:
    """A well-formed chat completion answering `request` with `content`."""
    return {
        "id": "c",
        "object": "chat.completion",
        "created": 0,
        "model": request.get("model", MODEL),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14},
    }

"""`litreview model ping` and `model serve`, and the ChatModel against the real bundled model
behind llama-cpp-python's server."""

import json
import signal
import time

import httpx
import pytest
from conftest import litreview_process
from fault_server import MODEL, FaultServer, error, ok
from pydantic import BaseModel

from assistant.llm.chat import ChatModel
from assistant.llm.local import MODEL_ALIAS, free_port
from assistant.settings import LLMSettings

SECRET = "sk-test-00112233445566778899"


class Topic(BaseModel):
    """The grammar guarantees this shape; value constraints would be the model's job."""

    topic: str
    keywords: list[str]


def local_chat(base_url: str, **overrides: object) -> ChatModel:
    settings = {
        "base_url": base_url,
        "model": MODEL_ALIAS,
        "max_output_tokens": 48,
        **overrides,
    }
    return ChatModel(LLMSettings(**settings))  # type: ignore[arg-type]


# --- ping against scripted endpoints ---------------------------------------------------------


def test_ping_reports_endpoint_model_reply_and_usage(cli) -> None:
    with FaultServer([ok("ready")]) as server:
        result = cli("model", "ping", "--llm", server.base_url)
    assert result.code == 0, result.err
    assert f"endpoint  {server.base_url}  reachable, lists 1 model(s)" in result.out
    assert f"model     {MODEL}  served" in result.out
    assert "reply     'ready'" in result.out
    assert "usage: 1 LLM call, 11 prompt + 3 completion tokens" in result.err


def test_ping_json(cli) -> None:
    with FaultServer([ok("ready")]) as server:
        result = cli("model", "ping", "--llm", server.base_url, "--json")
    report = result.json()
    assert report["models"] == [MODEL] and report["model"] == MODEL  # type: ignore[index]
    assert report["reply"] == "ready"  # type: ignore[index]
    assert report["usage"]["llm_calls"] == 1  # type: ignore[index]


def test_ping_names_the_models_an_endpoint_serves_when_ours_is_missing(cli) -> None:
    with FaultServer([ok()], models=["llama3", "qwen2"]) as server:
        result = cli("model", "ping", "--llm", server.base_url, "--model", "mistral")
    assert result.code == 1
    assert "does not serve 'mistral'; it serves: llama3, qwen2" in result.err
    assert server.chat_requests == []


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ([error(401, "Incorrect API key provided")], "refused the API key (401)"),
        ([error(500, "boom")], "server error (500) after 0 retries"),
    ],
)
def test_ping_failures_are_one_line_without_the_key(cli, monkeypatch, script, expected) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("LITREVIEW_LLM__MAX_RETRIES", "0")
    with FaultServer(script) as server:
        result = cli("model", "ping", "--llm", server.base_url)
    assert result.code == 1
    assert result.err.startswith("Error: ") and expected in result.err
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err
    assert SECRET not in result.out + result.err


def test_ping_of_nothing_listening_says_what_to_fix(cli, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    monkeypatch.setenv("LITREVIEW_LLM__MAX_RETRIES", "0")
    result = cli("model", "ping")
    assert result.code == 1
    assert "Cannot connect" in result.err and "OPENAI_BASE_URL" in result.err


# --- the real bundled model ------------------------------------------------------------------


def test_local_model_completes(local_model: str) -> None:
    chat = local_chat(local_model)
    answer = chat.complete([{"role": "user", "content": "Name a colour."}])
    assert answer.text.strip()
    assert answer.finish_reason in ("stop", "length")
    assert chat.usage.prompt_tokens > 0 and chat.usage.completion_tokens > 0


def test_local_model_gives_schema_valid_json(local_model: str) -> None:
    chat = local_chat(local_model, structured_output="json_object", max_output_tokens=256)
    prompt = "Abstract: 'We train transformers to predict protein structure.' Topic, keywords?"
    topic = chat.structured([{"role": "user", "content": prompt}], Topic)
    assert topic.topic.strip()


def test_auto_structured_output_finds_the_mode_llama_cpp_accepts(
    local_model: str,
) -> None:
    chat = local_chat(local_model, max_retries=0, max_output_tokens=256)  # structured: auto
    prompt = "Abstract: 'We measure sleep in mice.' Topic and keywords?"
    assert isinstance(chat.structured([{"role": "user", "content": prompt}], Topic), Topic)
    assert chat.structured_output.modes[0] == "json_object"


def test_ping_with_llm_local_starts_and_stops_the_bundled_model() -> None:
    process = litreview_process("model", "ping", "--llm", "local", "--json")
    out, err = process.communicate(timeout=180)
    assert process.returncode == 0, err
    report = json.loads(out)
    assert report["model"] == MODEL_ALIAS and report["reply"]
    port = httpx.URL(report["base_url"]).port
    with pytest.raises(httpx.ConnectError):  # the server is gone with the command
        httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=1)


def test_model_serve_answers_until_interrupted(cli) -> None:
    port = free_port()
    server = litreview_process("model", "serve", "--port", str(port))
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and server.poll() is None:
            try:
                httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        result = cli("model", "ping", "--llm", f"http://127.0.0.1:{port}/v1", "--json")
        assert result.code == 0, result.err
        assert result.json()["model"] == MODEL_ALIAS  # type: ignore[index]
    finally:
        server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=30)
    assert f"export OPENAI_BASE_URL=http://127.0.0.1:{port}/v1" in err
    assert "Traceback" not in err

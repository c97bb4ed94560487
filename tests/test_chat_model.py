"""The ChatModel seam against a fault-injecting OpenAI-compatible server on loopback: retries,
timeouts, malformed answers and semantic re-asks each end where the docs say they do."""

import time
from pathlib import Path
from typing import Any

import pytest
from fault_server import MODEL, FaultServer, Reply, error, ok
from pydantic import BaseModel

from assistant.errors import (
    ContextTooLongError,
    ModelAuthError,
    ModelError,
    ModelNotFoundError,
    ModelResponseError,
    ModelTimeoutError,
    ModelUnreachableError,
)
from assistant.llm.chat import ChatModel
from assistant.settings import LLMSettings, ModelPrice

QUESTION = [{"role": "user", "content": "What do the papers say?"}]
SECRET = "sk-test-0123456789abcdef"


class Finding(BaseModel):
    claim: str
    papers: list[int]


def chat_model(server: FaultServer, **overrides: Any) -> ChatModel:
    settings: dict[str, Any] = {
        "base_url": server.base_url,
        "api_key": SECRET,
        "timeout": 0.5,
        "max_retries": 1,
        **overrides,
    }
    return ChatModel(LLMSettings(**settings))


def test_completion_reports_tokens_and_cost() -> None:
    prices = {MODEL: ModelPrice(prompt=1.0, completion=2.0)}
    with FaultServer([ok("They agree.")]) as server:
        chat = chat_model(server, prices=prices)
        answer = chat.complete(QUESTION)
    assert answer.text == "They agree."
    assert chat.usage.as_json() == {
        "llm_calls": 1,
        "cached_calls": 0,
        "prompt_tokens": 11,
        "completion_tokens": 3,
        "cost": pytest.approx((11 * 1.0 + 3 * 2.0) / 1e6),
    }
    assert server.authorizations == [f"Bearer {SECRET}"] * 2  # /models, then the completion


def test_cost_is_unknown_when_the_model_has_no_price() -> None:
    with FaultServer([ok()]) as server:
        chat = chat_model(server, prices={"other-model": ModelPrice(prompt=1, completion=1)})
        chat.complete(QUESTION)
    assert chat.usage.as_json()["cost"] is None
    assert "cost" not in chat.usage.summary()


def test_429_waits_for_retry_after_then_succeeds() -> None:
    script = [error(429, "slow down", {"Retry-After": "1"}), ok("after waiting")]
    with FaultServer(script) as server:
        started = time.monotonic()
        answer = chat_model(server).complete(QUESTION)
        waited = time.monotonic() - started
    assert answer.text == "after waiting"
    assert len(server.chat_requests) == 2
    assert waited >= 1.0


def test_429_that_never_ends_is_a_clear_error_after_the_retries() -> None:
    with FaultServer([error(429, "slow down", {"Retry-After": "0.1"})]) as server:
        with pytest.raises(ModelError, match=r"rate-limiting \(429\) after 1 retry.*max_retries"):
            chat_model(server).complete(QUESTION)
    assert len(server.chat_requests) == 2


def test_500_is_retried_then_reported() -> None:
    with FaultServer([error(500, "boom")]) as server:
        with pytest.raises(ModelError, match=r"server error \(500\) after 2 retries"):
            chat_model(server, max_retries=2).complete(QUESTION)
    assert len(server.chat_requests) == 3


def test_500_then_success_recovers() -> None:
    with FaultServer([error(500, "boom"), ok("recovered")]) as server:
        assert chat_model(server).complete(QUESTION).text == "recovered"


def test_a_hang_past_the_timeout_is_retried_then_reported() -> None:
    with (
        FaultServer([Reply("hang")]) as server,
        pytest.raises(ModelTimeoutError, match=r"within 0.5 s \(1 retry\).*llm.timeout"),
    ):
        chat_model(server).complete(QUESTION)
    assert len(server.chat_requests) == 2


def test_malformed_json_is_a_clear_error() -> None:
    with (
        FaultServer([Reply("malformed")]) as server,
        pytest.raises(ModelResponseError, match="not an OpenAI-compatible chat completion"),
    ):
        chat_model(server).complete(QUESTION)


def test_401_is_not_retried_and_never_shows_the_key() -> None:
    with FaultServer([error(401, "Incorrect API key provided")]) as server:
        with pytest.raises(ModelAuthError, match="refused the API key.*OPENAI_API_KEY") as caught:
            chat_model(server).complete(QUESTION)
    assert len(server.chat_requests) == 1
    assert SECRET not in str(caught.value)


def test_a_key_echoed_by_the_server_is_masked() -> None:
    with FaultServer([error(418, f"bad key {SECRET}")]) as server:
        with pytest.raises(ModelError) as caught:
            chat_model(server).complete(QUESTION)
    assert SECRET not in str(caught.value)
    assert "***" in str(caught.value)


def test_a_short_key_is_not_masked_in_free_text() -> None:
    with FaultServer([error(418, "fix the prefix")]) as server:
        with pytest.raises(ModelError) as caught:
            chat_model(server, api_key="x").complete(QUESTION)
    assert "fix the prefix" in str(caught.value) and "***" not in str(caught.value)


def test_only_the_keys_own_occurrences_are_masked() -> None:
    with FaultServer([error(418, f"bad key {SECRET}; keys start sk-test-")]) as server:
        with pytest.raises(ModelError) as caught:
            chat_model(server).complete(QUESTION)
    assert "bad key ***; keys start sk-test-" in str(caught.value)


def test_unknown_model_and_wrong_url_are_told_apart() -> None:
    with FaultServer([error(404, "The model `gpt-9` does not exist")]) as server:
        with pytest.raises(ModelNotFoundError, match="does not serve the model 'gpt-9'"):
            chat_model(server, model="gpt-9").complete(QUESTION)
        wrong_url = server.base_url.removesuffix("/v1") + "/api"
        with pytest.raises(ModelUnreachableError, match="404.*usually end in /v1"):
            chat_model(server, base_url=wrong_url, model=MODEL).complete(QUESTION)


def test_connection_refused_names_the_base_url_setting() -> None:
    with FaultServer([ok()]) as server:
        url = server.base_url
    with pytest.raises(ModelUnreachableError, match="Cannot connect.*LITREVIEW_LLM__BASE_URL"):
        ChatModel(LLMSettings(base_url=url, model=MODEL, max_retries=0)).complete(QUESTION)


def test_no_endpoint_and_no_key_says_how_to_configure_one() -> None:
    with pytest.raises(ModelAuthError, match="OPENAI_BASE_URL.*OPENAI_API_KEY.*--llm local"):
        ChatModel(LLMSettings())


def test_a_prompt_over_the_context_window_is_refused_before_sending() -> None:
    long_question = [{"role": "user", "content": "word " * 2_000}]
    with (
        FaultServer([ok()]) as server,
        pytest.raises(ContextTooLongError, match=r"about 2,0\d\d tokens.*context_window"),
    ):
        chat_model(server, model=MODEL, context_window=1_000).complete(long_question)
    assert server.chat_requests == []


def test_the_completion_budget_shrinks_to_what_the_window_leaves() -> None:
    question = [{"role": "user", "content": "word " * 500}]
    with FaultServer([ok()]) as server:
        chat_model(server, context_window=1_000, max_output_tokens=900).complete(question)
    # 1,000 tokens with 10% kept free leaves 900; the prompt takes 508 of them
    assert server.chat_requests[0]["max_tokens"] == 900 - 508


def test_a_context_error_from_the_server_is_reported_as_such() -> None:
    with (
        FaultServer([error(400, "This model's maximum context length is 2048 tokens")]) as server,
        pytest.raises(ContextTooLongError, match="context_window"),
    ):
        chat_model(server).complete(QUESTION)


def test_the_only_served_model_is_used_when_none_is_set() -> None:
    with FaultServer([ok()], models=["only-one"]) as server:
        chat_model(server).complete(QUESTION)
    assert server.chat_requests[0]["model"] == "only-one"


def test_several_served_models_and_none_set_asks_for_one() -> None:
    with FaultServer([ok()], models=["a", "b"]) as server:
        with pytest.raises(ModelNotFoundError, match=r"serves 2 \(a, b\).*llm.model"):
            chat_model(server).complete(QUESTION)


def test_structured_output_asks_for_a_json_schema() -> None:
    with FaultServer([ok('{"claim": "x", "papers": [1]}')]) as server:
        finding = chat_model(server).structured(QUESTION, Finding)
    assert finding == Finding(claim="x", papers=[1])
    response_format = server.chat_requests[0]["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["schema"] == Finding.model_json_schema()


def test_an_endpoint_refusing_schemas_gets_text_instructions_from_then_on() -> None:
    refusal = error(400, "response_format is not supported")
    reply = ok('Here you go: ```json\n{"claim": "x", "papers": [2]}\n```')
    with FaultServer([refusal, refusal, reply]) as server:
        chat = chat_model(server)
        assert chat.structured(QUESTION, Finding).papers == [2]
        assert chat.structured(QUESTION, Finding).papers == [2]
    formats = [request.get("response_format", {}).get("type") for request in server.chat_requests]
    assert formats == ["json_schema", "json_object", None, None]
    instruction = server.chat_requests[2]["messages"][0]
    assert instruction["role"] == "system" and '"papers"' in instruction["content"]


# Text Generation Inference's reply to a prompt over the window: no word "context" in it
TGI_WINDOW = "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 2048. Given: 2100 `inputs` tokens and 1024 `max_new_tokens`"


@pytest.mark.parametrize("status", [400, 422])
def test_a_context_length_error_does_not_downgrade_structured_output(status: int) -> None:
    reply = ok('{"claim": "x", "papers": [1]}')
    with FaultServer([error(status, TGI_WINDOW), reply]) as server:
        chat = chat_model(server)
        with pytest.raises(ContextTooLongError, match="too long for the model's context window"):
            chat.structured(QUESTION, Finding)
        assert chat.structured(QUESTION, Finding).papers == [1]
    formats = [request["response_format"]["type"] for request in server.chat_requests]
    assert formats == ["json_schema", "json_schema"]


def test_a_bad_request_that_does_not_name_the_format_is_reported_not_downgraded() -> None:
    with FaultServer([error(400, "temperature must be at most 1.0 for this model")]) as server:
        with pytest.raises(ModelError, match=r"rejected the request \(400: .*temperature"):
            chat_model(server).structured(QUESTION, Finding)
    assert len(server.chat_requests) == 1


@pytest.mark.parametrize(
    "message",
    [
        "response_format is not supported",
        "Unsupported value: 'json_schema'",
        "this model does not support tools or grammar-constrained output",
    ],
)
def test_a_refusal_naming_the_format_moves_to_the_next_mode(message: str) -> None:
    with FaultServer([error(400, message), ok('{"claim": "x", "papers": [1]}')]) as server:
        assert chat_model(server).structured(QUESTION, Finding).papers == [1]
    formats = [request["response_format"]["type"] for request in server.chat_requests]
    assert formats == ["json_schema", "json_object"]


def test_off_schema_output_is_re_asked_with_the_error() -> None:
    with FaultServer([ok('{"claim": "x"}'), ok('{"claim": "x", "papers": [3]}')]) as server:
        finding = chat_model(server).structured(QUESTION, Finding)
    assert finding.papers == [3]
    repair = server.chat_requests[1]["messages"]
    assert repair[-2] == {"role": "assistant", "content": '{"claim": "x"}'}
    assert "papers: Field required" in repair[-1]["content"]


def test_output_that_never_fits_ends_after_the_repair_attempts() -> None:
    with FaultServer([ok("I cannot answer in JSON.")]) as server:
        with pytest.raises(ModelResponseError, match="in 3 attempts.*repair_attempts"):
            chat_model(server, repair_attempts=2).structured(QUESTION, Finding)
    assert len(server.chat_requests) == 3


def test_the_response_cache_makes_a_rerun_free_and_holds_no_key(tmp_path: Path) -> None:
    cache = {"cache": True, "cache_dir": tmp_path / "responses"}
    with FaultServer([ok("first answer")]) as server:
        first = chat_model(server, **cache)
        first.complete(QUESTION)
        rerun = chat_model(server, **cache)
        assert rerun.complete(QUESTION).text == "first answer"
        assert rerun.usage.as_json()["llm_calls"] == 0 and rerun.usage.cached_calls == 1
        chat_model(server, temperature=0.7, **cache).complete(QUESTION)  # other parameters: a miss
    assert len(server.chat_requests) == 2
    files = list((tmp_path / "responses").rglob("*.json"))
    assert len(files) == 2
    assert all(SECRET not in file.read_text() for file in files)

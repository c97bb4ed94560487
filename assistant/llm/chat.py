"""The ChatModel seam: any OpenAI-compatible chat endpoint, through the `openai` client.

Transport failures (connection, 429, 5xx, timeouts) are retried by the SDK itself, with its
backoff and Retry-After handling, `llm.max_retries` times. Semantic failures (output that does
not parse or fit its schema) are retried here with tenacity, re-asking with the error,
`llm.repair_attempts` times. Every failure ends as a one-line ModelError naming the setting to
change.
"""

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

import openai
from pydantic import BaseModel, ValidationError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from assistant.errors import (
    ContextTooLongError,
    ModelAuthError,
    ModelError,
    ModelNotFoundError,
    ModelResponseError,
    ModelTimeoutError,
    ModelUnreachableError,
)
from assistant.llm.budget import message_tokens, usable_window
from assistant.llm.cache import CachedResponse, ResponseCache
from assistant.llm.usage import Usage
from assistant.prompts import render
from assistant.settings import LLMSettings
from assistant.tokens import count_tokens

Message = dict[str, str]
Schema = TypeVar("Schema", bound=BaseModel)

# A prompt that leaves less room than this for the answer is refused before it is sent.
MIN_COMPLETION_TOKENS = 16
STRUCTURED_MODES = ("json_schema", "json_object", "text")
# Keys shorter than this are not masked in error text: a key like "x" (local servers take any)
# matches inside ordinary words, and masking it there garbles the message ("fi*** the ...").
MIN_MASKED_KEY = 8
# A 400/413/422 saying the prompt is over the window: OpenAI and vLLM ("maximum context
# length"), llama.cpp ("exceeds the available context size"), TGI ("tokens + max_new_tokens
# must be <= 2048").
CONTEXT_ERROR = re.compile(
    r"context|too long|too many tokens|maximum.*tokens|tokens.*(exceed|must be <=|limit)",
    re.IGNORECASE,
)
CONTEXT_STATUSES = (400, 413, 422)
# A refusal of the structured-output request names what it refuses; any other 400 (a bad
# temperature, a prompt over the window) must not change how later requests ask for JSON.
FORMAT_PARAMETER = re.compile(
    r"response_format|json_schema|json_object|schema|structured|grammar|guided|\btools?\b",
    re.IGNORECASE,
)


@dataclass
class Completion:
    """One model answer and what it cost."""

    text: str
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int
    cached: bool = False


class OffSchemaOutput(Exception):
    """The model's output did not parse or fit the schema; the next attempt re-asks."""


class ChatModel:
    """Completions and schema-checked JSON from one OpenAI-compatible endpoint."""

    def __init__(self, settings: LLMSettings, usage: Usage | None = None, section: str = "llm"):
        self.settings = settings
        self.section = section
        self.usage = usage if usage is not None else Usage(prices=settings.prices)
        self.cache = ResponseCache(settings.cache_dir) if settings.cache else None
        self.where = settings.base_url or "the OpenAI API"
        self._secret = settings.api_key.get_secret_value() if settings.api_key else None
        if settings.base_url is None and self._secret is None:
            raise ModelAuthError(
                "No model endpoint is configured: set OPENAI_BASE_URL (or "
                f"{self._setting('base_url')}) to a local server such as Ollama or vLLM, or "
                f"set OPENAI_API_KEY (or {self._setting('api_key')}) to use the OpenAI API; "
                "`--llm local` runs the bundled model."
            )
        self.client = openai.OpenAI(
            base_url=settings.base_url,
            # Local servers (vLLM, llama.cpp, Ollama) accept any key; the SDK insists on one.
            api_key=self._secret or "unused",
            timeout=settings.timeout,
            max_retries=settings.max_retries,
        )
        # auto tries each mode in turn and keeps the first the endpoint accepts
        self._structured_modes = (
            list(STRUCTURED_MODES)
            if settings.structured_output == "auto"
            else [settings.structured_output]
        )

    # --- what the endpoint serves -------------------------------------------------------

    def served_models(self) -> list[str]:
        """Ids the endpoint lists at `/models`."""
        try:
            return [model.id for model in self.client.models.list()]
        except openai.OpenAIError as exc:
            raise self._translate(exc) from exc

    @cached_property
    def model(self) -> str:
        """The configured model, or the endpoint's only one when none is configured."""
        if self.settings.model:
            return self.settings.model
        served = self.served_models()
        if len(served) == 1:
            return served[0]
        listed = ", ".join(served[:10]) or "none"
        raise ModelNotFoundError(
            f"No chat model is set and {self.where} serves {len(served)} ({listed}): "
            f"set {self._setting('model')}."
        )

    # --- calls --------------------------------------------------------------------------

    def complete(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int | None = None,
        response_format: dict[str, Any] | None = None,
    ) -> Completion:
        """One completion; from the cache when an identical call was made before."""
        request = self._request(messages, max_tokens, response_format)
        key = self._cache_key(request)
        if cached := self._cached(key):
            return cached
        try:
            response = self.client.chat.completions.create(**request)
            choice = response.choices[0]
        except openai.OpenAIError as exc:
            raise self._translate(exc) from exc
        except (json.JSONDecodeError, AttributeError, IndexError, TypeError) as exc:
            raise self._malformed() from exc
        text = choice.message.content or ""
        return self._finish(key, messages, text, choice.finish_reason, response.usage)

    def structured(
        self,
        messages: Sequence[Message],
        schema: type[Schema],
        *,
        max_tokens: int | None = None,
        parse: Callable[[str], Schema] | None = None,
    ) -> Schema:
        """An answer parsed into `schema`: JSON-schema output where the endpoint supports it,
        instructions in the prompt where not; off-schema output is re-asked with the error.
        `parse` reads a reply more leniently than the default (the JSON object in it, validated
        against `schema`); it raises ValidationError for a reply it cannot read."""
        read = parse or (lambda text: schema.model_validate_json(json_text(text)))
        schema_text = json.dumps(schema.model_json_schema())
        conversation = list(messages)
        attempts = Retrying(
            stop=stop_after_attempt(self.settings.repair_attempts + 1),
            retry=retry_if_exception_type(OffSchemaOutput),
            reraise=True,
        )
        try:
            for attempt in attempts:
                with attempt:
                    text = self._structured_text(conversation, schema, schema_text, max_tokens)
                    try:
                        return read(text)
                    except ValidationError as exc:
                        error = _first_error(exc)
                        conversation += [
                            {"role": "assistant", "content": text},
                            {
                                "role": "user",
                                "content": render("repair_output", error=error, schema=schema_text),
                            },
                        ]
                        raise OffSchemaOutput(error) from exc
        except OffSchemaOutput as exc:
            raise ModelResponseError(
                f"{self.model} at {self.where} gave no output matching the expected format in "
                f"{self.settings.repair_attempts + 1} attempts (last problem: {exc}): use a "
                f"stronger model ({self._setting('model')}) or raise "
                f"{self._setting('repair_attempts')}."
            ) from exc
        raise AssertionError("unreachable: tenacity either returns or raises")

    # --- internals ----------------------------------------------------------------------

    def _structured_text(
        self,
        conversation: list[Message],
        schema: type[BaseModel],
        schema_text: str,
        max_tokens: int | None,
    ) -> str:
        while (mode := self._structured_modes[0]) != "text":
            try:
                return self.complete(
                    conversation,
                    max_tokens=max_tokens,
                    response_format=response_format(mode, schema),
                ).text
            except ModelError as exc:
                if len(self._structured_modes) == 1 or not refused_format(exc):
                    raise
                self._structured_modes.pop(0)  # this endpoint gets the next mode from now on
        instructed = with_instruction(conversation, render("structured_output", schema=schema_text))
        return self.complete(instructed, max_tokens=max_tokens).text

    def _request(
        self,
        messages: Sequence[Message],
        max_tokens: int | None,
        response_format: dict[str, Any] | None,
    ) -> dict[str, Any]:
        prompt_tokens = message_tokens(messages)
        window = usable_window(self.settings.context_window, self.settings.tokenizer_margin)
        room = window - prompt_tokens
        if room < MIN_COMPLETION_TOKENS:
            raise ContextTooLongError(
                f"The prompt needs about {prompt_tokens:,} tokens but {self._setting('context_window')}"
                f" is {self.settings.context_window:,} ({self.settings.tokenizer_margin:.0%} kept "
                "free for tokenizer differences): raise it if the model accepts more, or give "
                "the command less text."
            )
        request: dict[str, Any] = {
            "model": self.model,
            "messages": list(messages),
            "max_tokens": min(max_tokens or self.settings.max_output_tokens, room),
            "temperature": self.settings.temperature,
        }
        if response_format:
            request["response_format"] = response_format
        return request

    def _cache_key(self, request: dict[str, Any]) -> str:
        return ResponseCache.key({"base_url": self.where, **request})

    def _cached(self, key: str) -> Completion | None:
        if self.cache is None or (hit := self.cache.get(key)) is None:
            return None
        self.usage.record_cached()
        return Completion(
            hit.text,
            hit.finish_reason,
            hit.prompt_tokens,
            hit.completion_tokens,
            cached=True,
        )

    def _finish(
        self,
        key: str,
        messages: Sequence[Message],
        text: str,
        finish_reason: str | None,
        usage: Any,
    ) -> Completion:
        """Record the call's tokens (counted here when the endpoint reports none) and cache it."""
        if usage:
            prompt, completion = usage.prompt_tokens, usage.completion_tokens
        else:
            prompt, completion = message_tokens(messages), count_tokens(text)
        self.usage.record(self.model, prompt, completion)
        if self.cache is not None:
            self.cache.put(
                key,
                CachedResponse(
                    text=text,
                    finish_reason=finish_reason,
                    prompt_tokens=prompt,
                    completion_tokens=completion,
                ),
            )
        return Completion(text, finish_reason, prompt, completion)

    def _setting(self, name: str) -> str:
        return f"{self.section}.{name} (LITREVIEW_{self.section.upper()}__{name.upper()})"

    def _malformed(self) -> ModelResponseError:
        return ModelResponseError(
            f"{self.where} answered with something that is not an OpenAI-compatible chat "
            f"completion: check that {self._setting('base_url')} points at the API (it usually "
            "ends in /v1)."
        )

    def _translate(self, exc: openai.OpenAIError) -> ModelError:
        """A one-line error naming the setting to change; never the API key."""
        retries = (
            f"{self.settings.max_retries} retr{'y' if self.settings.max_retries == 1 else 'ies'}"
        )
        model = self.__dict__.get("model") or self.settings.model  # resolved, if it was
        error: ModelError
        if isinstance(exc, openai.APITimeoutError):
            error = ModelTimeoutError(
                f"{self.where} did not answer within {self.settings.timeout:g} s ({retries}): "
                f"raise {self._setting('timeout')} for a slow model, or check the server."
            )
        elif isinstance(exc, openai.APIConnectionError):
            error = ModelUnreachableError(
                f"Cannot connect to {self.where} ({_cause(exc)}): start the server, or fix "
                f"{self._setting('base_url')}, also read from OPENAI_BASE_URL."
            )
        elif isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            error = ModelAuthError(
                f"{self.where} refused the API key ({exc.status_code}): set "
                f"{self._setting('api_key')} or OPENAI_API_KEY to a valid key."
            )
        elif isinstance(exc, openai.NotFoundError) and "model" in str(exc).lower():
            error = ModelNotFoundError(
                f"{self.where} does not serve the model '{model}': set "
                f"{self._setting('model')} to one it serves (`litreview model ping` lists them)."
            )
        elif isinstance(exc, openai.NotFoundError):
            error = ModelUnreachableError(
                f"{self.where} has no chat-completions API (404): {self._setting('base_url')} is "
                "probably wrong; OpenAI-compatible URLs usually end in /v1."
            )
        elif isinstance(exc, openai.RateLimitError):
            error = ModelError(
                f"{self.where} was still rate-limiting (429) after {retries}: wait and run the "
                f"command again, or raise {self._setting('max_retries')}."
            )
        elif isinstance(exc, openai.InternalServerError):
            error = ModelError(
                f"{self.where} failed with a server error ({exc.status_code}) after {retries}: "
                f"check the server's log, or raise {self._setting('max_retries')}."
            )
        elif (
            isinstance(exc, openai.APIStatusError)
            and exc.status_code in CONTEXT_STATUSES
            and CONTEXT_ERROR.search(str(exc))
        ):
            error = ContextTooLongError(
                f"{self.where} says the prompt is too long for the model's context window "
                f"({exc.status_code}: {_brief(exc.message)}): lower "
                f"{self._setting('context_window')} to the model's real context size, or give "
                "the command less text."
            )
        elif isinstance(exc, openai.APIStatusError):
            error = ModelError(
                f"{self.where} rejected the request ({exc.status_code}: {_brief(exc.message)})."
            )
        elif isinstance(exc, openai.APIResponseValidationError):
            error = self._malformed()
        else:
            error = ModelError(f"The request to {self.where} failed: {_brief(str(exc))}")
        if self._secret and len(self._secret) >= MIN_MASKED_KEY:
            error.args = (str(error).replace(self._secret, "***"),)
        return error


def response_format(mode: str, schema: type[BaseModel]) -> dict[str, Any]:
    """The `response_format` asking for JSON that fits `schema`, in the endpoint's dialect."""
    if mode == "json_schema":  # OpenAI, vLLM, Ollama, LM Studio
        return {
            "type": "json_schema",
            "json_schema": {
                "name": schema.__name__,
                "schema": schema.model_json_schema(),
            },
        }
    # llama-cpp-python's server: json_object with a schema, enforced by a grammar
    return {"type": "json_object", "schema": schema.model_json_schema()}


def refused_format(exc: ModelError) -> bool:
    """Whether the endpoint rejected the `response_format` rather than failing otherwise."""
    cause = exc.__cause__
    if isinstance(exc, ContextTooLongError) or not isinstance(cause, openai.APIStatusError):
        return False
    # any status: llama-cpp-python answers an unknown response_format type with a 500
    return FORMAT_PARAMETER.search(str(cause)) is not None


def with_instruction(messages: Sequence[Message], instruction: str) -> list[Message]:
    """`messages` with `instruction` added to the system message (one is created if needed)."""
    if messages and messages[0]["role"] == "system":
        first = {
            "role": "system",
            "content": f"{messages[0]['content']}\n\n{instruction}",
        }
        return [first, *messages[1:]]
    return [{"role": "system", "content": instruction}, *messages]


def json_text(text: str) -> str:
    """The JSON object inside a reply, tolerating code fences and prose around it."""
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else text


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "the reply"
    return f"{where}: {first['msg']}"


def _cause(exc: BaseException) -> str:
    root = exc
    while root.__cause__ is not None:
        root = root.__cause__
    return _brief(str(root) or type(root).__name__)


def _brief(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"

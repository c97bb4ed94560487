"""The chat seam: one OpenAI-compatible endpoint, through the `openai` client, one method.

`Endpoint.complete(messages) -> Completion` is all the rest of the code needs from a chat model;
the response cache, usage accounting and structured output wrap it once each
(`assistant.llm.chat`). Transport failures (connection, 429, 5xx, timeouts) are retried by the
SDK itself, with its backoff and Retry-After handling, `llm.max_retries` times; every failure
ends as a one-line ModelError naming the setting to change, never showing the API key.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

import openai

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
from assistant.settings import LLMSettings
from assistant.tokens import count_tokens

Message = dict[str, str]

# A prompt that leaves less room than this for the answer is refused before it is sent.
MIN_COMPLETION_TOKENS = 16
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


@dataclass
class Completion:
    """One model answer and what it cost."""

    text: str
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int
    cached: bool = False


class Chat(Protocol):
    """What drafting and judging need from a chat model."""

    def complete(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int | None = None,
        response_format: dict[str, Any] | None = None,
    ) -> Completion:
        """One completion of `messages`."""
        ...


class Endpoint:
    """One OpenAI-compatible endpoint: completions, with errors that say what to change."""

    def __init__(self, settings: LLMSettings, section: str = "llm") -> None:
        self.settings = settings
        self.section = section
        self.where = settings.base_url or "the OpenAI API"
        self._secret = settings.api_key.get_secret_value() if settings.api_key else None
        if settings.base_url is None and self._secret is None:
            raise ModelAuthError(
                "No model endpoint is configured: set OPENAI_BASE_URL (or "
                f"{self.setting('base_url')}) to a local server such as Ollama or vLLM, or "
                f"set OPENAI_API_KEY (or {self.setting('api_key')}) to use the OpenAI API; "
                "`--llm local` runs the bundled model."
            )
        self.client = openai.OpenAI(
            base_url=settings.base_url,
            # Local servers (vLLM, llama.cpp, Ollama) accept any key; the SDK insists on one.
            api_key=self._secret or "unused",
            timeout=settings.timeout,
            max_retries=settings.max_retries,
        )

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
            f"set {self.setting('model')}."
        )

    def complete(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int | None = None,
        response_format: dict[str, Any] | None = None,
    ) -> Completion:
        """One completion; its tokens counted here when the endpoint reports none."""
        request = self._request(messages, max_tokens, response_format)
        try:
            response = self.client.chat.completions.create(**request)
            choice = response.choices[0]
        except openai.OpenAIError as exc:
            raise self._translate(exc) from exc
        except (ValueError, AttributeError, IndexError, TypeError) as exc:
            raise self._malformed() from exc
        text = choice.message.content or ""
        if response.usage:
            prompt, completion = response.usage.prompt_tokens, response.usage.completion_tokens
        else:
            prompt, completion = message_tokens(messages), count_tokens(text)
        return Completion(text, choice.finish_reason, prompt, completion)

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
                f"The prompt needs about {prompt_tokens:,} tokens but "
                f"{self.setting('context_window')} is {self.settings.context_window:,} ({self.settings.tokenizer_margin:.0%} kept "
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

    def setting(self, name: str) -> str:
        return f"{self.section}.{name} (LITREVIEW_{self.section.upper()}__{name.upper()})"

    def _malformed(self) -> ModelResponseError:
        """The error for a reply that is not a chat completion, naming the setting to check."""
        return ModelResponseError(
            f"{self.where} answered with something that is not an OpenAI-compatible chat "
            f"completion: check that {self.setting('base_url')} points at the API (it usually "
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
                f"raise {self.setting('timeout')} for a slow model, or check the server."
            )
        elif isinstance(exc, openai.APIConnectionError):
            error = ModelUnreachableError(
                f"Cannot connect to {self.where} ({_cause(exc)}): start the server, or fix "
                f"{self.setting('base_url')}, also read from OPENAI_BASE_URL."
            )
        elif isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            error = ModelAuthError(
                f"{self.where} refused the API key ({exc.status_code}): set "
                f"{self.setting('api_key')} or OPENAI_API_KEY to a valid key."
            )
        elif isinstance(exc, openai.NotFoundError) and "model" in str(exc).lower():
            error = ModelNotFoundError(
                f"{self.where} does not serve the model '{model}': set "
                f"{self.setting('model')} to one it serves (`litreview model ping` lists them)."
            )
        elif isinstance(exc, openai.NotFoundError):
            error = ModelUnreachableError(
                f"{self.where} has no chat-completions API (404): {self.setting('base_url')} is "
                "probably wrong; OpenAI-compatible URLs usually end in /v1."
            )
        elif isinstance(exc, openai.RateLimitError):
            error = ModelError(
                f"{self.where} was still rate-limiting (429) after {retries}: wait and run the "
                f"command again, or raise {self.setting('max_retries')}."
            )
        elif isinstance(exc, openai.InternalServerError):
            error = ModelError(
                f"{self.where} failed with a server error ({exc.status_code}) after {retries}: "
                f"check the server's log, or raise {self.setting('max_retries')}."
            )
        elif (
            isinstance(exc, openai.APIStatusError)
            and exc.status_code in CONTEXT_STATUSES
            and CONTEXT_ERROR.search(str(exc))
        ):
            error = ContextTooLongError(
                f"{self.where} says the prompt is too long for the model's context window "
                f"({exc.status_code}: {_brief(exc.message)}): lower "
                f"{self.setting('context_window')} to the model's real context size, or give "
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


def _cause(exc: BaseException) -> str:
    root = exc
    while root.__cause__ is not None:
        root = root.__cause__
    return _brief(str(root) or type(root).__name__)


def _brief(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"

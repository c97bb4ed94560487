"""ChatModel: the chat seam as drafting and judging use it, assembled once from settings.

The endpoint (`assistant.llm.endpoint`) has one method, `complete`. Each concern wraps it once:
the response cache (`CachedChat`), usage accounting (`MeteredChat`), and structured output with
its re-asks (`StructuredOutput`). This class only assembles them for one settings section.
"""

from collections.abc import Callable, Sequence
from typing import Any

from assistant.errors import ModelResponseError
from assistant.llm.cache import CachedChat, ResponseCache
from assistant.llm.endpoint import Chat, Completion, Endpoint, Message
from assistant.llm.structured import (
    STRUCTURED_MODES,
    OffSchemaOutput,
    Schema,
    StructuredOutput,
    json_text,
)
from assistant.llm.usage import MeteredChat, Usage
from assistant.settings import LLMSettings

__all__ = ["ChatModel", "Completion", "Message", "json_text"]


class ChatModel:
    """Completions and schema-checked JSON from one OpenAI-compatible endpoint, cached and
    counted."""

    def __init__(self, settings: LLMSettings, usage: Usage | None = None, section: str = "llm"):
        self.settings = settings
        self.usage = usage if usage is not None else Usage(prices=settings.prices)
        self.endpoint = Endpoint(settings, section)
        self.where = self.endpoint.where
        chat: Chat = self.endpoint
        if settings.cache:
            chat = CachedChat(chat, ResponseCache(settings.cache_dir), self._identity)
        self.chat: Chat = MeteredChat(chat, self.usage, lambda: self.model)
        modes = (
            STRUCTURED_MODES
            if settings.structured_output == "auto"
            else [settings.structured_output]
        )
        self.structured_output = StructuredOutput(self.chat, modes, settings.repair_attempts)

    @property
    def model(self) -> str:
        """The configured model, or the endpoint's only one when none is configured."""
        return self.endpoint.model

    def served_models(self) -> list[str]:
        """Ids the endpoint lists at `/models`."""
        return self.endpoint.served_models()

    def complete(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int | None = None,
        response_format: dict[str, Any] | None = None,
    ) -> Completion:
        """One completion; from the cache when an identical call was made before."""
        return self.chat.complete(messages, max_tokens=max_tokens, response_format=response_format)

    def structured(
        self,
        messages: Sequence[Message],
        schema: type[Schema],
        *,
        max_tokens: int | None = None,
        parse: Callable[[str], Schema] | None = None,
    ) -> Schema:
        """An answer parsed into `schema` (see `StructuredOutput.ask`); a model that gives no
        usable output within the re-asks is a ModelResponseError saying what to change."""
        try:
            return self.structured_output.ask(messages, schema, max_tokens=max_tokens, parse=parse)
        except OffSchemaOutput as exc:
            setting = self.endpoint.setting
            raise ModelResponseError(
                f"{self.model} at {self.where} gave no output matching the expected format in "
                f"{self.settings.repair_attempts + 1} attempts (last problem: {exc}): use a "
                f"stronger model ({setting('model')}) or raise {setting('repair_attempts')}."
            ) from exc

    def _identity(self) -> dict[str, Any]:
        """What decides an answer besides the call itself; never the API key."""
        return {
            "base_url": self.where,
            "model": self.model,
            "temperature": self.settings.temperature,
            "max_output_tokens": self.settings.max_output_tokens,
        }

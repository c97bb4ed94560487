"""Structured output over the chat seam: JSON that fits a pydantic schema, from any endpoint.

Where the endpoint takes a JSON schema it gets one (OpenAI's `json_schema`, or llama-cpp-python's
grammar-backed `json_object`); where it refuses, the schema goes into the prompt instead, and
`auto` remembers for the run which way worked. Output that does not parse or fit is re-asked with
the error (tenacity), `repair_attempts` times: the one retry layer for semantic failures, the SDK
having its own for transport ones.
"""

import json
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import openai
from pydantic import BaseModel, ValidationError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from assistant.errors import ContextTooLongError, ModelError
from assistant.llm.endpoint import Chat, Message
from assistant.prompts import render

Schema = TypeVar("Schema", bound=BaseModel)
STRUCTURED_MODES = ("json_schema", "json_object", "text")
# A refusal of the structured-output request names what it refuses; any other 400 (a bad
# temperature, a prompt over the window) must not change how later requests ask for JSON.
FORMAT_PARAMETER = re.compile(
    r"response_format|json_schema|json_object|schema|structured|grammar|guided|\btools?\b",
    re.IGNORECASE,
)


class OffSchemaOutput(Exception):
    """The model's output did not parse or fit the schema; the next attempt re-asks."""


class StructuredOutput:
    """Schema-checked answers from `chat`, in the first of `modes` the endpoint accepts."""

    def __init__(self, chat: Chat, modes: Sequence[str], repair_attempts: int) -> None:
        self.chat = chat
        # auto tries each mode in turn and keeps the first the endpoint accepts
        self.modes = list(modes)
        self.repair_attempts = repair_attempts

    def ask(
        self,
        messages: Sequence[Message],
        schema: type[Schema],
        *,
        max_tokens: int | None = None,
        parse: Callable[[str], Schema] | None = None,
    ) -> Schema:
        """An answer parsed into `schema`; off-schema output is re-asked with the error.
        `parse` reads a reply more leniently than the default (the JSON object in it, validated
        against `schema`); it raises ValidationError for a reply it cannot read. Raises
        OffSchemaOutput when every attempt failed."""
        read = parse or (lambda text: schema.model_validate_json(json_text(text)))
        schema_text = json.dumps(schema.model_json_schema())
        conversation = list(messages)
        attempts = Retrying(
            stop=stop_after_attempt(self.repair_attempts + 1),
            retry=retry_if_exception_type(OffSchemaOutput),
            reraise=True,
        )
        for attempt in attempts:
            with attempt:
                text = self._text(conversation, schema, schema_text, max_tokens)
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
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _text(
        self,
        conversation: list[Message],
        schema: type[BaseModel],
        schema_text: str,
        max_tokens: int | None,
    ) -> str:
        while (mode := self.modes[0]) != "text":
            try:
                return self.chat.complete(
                    conversation,
                    max_tokens=max_tokens,
                    response_format=response_format(mode, schema),
                ).text
            except ModelError as exc:
                if len(self.modes) == 1 or not refused_format(exc):
                    raise
                self.modes.pop(0)  # this endpoint gets the next mode from now on
        instructed = with_instruction(conversation, render("structured_output", schema=schema_text))
        return self.chat.complete(instructed, max_tokens=max_tokens).text


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

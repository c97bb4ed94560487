"""An on-disk response cache: the same model, messages and parameters never cost twice.

Keys hash the endpoint URL, model, messages and sampling parameters; never the API key, which
is not stored anywhere in the cache.
"""

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from assistant.llm.endpoint import Chat, Completion, Message


class CachedResponse(BaseModel):
    """What a completion returned, enough to replay it."""

    text: str
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int


class ResponseCache:
    """One JSON file per response under `folder`, fanned out by the key's first two digits."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @staticmethod
    def key(request: dict[str, Any]) -> str:
        """A stable hash of everything that decides the response."""
        canonical = json.dumps(request, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def get(self, key: str) -> CachedResponse | None:
        """The stored response, or None (also for an unreadable file, which is then rewritten)."""
        try:
            return CachedResponse.model_validate_json(self._path(key).read_bytes())
        except (OSError, ValueError):
            return None

    def put(self, key: str, response: CachedResponse) -> None:
        """Store atomically: a reader never sees half a file."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(response.model_dump_json())
        os.replace(temporary, path)

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"


class CachedChat:
    """A chat model whose identical calls are answered from `cache`: the endpoint URL, model,
    messages and parameters make the key."""

    def __init__(
        self, inner: Chat, cache: ResponseCache, identity: Callable[[], dict[str, Any]]
    ) -> None:
        self.inner = inner
        self.cache = cache
        self.identity = identity  # what else decides the answer: URL, model, temperature

    def complete(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int | None = None,
        response_format: dict[str, Any] | None = None,
    ) -> Completion:
        """The cached completion, or the inner model's, stored for next time."""
        call = {"messages": list(messages), "max_tokens": max_tokens, "format": response_format}
        key = ResponseCache.key({**self.identity(), **call})
        if (hit := self.cache.get(key)) is not None:
            return Completion(
                hit.text, hit.finish_reason, hit.prompt_tokens, hit.completion_tokens, cached=True
            )
        completion = self.inner.complete(
            messages, max_tokens=max_tokens, response_format=response_format
        )
        self.cache.put(
            key,
            CachedResponse(
                text=completion.text,
                finish_reason=completion.finish_reason,
                prompt_tokens=completion.prompt_tokens,
                completion_tokens=completion.completion_tokens,
            ),
        )
        return completion

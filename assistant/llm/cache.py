"""An on-disk response cache: the same model, messages and parameters never cost twice.

Keys hash the endpoint URL, model, messages and sampling parameters; never the API key, which
is not stored anywhere in the cache.
"""

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel


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

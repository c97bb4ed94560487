"""Embeddings from any OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, vLLM, Ollama...)."""

import numpy as np
import openai

from assistant.embedders import embedder_name, normalised
from assistant.errors import EmbeddingError
from assistant.settings import EmbeddingSettings


class OpenAIEmbedder:
    """Calls `client.embeddings.create` in batches of `batch_size` texts."""

    def __init__(self, settings: EmbeddingSettings) -> None:
        self.settings = settings
        self.name = embedder_name(settings)
        api_key = settings.api_key.get_secret_value() if settings.api_key else None
        self.client = openai.OpenAI(
            base_url=settings.base_url,
            # Local servers (vLLM, llama.cpp, Ollama) accept any key; the SDK insists on one.
            api_key=api_key or ("unused" if settings.base_url else None),
            timeout=settings.timeout,
            max_retries=settings.max_retries,
        )

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit vectors from the endpoint, in the order of `texts`."""
        rows: list[list[float]] = []
        size = self.settings.batch_size
        for start in range(0, len(texts), size):
            try:
                response = self.client.embeddings.create(
                    model=self.settings.model, input=texts[start : start + size]
                )
            except openai.OpenAIError as exc:
                raise self._failed(exc) from exc
            rows.extend(item.embedding for item in sorted(response.data, key=lambda d: d.index))
        return normalised(np.array(rows, dtype=np.float32).reshape(len(rows), -1))

    def _failed(self, exc: openai.OpenAIError) -> EmbeddingError:
        """A one-line error naming the setting to change."""
        where = self.settings.base_url or "the OpenAI API"
        if isinstance(exc, openai.APITimeoutError):
            retries = self.settings.max_retries
            return EmbeddingError(
                f"{where} did not answer within {self.settings.timeout:g} s ({retries} "
                f"retr{'y' if retries == 1 else 'ies'}): raise embeddings.timeout "
                "(LITREVIEW_EMBEDDINGS__TIMEOUT) for a slow endpoint, or check the server."
            )
        return EmbeddingError(
            f"Embedding request to {where} failed: {exc}. Check "
            "LITREVIEW_EMBEDDINGS__BASE_URL, LITREVIEW_EMBEDDINGS__MODEL and the API key."
        )

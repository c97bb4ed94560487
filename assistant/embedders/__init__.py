"""The embedder seam: `embed(texts) -> vectors`, chosen by settings."""

from collections.abc import Callable
from typing import Protocol

import numpy as np

from assistant.settings import EmbeddingSettings


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors, one row per text."""

    @property
    def name(self) -> str:
        """Fingerprint stored with the vectors: a store only accepts vectors of the same name."""
        ...

    def embed(self, texts: list[str]) -> np.ndarray:
        """Vectors for `texts`, shape (len(texts), dimension)."""
        ...


def _minilm(settings: EmbeddingSettings) -> Embedder:
    from assistant.embedders.minilm import MiniLMEmbedder

    return MiniLMEmbedder(settings)


def _openai(settings: EmbeddingSettings) -> Embedder:
    from assistant.embedders.openai_compatible import OpenAIEmbedder

    return OpenAIEmbedder(settings)


# Backends import their heavy libraries only when chosen.
BACKENDS: dict[str, Callable[[EmbeddingSettings], Embedder]] = {
    "minilm": _minilm,
    "openai": _openai,
}


def embedder_name(settings: EmbeddingSettings) -> str:
    """The fingerprint an embedder built from `settings` will have, without loading it."""
    return f"{settings.backend}:{settings.model}"


def make_embedder(settings: EmbeddingSettings) -> Embedder:
    """The embedder the settings ask for (models load lazily, on the first `embed`)."""
    return BACKENDS[settings.backend](settings)


def normalised(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)

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


def exact_name(settings: EmbeddingSettings) -> str:
    """The fingerprint of the exact model (and of every store built before int8 existed)."""
    return f"{settings.backend}:{settings.model}"


def uses_int8(settings: EmbeddingSettings, built_with: str | None = None) -> bool:
    """Whether MiniLM runs quantized for a store built by `built_with` (None: a new store).

    int8 vectors differ from the exact model's (cosine about 0.99 each), so int8 has a name of
    its own and a store holds one kind only: its queries are embedded by the graph that built
    it, never mixed. bf16 shares the exact name, as it always has (autocast of the same model,
    and stores built on CPUs with and without bf16 were always one kind). Under `auto`, a store
    the exact model built keeps it, so stores made before int8 keep working unchanged; only a
    new store gets int8. An explicit precision that differs from the store's is refused.
    """
    if settings.backend != "minilm":
        return False
    if settings.precision == "auto":
        return built_with != exact_name(settings)
    return settings.precision == "int8"


def embedder_name(settings: EmbeddingSettings, built_with: str | None = None) -> str:
    """The fingerprint an embedder built from `settings` will have, without loading it."""
    name = exact_name(settings)
    return f"{name}:int8" if uses_int8(settings, built_with) else name


def make_embedder(settings: EmbeddingSettings, built_with: str | None = None) -> Embedder:
    """The ingest embedder for a store built by `built_with` (models load on the first `embed`)."""
    if uses_int8(settings, built_with):
        from assistant.embedders.minilm_onnx import MiniLMInt8Embedder

        return MiniLMInt8Embedder(settings)
    return BACKENDS[settings.backend](settings)


def make_query_embedder(settings: EmbeddingSettings, built_with: str | None = None) -> Embedder:
    """The query embedder: the same vectors as `make_embedder`'s, from a process without torch."""
    if settings.backend == "minilm" and not uses_int8(settings, built_with):
        from assistant.embedders.minilm_numpy import MiniLMQueryEncoder

        return MiniLMQueryEncoder(settings)
    return make_embedder(settings, built_with)


def normalised(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)

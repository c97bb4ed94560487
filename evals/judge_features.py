"""Features for evals/train_judge.py, cached in the temp folder: the 34 scalars and vector
features of `assistant.trained_judge.base_features` (keyed by the pairs and the code of the judge
and its int8 encoder) and the cross-encoder's columns (keyed also by its code and weights), so a
new cross-encoder does not re-embed every pair, and a rerun featurises nothing."""

import ast
import hashlib
import inspect
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from pathlib import Path

import numpy as np

import assistant.cross_encoder
import assistant.cue_words
import assistant.embedders.minilm_onnx
import assistant.embedders.onnx_graph
import assistant.trained_judge
from assistant.cross_encoder import CrossEncoder
from assistant.embedders.minilm_numpy import MiniLMQueryEncoder
from assistant.trained_judge import (
    CONTRADICTED,
    CROSS_FEATURES,
    ENTAILED,
    base_features,
    cross_features,
    judge_encoder,
)

DIMENSION = MiniLMQueryEncoder.dimension
Texts = Sequence[tuple[str, str]]
# a passage cross-encoder's columns (evals/finetune_cross_encoder.py --unit passage, a route
# measured in BENCHMARKS.md and not shipped): entailed and contradicted
PASSAGE_FEATURES = 2


def code_of(path: Path) -> str:
    """A module's syntax tree without docstrings: what its code computes, not how it reads."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef) and ast.get_docstring(
            node
        ):
            node.body = node.body[1:]
    return ast.dump(tree)


# the code each kind of features comes from: the judge's, and the int8 encoder's
BASE_CODE = (
    assistant.trained_judge,
    assistant.cue_words,
    assistant.embedders.minilm_onnx,
    assistant.embedders.onnx_graph,
)
CODE = {
    "base": BASE_CODE,
    "cross": (*BASE_CODE, assistant.cross_encoder),
    # passage_features is this module's
    "passage": (*BASE_CODE, assistant.cross_encoder, sys.modules[__name__]),
}


def cache_path(kind: str, texts: Texts, extra: bytes = b"") -> Path:
    """Where one kind of features of these pairs is cached, keyed by the pairs' texts, the
    code they come from and `extra` (the cross-encoder's weights), so editing any featurises
    afresh."""
    digest = hashlib.sha256(json.dumps(list(texts)).encode())
    for module in CODE[kind]:
        digest.update(code_of(Path(inspect.getfile(module))).encode())
    digest.update(extra)
    return Path(tempfile.gettempdir()) / f"judge-{kind}-{digest.hexdigest()[:16]}.npz"


def _base_chunk(texts: Texts) -> tuple[np.ndarray, list[str], list[list[str]]]:
    """`base_features` of one chunk, in a worker process with its own encoder."""
    return base_features(texts, _encoder(), with_vectors=True)


def passage_features(cross: CrossEncoder, claims: list[str], sources: list[str]) -> np.ndarray:
    """Per claim, a cross-encoder trained on whole sources reading it with its source (as
    far as its tokens reach): the entailed and contradicted probabilities."""
    p = cross.probabilities(list(zip(claims, sources, strict=True)))
    return np.asarray(p[:, [ENTAILED, CONTRADICTED]], np.float32)


def _cross_chunk(job: tuple[list[str], list, Path, bool]) -> np.ndarray:
    """`cross_features` of one chunk (with `passage`, `passage_features`: the second list
    holds whole sources, not closest sentences), in a worker process with its own
    cross-encoder."""
    claims, second, xenc, passage = job
    with np.load(xenc) as stored:
        weights = {name: stored[name] for name in stored.files}
    model = CrossEncoder(_encoder().model_dir, weights)
    return (passage_features if passage else cross_features)(model, claims, second)


@cache
def _encoder() -> MiniLMQueryEncoder:
    """One judge encoder per process."""
    return judge_encoder()


def base(
    texts: Texts, jobs: int, chunk: int = 256
) -> tuple[np.ndarray, list[str], list[list[str]]]:
    """Scalars and vectors of every pair, the cleaned claims and their closest sentences."""
    path = cache_path("base", texts)
    if path.exists():
        with np.load(path) as cached:
            print(f"base features from {path}")
            return np.asarray(cached["x"]), *json.loads(str(cached["closest"]))
    rows, claims, closest = [], [], []
    started = time.perf_counter()
    chunks = [list(texts[start : start + chunk]) for start in range(0, len(texts), chunk)]
    with ProcessPoolExecutor(jobs) as pool:
        for x, c, s in pool.map(_base_chunk, chunks):
            rows.append(x)
            claims += c
            closest += s
            print(f"  featurised {len(claims)}/{len(texts)} pairs", flush=True)
    print(f"base features of {len(texts)} pairs in {time.perf_counter() - started:.0f} s")
    x = np.vstack(rows)
    np.savez(path, x=x, closest=np.array(json.dumps([claims, closest])))
    return x, claims, closest


def cross(
    texts: Texts,
    claims: list[str],
    closest: list[list[str]],
    xenc: Path,
    jobs: int,
    passage: bool = False,
) -> np.ndarray:
    """The cross-encoder's columns of every pair, with the weights in `xenc`; with `passage`,
    those of a cross-encoder reading each claim with its whole source."""
    path = cache_path("passage" if passage else "cross", texts, xenc.read_bytes())
    if path.exists():
        with np.load(path) as cached:
            print(f"cross-encoder features from {path}")
            return np.asarray(cached["x"])
    started = time.perf_counter()
    size = -(-len(claims) // (4 * jobs))
    second = [source for _, source in texts] if passage else closest
    chunks = [
        (claims[i : i + size], second[i : i + size], xenc, passage)
        for i in range(0, len(claims), size)
    ]
    with ProcessPoolExecutor(jobs) as pool:
        x = np.vstack(list(pool.map(_cross_chunk, chunks)))
    print(f"cross-encoder features of {len(texts)} pairs in {time.perf_counter() - started:.0f} s")
    np.savez(path, x=x)
    return x


def fold_cross(
    texts: Texts,
    claims: list[str],
    closest: list[list[str]],
    pattern: str,
    fold: np.ndarray,
    jobs: int,
    passage: bool = False,
) -> np.ndarray:
    """The cross-encoder's columns of every pair, each fold k's rows (`fold` gives each pair's)
    with the weights `pattern` names with k: out-of-fold columns for a cross-encoder fine-tuned
    inside the judge's folds."""
    x = np.zeros((len(texts), PASSAGE_FEATURES if passage else CROSS_FEATURES), np.float32)
    for k in np.unique(fold):
        rows = np.flatnonzero(fold == k).tolist()
        x[rows] = cross(
            [texts[i] for i in rows],
            [claims[i] for i in rows],
            [closest[i] for i in rows],
            Path(pattern.format(k=k)),
            jobs,
            passage,
        )
    return x


def features(
    texts: Texts,
    xenc: Path | str,
    jobs: int = 2,
    fold: np.ndarray | None = None,
    passage: Path | str | None = None,
) -> np.ndarray:
    """Every pair's row: the scalars, the cross-encoder's columns (and, with `passage`, those
    of the passage cross-encoder), then the vector features; computed by `jobs` processes.
    With `fold`, `xenc` and `passage` are patterns naming fold k's weights with {k}, and each
    fold's rows are scored by its own."""
    x, claims, closest = base(texts, jobs)
    split = x.shape[1] - 3 * DIMENSION
    blocks = [x[:, :split]]
    for weights, whole in ((xenc, False), (passage, True)):
        if weights is None:
            continue
        if fold is None:
            blocks.append(cross(texts, claims, closest, Path(weights), jobs, whole))
        else:
            blocks.append(fold_cross(texts, claims, closest, str(weights), fold, jobs, whole))
    return np.hstack([*blocks, x[:, split:]])

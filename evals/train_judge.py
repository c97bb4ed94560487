"""Train the built-in `local` citation judge (assistant/trained_judge.py); write its weights.

Trains on the training splits only, read from --data (default: ../shared/data from the repo root):
- SciFact claims_train + corpus (claims CC BY 4.0, corpus ODC-By 1.0; allenai/scifact).
  Each claim with each cited abstract; positive = SUPPORT, negative = REFUTE or no evidence
  ("not enough info"). Every pair appears twice, with and without the title before the
  abstract, so the judge copes with either kind of source.
- Citation-Integrity claims_train + corpus (MIT; ScienceNLP-Lab/Citation-Integrity). Each
  citing sentence with its cited passage; positive = SUPPORT.

Features come from `assistant.trained_judge.featurise` (the bundled MiniLM plus word cues), so
training and inference compute them with the same code. Candidate designs are compared by
5-fold cross-validation, folds grouped so that no claim or source text crosses folds; the best
is refitted on everything with one decision threshold and saved as assistant/judge_weights.npz.
Everything is seeded; numpy only (plus the encoder's tokenizer).

    OPENBLAS_NUM_THREADS=1 .venv/bin/python evals/train_judge.py
"""

import argparse
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.embedders.minilm_numpy import MiniLMQueryEncoder
from assistant.settings import EmbeddingSettings
from assistant.trained_judge import LOCAL_COLUMN, WEIGHTS_FILE, clean_claim, featurise

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ("scifact", "citation_integrity")
SEED = 0
FOLDS = 5
DIMENSION = MiniLMQueryEncoder.dimension


@dataclass
class Pairs:
    """The training pairs and what the folds and metrics need about each."""

    texts: list[tuple[str, str]]
    y: np.ndarray  # 1 = SUPPORT
    dataset: np.ndarray  # index into DATASETS
    titled: np.ndarray  # True for SciFact's title-first copy
    group: np.ndarray  # connected component of shared claims and sources


def read_jsonl(path: Path) -> list[dict]:
    """One dict per line."""
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def dataset_pairs(data: Path, name: str) -> list[tuple[str, str, str, int]]:
    """(claim, title, abstract, label) per claim and cited document of one training split."""
    corpus = {doc["doc_id"]: doc for doc in read_jsonl(data / name / "corpus.jsonl")}
    out = []
    for claim in read_jsonl(data / name / "claims_train.jsonl"):
        for doc_id in claim["cited_doc_ids"]:
            evidence = claim["evidence"].get(str(doc_id))
            label = int(bool(evidence) and evidence[0]["label"] == "SUPPORT")
            doc = corpus[doc_id]
            out.append((claim["claim"], doc["title"], " ".join(doc["abstract"]), label))
    return out


def components(keys: Sequence[tuple[str, str]]) -> np.ndarray:
    """Union-find over claims and sources: pairs sharing either land in one group."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for claim, source in keys:
        parent[find("c:" + claim)] = find("s:" + source)
    roots = [find("c:" + claim) for claim, _ in keys]
    ids = {root: i for i, root in enumerate(dict.fromkeys(roots))}
    return np.array([ids[root] for root in roots])


def load_pairs(data: Path) -> Pairs:
    """Both training splits as pairs; SciFact once without and once with its titles."""
    texts, y, dataset, titled, keys = [], [], [], [], []
    for index, name in enumerate(DATASETS):
        for claim, title, abstract, label in dataset_pairs(data, name):
            variants = [(abstract, False)]
            if title:
                variants.append((f"{title.rstrip('.')}. {abstract}", True))
            for source, has_title in variants:
                texts.append((claim, source))
                y.append(label)
                dataset.append(index)
                titled.append(has_title)
                keys.append((clean_claim(claim), abstract))
    return Pairs(texts, np.array(y), np.array(dataset), np.array(titled), components(keys))


def features(pairs: Pairs, chunk: int = 256) -> np.ndarray:
    """Feature rows of every pair, featurised a chunk at a time to bound memory."""
    encoder = MiniLMQueryEncoder(EmbeddingSettings())
    rows = []
    started = time.perf_counter()
    for start in range(0, len(pairs.texts), chunk):
        rows.append(featurise(pairs.texts[start : start + chunk], encoder, with_vectors=True))
        print(f"  featurised {start + len(rows[-1])}/{len(pairs.texts)} pairs", flush=True)
    print(f"features {len(pairs.texts)} pairs in {time.perf_counter() - started:.0f} s")
    return np.vstack(rows)


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC as the Mann-Whitney statistic, ties counted half."""
    order = np.argsort(score, kind="mergesort")
    ranks = np.empty(len(score))
    sorted_scores = score[order]
    # average ranks over runs of tied scores
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_scores)) + 1]
    ends = np.r_[starts[1:], len(score)]
    for start, end in zip(starts, ends, strict=True):
        ranks[order[start:end]] = (start + end + 1) / 2
    positives = int(y.sum())
    negatives = len(y) - positives
    return float((ranks[y == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def macro_f1(y: np.ndarray, predicted: np.ndarray) -> float:
    """Mean F1 of the supported and not-supported classes."""
    scores = []
    for cls in (0, 1):
        tp = np.sum((predicted == cls) & (y == cls))
        wrong = np.sum(predicted != y)
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + wrong))
    return float(np.mean(scores))


def best_threshold(parts: Sequence[tuple[np.ndarray, np.ndarray]]) -> float:
    """The threshold on a 0.005 grid maximising the mean macro-F1 over (y, score) parts."""
    grid = np.arange(0.05, 0.95, 0.005)
    means = [np.mean([macro_f1(y, (s >= t).astype(int)) for y, s in parts]) for t in grid]
    return float(grid[int(np.argmax(means))])


def standardiser(x: np.ndarray) -> dict[str, np.ndarray]:
    """Per-feature mean and scale; constant features keep scale 1."""
    scale = x.std(axis=0)
    return {"mean": x.mean(axis=0), "scale": np.where(scale > 1e-8, scale, 1.0)}


def fit_logreg(x: np.ndarray, y: np.ndarray, weight: np.ndarray, l2: float) -> dict:
    """L2-regularised logistic regression by Newton's method on standardised features."""
    model = standardiser(x)
    z = np.hstack([np.ones((len(x), 1)), (x - model["mean"]) / model["scale"]])
    penalty = np.full(z.shape[1], l2)
    penalty[0] = 0.0  # the intercept is not shrunk
    w = np.zeros(z.shape[1])
    for _ in range(25):
        p = 1.0 / (1.0 + np.exp(-z @ w))
        gradient = z.T @ (weight * (p - y)) + penalty * w
        hessian = (z * (weight * p * (1 - p))[:, None]).T @ z + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.max(np.abs(step)) < 1e-6:
            break
    return {**model, "layers": np.array(1), "w0": w[1:, None], "b0": w[:1]}


def fit_mlp(x: np.ndarray, y: np.ndarray, weight: np.ndarray, hidden: int, l2: float) -> dict:
    """One tanh hidden layer, trained full-batch with Adam on weighted log-loss plus L2."""
    rng = np.random.default_rng(SEED)
    model = standardiser(x)
    z = (x - model["mean"]) / model["scale"]
    params = [
        rng.normal(0, 1 / np.sqrt(z.shape[1]), (z.shape[1], hidden)),
        np.zeros(hidden),
        rng.normal(0, 1 / np.sqrt(hidden), (hidden, 1)),
        np.zeros(1),
    ]
    moments = [np.zeros_like(p) for p in params] + [np.zeros_like(p) for p in params]
    share = weight / weight.sum()
    for step in range(1, 401):
        h = np.tanh(z @ params[0] + params[1])
        p = 1.0 / (1.0 + np.exp(-(h @ params[2] + params[3])[:, 0]))
        out = (share * (p - y))[:, None]
        back = (out @ params[2].T) * (1 - h * h)
        grads = [z.T @ back + l2 * params[0], back.sum(0), h.T @ out + l2 * params[2], out.sum(0)]
        adam(params, grads, moments, step, rate=0.01)
    w0, b0, w1, b1 = (p.astype(np.float32) for p in params)
    return {**model, "layers": np.array(2), "w0": w0, "b0": b0, "w1": w1, "b1": b1}


def adam(params: list, grads: list, moments: list, step: int, rate: float) -> None:
    """One Adam update in place (beta1 0.9, beta2 0.999)."""
    n = len(params)
    for i, (param, grad) in enumerate(zip(params, grads, strict=True)):
        moments[i] = 0.9 * moments[i] + 0.1 * grad
        moments[n + i] = 0.999 * moments[n + i] + 0.001 * grad * grad
        first = moments[i] / (1 - 0.9**step)
        second = moments[n + i] / (1 - 0.999**step)
        param -= rate * first / (np.sqrt(second) + 1e-8)


def balanced_weights(pairs: Pairs) -> np.ndarray:
    """Each dataset weighs the same in total; SciFact's two copies of a pair share one weight."""
    weight = np.ones(len(pairs.y))
    for index in range(len(DATASETS)):
        rows = pairs.dataset == index
        weight[rows] = 1.0 / rows.sum()
    return weight / weight.mean()


Fit = Callable[[np.ndarray, np.ndarray, np.ndarray], dict]


def designs(n_scalar: int) -> dict[str, tuple[slice, Fit]]:
    """Candidate models: which leading feature columns, and how they are fitted."""
    scalars = slice(0, n_scalar)
    pair = slice(0, n_scalar + 2 * DIMENSION)  # scalars, claim * sentence, |claim - sentence|
    everything = slice(None)  # and the claim vector
    return {
        "logreg scalars l2=10": (scalars, lambda x, y, w: fit_logreg(x, y, w, 10.0)),
        "logreg scalars l2=100": (scalars, lambda x, y, w: fit_logreg(x, y, w, 100.0)),
        "mlp scalars h=8": (scalars, lambda x, y, w: fit_mlp(x, y, w, 8, 3e-2)),
        "logreg pair l2=1000": (pair, lambda x, y, w: fit_logreg(x, y, w, 1000.0)),
        "logreg all l2=1000": (everything, lambda x, y, w: fit_logreg(x, y, w, 1000.0)),
        "logreg all l2=3000": (everything, lambda x, y, w: fit_logreg(x, y, w, 3000.0)),
    }


def fold_of(group: np.ndarray) -> np.ndarray:
    """A fold per pair: whole groups go to one fold, shuffled with the fixed seed."""
    unique = np.random.default_rng(SEED).permutation(np.unique(group))
    fold = {g: i % FOLDS for i, g in enumerate(unique)}
    return np.array([fold[g] for g in group])


def out_of_fold(x: np.ndarray, pairs: Pairs, fold: np.ndarray, fit: Fit) -> np.ndarray:
    """Each pair's probability from the model fitted without its fold."""
    from assistant.trained_judge import predict

    weight = balanced_weights(pairs)
    scores = np.zeros(len(pairs.y))
    for k in range(FOLDS):
        train = fold != k
        model = fit(x[train], pairs.y[train].astype(float), weight[train] / weight[train].mean())
        scores[~train] = predict(model, x[~train])
    return scores


def judged_parts(pairs: Pairs, rows: np.ndarray) -> list[np.ndarray]:
    """Masks of the rows scored per dataset: SciFact without titles, Citation-Integrity."""
    scifact = rows & (pairs.dataset == 0) & ~pairs.titled
    return [scifact, rows & (pairs.dataset == 1)]


def evaluate(scores: np.ndarray, pairs: Pairs, fold: np.ndarray) -> dict[str, float]:
    """AUCs, and macro-F1 and accuracy with the threshold chosen on the other folds."""
    everything = np.ones(len(scores), bool)
    predicted = np.zeros(len(scores), int)
    for k in range(FOLDS):
        others = judged_parts(pairs, fold != k)
        threshold = best_threshold([(pairs.y[m], scores[m]) for m in others])
        predicted[fold == k] = scores[fold == k] >= threshold
    scifact, integrity = judged_parts(pairs, everything)
    titled = (pairs.dataset == 0) & pairs.titled
    result = {
        "scifact_auc": auc(pairs.y[scifact], scores[scifact]),
        "scifact_titled_auc": auc(pairs.y[titled], scores[titled]),
        "integrity_auc": auc(pairs.y[integrity], scores[integrity]),
    }
    for name, rows in (("scifact", scifact), ("integrity", integrity)):
        result[f"{name}_macro_f1"] = macro_f1(pairs.y[rows], predicted[rows])
        result[f"{name}_accuracy"] = float(np.mean(pairs.y[rows] == predicted[rows]))
    return result


def print_table(results: dict[str, dict[str, float]]) -> None:
    """The cross-validated figures, one row per design."""
    columns = [
        "scifact_macro_f1",
        "scifact_accuracy",
        "scifact_auc",
        "scifact_titled_auc",
        "integrity_auc",
        "integrity_macro_f1",
        "integrity_accuracy",
    ]
    print(f"{'design':24s} " + " ".join(f"{c[:18]:>18s}" for c in columns))
    for name, result in results.items():
        print(f"{name:24s} " + " ".join(f"{result[c]:18.3f}" for c in columns))


def cross_validate(x: np.ndarray, pairs: Pairs, n_scalar: int) -> tuple[str, np.ndarray]:
    """Every design's 5-fold figures, the untrained score's beside them; the best design's name
    (by SciFact macro-F1 plus Citation-Integrity AUC) and its out-of-fold scores."""
    fold = fold_of(pairs.group)
    print(f"{len(np.unique(pairs.group))} groups; fold sizes {np.bincount(fold).tolist()}")
    results = {"untrained local": evaluate(x[:, LOCAL_COLUMN], pairs, fold)}
    oof = {}
    for name, (columns, fit) in designs(n_scalar).items():
        started = time.perf_counter()
        oof[name] = out_of_fold(x[:, columns], pairs, fold, fit)
        results[name] = evaluate(oof[name], pairs, fold)
        print(f"  {name}: {time.perf_counter() - started:.0f} s", flush=True)
    print_table(results)
    best = max(oof, key=lambda n: results[n]["scifact_macro_f1"] + results[n]["integrity_auc"])
    return best, oof[best]


def save(model: dict, threshold: float, design: str, path: Path) -> None:
    """The weights as float32, with the threshold and design name beside them."""
    arrays: dict[str, Any] = {k: np.asarray(v, np.float32) for k, v in model.items()}
    arrays.update(
        layers=np.asarray(model["layers"]), threshold=np.float32(threshold), design=np.array(design)
    )
    np.savez_compressed(path, **arrays)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB), threshold {threshold:.3f}")


def main() -> None:
    """Load, featurise, cross-validate, refit the best design on everything, save."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "assistant" / WEIGHTS_FILE)
    args = parser.parse_args()
    pairs = load_pairs(args.data)
    print(f"{len(pairs.y)} pairs ({np.bincount(pairs.dataset).tolist()} per dataset)")
    x = features(pairs)
    n_scalar = x.shape[1] - 3 * DIMENSION
    best, oof = cross_validate(x, pairs, n_scalar)
    everything = np.ones(len(oof), bool)
    threshold = best_threshold([(pairs.y[m], oof[m]) for m in judged_parts(pairs, everything)])
    columns, fit = designs(n_scalar)[best]
    model = fit(x[:, columns], pairs.y.astype(float), balanced_weights(pairs))
    print(f"chosen: {best}; threshold on the pooled out-of-fold scores")
    save(model, threshold, best, args.out)


if __name__ == "__main__":
    main()

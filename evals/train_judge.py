"""Train the built-in `local` citation judge (assistant/trained_judge.py); write its weights.

Trains on the training splits only, read from --data (default: ../shared/data from the repo
root) as evals/judge_pairs.py builds them (which pairs, their labels and the data's licences).

Features come from `assistant.trained_judge` (the bundled MiniLM plus word cues, and the
cross-encoder over the closest sentences), so training and inference compute them with the
same code; evals/judge_features.py caches them in the temp folder, so a rerun skips the minutes
of featurising. The shipped cross-encoder was fine-tuned on these very pairs
(evals/finetune_cross_encoder.py), so its columns come from the per-fold weights that script
writes (--xenc-folds): each pair's from a cross-encoder that never saw its fold, and the judge,
fitted on those columns, runs the one fitted on every fold. Candidate designs are compared by
5-fold cross-validation, folds grouped so that no claim or source text crosses folds
(evals/judge_pairs.py); the table includes SciFact's SUPPORT-vs-REFUTE AUC (does the score tell
"the paper says X" from "the paper says not X"). The best design is refitted on everything
with one decision threshold. A contradiction head is cross-validated the same way on SciFact's
SUPPORT and REFUTE pairs, its threshold the lowest reaching the target precision of
"contradicted"; both are saved in assistant/judge_weights.npz. Everything is seeded; numpy
only (plus the encoder's tokenizer and onnxruntime).

    OPENBLAS_NUM_THREADS=1 .venv/bin/python evals/train_judge.py --data ../shared/data \
        --xenc-folds '/tmp/xenc-fold{k}.npz'
"""

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
from judge_features import DIMENSION, features  # evals/judge_features.py
from judge_fitting import (  # evals/judge_fitting.py, beside this script
    Fit,
    auc,
    best_threshold,
    fit_logreg,
    fit_mlp,
    macro_f1,
)
from judge_pairs import (  # evals/judge_pairs.py
    FOLDS,
    ROOT,
    Pairs,
    balanced_weights,
    fold_of,
    load_pairs,
)

from assistant.cross_encoder import HUMAN_PAIRS
from assistant.cross_encoder import WEIGHTS_FILE as XENC_WEIGHTS
from assistant.trained_judge import (
    BASE_FEATURES,
    CONTRADICTION,
    LOCAL_COLUMN,
    WEIGHTS_FILE,
)

# "contradicted" drops a sentence from an answer as saying the opposite of its source, so it
# should rarely be wrong; the head's threshold is the lowest one reaching this precision
CONTRADICTION_PRECISION = 0.8


def designs(n_scalar: int) -> dict[str, tuple[slice, Fit]]:
    """Candidate models: which leading feature columns, and how they are fitted."""
    # the vector designs (claim and sentence vectors, logistic) lost to the scalars and
    # were dropped; BENCHMARKS.md keeps their figures
    base, cross = slice(0, BASE_FEATURES), slice(BASE_FEATURES, n_scalar)
    stacked = slice(0, n_scalar)
    return {
        "mlp 34 scalars h=8": (base, lambda x, y, w: fit_mlp(x, y, w, 8, 3e-2)),
        "logreg xenc only l2=1": (cross, lambda x, y, w: fit_logreg(x, y, w, 1.0)),
        "logreg stacked l2=100": (stacked, lambda x, y, w: fit_logreg(x, y, w, 100.0)),
        "mlp stacked h=8": (stacked, lambda x, y, w: fit_mlp(x, y, w, 8, 3e-2)),
    }


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


def judged_supported(scores: np.ndarray, pairs: Pairs, fold: np.ndarray) -> np.ndarray:
    """Each pair's supported-or-not, thresholded where the other folds put the threshold."""
    predicted = np.zeros(len(scores), int)
    for k in range(FOLDS):
        others = judged_parts(pairs, fold != k)
        threshold = best_threshold([(pairs.y[m], scores[m]) for m in others])
        predicted[fold == k] = scores[fold == k] >= threshold
    return predicted


def evaluate(scores: np.ndarray, pairs: Pairs, fold: np.ndarray) -> dict[str, float]:
    """AUCs, and macro-F1 and accuracy with the threshold chosen on the other folds."""
    everything = np.ones(len(scores), bool)
    predicted = judged_supported(scores, pairs, fold)
    scifact, integrity = judged_parts(pairs, everything)
    titled = (pairs.dataset == 0) & pairs.titled
    result = {
        "scifact_auc": auc(pairs.y[scifact], scores[scifact]),
        "scifact_titled_auc": auc(pairs.y[titled], scores[titled]),
        "integrity_auc": auc(pairs.y[integrity], scores[integrity]),
        "scifact_s_vs_r_auc": support_vs_refute_auc(pairs, scores),
    }
    for name, rows in (("scifact", scifact), ("integrity", integrity)):
        result[f"{name}_macro_f1"] = macro_f1(pairs.y[rows], predicted[rows])
        result[f"{name}_accuracy"] = float(np.mean(pairs.y[rows] == predicted[rows]))
    return result


def called_supported(predicted: np.ndarray, pairs: Pairs) -> dict[str, tuple[float, int]]:
    """The share of SciFact's SUPPORT, REFUTE and NEI pairs (no titled copies) called supported,
    and how many there are: which errors keep macro-F1 down."""
    scifact = (pairs.dataset == 0) & ~pairs.titled
    labels = {
        "SUPPORT": pairs.y.astype(bool),
        "REFUTE": pairs.refuted,
        "NEI": ~pairs.y.astype(bool) & ~pairs.refuted,
    }
    out = {}
    for label, rows in labels.items():
        rows = rows & scifact
        out[label] = (float(predicted[rows].mean()), int(rows.sum()))
    return out


def support_vs_refute_auc(pairs: Pairs, scores: np.ndarray) -> float:
    """AUC of SciFact's SUPPORT pairs against its REFUTE ones (no NEI): does the score tell
    "the paper says X" from "the paper says not X"?"""
    rows = (pairs.dataset == 0) & ~pairs.titled & (pairs.y.astype(bool) | pairs.refuted)
    return auc(pairs.y[rows], scores[rows])


def print_table(results: dict[str, dict[str, float]]) -> None:
    """The cross-validated figures, one row per design."""
    columns = [
        "scifact_macro_f1",
        "scifact_accuracy",
        "scifact_auc",
        "scifact_titled_auc",
        "integrity_auc",
        "scifact_s_vs_r_auc",
        "integrity_macro_f1",
        "integrity_accuracy",
    ]
    print(f"{'design':24s} " + " ".join(f"{c[:18]:>18s}" for c in columns))
    for name, result in results.items():
        print(f"{name:24s} " + " ".join(f"{result[c]:18.3f}" for c in columns))


def cross_validate(
    x: np.ndarray, pairs: Pairs, n_scalar: int, chosen: str | None = None
) -> tuple[str, np.ndarray]:
    """Every design's 5-fold figures, the untrained score's beside them; the name of `chosen`,
    else of the best design (by SciFact macro-F1 plus Citation-Integrity AUC), and its
    out-of-fold scores."""
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
    if chosen is not None and chosen not in oof:
        raise SystemExit(f"--design {chosen!r}: not one of {', '.join(map(repr, oof))}")
    best = chosen or max(
        oof, key=lambda n: results[n]["scifact_macro_f1"] + results[n]["integrity_auc"]
    )
    return best, oof[best]


def evidence_rows(pairs: Pairs) -> np.ndarray:
    """SciFact pairs whose cited document has evidence, SUPPORT or REFUTE: the head's data."""
    return (pairs.dataset == 0) & (pairs.y.astype(bool) | pairs.refuted)


def contradiction_designs(n_scalar: int) -> dict[str, tuple[slice, Fit]]:
    """Candidate contradiction heads, all over the scalars the judge computes at inference."""
    base, stacked = slice(0, BASE_FEATURES), slice(0, n_scalar)
    return {
        "logreg 34 l2=10": (base, lambda x, y, w: fit_logreg(x, y, w, 10.0)),
        "logreg xenc only l2=1": (
            slice(BASE_FEATURES, n_scalar),
            lambda x, y, w: fit_logreg(x, y, w, 1.0),
        ),
        "logreg stacked l2=10": (stacked, lambda x, y, w: fit_logreg(x, y, w, 10.0)),
        "mlp stacked h=8": (stacked, lambda x, y, w: fit_mlp(x, y, w, 8, 3e-2)),
    }


def contradiction_out_of_fold(
    x: np.ndarray, pairs: Pairs, fold: np.ndarray, fit: Fit
) -> np.ndarray:
    """Each pair's REFUTE probability from a head fitted on the other folds' evidence pairs."""
    from assistant.trained_judge import predict

    rows = evidence_rows(pairs)
    scores = np.zeros(len(pairs.y))
    for k in range(FOLDS):
        train = rows & (fold != k)
        scores[fold == k] = predict(
            fit(x[train], pairs.refuted[train] * 1.0, np.ones(train.sum())), x[fold == k]
        )
    return scores


def contradiction_threshold(refuted: np.ndarray, candidate: np.ndarray, score: np.ndarray) -> float:
    """The lowest threshold at which candidates labelled contradicted are REFUTE at least
    CONTRADICTION_PRECISION of the time (at least 5 labelled); else the most precise one."""
    best, best_precision = 0.99, -1.0
    for threshold in np.arange(0.3, 0.99, 0.01):
        said = candidate & (score >= threshold)
        if said.sum() < 5:
            continue
        precision = float(refuted[said].mean())
        if precision >= CONTRADICTION_PRECISION:
            return float(threshold)
        if precision > best_precision:
            best, best_precision = float(threshold), precision
    return best


def contradiction_figures(
    score: np.ndarray, supported: np.ndarray, pairs: Pairs, fold: np.ndarray
) -> dict[str, float]:
    """The head's SUPPORT-vs-REFUTE AUC, and precision and recall of "contradicted" among
    SciFact pairs (NEI included), its threshold chosen on the other folds."""
    scifact = (pairs.dataset == 0) & ~pairs.titled
    candidate = scifact & (supported == 0)
    said = np.zeros(len(score), bool)
    for k in range(FOLDS):
        others = fold != k
        threshold = contradiction_threshold(pairs.refuted[others], candidate[others], score[others])
        said[fold == k] = candidate[fold == k] & (score[fold == k] >= threshold)
    rows = evidence_rows(pairs) & ~pairs.titled
    return {
        "s_vs_r_auc": auc(pairs.y[rows], -score[rows]),
        "precision": float(pairs.refuted[said].mean()) if said.any() else 0.0,
        "recall": float(said[scifact & pairs.refuted].mean()),
        "labelled": float(said.sum()),
    }


def contradiction_head(
    x: np.ndarray, pairs: Pairs, supported: np.ndarray, n_scalar: int
) -> tuple[str, dict, float]:
    """Cross-validate the heads among the pairs the judge does not call `supported` (out of
    fold), print their figures; the most precise one refitted on every evidence pair, with its
    threshold on the pooled out-of-fold scores."""
    fold = fold_of(pairs.group)
    results, oof = {}, {}
    for name, (columns, fit) in contradiction_designs(n_scalar).items():
        oof[name] = contradiction_out_of_fold(x[:, columns], pairs, fold, fit)
        results[name] = contradiction_figures(oof[name], supported, pairs, fold)
    print(f"contradiction head (precision target {CONTRADICTION_PRECISION})")
    print(f"{'design':24s} " + " ".join(f"{c:>12s}" for c in next(iter(results.values()))))
    for name, result in results.items():
        print(f"{name:24s} " + " ".join(f"{v:12.3f}" for v in result.values()))
    # precision first: a wrong "contradicted" costs more than a missed one
    best = max(results, key=lambda n: (results[n]["precision"], results[n]["s_vs_r_auc"]))
    candidate = (pairs.dataset == 0) & ~pairs.titled & (supported == 0)
    threshold = contradiction_threshold(pairs.refuted, candidate, oof[best])
    columns, fit = contradiction_designs(n_scalar)[best]
    rows = evidence_rows(pairs)
    model = fit(x[rows][:, columns], pairs.refuted[rows] * 1.0, np.ones(rows.sum()))
    print(f"contradiction head: {best}, threshold {threshold:.2f}")
    return best, model, threshold


def save(models: dict[str, tuple[dict, float, str]], path: Path) -> None:
    """Each model's weights as float32, with its threshold and design name beside them, its
    names prefixed by its key (the support model's by nothing)."""
    arrays: dict[str, Any] = {}
    for prefix, (model, threshold, design) in models.items():
        named: dict[str, Any] = {k: np.asarray(v, np.float32) for k, v in model.items()}
        named.update(
            layers=np.asarray(model["layers"]),
            threshold=np.float32(threshold),
            design=np.array(design),
        )
        arrays.update({prefix + k: v for k, v in named.items()})
    np.savez_compressed(path, **arrays)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")


def fine_tuned_on_human_pairs(xenc: Path) -> bool:
    """Whether these cross-encoder weights were fine-tuned on the training splits' labels."""
    with np.load(xenc) as stored:
        return HUMAN_PAIRS in stored.files


def main() -> None:
    """Load, featurise, cross-validate, refit the best design on everything, save."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "assistant" / WEIGHTS_FILE)
    parser.add_argument("--xenc", type=Path, default=ROOT / "assistant" / XENC_WEIGHTS)
    parser.add_argument("--jobs", type=int, default=2, help="processes featurising")
    parser.add_argument(
        "--design", help="ship this design (a name from the table) instead of the best-scoring"
    )
    parser.add_argument(
        "--xenc-folds",
        help="each fold's cross-encoder columns from this pattern with {k} (the per-fold weights "
        "of evals/finetune_cross_encoder.py, whose --all fit must then be --xenc)",
    )
    parser.add_argument(
        "--passage-folds",
        help="add a passage cross-encoder's columns, each fold's from this pattern with {k} "
        "(evals/finetune_cross_encoder.py --unit passage); needs --xenc-folds",
    )
    args = parser.parse_args()
    if args.passage_folds and not args.xenc_folds:
        parser.error("--passage-folds needs --xenc-folds")
    if args.xenc_folds is None and fine_tuned_on_human_pairs(args.xenc):
        raise SystemExit(
            f"{args.xenc} was fine-tuned on these very pairs, so its columns here would be "
            "in-sample: pass --xenc-folds with the per-fold weights "
            "evals/finetune_cross_encoder.py wrote beside it."
        )
    pairs = load_pairs(args.data)
    print(f"{len(pairs.y)} pairs ({np.bincount(pairs.dataset).tolist()} per dataset)")
    fold = fold_of(pairs.group) if args.xenc_folds else None
    x = features(pairs.texts, args.xenc_folds or args.xenc, args.jobs, fold, args.passage_folds)
    n_scalar = x.shape[1] - 3 * DIMENSION
    best, oof = cross_validate(x, pairs, n_scalar, args.design)
    if args.xenc_folds:
        # stacking: the judge is fitted on out-of-fold columns, and runs the cross-encoder
        # fitted on every fold
        print(f"with cross-encoder columns, the judge will run {args.xenc}")
    everything = np.ones(len(oof), bool)
    threshold = best_threshold([(pairs.y[m], oof[m]) for m in judged_parts(pairs, everything)])
    columns, fit = designs(n_scalar)[best]
    model = fit(x[:, columns], pairs.y.astype(float), balanced_weights(pairs))
    print(f"chosen: {best}; threshold {threshold:.3f} on the pooled out-of-fold scores")
    supported = judged_supported(oof, pairs, fold_of(pairs.group))
    called = called_supported(supported, pairs)
    shares = ", ".join(f"{label} {share:.3f} of {n}" for label, (share, n) in called.items())
    print(f"  called supported out of fold, SciFact: {shares}")
    head, head_model, head_threshold = contradiction_head(x, pairs, supported, n_scalar)
    models = {"": (model, threshold, best), CONTRADICTION: (head_model, head_threshold, head)}
    save(models, args.out)


if __name__ == "__main__":
    main()

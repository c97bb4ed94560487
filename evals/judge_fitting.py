"""Fitting and scoring for evals/train_judge.py: small numpy models and the metrics they are
compared by. Everything is seeded; numpy only."""

from collections.abc import Callable, Sequence

import numpy as np

SEED = 0

Fit = Callable[[np.ndarray, np.ndarray, np.ndarray], dict]
"""Fits a model to (features, labels, sample weights); `assistant.trained_judge.predict` runs it."""


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

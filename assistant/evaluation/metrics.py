"""Ranking metrics as BEIR computes them (binary or graded relevance, log2 discount)."""

import math
from collections.abc import Mapping, Sequence


def ndcg_at(k: int, ranking: Sequence[str], relevance: Mapping[str, int]) -> float:
    """Normalised discounted cumulative gain of the first `k` results; gain = relevance grade."""
    gains = [relevance.get(doc, 0) for doc in ranking[:k]]
    ideal = sorted((grade for grade in relevance.values() if grade > 0), reverse=True)[:k]
    best = _dcg(ideal)
    return _dcg(gains) / best if best else 0.0


def recall_at(k: int, ranking: Sequence[str], relevance: Mapping[str, int]) -> float:
    """Share of the relevant documents found in the first `k` results."""
    relevant = {doc for doc, grade in relevance.items() if grade > 0}
    return len(relevant & set(ranking[:k])) / len(relevant) if relevant else 0.0


def mrr_at(k: int, ranking: Sequence[str], relevance: Mapping[str, int]) -> float:
    """1 / rank of the first relevant result within the first `k`, else 0."""
    for rank, doc in enumerate(ranking[:k], 1):
        if relevance.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


def _dcg(gains: Sequence[int]) -> float:
    return sum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains, 1))


# --- classification: a judge's verdicts against gold labels --------------------------------


def accuracy(gold: Sequence[bool], predicted: Sequence[bool]) -> float:
    """Share of predictions equal to the gold label."""
    return sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold) if gold else 0.0


def macro_f1(gold: Sequence[bool], predicted: Sequence[bool]) -> float:
    """Mean of the F1 scores of the positive and the negative class."""
    scores = []
    for positive in (True, False):
        tp = sum(g == positive and p == positive for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != positive and p == positive for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == positive and p != positive for g, p in zip(gold, predicted, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / 2


def roc_auc(gold: Sequence[bool], scores: Sequence[float]) -> float:
    """Area under the ROC curve: the chance that a random positive outscores a random negative,
    ties counting half (the Mann-Whitney U statistic, normalised)."""
    ranked = sorted(zip(scores, gold, strict=True))
    positives = sum(gold)
    negatives = len(gold) - positives
    if not positives or not negatives:
        return 0.5
    rank_sum = 0.0
    start = 0
    while start < len(ranked):  # average ranks over runs of tied scores
        end = start
        while end < len(ranked) and ranked[end][0] == ranked[start][0]:
            end += 1
        mean_rank = (start + end + 1) / 2
        rank_sum += mean_rank * sum(1 for _, g in ranked[start:end] if g)
        start = end
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)

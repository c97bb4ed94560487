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

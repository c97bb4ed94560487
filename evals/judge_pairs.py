"""The judge's training pairs and their folds, for evals/train_judge.py and
evals/finetune_cross_encoder.py: each training split's claims with their cited documents, and
5 folds grouped so that no claim or source text crosses folds.

Read from --data (default ../shared/data):
- SciFact claims_train + corpus (claims CC BY 4.0, corpus ODC-By 1.0; allenai/scifact).
  Each claim with each cited abstract; positive = SUPPORT, negative = REFUTE or no evidence
  ("not enough info"). Every pair appears twice, with and without the title before the
  abstract, so the judge copes with either kind of source.
- Citation-Integrity claims_train + corpus (MIT; ScienceNLP-Lab/Citation-Integrity). Each
  citing sentence with its cited passage; positive = SUPPORT.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from judge_fitting import SEED  # evals/judge_fitting.py, beside this script

from assistant.trained_judge import clean_claim

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ("scifact", "citation_integrity")
FOLDS = 5


@dataclass
class Pairs:
    """The training pairs and what the folds and metrics need about each."""

    texts: list[tuple[str, str]]
    y: np.ndarray  # 1 = SUPPORT
    refuted: np.ndarray  # True where the evidence entry says REFUTE
    dataset: np.ndarray  # index into DATASETS
    titled: np.ndarray  # True for SciFact's title-first copy
    group: np.ndarray  # connected component of shared claims and sources


def read_jsonl(path: Path) -> list[dict]:
    """One dict per line."""
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def dataset_pairs(data: Path, name: str) -> list[tuple[str, str, str, str]]:
    """(claim, title, abstract, gold label) per claim and cited document of one training split;
    the label is SUPPORT, REFUTE or NEI (no evidence entry)."""
    corpus = {doc["doc_id"]: doc for doc in read_jsonl(data / name / "corpus.jsonl")}
    out = []
    for claim in read_jsonl(data / name / "claims_train.jsonl"):
        for doc_id in claim["cited_doc_ids"]:
            evidence = claim["evidence"].get(str(doc_id))
            label = evidence[0]["label"] if evidence else "NEI"
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
    texts, gold, dataset, titled, keys = [], [], [], [], []
    for index, name in enumerate(DATASETS):
        for claim, title, abstract, label in dataset_pairs(data, name):
            variants = [(abstract, False)]
            if title:
                variants.append((f"{title.rstrip('.')}. {abstract}", True))
            for source, has_title in variants:
                texts.append((claim, source))
                gold.append(label)
                dataset.append(index)
                titled.append(has_title)
                keys.append((clean_claim(claim), abstract))
    gold_labels = np.array(gold)
    return Pairs(
        texts,
        (gold_labels == "SUPPORT").astype(int),
        gold_labels == "REFUTE",
        np.array(dataset),
        np.array(titled),
        components(keys),
    )


def balanced_weights(pairs: Pairs) -> np.ndarray:
    """Each dataset weighs the same in total; SciFact's two copies of a pair share one weight."""
    weight = np.ones(len(pairs.y))
    for index in range(len(DATASETS)):
        rows = pairs.dataset == index
        weight[rows] = 1.0 / rows.sum()
    return weight / weight.mean()


def fold_of(group: np.ndarray) -> np.ndarray:
    """A fold per pair: whole groups go to one fold, shuffled with the fixed seed."""
    unique = np.random.default_rng(SEED).permutation(np.unique(group))
    fold = {g: i % FOLDS for i, g in enumerate(unique)}
    return np.array([fold[g] for g in group])

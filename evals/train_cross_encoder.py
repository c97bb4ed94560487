"""Train the cross-encoder of the `local` judge: LoRA over the bundled all-MiniLM-L6-v2.

Reads pairs from evals/make_pairs.py (synthetic, no human labels) and trains a 3-way head
(entailed, neutral, contradicted) over the mean-pooled last hidden states of "[CLS] hypothesis
[SEP] premise [SEP]" (token types 0 then 1), with rank-r LoRA adapters (Hu et al., 2021) on
every linear layer of the top --layers (3) of the six encoder layers. MiniLM was trained with
mean pooling, so a head over the mean starts from meaningful features; the base weights stay
frozen. AdamW, linear warm-up then linear decay, stopped by --minutes. `--overfit N` first
trains on N pairs only and prints the train accuracy: a setup that cannot reach ~100% there is
broken. Writes the adapters and head (float16) to --out: evals/xenc_synthetic.npz, the start of
evals/finetune_cross_encoder.py, which fine-tunes them on the human-labelled pairs into the
judge's cross-encoder. Prints held-out synthetic accuracy per transformation and, as a transfer
check never trained on, the SUPPORT-vs-REFUTE AUC of SciFact's gold rationale sentences. Torch
runs here only, never in the judge. `--bf16` (bfloat16 autocast) and `--bucket` (batches of
similar length) make a pass over all 166,112 made pairs take 74 min on 2 cores; it learnt the
made kinds and transferred worse (BENCHMARKS.md), so the shipped adapters are still a short
run's. `--start` goes on from stored adapters, e.g. for `--epochs 2` over the restated pairs of
`make_pairs.py --restated`, which transfer best (AUC 0.748-0.768) but are not shipped
(BENCHMARKS.md).

    OMP_NUM_THREADS=2 .venv/bin/python evals/train_cross_encoder.py --pairs /tmp/xenc-pairs.jsonl \
        --data ../shared/data --minutes 40 --out evals/xenc_synthetic.npz
"""

import argparse
import math
import random
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from judge_fitting import auc  # evals/judge_fitting.py, beside this script
from judge_pairs import read_jsonl
from torch import nn
from transformers import BertModel

from assistant.cross_encoder import LORA_TARGETS, pair_tokenizer
from assistant.embedders.minilm_numpy import MiniLMQueryEncoder
from assistant.settings import EmbeddingSettings

SEED = 0
# in evals/: the adapters this script trained, kept as evals/finetune_cross_encoder.py's start
SYNTHETIC = "xenc_synthetic.npz"
HELD_OUT = 600
LABELS = 3
Pair = tuple[str, str, int]  # hypothesis, premise, label (0 entailed, 1 neutral, 2 contradicted)


class LoRALinear(nn.Module):
    """A frozen linear layer plus a trainable low-rank update: W x + (alpha / r) B A x."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float) -> None:
        super().__init__()
        self.base = base
        self.scale = alpha / rank
        self.a = nn.Parameter(torch.randn(rank, base.in_features) / math.sqrt(base.in_features))
        # B starts at zero so training starts from the pretrained model exactly
        self.b = nn.Parameter(torch.zeros(base.out_features, rank))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The base output plus the low-rank update."""
        return self.base(x) + (x @ self.a.T @ self.b.T) * self.scale


class CrossEncoder(nn.Module):
    """MiniLM with LoRA adapters, mean pooling and a linear 3-way head."""

    def __init__(self, model_dir: Path, rank: int, alpha: float, top: int) -> None:
        super().__init__()
        self.bert = BertModel.from_pretrained(str(model_dir), add_pooling_layer=False)
        self.bert.requires_grad_(False)
        self.adapters: dict[str, LoRALinear] = {}
        layers = self.bert.encoder.layer
        # adapters on the top layers only: nothing below them needs gradients, so backward
        # stops there (CPU time is what limits training here)
        for i, layer in list(enumerate(layers))[len(layers) - top :]:
            for target in LORA_TARGETS:
                parent_name, _, leaf = target.rpartition(".")
                parent = layer.get_submodule(parent_name)
                adapter = LoRALinear(getattr(parent, leaf), rank, alpha)
                setattr(parent, leaf, adapter)
                self.adapters[f"encoder.layer.{i}.{target}"] = adapter
        self.head = nn.Linear(self.bert.config.hidden_size, LABELS)

    def forward(self, ids: torch.Tensor, types: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Logits (batch, 3)."""
        hidden = self.bert(input_ids=ids, token_type_ids=types, attention_mask=mask)[0]
        weights = mask.unsqueeze(-1).float()
        return self.head((hidden * weights).sum(1) / weights.sum(1))

    def arrays(self) -> dict[str, Any]:
        """Adapters and head as float16 arrays, named as `assistant.cross_encoder` reads them."""
        out: dict[str, Any] = {"scale": np.float32(next(iter(self.adapters.values())).scale)}
        for name, adapter in self.adapters.items():
            out[f"{name}.a"] = adapter.a.detach().numpy().astype(np.float16)
            out[f"{name}.b"] = adapter.b.detach().numpy().astype(np.float16)
        out["head.weight"] = self.head.weight.detach().numpy().astype(np.float16)
        out["head.bias"] = self.head.bias.detach().numpy().astype(np.float16)
        return out


def load_arrays(model: CrossEncoder, path: Path) -> None:
    """Start `model` from stored adapters and head (the inverse of `CrossEncoder.arrays`).

    A model with more rank or more adapted layers than the stored one computes what the stored
    one did: its extra rows of A stay random, its extra columns of B and its extra layers' B
    stay zero, so training grows from the stored model exactly."""
    with np.load(path) as stored, torch.no_grad():
        _refuse_a_narrower_model(model, stored, path)
        for name, adapter in model.adapters.items():
            if f"{name}.a" not in stored:
                continue
            a, b = stored[f"{name}.a"], stored[f"{name}.b"]
            adapter.a[: a.shape[0]] = torch.from_numpy(a.astype(np.float32))
            adapter.b.zero_()
            adapter.b[:, : b.shape[1]] = torch.from_numpy(b.astype(np.float32))
        model.head.weight.copy_(torch.from_numpy(stored["head.weight"].astype(np.float32)))
        model.head.bias.copy_(torch.from_numpy(stored["head.bias"].astype(np.float32)))


def _refuse_a_narrower_model(model: CrossEncoder, stored: Any, path: Path) -> None:
    """ValueError unless `model` can hold every stored update at its scale: loading into fewer
    layers or less rank would silently drop what the stored model learnt."""
    first = next(iter(model.adapters.values()))  # every adapter has the same rank and scale
    if not np.isclose(float(stored["scale"]), first.scale):
        raise ValueError(
            f"{path} has adapter scale {float(stored['scale'])}, this model {first.scale}"
        )
    names = {name.removesuffix(".a") for name in stored.files if name.endswith(".a")}
    if dropped := names - set(model.adapters):
        raise ValueError(f"{path} adapts layers this model does not: {', '.join(sorted(dropped))}")
    rank = first.a.shape[0]
    if any(stored[f"{name}.a"].shape[0] > rank for name in names):
        raise ValueError(f"{path} has more rank than this model's {rank}")


def batches(
    tokenizer: object, pairs: list[tuple[str, str, int]], size: int
) -> list[tuple[torch.Tensor, ...]]:
    """Padded (ids, types, mask, labels) tensors, `size` pairs each, in the order given."""
    out: list[tuple[torch.Tensor, ...]] = []
    for start in range(0, len(pairs), size):
        chunk = pairs[start : start + size]
        encodings = tokenizer.encode_batch([(h, p) for h, p, _ in chunk])  # type: ignore[attr-defined]
        width = max(len(e.ids) for e in encodings)
        ids = torch.zeros(len(chunk), width, dtype=torch.long)
        types, mask = torch.zeros_like(ids), torch.zeros_like(ids)
        for row, e in enumerate(encodings):
            n = len(e.ids)
            ids[row, :n], types[row, :n], mask[row, :n] = (
                torch.tensor(e.ids),
                torch.tensor(e.type_ids),
                1,
            )
        out.append((ids, types, mask, torch.tensor([label for _, _, label in chunk])))
    return out


def length_bucketed(pairs: list[Pair], size: int) -> list[Pair]:
    """The pairs in batches of similar length, the batches in random order: padding to the
    longest of a batch then costs little, and CPU time is what limits training here."""
    by_length = sorted(pairs, key=lambda p: len(p[0]) + len(p[1]))
    chunks = [by_length[i : i + size] for i in range(0, len(by_length), size)]
    random.Random(SEED).shuffle(chunks)
    return [pair for chunk in chunks for pair in chunk]


def probabilities(
    model: CrossEncoder, tokenizer: object, pairs: list[tuple[str, str, int]]
) -> np.ndarray:
    """Softmax outputs (n, 3), evaluated without gradients."""
    model.eval()
    with torch.no_grad():
        out = [model(*b[:3]).softmax(-1).numpy() for b in batches(tokenizer, pairs, 64)]
    model.train()
    return np.vstack(out) if out else np.zeros((0, LABELS))


def train(
    model: CrossEncoder,
    tokenizer: object,
    pairs: list[tuple[str, str, int]],
    settings: tuple[float, int, float],
    epochs: int = 1,
    bf16: bool = False,
) -> None:
    """AdamW with warm-up and linear decay over the planned steps; `settings` is (learning
    rate, batch size, minutes), the clock stopping training early. `bf16` runs the forward
    pass under bfloat16 autocast (about 1.45x the pairs a second on these CPUs)."""
    lr, size, minutes = settings
    print(f"  tokenizing {len(pairs):,} pairs (a minute or two for 100,000s)", flush=True)
    planned = batches(tokenizer, pairs, size) * epochs
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(parameters, lr=lr, weight_decay=0.01)
    warm = max(1, len(planned) // 20)

    def rate(step: int) -> float:
        return min((step + 1) / warm, max(0.0, (len(planned) - step) / (len(planned) - warm)))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, rate)
    deadline = time.perf_counter() + minutes * 60
    tick, seen, correct, loss_sum = time.perf_counter(), 0, 0, 0.0
    for step, (ids, types, mask, labels) in enumerate(planned):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(ids, types, mask).float()
        loss = nn.functional.cross_entropy(logits, labels)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        seen += len(labels)
        correct += int((logits.argmax(-1) == labels).sum())
        loss_sum += float(loss.detach()) * len(labels)
        if (step + 1) % 50 == 0 or step + 1 == len(planned):
            pace = seen / (time.perf_counter() - tick)
            print(
                f"  step {step + 1}/{len(planned)}: loss {loss_sum / seen:.3f}, "
                f"train acc {correct / seen:.3f}, {pace:.1f} pairs/s",
                flush=True,
            )
            tick, seen, correct, loss_sum = time.perf_counter(), 0, 0, 0.0
        if time.perf_counter() > deadline:
            print(f"  stopped by the clock at step {step + 1}")
            break


def gold_sentences(data: Path) -> list[tuple[str, str, int]]:
    """SciFact's claim-vs-rationale-sentence pairs: label 0 SUPPORT, 2 REFUTE."""
    corpus = {
        str(doc["doc_id"]): doc["abstract"] for doc in read_jsonl(data / "scifact" / "corpus.jsonl")
    }
    out = []
    for claim in read_jsonl(data / "scifact" / "claims_train.jsonl"):
        for doc_id, entries in claim["evidence"].items():
            for entry in entries:
                label = 0 if entry["label"] == "SUPPORT" else 2
                out += [(claim["claim"], corpus[doc_id][i], label) for i in entry["sentences"]]
    return out


def report(
    model: CrossEncoder, tokenizer: object, held: list[tuple[str, str, int, str]], gold: list
) -> None:
    """Held-out synthetic accuracy per transformation; the gold sentences' SUPPORT-vs-REFUTE AUC."""
    p = probabilities(model, tokenizer, [(h, q, y) for h, q, y, _ in held])
    by_how: dict[str, list[bool]] = defaultdict(list)
    for (_, _, y, how), row in zip(held, p, strict=True):
        by_how[how.split("+")[0]].append(int(row.argmax()) == y)
    print(
        f"held-out synthetic accuracy {np.mean([r.argmax() == y for (_, _, y, _), r in zip(held, p)]):.3f}"
    )
    for how, hits in sorted(by_how.items()):
        print(f"  {how:16s} {np.mean(hits):.3f} ({len(hits)})")
    g = probabilities(model, tokenizer, gold)
    supports = np.array([label == 0 for _, _, label in gold], int)
    print(
        f"SciFact gold rationale sentences ({supports.sum()} SUPPORT, "
        f"{len(supports) - supports.sum()} REFUTE): "
        f"AUC entail-minus-contradict {auc(supports, g[:, 0] - g[:, 2]):.3f}, "
        f"AUC of -P(contradicted) {auc(supports, -g[:, 2]):.3f}"
    )


def main() -> None:
    """Overfit a few pairs, train on the rest within the time budget, report, save."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--minutes", type=float, default=40.0)
    parser.add_argument("--train-pairs", type=int, default=60000)
    parser.add_argument("--overfit", type=int, default=64)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--layers", type=int, default=3, help="top layers given adapters")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--start", type=Path, help="adapters to go on from (default: fresh)")
    parser.add_argument("--bf16", action="store_true", help="bfloat16 autocast (faster)")
    parser.add_argument(
        "--bucket", action="store_true", help="batches of similar length (less padding)"
    )
    args = parser.parse_args()
    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    model_dir = MiniLMQueryEncoder(EmbeddingSettings()).model_dir
    tokenizer = pair_tokenizer(model_dir)
    records = read_jsonl(args.pairs)
    pairs = [(r["hypothesis"], r["premise"], r["label"], r["how"]) for r in records]
    held, pairs = pairs[:HELD_OUT], pairs[HELD_OUT : HELD_OUT + args.train_pairs]
    gold = gold_sentences(args.data)
    if args.overfit:
        probe = CrossEncoder(model_dir, args.rank, 2.0 * args.rank, args.layers)
        few = [(h, p, y) for h, p, y, _ in pairs[: args.overfit]]
        train(probe, tokenizer, few, (2e-3, 16, 5.0), epochs=15)
        hits = probabilities(probe, tokenizer, few).argmax(1) == [y for _, _, y in few]
        print(f"overfit {len(few)} pairs: train accuracy {hits.mean():.3f}")
    model = CrossEncoder(model_dir, args.rank, 2.0 * args.rank, args.layers)
    if args.start:
        load_arrays(model, args.start)
        print(f"from {args.start}:")
        report(model, tokenizer, held, gold)
    random.Random(SEED).shuffle(pairs)
    labelled = [(h, p, y) for h, p, y, _ in pairs]
    if args.bucket:
        labelled = length_bucketed(labelled, args.batch)
    started = time.perf_counter()
    settings = (args.lr, args.batch, args.minutes)
    train(model, tokenizer, labelled, settings, epochs=args.epochs, bf16=args.bf16)
    print(f"trained in {time.perf_counter() - started:.0f} s")
    report(model, tokenizer, held, gold)
    np.savez_compressed(args.out, **model.arrays())
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()

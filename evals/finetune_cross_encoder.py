"""Fine-tune the `local` judge's cross-encoder on the human-labelled pairs of the training splits,
inside the grouped folds of evals/train_judge.py, so the judge's cross-validation can read each
pair's cross-encoder columns from a model that never saw its fold.

Sentence pairs (0 entailed, 1 neutral, 2 contradicted) come from each claim and cited document
of the judge's pairs, reading the closest sentences the judge itself feeds the cross-encoder
(`judge_features.base`, cached):
- SciFact: the claim with each gold rationale sentence (SUPPORT 0, REFUTE 2); with its closest
  sentence that is no rationale (1), and with the two closest of a document without evidence (1).
- Citation-Integrity: the citing sentence, cleaned, with its passage's closest sentence, labelled
  by the passage's annotation (SUPPORT 0, REFUTE 2, none 1); its evidence entries always name
  sentence 0, so they say nothing about which sentence holds the evidence. With
  --passage-sentence start, the closest sentence the starting cross-encoder finds most so
  labelled instead.
With --unit passage, each claim is paired instead with its whole source (as far as --max-tokens
reach; stored with the weights, which the judge then reads as far) under the document label:
one pair a cited document, for a second cross-encoder whose columns train_judge.py adds with
--passage-folds.
Each fold k trains on the other folds' pairs (all of them unless --train-pairs samples fewer;
--dataset keeps one dataset's; --twins adds made ones: each entailed pair's claim negated or turned,
contradicted; --mix adds those of an evals/make_pairs.py file, or a --mix-pairs sample; --epochs
passes in batches of similar length, stopped by --minutes), starting from
--start's adapters (the synthetic-trained ones, evals/xenc_synthetic.npz, by default) or with
--scratch from fresh ones, and writes --out-pattern with k; it prints the held-out fold's 3-way
accuracy and, per dataset, the entailed-vs-not and SUPPORT-vs-REFUTE AUCs (of SciFact's sentence
pairs: its gold rationale sentences), before (from --start) and after. `--all` then fits on every
fold's pairs the same way and writes --all-out, by default the judge's cross-encoder
(assistant/xenc_weights.npz); train_judge.py then fits the judge on the per-fold weights'
out-of-fold columns (about 20 min and 5 min on 2 idle cores):

    OMP_NUM_THREADS=2 nice -n 5 .venv/bin/python evals/finetune_cross_encoder.py \
        --data ../shared/data --all
    OPENBLAS_NUM_THREADS=1 .venv/bin/python evals/train_judge.py --data ../shared/data \
        --xenc-folds '/tmp/xenc-fold{k}.npz'
"""

import argparse
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from judge_features import base  # evals/judge_features.py, beside this script
from judge_fitting import auc
from judge_pairs import DATASETS, FOLDS, ROOT, fold_of, load_pairs, read_jsonl
from make_pairs import negate, swap_antonym, swap_number
from train_cross_encoder import (
    SEED,
    SYNTHETIC,
    CrossEncoder,
    Pair,
    length_bucketed,
    load_arrays,
    probabilities,
    train,
)

from assistant.cross_encoder import (
    CONTRADICTED,
    ENTAILED,
    HUMAN_PAIRS,
    MAX_PAIR_TOKENS,
    MAX_TOKENS,
    NEUTRAL,
    WEIGHTS_FILE,
    pair_tokenizer,
)
from assistant.embedders.minilm_numpy import MiniLMQueryEncoder
from assistant.settings import EmbeddingSettings
from assistant.trained_judge import clean_claim

LABEL = {"SUPPORT": ENTAILED, "REFUTE": CONTRADICTED, "NEI": NEUTRAL}
# neutral pairs come from this many of the judge's closest sentences (it reads more)
PAIRED_SENTENCES = 2
# a claim with a whole source: the length the passage route was measured at (BENCHMARKS.md)
PASSAGE_TOKENS = 320


@dataclass
class Cited:
    """One claim with one cited document, as the judge reads it, and its gold annotation."""

    claim: str  # cleaned as the judge cleans it
    label: str  # SUPPORT, REFUTE or NEI
    rationale: list[str]  # SciFact's gold sentences; empty elsewhere
    closest: list[str]  # the judge's closest sentences, the closest first
    dataset: int  # index into DATASETS
    fold: int
    evidence: int = 0  # Citation-Integrity: which of `closest` is paired with the label
    passage: str = ""  # the whole source, as the judge reads it


def _is_rationale(sentence: str, rationale: Sequence[str]) -> bool:
    """Whether a sentence (as the judge splits the source) is, or is part of, a gold one."""
    return any(sentence in r or r in sentence for r in rationale)


def passage_pair(cited: Cited) -> list[Pair]:
    """The (claim, whole source, label) pair of one cited document: its document label."""
    return [(cited.claim, cited.passage, LABEL[cited.label])]


def sentence_pairs(cited: Cited) -> list[Pair]:
    """The (claim, sentence, label) pairs one cited document gives."""
    label = LABEL[cited.label]
    if DATASETS[cited.dataset] != "scifact":
        return [(cited.claim, cited.closest[cited.evidence], label)]
    closest = cited.closest[:PAIRED_SENTENCES]
    if cited.label == "NEI":
        return [(cited.claim, s, NEUTRAL) for s in closest]
    out = [(cited.claim, s, label) for s in cited.rationale]
    others = [s for s in closest if not _is_rationale(s, cited.rationale)]
    return out + [(cited.claim, s, NEUTRAL) for s in others[:1]]


def opposite(claim: str, rng: random.Random) -> str | None:
    """The claim made to say the opposite (a negation, a direction word or a number changed),
    as evals/make_pairs.py changes corpus sentences; None when it offers no place for that."""
    for transform in (negate, swap_antonym, swap_number):
        changed = transform(claim, rng)
        if changed and changed != claim:
            return changed
    return None


def twins(cited: Cited, both_ways: bool) -> list[Pair]:
    """Made pairs beside one cited document's human ones: each entailed pair's claim made to
    say the opposite, against the same sentence, is contradicted; with `both_ways`, on SciFact,
    each contradicted pair's claim so changed is entailed (SciFact's refuted claims were mostly
    written by negating supported ones, so undoing that usually restores a supported claim)."""
    rng = random.Random(f"{SEED}:{cited.claim}")
    turned = {ENTAILED: CONTRADICTED}
    if both_ways and DATASETS[cited.dataset] == "scifact":
        turned[CONTRADICTED] = ENTAILED
    out = []
    for claim, sentence, label in sentence_pairs(cited):
        if label in turned and (changed := opposite(claim, rng)):
            out.append((changed, sentence, turned[label]))
    return out


def mixed_pairs(path: Path, count: int | None) -> list[Pair]:
    """The made pairs of an evals/make_pairs.py file (all, or a seeded sample of `count`) as
    (hypothesis, premise, label): trained beside every fit's human pairs, never held out."""
    pairs = [(r["hypothesis"], r["premise"], r["label"]) for r in read_jsonl(path)]
    if count is None or count >= len(pairs):
        return pairs
    return random.Random(SEED).sample(pairs, count)


def cited_documents(data: Path, jobs: int) -> list[Cited]:
    """Every claim and cited document of both training splits, with its judge pair's fold."""
    pairs = load_pairs(data)
    _, _, closest = base(pairs.texts, jobs)
    fold = fold_of(pairs.group)
    row = {text: i for i, text in enumerate(pairs.texts) if not pairs.titled[i]}
    out = []
    for index, name in enumerate(DATASETS):
        corpus = {doc["doc_id"]: doc for doc in read_jsonl(data / name / "corpus.jsonl")}
        for claim in read_jsonl(data / name / "claims_train.jsonl"):
            for doc_id in claim["cited_doc_ids"]:
                sentences = corpus[doc_id]["abstract"]
                evidence = claim["evidence"].get(str(doc_id), [])
                i = row[(claim["claim"], " ".join(sentences))]
                gold = [sentences[j] for entry in evidence for j in entry["sentences"]]
                cited = Cited(
                    clean_claim(claim["claim"]),
                    evidence[0]["label"] if evidence else "NEI",
                    gold if name == "scifact" else [],
                    closest[i],
                    index,
                    int(fold[i]),
                    passage=pairs.texts[i][1],
                )
                out.append(cited)
    return out


def choose_evidence(cited: list[Cited], model: CrossEncoder, tokenizer: object) -> None:
    """Pair each Citation-Integrity passage's label with the closest sentence that `model`
    (the starting cross-encoder, never trained on these labels) finds most entailed, or most
    contradicted, rather than with the closest one."""
    passages = [c for c in cited if DATASETS[c.dataset] != "scifact"]
    candidates = [(c.claim, s, NEUTRAL) for c in passages for s in c.closest]
    p = probabilities(model, tokenizer, candidates)
    row = 0
    for c in passages:
        c.evidence = int(p[row : row + len(c.closest), LABEL[c.label]].argmax())
        row += len(c.closest)
    moved = sum(c.evidence != 0 for c in passages)
    print(f"{moved} of {len(passages)} passages paired with a sentence other than the closest")


def held_out_report(
    model: CrossEncoder, tokenizer: object, held: list[Pair], dataset: np.ndarray
) -> str:
    """3-way accuracy on a held-out fold; per dataset, the entailed-vs-not AUC of P(entailed)
    and the SUPPORT-vs-REFUTE AUC (entailed minus contradicted) of its pairs so labelled: on
    SciFact's sentences, the gold rationale ones, the figure the synthetic pairs did not move."""
    p = probabilities(model, tokenizer, held)
    y = np.array([label for _, _, label in held])
    out = [f"3-way accuracy {np.mean(p.argmax(1) == y):.3f}"]
    for index, name in enumerate(DATASETS):
        mine = dataset == index
        entailed = auc((y[mine] == ENTAILED).astype(int), p[mine, 0])
        rows = (y != NEUTRAL) & mine
        score = auc((y[rows] == ENTAILED).astype(int), p[rows, 0] - p[rows, 2])
        out.append(f"{name} entailed AUC {entailed:.3f}, S-v-R AUC {score:.3f}")
    return ", ".join(out)


def starting_model(args: argparse.Namespace, model_dir: Path) -> CrossEncoder:
    """The cross-encoder before fine-tuning: --start's adapters, or fresh ones with --scratch."""
    torch.manual_seed(SEED)
    model = CrossEncoder(model_dir, args.rank, 2.0 * args.rank, args.layers)
    if not args.scratch:
        load_arrays(model, args.start)
    return model


def fit(
    args: argparse.Namespace, pairs: list[Pair], made: list[Pair], model_dir: Path
) -> CrossEncoder:
    """One cross-encoder trained on `pairs` (or --train-pairs of them) and every `made` pair
    (twins and --mix's), from --start's adapters unless --scratch."""
    model = starting_model(args, model_dir)
    chosen = random.Random(SEED).sample(pairs, trained_on(args, pairs))
    if made:
        print(f"  {len(made)} made pairs ({counts(made)}) beside {len(chosen)} human pairs")
    settings = (args.lr, args.batch, args.minutes)
    ordered = length_bucketed(chosen + made, args.batch)
    tokenizer = pair_tokenizer(model_dir, args.max_tokens)
    train(model, tokenizer, ordered, settings, epochs=args.epochs, bf16=args.bf16)
    return model


def trained_on(args: argparse.Namespace, pairs: list[Pair]) -> int:
    """How many of `pairs` one fit trains on: all, or the --train-pairs sample."""
    return len(pairs) if args.train_pairs is None else min(len(pairs), args.train_pairs)


def save(model: CrossEncoder, path: Path, pair_count: int, max_tokens: int) -> None:
    """The adapters and head, marked as fine-tuned on `pair_count` human-labelled pairs, and
    with how many tokens of a pair they read when that is not the sentence pairs' default."""
    marks: dict[str, Any] = {HUMAN_PAIRS: np.array(pair_count)}
    if max_tokens != MAX_PAIR_TOKENS:
        marks[MAX_TOKENS] = np.array(max_tokens)
    np.savez_compressed(path, **model.arrays(), **marks)


def counts(pairs: Sequence[Pair]) -> str:
    """How many pairs of each label."""
    return "/".join(str(sum(1 for *_, y in pairs if y == k)) for k in range(3))


@dataclass
class FoldPairs:
    """Each fold's sentence pairs: the human-labelled ones with their dataset indices, and the
    made twins that may train beside them (never held out)."""

    human: list[list[Pair]]
    dataset: list[np.ndarray]
    made: list[list[Pair]]

    def training(
        self, held_out: int | None, dataset: str = "both"
    ) -> tuple[list[Pair], list[Pair]]:
        """The human and made pairs of every fold but `held_out` (None: of every fold); the
        human ones of one dataset only unless `dataset` is "both"."""
        kept = [j for j in range(FOLDS) if j != held_out]
        wanted = {name: i for i, name in enumerate(DATASETS)}.get(dataset)
        human = [
            p
            for j in kept
            for p, index in zip(self.human[j], self.dataset[j], strict=True)
            if wanted is None or index == wanted
        ]
        return human, [p for j in kept for p in self.made[j]]


def fold_pairs(documents: list[Cited], twinned: str, unit: str = "sentence") -> FoldPairs:
    """The pairs of each fold; `twinned` ("none", "support" or "both") says which twins;
    `unit` whether a claim is paired with sentences or with its whole source."""
    human: list[list[Pair]] = [[] for _ in range(FOLDS)]
    made: list[list[Pair]] = [[] for _ in range(FOLDS)]
    dataset: list[list[int]] = [[] for _ in range(FOLDS)]
    for cited in documents:
        labelled = sentence_pairs(cited) if unit == "sentence" else passage_pair(cited)
        human[cited.fold] += labelled
        dataset[cited.fold] += [cited.dataset] * len(labelled)
        if twinned != "none":
            made[cited.fold] += twins(cited, twinned == "both")
    print("human pairs per fold (entailed/neutral/contradicted):", [counts(p) for p in human])
    return FoldPairs(human, [np.array(d) for d in dataset], made)


def arguments() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--start", type=Path, default=ROOT / "evals" / SYNTHETIC)
    parser.add_argument("--scratch", action="store_true", help="fresh adapters, not --start's")
    parser.add_argument("--out-pattern", default="/tmp/xenc-fold{k}.npz")
    parser.add_argument("--all", action="store_true", help="also fit on every fold")
    parser.add_argument("--all-out", type=Path, default=ROOT / "assistant" / WEIGHTS_FILE)
    parser.add_argument("--folds", default="0,1,2,3,4", help="which folds to fit ('' for none)")
    parser.add_argument("--minutes", type=float, default=8.0, help="per fit")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--train-pairs", type=int, help="a sample of this many, per fit")
    parser.add_argument(
        "--dataset",
        choices=("both", *DATASETS),
        default="both",
        help="whose human pairs to fine-tune on (every fold is still reported on both)",
    )
    parser.add_argument(
        "--twins",
        choices=("none", "support", "both"),
        default="none",
        help="add made contradicted twins of the entailed pairs (both: and entailed twins of "
        "the contradicted ones)",
    )
    parser.add_argument(
        "--passage-sentence",
        choices=("closest", "start"),
        default="closest",
        help="which sentence a Citation-Integrity passage's label goes with: the closest, or "
        "the one of the closest the starting cross-encoder finds most so labelled",
    )
    parser.add_argument(
        "--unit",
        choices=("sentence", "passage"),
        default="sentence",
        help="pair each claim with its source's sentences, or with the whole source under "
        "its document label",
    )
    parser.add_argument(
        "--max-tokens",
        type=int,
        help=f"a pair's, truncated beyond (default {MAX_PAIR_TOKENS} for sentences, "
        f"{PASSAGE_TOKENS} for passages)",
    )
    parser.add_argument("--mix", type=Path, help="evals/make_pairs.py pairs beside every fit's")
    parser.add_argument("--mix-pairs", type=int, help="a sample of this many of --mix's")
    parser.add_argument("--bf16", action="store_true", help="bfloat16 autocast (faster)")
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--layers", type=int, default=3, help="top layers given adapters")
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--jobs", type=int, default=2, help="processes featurising")
    args = parser.parse_args()
    if args.unit == "passage" and (args.twins != "none" or args.passage_sentence != "closest"):
        parser.error("--twins and --passage-sentence pair sentences: not with --unit passage")
    if args.max_tokens is None:
        args.max_tokens = MAX_PAIR_TOKENS if args.unit == "sentence" else PASSAGE_TOKENS
    if args.scratch and args.passage_sentence == "start":
        parser.error(
            "--passage-sentence start reads the starting cross-encoder: not with --scratch"
        )
    return args


def main() -> None:
    """Build the human pairs, fine-tune one cross-encoder per fold (and on all with --all)."""
    args = arguments()
    torch.set_num_threads(2)
    model_dir = MiniLMQueryEncoder(EmbeddingSettings()).model_dir
    tokenizer = pair_tokenizer(model_dir, args.max_tokens)
    documents = cited_documents(args.data, args.jobs)
    start = None if args.scratch else starting_model(args, model_dir)
    if start is not None and args.passage_sentence == "start":
        choose_evidence(documents, start, tokenizer)
    folds = fold_pairs(documents, args.twins, args.unit)
    mixed = mixed_pairs(args.mix, args.mix_pairs) if args.mix else []
    if start is not None:
        for k in range(FOLDS):
            report = held_out_report(start, tokenizer, folds.human[k], folds.dataset[k])
            print(f"fold {k} before: {report}")
    for k in [int(k) for k in args.folds.split(",") if k]:
        started = time.perf_counter()
        others, made = folds.training(k, args.dataset)
        path = Path(args.out_pattern.format(k=k))
        model = fit(args, others, made + mixed, model_dir)
        save(model, path, trained_on(args, others), args.max_tokens)
        report = held_out_report(model, tokenizer, folds.human[k], folds.dataset[k])
        took = time.perf_counter() - started
        print(f"fold {k}: {report}; wrote {path} in {took:.0f} s", flush=True)
    if args.all:
        started = time.perf_counter()
        every, made = folds.training(None, args.dataset)
        model = fit(args, every, made + mixed, model_dir)
        save(model, args.all_out, trained_on(args, every), args.max_tokens)
        print(f"all folds: wrote {args.all_out} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()

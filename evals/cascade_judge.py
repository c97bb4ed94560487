"""Measure the `cascade` judge: calls saved and agreement lost against the `llm` judge.

On a seeded sample of the training splits (SciFact and Citation-Integrity, read from --data;
never the held-out ones), with the bundled SmolLM2-135M standing in for a real model:
1. the `local` judge scores every pair;
2. the `llm` judge judges every pair (the reference a cascade tries to save calls on);
3. the `cascade` judge with the band from settings (judge.cascade_low, judge.cascade_high, or
   --low/--high) judges every pair, asking the model only about its band.
It prints, for each: macro-F1 of supported-vs-not against the human labels, and the model's
calls, tokens and time; for the cascade, the share of pairs it did not send to the model
(calls saved) and the share of pairs where its verdict (supported or not) agrees with the llm
judge's. A table then shows other bands, simulated from steps 1 and 2 (a band pair takes the
verdict the model gave it in step 2, judged in other company than a cascade would send it).

    LITREVIEW_LLM__TIMEOUT=600 OPENBLAS_NUM_THREADS=2 \
        python evals/cascade_judge.py --data /work/shared/data --per-split 60

(the timeout: on a loaded 2-core machine one batched call to the bundled model can take minutes).
"""

import argparse
import random
import time
from collections.abc import Sequence
from pathlib import Path

from assistant.cascade_judge import CascadeJudge
from assistant.evaluation.judging import JudgeCase, read_judge_cases
from assistant.evaluation.metrics import macro_f1
from assistant.judges import LLMJudge
from assistant.llm import chat_session
from assistant.llm.chat import ChatModel
from assistant.settings import JudgeSettings, Settings
from assistant.verdicts import Judge, Verdict
from assistant.workspace import offline_judge

SEED = 17
SPLITS = ("scifact", "citation_integrity")
BANDS = [(0.5, 0.5), (0.45, 0.55), (0.4, 0.6), (0.35, 0.65), (0.3, 0.7), (0.2, 0.8), (0.0, 1.0)]


def sample(data: Path, per_split: int) -> list[JudgeCase]:
    """`per_split` (claim, cited document) pairs drawn at random from each training split."""
    cases = []
    for split in SPLITS:
        pool = read_judge_cases(data / split / "corpus.jsonl", data / split / "claims_train.jsonl")
        cases += random.Random(SEED).sample(pool, per_split)
    return cases


def timed(judge: Judge, chat: ChatModel, pairs: Sequence[tuple[str, str]]) -> list[Verdict]:
    """The judge's verdicts, with the model calls, tokens and seconds they took printed."""
    before = chat.usage.as_json()
    start = time.perf_counter()
    verdicts = judge.judge_all(pairs)
    after = chat.usage.as_json()
    spent = {name: after[name] - before[name] for name in ("llm_calls", "prompt_tokens")}
    print(
        f"  {judge.name}: {spent['llm_calls']} model calls, {spent['prompt_tokens']} prompt "
        f"tokens, {time.perf_counter() - start:.0f} s"
    )
    return verdicts


def agreement(a: Sequence[bool], b: Sequence[bool]) -> float:
    """The share of pairs on which two judges say the same (supported or not)."""
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def simulated(scores: Sequence[float], llm: Sequence[bool], low: float, high: float) -> list[bool]:
    """A cascade's supported-or-not, the band taking the llm judge's all-pairs verdicts."""
    return [
        said if low < score < high else score >= high
        for score, said in zip(scores, llm, strict=True)
    ]


def main() -> None:
    """Run the three judges on the sample and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--per-split", type=int, default=60)
    parser.add_argument("--low", type=float, default=JudgeSettings().cascade_low)
    parser.add_argument("--high", type=float, default=JudgeSettings().cascade_high)
    args = parser.parse_args()
    cases = sample(args.data, args.per_split)
    pairs = [(case.claim, case.source) for case in cases]
    gold = [case.supported for case in cases]
    print(f"{len(cases)} pairs ({args.per_split} from each of {', '.join(SPLITS)}), seed {SEED}")
    settings = Settings()
    local = offline_judge(settings)
    verdicts = local.judge_all(pairs)
    scores = [verdict.score for verdict in verdicts]
    offline = [verdict.supported for verdict in verdicts]
    with chat_session(settings, local=True) as chat:
        llm = [v.supported for v in timed(LLMJudge(chat), chat, pairs)]
        cascade_judge = CascadeJudge(local, LLMJudge(chat), args.low, args.high)
        cascade = [v.supported for v in timed(cascade_judge, chat, pairs)]
    print(f"macro-F1 vs human labels: local {macro_f1(gold, offline):.3f}, "
          f"llm {macro_f1(gold, llm):.3f}, cascade {macro_f1(gold, cascade):.3f}")  # fmt: skip
    print(f"cascade band ({args.low}, {args.high}): {cascade_judge.summary()}")
    print(f"  calls saved {1 - cascade_judge.asked / len(pairs):.3f}, agreement with llm "
          f"{agreement(cascade, llm):.3f} (local alone {agreement(offline, llm):.3f})")  # fmt: skip
    print("simulated bands: low high sent agreement-with-llm macro-F1")
    for low, high in BANDS:
        said = simulated(scores, llm, low, high)
        sent = sum(low < score < high for score in scores) / len(scores)
        print(f"  {low:.1f} {high:.1f} {sent:.3f} {agreement(said, llm):.3f} "
              f"{macro_f1(gold, said):.3f}")  # fmt: skip


if __name__ == "__main__":
    main()

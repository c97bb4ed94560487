"""Measure the `cascade` judge: calls saved and agreement lost against the `llm` judge.

On a seeded sample of the training splits (SciFact and Citation-Integrity, read from --data;
never the held-out ones), with the bundled SmolLM2-135M standing in for a real model:
1. the `llm` judge judges every pair (the reference a cascade tries to save calls on); its
   verdicts are saved to --verdicts and read back by the next run, so the slow model pass is
   paid once and the `local` judge can be retrained and the band moved without it;
2. the `local` judge scores every pair;
3. a cascade with each band of a table (the one from settings, judge.cascade_low and
   judge.cascade_high, or --low/--high, first) takes the local verdict outside the band and the
   model's inside it.
It prints, for each band: the share of pairs a cascade sends to the model (1 - calls saved),
the share where its verdict (supported or not) agrees with the llm judge's, and macro-F1 of
supported-vs-not against the human labels; and the same figures for local and llm alone. A band
pair takes the verdict the model gave it among all the sample's pairs: a live cascade sends it
with only the other band pairs (`--live` runs that too, and prints its calls).

    LITREVIEW_LLM__TIMEOUT=600 OPENBLAS_NUM_THREADS=2 python evals/cascade_judge.py \
        --data ../shared/data --per-split 40 --verdicts /tmp/cascade-llm.json

(the timeout: on a loaded 2-core machine one batched call to the bundled model can take minutes).
"""

import argparse
import json
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


def llm_verdicts(settings: Settings, pairs: Sequence[tuple[str, str]], saved: Path) -> list[bool]:
    """The llm judge's supported-or-not for every pair, from `saved` when it holds this sample."""
    if saved.exists():
        stored = json.loads(saved.read_text(encoding="utf-8"))
        if stored["pairs"] == [list(pair) for pair in pairs]:
            print(f"  llm: verdicts read from {saved}")
            return [bool(v) for v in stored["supported"]]
    with chat_session(settings, local=True) as chat:
        llm = [v.supported for v in timed(LLMJudge(chat), chat, pairs)]
    saved.write_text(json.dumps({"pairs": pairs, "supported": llm}), encoding="utf-8")
    return llm


def live(settings: Settings, local: Judge, pairs: Sequence[tuple[str, str]], band: tuple) -> None:
    """Run a real cascade with `band` and print its calls and pairs sent."""
    with chat_session(settings, local=True) as chat:
        cascade = CascadeJudge(local, LLMJudge(chat), *band)
        timed(cascade, chat, pairs)
        print(f"  {cascade.summary()}")


def main() -> None:
    """Judge the sample with the model (once) and the local judge, and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--per-split", type=int, default=40)
    parser.add_argument("--verdicts", type=Path, default=Path("/tmp/cascade-llm.json"))
    parser.add_argument("--low", type=float, default=JudgeSettings().cascade_low)
    parser.add_argument("--high", type=float, default=JudgeSettings().cascade_high)
    parser.add_argument("--live", action="store_true", help="also run a real cascade")
    args = parser.parse_args()
    cases = sample(args.data, args.per_split)
    pairs = [(case.claim, case.source) for case in cases]
    gold = [case.supported for case in cases]
    print(f"{len(cases)} pairs ({args.per_split} from each of {', '.join(SPLITS)}), seed {SEED}")
    settings = Settings()
    llm = llm_verdicts(settings, pairs, args.verdicts)
    local = offline_judge(settings)
    verdicts = local.judge_all(pairs)
    scores = [verdict.score for verdict in verdicts]
    offline = [verdict.supported for verdict in verdicts]
    print(f"macro-F1 vs human labels: local {macro_f1(gold, offline):.3f}, "
          f"llm {macro_f1(gold, llm):.3f}; local agrees with llm on "
          f"{agreement(offline, llm):.3f}")  # fmt: skip
    print("band (low high): sent-to-model agreement-with-llm macro-F1")
    for low, high in [(args.low, args.high), *BANDS]:
        said = simulated(scores, llm, low, high)
        sent = sum(low < score < high for score in scores) / len(scores)
        print(f"  {low:.2f} {high:.2f}: {sent:.3f} {agreement(said, llm):.3f} "
              f"{macro_f1(gold, said):.3f}")  # fmt: skip
    if args.live:
        live(settings, local, pairs, (args.low, args.high))


if __name__ == "__main__":
    main()

"""Time a pair: the `local` judge's features with each MiniLM, and with its cross-encoder.

Pairs are the SciFact test fixture's claims with their cited abstracts whose title and abstract
come to about 250 tokens (200 to 300). What is timed is the judge's features, nearly all of
its time (its heads are two small matrix products): the 34 MiniLM and word-cue features with
the exact numpy MiniLM (the judge's encoder until int8) and with the int8 one, then those and
the int8 cross-encoder over the closest sentences: the judge as shipped. Warm timings (the
first pair loads the models), each run over all the pairs in turn, twice, so that load on the
machine falls on all of them; median and 90th percentile. (Turns pair by pair slowed the int8
runs: numpy's OpenBLAS threads keep spinning after the exact encoder's products and take the
cores from onnxruntime's.)

    OPENBLAS_NUM_THREADS=2 python benchmarks/judge.py [--pairs 40]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

from tokenizers import Tokenizer

from assistant.cross_encoder import CrossEncoder
from assistant.embedders.minilm_numpy import MiniLMQueryEncoder
from assistant.evaluation.judging import read_judge_cases
from assistant.settings import EmbeddingSettings
from assistant.trained_judge import TrainedJudge, featurise

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "scifact"
ROUNDS = 2


def main() -> None:
    """Print ms per pair for each run, side by side."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=40)
    args = parser.parse_args()
    judge = TrainedJudge()
    tokenizer = Tokenizer.from_file(str(judge.encoder.model_dir / "tokenizer.json"))
    tokenizer.no_truncation()
    cases = read_judge_cases(FIXTURES / "corpus_400.jsonl", FIXTURES / "claims_400.jsonl")
    sized = [c for c in cases if 200 <= len(tokenizer.encode(c.source).ids) <= 300]
    pairs = [(c.claim, c.source) for c in sized[: args.pairs]]
    if not pairs:
        sys.exit("no fixture pair of 200-300 tokens")
    cross = judge.cross or CrossEncoder(judge.encoder.model_dir)
    exact = MiniLMQueryEncoder(EmbeddingSettings())
    runs = {
        "exact MiniLM (numpy)": lambda pair: featurise([pair], exact),
        "int8 MiniLM": lambda pair: featurise([pair], judge.encoder),
        "int8 + cross-encoder (judge)": lambda pair: featurise([pair], judge.encoder, cross),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(ROUNDS):
        for name, run in runs.items():
            run(pairs[0])
            for pair in pairs:
                started = time.perf_counter()
                run(pair)
                times[name].append((time.perf_counter() - started) * 1000)
    print(f"{len(pairs)} pairs of 200-300 tokens, one at a time, warm, {ROUNDS} rounds")
    for name, taken in times.items():
        p90 = statistics.quantiles(taken, n=10)[-1]
        print(f"  {name:26s} median {statistics.median(taken):6.1f} ms, p90 {p90:6.1f} ms")


if __name__ == "__main__":
    main()

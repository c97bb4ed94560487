"""The int8 MiniLM's forward pass with and without onnxruntime's SkipLayerNorm fusion.

`assistant/embedders/minilm_onnx.py` opens its session with the fusions in `SLOW_FUSIONS`
disabled. This times the same cached int8 model both ways on the sentences of the SciFact test
fixture's first 150 abstracts (title-prefixed, as ingest embeds them; length-sorted batches of
16, as the embedder sends them), on one thread and as CPU time, so that other work on the
machine moves the figures little; best of 3 alternating rounds. onnxruntime's profiler then
gives each operator's share of the time, which is where the fusion's cost shows.

    python benchmarks/int8_session.py
"""

import collections
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime

from assistant.chunking import embedding_text, split_sentences
from assistant.embedders.minilm_numpy import MiniLMQueryEncoder, padded
from assistant.embedders.minilm_onnx import SLOW_FUSIONS, int8_model
from assistant.settings import EmbeddingSettings

FIXTURE = (
    Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "scifact" / "corpus_400.jsonl"
)
BATCH = 16


def batches(encoder: MiniLMQueryEncoder) -> tuple[int, list[dict[str, np.ndarray]]]:
    """The fixture's sentence count and its padded batches as the int8 graph's feeds."""
    with FIXTURE.open(encoding="utf-8") as lines:
        papers = [json.loads(line) for line in lines][:150]
    texts = [
        embedding_text(p["title"], sentence)
        for p in papers
        for sentence in split_sentences(" ".join(p["abstract"]))
    ]
    encodings = encoder.tokenizer.encode_batch(texts)
    order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
    feeds = []
    for start in range(0, len(order), BATCH):
        ids, _, mask = padded([encodings[i] for i in order[start : start + BATCH]])
        feeds.append({"input_ids": ids.astype(np.int64), "attention_mask": mask.astype(np.int64)})
    return len(texts), feeds


def session(model: Path, disabled: list[str], profile: bool = False) -> Any:
    """A one-thread session over `model` with the `disabled` fusions off."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.enable_profiling = profile
    options.profile_file_prefix = str(Path(tempfile.gettempdir()) / "litreview-int8")
    return onnxruntime.InferenceSession(
        str(model), options, providers=["CPUExecutionProvider"], disabled_optimizers=disabled
    )


def operator_shares(model: Path, disabled: list[str], feeds: list) -> list[tuple[str, float]]:
    """Each operator's share of one profiled pass, largest first."""
    profiled = session(model, disabled, profile=True)
    for feed in feeds:
        profiled.run(None, feed)
    events = json.loads(Path(profiled.end_profiling()).read_text(encoding="utf-8"))
    spent: collections.Counter[str] = collections.Counter()
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            spent[event["args"]["op_name"]] += event["dur"]
    total = sum(spent.values())
    return [(op, taken / total) for op, taken in spent.most_common(5)]


def main() -> None:
    """Print CPU seconds, sentences a second and the top operators, per variant."""
    settings = EmbeddingSettings(precision="int8")
    encoder = MiniLMQueryEncoder(settings)
    model = int8_model(settings.model_cache, encoder.model_dir)
    count, feeds = batches(encoder)
    variants = {"with the SkipLayerNorm fusion": [], "without (shipped)": SLOW_FUSIONS}
    sessions = {name: session(model, disabled) for name, disabled in variants.items()}
    taken: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(3):
        for name, variant in sessions.items():
            started = time.process_time()
            for feed in feeds:
                variant.run(None, feed)
            taken[name].append(time.process_time() - started)
    print(f"{count} sentences, batches of {BATCH}, one thread, CPU time (best of 3)")
    for name, disabled in variants.items():
        best = min(taken[name])
        shares = ", ".join(
            f"{op} {share:.0%}" for op, share in operator_shares(model, disabled, feeds)
        )
        print(f"  {name:30s} {best:6.2f} s  {count / best:6.0f} sentences/s  ({shares})")


if __name__ == "__main__":
    main()

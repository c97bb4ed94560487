"""Search speed: warm latency at 100k chunks, and the cold start of `litreview search`.

The 100k-chunk store is SciFact's real chunks (45,962 one-sentence chunks with the default
chunking; their texts and MiniLM vectors) written again and again under different paper keys
until the store holds `--chunks` (the last copy cut short), each copy's vectors jittered with
Gaussian noise (cosine about 0.95 to the original) so the HNSW graph holds distinct points.
Embedding that many real abstracts would take hours here; what search costs depends on the
number of chunks, not on where their vectors came from. Queries are SciFact training claims.
Everything built lives in benchmarks/out/ and is reused by the next run.

    python benchmarks/search.py [--chunks 100000] [--queries 200]
"""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from assistant.chunking import chunk_paper, embedding_text
from assistant.embedders.minilm import MiniLMEmbedder
from assistant.ingest import Catalog, ingest
from assistant.papers import Paper
from assistant.readers import read_file
from assistant.search import Searcher, lexical_index
from assistant.settings import Settings
from assistant.store import Store

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "out"
SHARED = ROOT.parents[1] / "shared"
SCIFACT = SHARED / "data" / "scifact"
NOISE = 0.012  # per-dimension jitter of the copies' unit vectors (384 dimensions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--chunks", type=int, default=100_000, help="Chunks in the store, at least."
    )
    parser.add_argument("--queries", type=int, default=200, help="Warm queries timed.")
    args = parser.parse_args()
    settings = Settings()
    settings.store.path = OUT / f"scifact-{args.chunks}"
    build_large_store(settings, args.chunks)
    warm(settings, claims(args.queries))
    cold()


def build_large_store(settings: Settings, at_least: int) -> None:
    store = Store(settings.store)
    papers = scifact_papers()
    chunks = [c for p in papers for c in chunk_paper(p, settings.chunking)]
    if store.info().chunks >= at_least:
        print(f"store: reusing {store.info().chunks:,} chunks in {settings.store.path}")
        return
    vectors = scifact_vectors(settings, papers, chunks)
    rng = np.random.default_rng(0)
    store.begin_write(MiniLMEmbedder(settings.embeddings).name)
    start = time.perf_counter()
    written = 0
    copy = 0
    while written < at_least:  # the last copy stops at the first part past the target
        renamed = [p.model_copy(update={"key": f"{p.key}-{copy}"}) for p in papers]
        copy_chunks = [c for p in renamed for c in chunk_paper(p, settings.chunking)]
        jittered = vectors + rng.normal(0, NOISE if copy else 0, vectors.shape)
        jittered /= np.linalg.norm(jittered, axis=1, keepdims=True)
        for first in range(0, len(renamed), 500):
            part = renamed[first : first + 500]
            keys = {p.key for p in part}
            rows = [i for i, c in enumerate(copy_chunks) if c.paper_key in keys]
            store.write(part, [copy_chunks[i] for i in rows], jittered[rows], replacing=set())
            written += len(rows)
            if written >= at_least:
                break
        copy += 1
        print(f"store: {written:,} chunks written ({time.perf_counter() - start:.0f} s)")
    store.end_write()
    started = time.perf_counter()
    lexical_index(store, settings)
    print(
        f"store: lexical index of {store.info().papers:,} papers built in "
        f"{time.perf_counter() - started:.1f} s"
    )


def scifact_papers() -> list[Paper]:
    catalog = Catalog([])
    for item in read_file(SCIFACT / "corpus.jsonl"):
        catalog.add(item)  # type: ignore[arg-type]
    catalog.assign_keys()
    return list(catalog.papers.values())


def scifact_vectors(settings: Settings, papers: list[Paper], chunks: list) -> np.ndarray:
    cached = OUT / f"scifact-chunk-vectors-{len(chunks)}.npy"
    if cached.is_file():
        return np.load(cached)
    titles = {p.key: p.title for p in papers}
    texts = [embedding_text(titles[c.paper_key], c.text) for c in chunks]
    print(f"embedding {len(texts):,} SciFact chunks once (cached in {cached})")
    vectors = MiniLMEmbedder(settings.embeddings).embed(texts)
    OUT.mkdir(parents=True, exist_ok=True)
    np.save(cached, vectors)
    return vectors


def claims(limit: int) -> list[str]:
    import json

    lines = (SCIFACT / "claims_train.jsonl").read_text().splitlines()
    return [json.loads(line)["claim"] for line in lines[:limit]]


def warm(settings: Settings, queries: list[str]) -> None:
    searcher = Searcher(settings, Store(settings.store))
    searcher.search(queries[0])  # load the encoder and the lexical index
    timings = []
    for query in queries:
        start = time.perf_counter()
        searcher.search(query)
        timings.append((time.perf_counter() - start) * 1000)
    chunks = searcher.store.info().chunks
    print(
        f"warm search over {chunks:,} chunks, {len(queries)} queries: "
        f"p50 {percentile(timings, 50):.1f} ms, p95 {percentile(timings, 95):.1f} ms "
        f"(goals: 50 and 120 ms)"
    )


def cold(runs: int = 5) -> None:
    settings = Settings()
    settings.store.path = OUT / "seeds"
    if Store(settings.store).info().papers == 0:
        ingest([ROOT.parent / "examples" / "seeds"], settings)
    command = [
        sys.executable,
        "-m",
        "assistant",
        "search",
        "why do recurrent models fail at associative recall",
        "--store",
        str(settings.store.path),
    ]
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        timings.append(time.perf_counter() - start)
    print(
        f"cold `litreview search` on the seed corpus, {runs} runs: median "
        f"{statistics.median(timings):.2f} s, max {max(timings):.2f} s (goal: 2.5 s)"
    )


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


if __name__ == "__main__":
    main()

"""Ingest speed on the SciFact corpus, measured in one run so the ratios are fair.

Prints: end-to-end ingest abstracts/s; the raw embedder's abstracts/s on the same chunk texts;
their ratio; a plain fp32 sentence-transformers run on the same texts and the embedder's speed-up
over it; dense nDCG@10 on SciFact training claims with both sets of vectors (precision must not
cost quality); and the cold start of `litreview papers list`.

    python benchmarks/ingest.py [--limit N]
"""

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from assistant.chunking import chunk_paper, embedding_text
from assistant.embedders import normalised
from assistant.embedders.minilm import MiniLMEmbedder
from assistant.ingest import Catalog, ingest
from assistant.readers import read_file
from assistant.settings import Settings

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=0, help="First N abstracts only (0: all).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        lines = (DATA / "corpus.jsonl").read_text().splitlines(keepends=True)
        corpus.write_text("".join(lines[: args.limit or None]))
        run(corpus, Path(tmp) / "store")


def run(corpus: Path, store: Path) -> None:
    settings = Settings()
    settings.store.path = store
    catalog = Catalog([])
    for item in read_file(corpus):
        catalog.add(item)  # type: ignore[arg-type]
    catalog.assign_keys()
    papers = list(catalog.papers.values())
    chunks = [(p, c) for p in papers for c in chunk_paper(p, settings.chunking)]
    texts = [embedding_text(p.title, c.text) for p, c in chunks]
    n = len(papers)
    print(f"{n} abstracts, {len(texts)} chunks")

    embedder = MiniLMEmbedder(settings.embeddings)
    embedder.embed(texts[:8])  # load the model outside the timing
    start = time.perf_counter()
    fast = embedder.embed(texts)
    raw_rate = n / (time.perf_counter() - start)

    start = time.perf_counter()
    ingest([corpus], settings)
    e2e_rate = n / (time.perf_counter() - start)

    start = time.perf_counter()
    plain = normalised(embedder.model.encode(texts, batch_size=32))  # fp32, as shipped
    plain_rate = n / (time.perf_counter() - start)

    print(f"end-to-end ingest      {e2e_rate:7.1f} abstracts/s")
    print(f"raw embedder ({embedder.precision})    {raw_rate:7.1f} abstracts/s")
    print(f"end-to-end / raw       {e2e_rate / raw_rate:7.2f}   (goal >= 0.90)")
    print(f"plain fp32 ST          {plain_rate:7.1f} abstracts/s")
    print(f"embedder / plain fp32  {raw_rate / plain_rate:7.2f}x  (goal >= 3x)")
    print(f"min cosine vs fp32     {float((fast * plain).sum(axis=1).min()):.5f}")
    owners = [p.external_ids["scifact"] for p, _ in chunks]
    queries = [json.loads(line) for line in (DATA / "claims_train.jsonl").open()]
    query_vectors = embedder.embed([q["claim"] for q in queries])
    for label, vectors in ((embedder.precision, fast), ("fp32", plain)):
        print(f"dense nDCG@10 ({label})  {ndcg_at_10(queries, query_vectors, vectors, owners):.4f}")
    print(f"cold `papers list`     {cold_start(store):7.2f} s (median of 5)")


def ndcg_at_10(
    queries: list[dict], query_vectors: np.ndarray, vectors: np.ndarray, owners: list[str]
) -> float:
    """BEIR-style nDCG@10 with binary relevance; a document scores as its best chunk."""
    docs = sorted(set(owners))
    column = {d: i for i, d in enumerate(docs)}
    owner_index = np.array([column[o] for o in owners])
    scores_all = query_vectors @ vectors.T
    total, counted = 0.0, 0
    for query, scores in zip(queries, scores_all):
        relevant = {str(d) for d in query["cited_doc_ids"]} & set(column)
        if not relevant:
            continue
        best = np.full(len(docs), -np.inf)
        np.maximum.at(best, owner_index, scores)
        ranked = [docs[i] for i in np.argsort(-best)[:10]]
        dcg = sum(1 / math.log2(r + 2) for r, d in enumerate(ranked) if d in relevant)
        ideal = sum(1 / math.log2(r + 2) for r in range(min(len(relevant), 10)))
        total, counted = total + dcg / ideal, counted + 1
    return total / max(counted, 1)


def cold_start(store: Path) -> float:
    """Seconds from process start to printed list, in a fresh interpreter each time."""
    times = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "assistant", "papers", "list", "--store", str(store)],
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


if __name__ == "__main__":
    main()

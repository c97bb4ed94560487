"""Ingest speed on the SciFact corpus: today's exact path and int8 side by side, in one run.

For each MiniLM path (the exact model as shipped before int8, bf16 autocast where the CPU has
it, else fp32; and onnxruntime int8), alternating `--repeat` times so that load on a shared
machine falls on both: end-to-end ingest abstracts/s (median) and the ratio; the raw
embedder's rate on the same chunk texts, with and without length-sorted batches; cosine of each
path's vectors to plain fp32 sentence-transformers (min, mean); dense nDCG@10 on the SciFact
training claims of the abstracts ingested, each path's queries embedded by that path; the
cold start of `litreview search` on each path's store and of `papers list` (medians of 5).

    python benchmarks/ingest.py [--limit N] [--repeat R]
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from assistant.chunking import chunk_paper, embedding_text
from assistant.embedders import Embedder, make_embedder, make_query_embedder
from assistant.embedders.minilm import MiniLMEmbedder, bf16_supported
from assistant.ingest import Catalog, ingest
from assistant.readers import read_file
from assistant.settings import EmbeddingSettings, Settings

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"
QUERY = "statin therapy and the risk of dementia"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=0, help="First N abstracts only (0: all).")
    parser.add_argument("--repeat", type=int, default=2, help="Timed ingests of each path.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        lines = (DATA / "corpus.jsonl").read_text().splitlines(keepends=True)
        corpus.write_text("".join(lines[: args.limit or None]))
        run(corpus, Path(tmp), args.repeat)


def run(corpus: Path, tmp: Path, repeat: int) -> None:
    exact = "bf16" if bf16_supported() else "fp32"
    paths = {f"exact, {exact} (today)": exact, "int8 onnxruntime": "int8"}
    settings = {label: path_settings(tmp, precision) for label, precision in paths.items()}
    texts, owners, n = chunk_texts(corpus, Settings())
    print(f"{n} abstracts, {len(texts)} chunks, {repeat} alternating ingests of each path")
    for each in settings.values():
        make_embedder(each.embeddings).embed(texts[:8])  # imports, and the int8 file, untimed
    rates: dict[str, list[float]] = {label: [] for label in paths}
    for round_ in range(repeat):
        for label, each in settings.items():
            each.store.path = tmp / f"store-{paths[label]}-{round_}"
            start = time.perf_counter()
            ingest([corpus], each)
            rates[label].append(n / (time.perf_counter() - start))
    today, int8 = (statistics.median(rates[label]) for label in paths)
    for label in paths:
        print(f"end-to-end ingest  {label:24} {statistics.median(rates[label]):7.1f} abstracts/s")
    print(f"end-to-end int8 / today                     {int8 / today:7.2f}x  (goal >= 2x)")
    compare_vectors(settings, texts, owners, n)
    for label, each in settings.items():
        print(
            f"cold `search`      {label:24} {cold_run(each, 'search', QUERY):7.2f} s (median of 5)"
        )
    print(
        f"cold `papers list` {'int8 store':24} {cold_run(settings['int8 onnxruntime'], 'papers', 'list'):7.2f} s"
    )


def path_settings(tmp: Path, precision: str) -> Settings:
    """Settings for one path, its int8 model cached beside the stores."""
    settings = Settings()
    settings.embeddings.precision = precision  # type: ignore[assignment]
    settings.embeddings.model_cache = tmp / "models"
    return settings


def chunk_texts(corpus: Path, settings: Settings) -> tuple[list[str], list[str], int]:
    """The texts ingest embeds, each chunk's SciFact doc id, and the number of abstracts."""
    catalog = Catalog([])
    for item in read_file(corpus):
        catalog.add(item)  # type: ignore[arg-type]
    catalog.assign_keys()
    papers = list(catalog.papers.values())
    chunks = [(p, c) for p in papers for c in chunk_paper(p, settings.chunking)]
    texts = [embedding_text(p.title, c.text) for p, c in chunks]
    return texts, [p.external_ids["scifact"] for p, _ in chunks], len(papers)


def compare_vectors(
    settings: dict[str, Settings], texts: list[str], owners: list[str], n: int
) -> None:
    """Raw rates (length-sorted and not), cosine to plain fp32, and dense nDCG@10, per path."""
    reference = MiniLMEmbedder(EmbeddingSettings(precision="fp32"))
    start = time.perf_counter()
    plain = reference.embed(texts)
    print(
        f"raw plain fp32 sentence-transformers         {n / (time.perf_counter() - start):7.1f} "
        "abstracts/s"
    )
    queries = [json.loads(line) for line in (DATA / "claims_train.jsonl").open()]
    claims = [q["claim"] for q in queries]
    fp32_ndcg = ndcg_at_10(queries, reference.embed(claims), plain, owners)
    print(f"dense nDCG@10      {'plain fp32':24} {fp32_ndcg:.4f}")
    for label, each in settings.items():
        embedder = make_embedder(each.embeddings)
        start = time.perf_counter()
        vectors = embedder.embed(texts)
        sorted_rate = n / (time.perf_counter() - start)
        print(
            f"raw embedder       {label:24} {sorted_rate:7.1f} abstracts/s length-sorted, "
            f"{n / unsorted_seconds(embedder, texts, each.embeddings.batch_size):.1f} not"
        )
        cosines = (vectors * plain).sum(axis=1)
        print(f"cosine to fp32     {label:24} min {cosines.min():.5f}  mean {cosines.mean():.5f}")
        query_vectors = make_query_embedder(each.embeddings, embedder.name).embed(claims)
        print(
            f"dense nDCG@10      {label:24} {ndcg_at_10(queries, query_vectors, vectors, owners):.4f}"
        )


def unsorted_seconds(embedder: Embedder, texts: list[str], batch: int) -> float:
    """Seconds to embed `texts` one batch at a time in corpus order: no global length sort."""
    start = time.perf_counter()
    for at in range(0, len(texts), batch):
        embedder.embed(texts[at : at + batch])
    return time.perf_counter() - start


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


def cold_run(settings: Settings, *command: str) -> float:
    """Seconds from process start to printed output on the path's last store, in a fresh
    interpreter each time, median of 5."""
    env = {
        **os.environ,
        "LITREVIEW_EMBEDDINGS__PRECISION": settings.embeddings.precision,
        "LITREVIEW_EMBEDDINGS__MODEL_CACHE": str(settings.embeddings.model_cache),
    }
    times = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "assistant", *command, "--store", str(settings.store.path)],
            check=True,
            capture_output=True,
            env=env,
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


if __name__ == "__main__":
    main()

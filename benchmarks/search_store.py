"""The large store `benchmarks/search.py` measures: SciFact's real chunks written again and again.

SciFact's one-sentence chunks (45,962 with the default chunking; their texts and MiniLM vectors)
are written under other paper keys, copy after copy, until the store holds the chunks wanted
(the last copy cut short at a part of 500 papers). Copy `c`'s vectors are jittered with Gaussian
noise drawn from seed `c` (cosine about 0.95 to the original; copy 0 unjittered), so the HNSW
graph holds distinct points, a build can resume where a stopped one ended, and the exact
neighbours of a query can be recomputed without reading the store.
"""

import json
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.chunking import Chunk, chunk_paper, embedding_text
from assistant.embedders.minilm import MiniLMEmbedder
from assistant.ingest import Catalog
from assistant.papers import Paper
from assistant.readers import read_file
from assistant.settings import Settings
from assistant.store import Store

NOISE = 0.012  # per-dimension jitter of the copies' unit vectors (384 dimensions)
PART = 500  # papers per `Store.write`
REPORT_EVERY = 25_000  # chunks between lines of the build's progress


@dataclass
class Corpus:
    """SciFact's papers, their chunks in paper order, and the chunks' vectors."""

    papers: list[Paper]
    chunks: list[Chunk]
    vectors: np.ndarray

    def copy(self, number: int, settings: Settings) -> tuple[list[Paper], list[Chunk]]:
        """Copy `number`'s papers (keys suffixed `-number`) and their chunks."""
        renamed = [p.model_copy(update={"key": f"{p.key}-{number}"}) for p in self.papers]
        return renamed, [c for p in renamed for c in chunk_paper(p, settings.chunking)]

    def vectors_of(self, number: int) -> np.ndarray:
        """Copy `number`'s unit vectors, float32 as Chroma keeps them."""
        rng = np.random.default_rng(number)
        jittered = self.vectors + rng.normal(0, NOISE if number else 0, self.vectors.shape)
        jittered /= np.linalg.norm(jittered, axis=1, keepdims=True)
        return jittered.astype(np.float32)


def load_corpus(settings: Settings, data: Path, out: Path) -> Corpus:
    """SciFact's papers and chunks; their vectors embedded once and cached in `out`."""
    catalog = Catalog([])
    for item in read_file(data / "scifact" / "corpus.jsonl"):
        catalog.add(item)  # type: ignore[arg-type]
    catalog.assign_keys()
    papers = list(catalog.papers.values())
    chunks = [c for p in papers for c in chunk_paper(p, settings.chunking)]
    cached = out / f"scifact-chunk-vectors-{len(chunks)}.npy"
    if not cached.is_file():
        titles = {p.key: p.title for p in papers}
        texts = [embedding_text(titles[c.paper_key], c.text) for c in chunks]
        print(f"embedding {len(texts):,} SciFact chunks once (cached in {cached})")
        out.mkdir(parents=True, exist_ok=True)
        np.save(cached, MiniLMEmbedder(settings.embeddings).embed(texts))
    return Corpus(papers, chunks, np.load(cached))


def claims(data: Path, limit: int) -> list[str]:
    """The first `limit` SciFact training claims."""
    lines = (data / "scifact" / "claims_train.jsonl").read_text().splitlines()
    return [json.loads(line)["claim"] for line in lines[:limit]]


def build(settings: Settings, corpus: Corpus, at_least: int) -> None:
    """Write copies into the store until it holds `at_least` chunks, resuming a stopped build
    (copies are written in paper order, PART papers at a time); prints the write rate."""
    store = Store(settings.store)
    have = store.info()
    if have.chunks >= at_least:
        print(f"store: reusing {have.chunks:,} chunks in {settings.store.path}")
        return
    store.begin_write(MiniLMEmbedder(settings.embeddings).name)
    stop: list[int] = []
    # SIGTERM or Ctrl-C ends the build after the part being written, with a consistent store
    # that the next run resumes; a kill in the middle of a Chroma write could leave it torn.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda number, _frame: stop.append(number))
    written, since, start = have.chunks, have.chunks, time.perf_counter()
    made: dict[int, tuple[list[Paper], list[Chunk], np.ndarray]] = {}
    for number, first in _parts(len(corpus.papers), have.papers):
        if number not in made:
            made = {number: (*corpus.copy(number, settings), corpus.vectors_of(number))}
        papers, chunks, vectors = made[number]
        keys = {p.key for p in papers[first : first + PART]}
        rows = [i for i, c in enumerate(chunks) if c.paper_key in keys]
        store.write(papers[first : first + PART], [chunks[i] for i in rows], vectors[rows], set())
        written, before = written + len(rows), written
        if written // REPORT_EVERY > before // REPORT_EVERY or written >= at_least or stop:
            elapsed = time.perf_counter() - start
            print(
                f"store: {written:,} chunks written ({elapsed:.0f} s, "
                f"{(written - since) / elapsed:,.0f} chunks/s since the last line)",
                flush=True,
            )
            since, start = written, time.perf_counter()
        if written >= at_least or stop:
            break
    store.end_write()
    if stop:
        raise SystemExit(f"store: stopped at {written:,} chunks; run again to resume")


def _parts(per_copy: int, papers_stored: int) -> Iterator[tuple[int, int]]:
    """(copy, first paper) of each part still to write, after `papers_stored` papers."""
    number, first = divmod(papers_stored, per_copy)
    while True:
        for start in range(first, per_copy, PART):
            yield number, start
        number, first = number + 1, 0


def exact_neighbours(
    corpus: Corpus, settings: Settings, queries: np.ndarray, chunks: int, k: int
) -> list[set[str]]:
    """Ids of the `k` chunks truly nearest (cosine) to each query among the store's first
    `chunks` chunks, recomputed copy by copy from the corpus."""
    per_copy = len(corpus.chunks)
    best = np.zeros((len(queries), 0), dtype=np.int64)  # rows: copy * per_copy + chunk
    best_sims = np.zeros((len(queries), 0), dtype=np.float32)
    for number in range(-(-chunks // per_copy)):
        take = min(per_copy, chunks - number * per_copy)
        sims = np.concatenate([best_sims, queries @ corpus.vectors_of(number)[:take].T], axis=1)
        rows = np.concatenate(
            [best, np.broadcast_to(number * per_copy + np.arange(take), (len(queries), take))],
            axis=1,
        )
        order = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        best_sims = np.take_along_axis(sims, order, axis=1)
        best = np.take_along_axis(rows, order, axis=1)
    copies: dict[int, list[Chunk]] = {}
    found = []
    for row in best:
        ids = set()
        for number, index in (divmod(int(r), per_copy) for r in row):
            if number not in copies:
                copies[number] = corpus.copy(number, settings)[1]
            ids.add(copies[number][index].id)
        found.append(ids)
    return found

"""Search at scale: warm latency, memory, disk, opening time and HNSW recall, embedded and served.

The store is SciFact's real one-sentence chunks and MiniLM vectors written again under other
keys, jittered (see benchmarks/search_store.py), until it holds `--chunks`. Embedding that many
real abstracts would take hours here; what search costs depends on the number of chunks, not on
where their vectors came from. Queries are SciFact training claims. Each mode is measured in a
fresh process: embedded Chroma on the store's folder, then a `chroma run --path` server on the
same folder (so that a store built embedded is also checked to serve). Everything built lives in
benchmarks/out/ and is reused (a smaller build is resumed) by the next run.

    python benchmarks/search.py [--chunks 100000] [--queries 200] [--data ../shared/data]
        [--modes embedded server] [--as-is] [--no-cold]

A build stopped with SIGTERM or Ctrl-C ends cleanly after its current part and resumes on the
next run; `--as-is` measures a stopped build at the size it reached.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from search_store import build, claims, exact_neighbours, load_corpus

from assistant.ingest import ingest
from assistant.lexical import LexicalIndex, PaperTable
from assistant.llm.local import free_port, listening
from assistant.search import CHUNKS_PER_PAPER, Filters, Searcher, lexical_index
from assistant.settings import Settings
from assistant.store import Store

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "out"
DATA = ROOT.parents[1] / "shared" / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--chunks", type=int, default=100_000, help="Chunks in the store, at least."
    )
    parser.add_argument("--queries", type=int, default=200, help="Warm queries timed.")
    parser.add_argument("--data", type=Path, default=DATA, help="Folder holding scifact/.")
    parser.add_argument(
        "--modes", nargs="*", default=["embedded", "server"], help="None: only build."
    )
    parser.add_argument(
        "--as-is", action="store_true", help="Measure the store as it stands, built or not."
    )
    parser.add_argument("--no-cold", action="store_true", help="Skip cold `litreview search`.")
    parser.add_argument("--probe", help=argparse.SUPPRESS)  # internal: one fresh-process run
    args = parser.parse_args()
    settings = Settings()
    settings.store.path = OUT / f"scifact-{args.chunks}"
    if args.probe:
        probe(settings, args)
        return
    if not args.as_is:
        build(settings, load_corpus(settings, args.data, OUT), args.chunks)
    if not args.modes:
        return
    print(f"store on disk: {_size(settings.store.path, skip='lexical') / 2**20:,.0f} MiB")
    lexical_build(settings)
    for mode in args.modes:
        report(mode, measure(mode, args))
    if not args.no_cold:
        cold()


def lexical_build(settings: Settings) -> None:
    """Time reading the paper records and building BM25 over them, in a scratch folder."""
    store = Store(settings.store)
    start = time.perf_counter()
    papers = store.papers()
    read = time.perf_counter() - start
    table = PaperTable(keys=[p.key or "" for p in papers], years=[p.year for p in papers])
    texts = [f"{paper.title}. {paper.abstract}" for paper in papers]
    scratch = OUT / "lexical-scratch"
    start = time.perf_counter()
    LexicalIndex.build(scratch, table, texts, store.generation)
    built = time.perf_counter() - start
    print(
        f"lexical index of {len(papers):,} papers: records read in {read:.1f} s, BM25 built and "
        f"saved in {built:.1f} s, {_size(scratch) / 2**20:,.0f} MiB on disk"
    )
    shutil.rmtree(scratch)
    lexical_index(store, settings)  # the store's own, built once and reused by the modes


def measure(mode: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run the probe in a fresh process, on the folder itself or behind `chroma run`."""
    command = [sys.executable, __file__, "--probe", mode, "--chunks", str(args.chunks)]
    command += ["--queries", str(args.queries), "--data", str(args.data)]
    env = {**os.environ, "XDG_CACHE_HOME": str(OUT / "cache")}  # a server's lexical index
    if mode == "embedded":
        done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
        return dict(json.loads(done.stdout.splitlines()[-1]))
    port = free_port()
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or "chroma"
    path = OUT / f"scifact-{args.chunks}"
    server = subprocess.Popen(
        [chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        if not listening(port, 60):
            raise RuntimeError(f"chroma run did not listen on port {port} within 60 s")
        command[3] = f"http://127.0.0.1:{port}"
        done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
        result = dict(json.loads(done.stdout.splitlines()[-1]))
        result["server_rss"], result["server_peak"] = _memory(server.pid)
        return result
    finally:
        server.terminate()
        server.wait(timeout=30)


def probe(settings: Settings, args: argparse.Namespace) -> None:
    """One fresh process: open the store, load the index, time the first and warm queries,
    split a query's time by stage, and measure HNSW recall; prints one JSON line."""
    if args.probe != "embedded":
        settings.store.chroma_url = args.probe
    queries = claims(args.data, args.queries)
    result: dict[str, Any] = {}
    start = time.perf_counter()
    store = Store(settings.store)
    searcher = Searcher(settings, store)
    result["open_s"] = time.perf_counter() - start
    searcher.embedder.embed(["load the encoder"])  # not the store's cost
    start = time.perf_counter()
    index = searcher.lexical()
    result["lexical_s"] = time.perf_counter() - start
    start = time.perf_counter()
    searcher.search(queries[0])
    result["first_ms"] = (time.perf_counter() - start) * 1000
    timings = []
    for query in queries:
        start = time.perf_counter()
        searcher.search(query)
        timings.append((time.perf_counter() - start) * 1000)
    result["p50"], result["p95"] = np.percentile(timings, [50, 95]).tolist()
    result["rss"], result["peak"] = _memory(os.getpid())
    result["chunks"] = store.info().chunks
    result["stages"] = stages(searcher, index, queries)
    result["recall"] = recall(settings, searcher, queries, args)
    print(json.dumps(result))


def stages(searcher: Searcher, index: LexicalIndex, queries: list[str]) -> dict[str, float]:
    """Median ms of a query's parts (encoding, the Chroma query, BM25, reading paper records),
    of the same Chroma query with a `where` that excludes one paper, and of a whole search
    with that exclusion (which `Searcher` applies without the `where`)."""
    from assistant.lexical import terms

    parts: dict[str, list[float]] = {"encode": [], "chroma": [], "bm25": [], "records": []}
    parts |= {"chroma where": [], "search excluding a paper": []}
    wanted = searcher.options.candidates
    excluded = index.table.keys[0]
    for query in queries[:50]:
        start = time.perf_counter()
        vector = searcher.embedder.embed([query])[0]
        mid = time.perf_counter()
        found = searcher.store.nearest_chunks(vector, wanted * CHUNKS_PER_PAPER)
        dense = time.perf_counter()
        index.search(terms([query])[0], wanted)
        lexical = time.perf_counter()
        searcher.store.papers_by_key([meta["paper_key"] for _, meta, _ in found][:10])
        parts["encode"].append(mid - start)
        parts["chroma"].append(dense - mid)
        parts["bm25"].append(lexical - dense)
        parts["records"].append(time.perf_counter() - lexical)
        start = time.perf_counter()
        where = {"paper_key": {"$nin": [excluded]}}
        searcher.store.nearest_chunks(vector, wanted * CHUNKS_PER_PAPER, where)
        parts["chroma where"].append(time.perf_counter() - start)
        start = time.perf_counter()
        searcher.search(query, filters=Filters(exclude=frozenset({excluded})))
        parts["search excluding a paper"].append(time.perf_counter() - start)
    return {name: statistics.median(values) * 1000 for name, values in parts.items()}


def recall(
    settings: Settings, searcher: Searcher, queries: list[str], args: argparse.Namespace
) -> float:
    """Share of the true nearest chunks among those Chroma returns (what the dense retriever
    asks for: candidates x CHUNKS_PER_PAPER)."""
    k = searcher.options.candidates * CHUNKS_PER_PAPER
    vectors = searcher.embedder.embed(queries).astype(np.float32)
    corpus = load_corpus(settings, args.data, OUT)
    truth = exact_neighbours(corpus, settings, vectors, searcher.store.info().chunks, k)
    found = [{i for i, _, _ in searcher.store.nearest_chunks(v, k)} for v in vectors]
    return float(np.mean([len(f & t) / k for f, t in zip(found, truth)]))


def report(mode: str, result: dict[str, Any]) -> None:
    """Print one mode's figures."""
    server = ""
    if "server_rss" in result:
        server = f", server RSS {result['server_rss']:,.0f} MiB (peak {result['server_peak']:,.0f})"
    stages = ", ".join(f"{name} {ms:.1f}" for name, ms in result["stages"].items())
    print(
        f"{mode} over {result['chunks']:,} chunks: warm p50 {result['p50']:.1f} ms, p95 "
        f"{result['p95']:.1f} ms (goal: 150 ms); open {result['open_s']:.2f} s, lexical index "
        f"loaded in {result['lexical_s']:.2f} s, first query {result['first_ms']:.0f} ms; "
        f"process RSS {result['rss']:,.0f} MiB (peak {result['peak']:,.0f}){server}; "
        f"median ms by stage: {stages}; HNSW recall of the nearest chunks {result['recall']:.3f}"
    )


def cold(runs: int = 5) -> None:
    """Median and worst wall time of `litreview search` in a new process on the seed corpus."""
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


def _memory(pid: int) -> tuple[float, float]:
    """Resident and peak resident memory of a process, in MiB."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    fields = dict(line.split(":", 1) for line in lines if ":" in line)
    rss, peak = (int(fields[name].split()[0]) / 1024 for name in ("VmRSS", "VmHWM"))
    return rss, peak


def _size(folder: Path, skip: str = "") -> int:
    """Bytes of the files under `folder`, leaving out its subfolder `skip`."""
    return sum(
        f.stat().st_size
        for f in folder.rglob("*")
        if f.is_file() and not (skip and (folder / skip) in f.parents)
    )


if __name__ == "__main__":
    main()

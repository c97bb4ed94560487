"""Ingest runs registered in the store itself, so writers sharing a Chroma server never sweep
out each other's work, and citation keys stay unique across them.

Each ingest registers a run; its chunks carry the run's id. In server mode a run also beats a
heartbeat (clients may sit on different machines, so no file lock can tell who is alive). A run
whose heartbeat went quiet is dead: the next ingest sweeps out what it left half-written. Keys of
new papers are claimed before use: Chroma's `add` ignores an id that exists, so the first claim
of a key wins and everyone reads the same owner back.
"""

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from assistant.chroma_pages import batches, ids_and_metadatas
from assistant.errors import StoreError
from assistant.papers import Paper

RUNS = "litreview_runs"
# Chunk metadata naming the run that wrote the chunk.
RUN_KEY = "run_id"
# Chroma stores no record without a vector; registry entries carry this one.
_NO_VECTOR = [0.0]
_RUN, _KEY = "run:", "key:"
# Heartbeats per timeout: a few missed beats under load do not make a live run look dead.
BEATS_PER_TIMEOUT = 6
BATCH = 1_000


@dataclass(frozen=True)
class Run:
    """A registered ingest: `writing` until its paper records are all stored, then `finishing`."""

    id: str
    state: str
    heartbeat: float


class RunRegistry:
    """The store's small collection of runs and key claims."""

    def __init__(self, client: Any, timeout: float) -> None:
        self.collection = client.get_or_create_collection(RUNS, embedding_function=None)
        self.timeout = timeout

    def runs(self) -> list[Run]:
        """Every registered run: writing, finishing, or dead and not yet swept."""
        got = self.collection.get(where={"kind": "run"}, include=["metadatas"])
        return [Run(m["run_id"], m["state"], m["heartbeat"]) for m in got["metadatas"]]

    def is_alive(self, run: Run) -> bool:
        """Whether the run beat its heartbeat within the timeout (by this machine's clock)."""
        return time.time() - run.heartbeat < self.timeout

    def live_writers(self) -> set[str]:
        """Runs that may still write chunks whose paper records are not stored yet."""
        return {run.id for run in self.runs() if run.state == "writing" and self.is_alive(run)}

    def mark(self, run_id: str, state: str) -> None:
        """Register or refresh a run, beating its heartbeat."""
        self.collection.upsert(
            ids=[_RUN + run_id],
            embeddings=[_NO_VECTOR],
            metadatas=[{"kind": "run", "run_id": run_id, "state": state, "heartbeat": time.time()}],
        )

    def remove(self, run_ids: list[str]) -> None:
        """Forget runs and every key they claimed."""
        if run_ids:
            self.collection.delete(where={"run_id": {"$in": run_ids}})

    def claim(self, run_id: str, papers: list[Paper]) -> dict[str, Paper]:
        """Claim each paper's key for `run_id`; the papers other runs claimed first, by key."""
        rivals: dict[str, Paper] = {}
        for start in range(0, len(papers), BATCH):
            part = papers[start : start + BATCH]
            ids = [_KEY + (paper.key or "") for paper in part]
            self.collection.add(
                ids=ids,
                embeddings=[_NO_VECTOR] * len(part),
                metadatas=[
                    {"kind": "key", "run_id": run_id, "record": p.model_dump_json()} for p in part
                ],
            )
            got = self.collection.get(ids=ids, include=["metadatas"])
            for claim_id, meta in zip(got["ids"], got["metadatas"]):
                if meta["run_id"] != run_id:
                    rivals[claim_id.removeprefix(_KEY)] = Paper.model_validate_json(meta["record"])
        return rivals


def sweep(
    chunk_store: Any,
    paper_store: Any,
    keys: list[str] | None,
    live_writers: Callable[[], set[str]],
) -> int:
    """Delete the chunks of papers `keys` (None: all) that no paper record points to, except
    those of runs still writing: leftovers of killed runs, and replaced text. Returns how many."""
    chunks = list(ids_and_metadatas(chunk_store, keys, field="paper_key"))
    # Asked after reading the chunks and before reading the records: a run that wrote one of
    # those chunks and has stopped writing since has stored its records by now.
    protected = live_writers()
    current = {key: meta["content_hash"] for key, meta in ids_and_metadatas(paper_store, keys)}
    stale: dict[str, list[str]] = defaultdict(list)
    for chunk_id, meta in chunks:
        run = meta.get(RUN_KEY, "")
        if run not in protected and current.get(meta["paper_key"]) != meta["content_hash"]:
            stale[run].append(chunk_id)
    for run, ids in stale.items():
        for part in batches(range(len(ids))):
            # Only while still that run's: another run may have rewritten the same id since.
            chunk_store.delete(ids=[ids[i] for i in part], where={RUN_KEY: run} if run else None)
    return sum(len(ids) for ids in stale.values())


class Heartbeat:
    """Beats a run's heartbeat from a background thread while the run works."""

    def __init__(self, beat: Callable[[], None], timeout: float) -> None:
        self._beat = beat
        self._timeout = timeout
        self._last = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="litreview-heartbeat", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._timeout / BEATS_PER_TIMEOUT):
            # a missed beat is retried at the next; `check` reports a long gap
            try:
                self._beat()
                self._last = time.monotonic()
            except Exception:  # noqa: BLE001, S112
                continue

    def check(self) -> None:
        """Refuse to go on once the heartbeat has been silent long enough to look dead."""
        silent = time.monotonic() - self._last
        if silent >= self._timeout:
            raise StoreError(
                f"This ingest could not reach the Chroma server for {silent:.0f} s, so other "
                "ingests may have swept out its work; run the same ingest again to finish it."
            )

    def stop(self) -> None:
        """Stop beating (the run's entry stays until it is finished or swept)."""
        self._stop.set()
        self._thread.join()

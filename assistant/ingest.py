"""Ingest: read files, merge duplicates, give keys, chunk, embed, and store, under a write lock;
and removal, under the same lock."""

import contextlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from filelock import FileLock, Timeout
from pydantic import BaseModel

from assistant.chunking import chunk_paper, embedding_text
from assistant.embedders import Embedder, embedder_name, make_embedder
from assistant.errors import PaperNotFoundError, StoreBusyError
from assistant.papers import Paper, citation_key, merge, near_key, same_work
from assistant.readers import Rejected, input_files, read_file
from assistant.readers.base import ReadItem
from assistant.search import lexical_index
from assistant.settings import Settings, StoreSettings
from assistant.store import Store
from assistant.workspace import existing_store

PAPERS_PER_BATCH = 256
LOCK_FILE = "write.lock"
# Handles of papers not yet keyed; "#" never occurs in a citation key.
_NEW = "#new"

Progress = Callable[[int, int], None]


class RejectedRecord(BaseModel):
    """One input record that was not ingested."""

    file: str
    location: str
    reason: str


class IngestReport(BaseModel):
    """What an ingest did; `ingest --json` prints exactly this."""

    added: int
    updated: int
    unchanged: int
    rejected: list[RejectedRecord]
    papers_total: int
    chunks_total: int


class Catalog:
    """Papers by key, with an identity index so the same paper met twice is stored once.

    Papers new to the store are held under a provisional handle until every input has been
    merged, so their keys are made from everything known about them (authors, year).
    """

    def __init__(self, stored: Sequence[Paper]) -> None:
        self.stored = {p.key: p for p in stored if p.key}
        self.papers: dict[str, Paper] = dict(self.stored)
        # Several papers can share a title identity (SciFact has three titled "Summary").
        self.by_identity: dict[str, list[str]] = defaultdict(list)
        for paper in self.stored.values():
            self._index(paper, paper.key or "")
        self.seen: set[str] = set()

    def add(self, paper: Paper) -> None:
        """Merge `paper` into the one it duplicates, or hold it as new."""
        handle = next(
            (
                known
                for identity in paper.identities()
                for known in self.by_identity.get(identity, [])
                if same_work(self.papers[known], paper)
            ),
            None,
        )
        if handle is None:
            handle = f"{_NEW}{len(self.papers)}"
            self.papers[handle] = paper
        else:
            self.papers[handle] = merge(self.papers[handle], paper)
        self.seen.add(handle)
        self._index(self.papers[handle], handle)

    def _index(self, paper: Paper, handle: str) -> None:
        for identity in paper.identities():
            if handle not in self.by_identity[identity]:
                self.by_identity[identity].append(handle)

    def assign_keys(self) -> None:
        """Give every new paper its citation key, in the order the papers were first read: the
        key its own .bib entry gave it where that is free, a made one otherwise."""
        taken = set(self.stored)
        for handle, paper in list(self.papers.items()):
            if handle.startswith(_NEW):
                own = paper.key
                key = own if own and own not in taken else citation_key(paper, taken)
                taken.add(key)
                self.papers[handle] = paper.model_copy(update={"key": key})

    def settle_keys(self, claim: Callable[[list[Paper]], Mapping[str, Paper]]) -> None:
        """Make new papers' keys safe from ingests running at the same time: `claim` reserves
        keys and names the papers already holding some. A paper holding this one's key that is
        the same work shares it (merged); any other makes this one take the next free key."""
        taken = set(self.stored) | {paper.key or "" for paper in self.papers.values()}
        pending = [handle for handle in self.papers if handle.startswith(_NEW)]
        while pending:
            rivals = claim([self.papers[handle] for handle in pending])
            retry = []
            for handle in pending:
                paper = self.papers[handle]
                rival = rivals.get(paper.key or "")
                if rival is None:
                    continue
                if same_work(rival, paper):
                    self.papers[handle] = merge(rival, paper).model_copy(update={"key": paper.key})
                else:
                    key = citation_key(paper, taken)
                    taken.add(key)
                    self.papers[handle] = paper.model_copy(update={"key": key})
                    retry.append(handle)
            pending = retry

    def to_chunk(self) -> list[Paper]:
        """New papers, and stored papers whose title or abstract changed."""
        return [
            paper
            for key, paper in self.papers.items()
            if key not in self.stored or self.stored[key].content_hash() != paper.content_hash()
        ]

    def metadata_changed(self) -> list[Paper]:
        """Stored papers whose text is the same but whose other fields changed."""
        return [
            paper
            for key, paper in self.papers.items()
            if key in self.stored
            and self.stored[key].content_hash() == paper.content_hash()
            and self.stored[key] != paper
        ]


def ingest(
    paths: Sequence[Path],
    settings: Settings,
    format_name: str | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Add the papers in `paths` to the store; re-running with the same input adds nothing."""
    files = input_files(paths)
    items = (item for path in files for item in read_file(path, format_name))
    return ingest_items(items, settings, progress)


def ingest_items(
    items: Iterable[ReadItem], settings: Settings, progress: Progress | None = None
) -> IngestReport:
    """Add papers already read (records rejected on reading are reported with them)."""
    store = Store(settings.store)
    embedding, built_with = settings.embedding_settings(), store.embedder
    name = embedder_name(embedding, built_with)
    store.check_embedder(name)
    with write_lock(settings.store):
        catalog = Catalog(store.papers())
        rejected: list[Rejected] = []
        for item in items:
            if isinstance(item, Rejected):
                rejected.append(item)
            else:
                catalog.add(item)
        catalog.assign_keys()
        to_chunk, changed = catalog.to_chunk(), catalog.metadata_changed()
        if to_chunk or changed:
            with store.writing(name):
                catalog.settle_keys(store.claim_keys)
                to_chunk, changed = catalog.to_chunk(), catalog.metadata_changed()
                embedder = make_embedder(embedding, built_with)
                _embed_and_write(store, to_chunk, set(catalog.stored), embedder, settings, progress)
                store.update_records(changed)
            lexical_index(store, settings)  # so the first search after it is quick
    info = store.info()
    added = sum(1 for handle in catalog.papers if handle.startswith(_NEW))
    return IngestReport(
        added=added,
        updated=len(to_chunk) - added + len(changed),
        unchanged=len(catalog.seen) - len(to_chunk) - len(changed),
        rejected=[
            RejectedRecord(file=r.path, location=r.location, reason=r.reason) for r in rejected
        ],
        papers_total=info.papers,
        chunks_total=info.chunks,
    )


class RemovalReport(BaseModel):
    """What `papers remove` did: the keys removed, their chunks, and what the store holds."""

    removed: list[str]
    chunks_removed: int
    papers_total: int
    chunks_total: int


def remove_papers(keys: Sequence[str], settings: Settings) -> RemovalReport:
    """Delete the stored papers `keys`, all or none: a key the store lacks is an error naming
    the key it most likely meant."""
    store = existing_store(settings.store)
    keys = list(dict.fromkeys(keys))
    with write_lock(settings.store):
        stored = {paper.key for paper in store.papers_by_key(keys)}
        missing = [key for key in keys if key not in stored]
        if missing:
            raise PaperNotFoundError(
                f"Not in {store.location}: {_with_hints(missing, store.keys())}; nothing was "
                "removed. `litreview papers list` shows keys."
            )
        with store.writing(store.embedder or ""):
            chunks = store.remove(keys)
        lexical_index(store, settings)  # so the first search after it is quick
    info = store.info()
    return RemovalReport(
        removed=keys, chunks_removed=chunks, papers_total=info.papers, chunks_total=info.chunks
    )


def _with_hints(missing: list[str], known: list[str]) -> str:
    """The missing keys, each with the stored key it most likely meant."""
    named = []
    for key in missing:
        near = near_key(key, known)
        named.append(f"{key} (did you mean {near}?)" if near else key)
    return ", ".join(named)


def _embed_and_write(
    store: Store,
    papers: list[Paper],
    stored_keys: set[str],
    embedder: Embedder,
    settings: Settings,
    progress: Progress | None,
) -> None:
    if progress and papers:
        progress(0, len(papers))  # the clock starts here: a rate after the first batch
    for done, batch in _batches(papers, PAPERS_PER_BATCH):
        chunks = [c for paper in batch for c in chunk_paper(paper, settings.chunking)]
        titles = {paper.key: paper.title for paper in batch}
        vectors = embedder.embed([embedding_text(titles[c.paper_key], c.text) for c in chunks])
        store.write(batch, chunks, vectors, replacing=stored_keys)
        if progress:
            progress(done, len(papers))


def _batches(items: list[Paper], size: int) -> Iterator[tuple[int, list[Paper]]]:
    for start in range(0, len(items), size):
        batch = items[start : start + size]
        yield start + len(batch), batch


@contextlib.contextmanager
def write_lock(settings: StoreSettings) -> Iterator[None]:
    """Exclusive write access to an embedded store: two writers would silently lose vectors."""
    if settings.chroma_url:  # writers share a server safely: see assistant/runs.py
        yield
        return
    settings.path.mkdir(parents=True, exist_ok=True)
    lock = FileLock(settings.path / LOCK_FILE)
    try:
        lock.acquire(timeout=settings.lock_timeout)
    except Timeout:
        raise StoreBusyError(
            f"Another litreview process is writing to {settings.path}. Wait for it to finish, "
            "or pass --wait SECONDS to queue behind it."
        ) from None
    try:
        yield
    finally:
        lock.release()

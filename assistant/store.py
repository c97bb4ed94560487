"""The Chroma store: papers and their chunks, embedded on disk or behind a `chroma run` server."""

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import numpy as np

from assistant.chroma_pages import batches, get_all, ids_and_metadatas
from assistant.chunking import Chunk
from assistant.errors import EmbedderMismatchError, PaperNotFoundError, StoreError
from assistant.papers import Paper, near_key
from assistant.runs import RUN_KEY, RUNS, Heartbeat, RunRegistry, sweep
from assistant.settings import StoreSettings

PAPERS = "litreview_papers"
CHUNKS = "litreview_chunks"
# HNSW tuned for recall at 100k chunks: Chroma's default ef_search (100) loses about a sixth
# of true neighbours there; 400 keeps recall near 0.97 for a few ms more per query.
HNSW = {"space": "cosine", "ef_construction": 200, "ef_search": 400, "max_neighbors": 32}
# A fresh token each time an ingest finishes writing: indexes kept beside the store (the
# lexical one) compare it with the token they were built at to know they are stale.
GENERATION_KEY = "litreview:generation"


@dataclass(frozen=True)
class StoreInfo:
    """What `store info` reports."""

    location: str
    mode: str
    embedder: str | None
    dimension: int | None
    papers: int
    chunks: int
    hnsw: dict[str, Any]
    state: str


class Store:
    """Two Chroma collections: one record per paper, one vector per chunk."""

    def __init__(self, settings: StoreSettings) -> None:
        self.settings = settings
        self.client = _client(settings)
        self.location = settings.chroma_url or str(settings.path)
        self._readers: dict[str, Any] = {}
        self._run_id = ""
        self._heartbeat: Heartbeat | None = None
        self._touched: set[str] = set()
        self._runs: RunRegistry | None = None

    def forget_readers(self) -> None:
        """Drop the kept collection handles: the next query fetches fresh ones."""
        self._readers.clear()

    def _reader(self, name: str) -> Any:
        """A collection handle kept for queries (None while the collection does not exist);
        fetching one costs a millisecond, which a search would pay several times over."""
        if self._readers.get(name) is None:
            self._readers[name] = self._collection(name)
        return self._readers[name]

    def _collection(self, name: str, create_for: str | None = None) -> Any:
        """An existing collection, or a new one when `create_for` names the embedder."""
        from chromadb.errors import NotFoundError

        if create_for is None:
            try:
                return self.client.get_collection(name, embedding_function=None)
            except NotFoundError:
                return None
        # get_or_create: two ingests may create the collections of an empty server at once.
        return self.client.get_or_create_collection(
            name,
            configuration={"hnsw": HNSW},
            metadata={"embedder": create_for},
            # Never Chroma's default function: it downloads a model. Vectors are always passed.
            embedding_function=None,
        )

    def _required(self, name: str) -> Any:
        """A collection that `begin_write` has made sure exists."""
        return self.client.get_collection(name, embedding_function=None)

    @property
    def embedder(self) -> str | None:
        """Name of the embedder that built this store; None for an empty store."""
        chunks = self._collection(CHUNKS)
        return chunks.metadata.get("embedder") if chunks is not None else None

    def check_embedder(self, name: str) -> None:
        """Refuse to mix vectors: the store must have been built by embedder `name`."""
        built_with = self.embedder
        if built_with is not None and built_with != name:
            raise EmbedderMismatchError(
                f"The store at {self.location} was built with embedder {built_with!r}, but "
                f"{name!r} is configured. Use the same embedder (LITREVIEW_EMBEDDINGS__BACKEND, "
                "__MODEL and __PRECISION), or pass --store with a new folder."
            )

    def papers(self) -> list[Paper]:
        """Every paper in the store, in key order."""
        papers = self._collection(PAPERS)
        if papers is None:
            return []
        records = get_all(papers, include=["metadatas"])
        found = [Paper.model_validate_json(meta["record"]) for meta in records["metadatas"]]
        return sorted(found, key=lambda p: p.key or "")

    def keys(self) -> list[str]:
        """Every stored paper's citation key, in no particular order."""
        papers = self._reader(PAPERS)
        return list(get_all(papers, include=[])["ids"]) if papers is not None else []

    def paper(self, key: str) -> Paper:
        """One paper by citation key."""
        papers = self._collection(PAPERS)
        got = papers.get(ids=[key], include=["metadatas"]) if papers is not None else None
        if not got or not got["ids"]:
            near = near_key(key, self.keys())
            hint = f"did you mean {near}?" if near else "`litreview papers list` shows keys."
            raise PaperNotFoundError(f"No paper with key {key!r} in {self.location}; {hint}")
        return Paper.model_validate_json(got["metadatas"][0]["record"])

    def chunks_of(self, key: str) -> list[dict[str, Any]]:
        """Chunk texts and sentence spans of one paper, in order."""
        chunks = self._collection(CHUNKS)
        if chunks is None:
            return []
        got = chunks.get(where={"paper_key": key}, include=["documents", "metadatas"])
        rows = [{"text": doc, **meta} for doc, meta in zip(got["documents"], got["metadatas"])]
        return sorted(rows, key=lambda row: row["chunk_index"])

    @property
    def generation(self) -> str:
        """Token of the last finished write ("" for a store never written by this version)."""
        chunks = self._collection(CHUNKS)
        return str(chunks.metadata.get(GENERATION_KEY, "")) if chunks is not None else ""

    def is_empty(self) -> bool:
        """True when no chunk is stored (cheaper than `info`, which counts and peeks)."""
        chunks = self._reader(CHUNKS)
        return chunks is None or chunks.count() == 0

    def papers_by_key(self, keys: list[str]) -> list[Paper]:
        """The stored papers among `keys` (unknown keys are skipped), in no particular order."""
        papers = self._reader(PAPERS)
        if papers is None or not keys:
            return []
        got = papers.get(ids=list(dict.fromkeys(keys)), include=["metadatas"])
        return [Paper.model_validate_json(meta["record"]) for meta in got["metadatas"]]

    def nearest_chunks(
        self, vector: np.ndarray, limit: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, dict[str, Any], float]]:
        """(id, metadata, cosine distance) of the `limit` chunks nearest to `vector`."""
        chunks = self._reader(CHUNKS)
        if chunks is None:
            return []
        found = chunks.query(
            query_embeddings=[vector],
            n_results=limit,
            where=where,
            include=["metadatas", "distances"],
        )
        return list(zip(found["ids"][0], found["metadatas"][0], found["distances"][0]))

    def chunks_by_closeness(
        self, key: str, vector: np.ndarray
    ) -> tuple[list[tuple[int, int]], float]:
        """Sentence spans of paper `key`'s chunks, closest to `vector` first, and the closest
        one's cosine similarity."""
        got = self._required(CHUNKS).get(
            where={"paper_key": key}, include=["embeddings", "metadatas"]
        )
        if not got["ids"]:
            raise StoreError(
                f"Paper {key!r} has no chunks in {self.location}; ingest its file again to "
                "restore them."
            )
        similarities = np.asarray(got["embeddings"], dtype=np.float32) @ vector
        order = np.argsort(-similarities, kind="stable")
        metas = got["metadatas"]
        spans = [(metas[i]["sentence_start"], metas[i]["sentence_end"]) for i in order]
        return spans, float(similarities[order[0]])

    def info(self) -> StoreInfo:
        """Counts, embedder and index settings."""
        chunks = self._collection(CHUNKS)
        papers = self._collection(PAPERS)
        config = chunks.configuration_json.get("hnsw", {}) if chunks is not None else {}
        return StoreInfo(
            location=self.location,
            mode="server" if self.settings.chroma_url else "embedded",
            embedder=self.embedder,
            dimension=_dimension(chunks),
            papers=papers.count() if papers is not None else 0,
            chunks=chunks.count() if chunks is not None else 0,
            hnsw={k: config.get(k) for k in HNSW},
            state=self._state(chunks),
        )

    def _state(self, chunks: Any) -> str:
        """ "dirty" while a registered ingest is unfinished (writing, or killed and not swept)."""
        if chunks is None:
            return "empty"
        runs = self._collection(RUNS)
        return "dirty" if runs is not None and runs.get(limit=1, include=[])["ids"] else "clean"

    # Writing: only `ingest` calls these; an embedded store only under its write lock.

    @contextlib.contextmanager
    def writing(self, embedder: str) -> Iterator[None]:
        """`begin_write`, the body, `end_write`; a run that fails stays registered until swept."""
        self.begin_write(embedder)
        try:
            yield
        except BaseException:
            self._stop_heartbeat()
            raise
        self.end_write()

    def begin_write(self, embedder: str) -> None:
        """Register a new ingest run, after sweeping out what dead runs left half-written."""
        self.check_embedder(embedder)
        self._collection(CHUNKS, create_for=embedder)
        self._collection(PAPERS, create_for=embedder)
        registry = self._registry()
        dead = [run.id for run in registry.runs() if self._exclusive or not registry.is_alive(run)]
        if dead:
            self._sweep(None)
            registry.remove(dead)
        run_id = self._run_id = uuid.uuid4().hex
        self._touched = set()
        registry.mark(run_id, "writing")
        if not self._exclusive:
            self._heartbeat = Heartbeat(lambda: registry.mark(run_id, "writing"), registry.timeout)

    def end_write(self) -> None:
        """Finish the run: sweep what runs that wrote the same papers left of them, drop the
        run and its key claims, and give readers a new generation."""
        registry = self._registry()
        self._stop_heartbeat()
        # Marked before the sweep: of two runs that wrote one paper, the later to finish sweeps
        # after both have stopped writing, so it keeps only the chunks of the final record.
        registry.mark(self._run_id, "finishing")
        if not self._exclusive:
            self._sweep(sorted(self._touched))
        registry.remove([self._run_id])
        chunks = self._required(CHUNKS)
        metadata = {k: v for k, v in chunks.metadata.items() if not k.startswith("hnsw:")}
        metadata[GENERATION_KEY] = uuid.uuid4().hex
        chunks.modify(metadata=metadata)

    def claim_keys(self, papers: list[Paper]) -> dict[str, Paper]:
        """Claim new papers' keys for this run; by key, the papers that hold them already: one
        another run claimed first, or a record stored since this run read the store."""
        rivals = self._registry().claim(self._run_id, papers)
        free = [paper.key or "" for paper in papers if paper.key not in rivals]
        for key, meta in ids_and_metadatas(self._required(PAPERS), free):
            rivals[key] = Paper.model_validate_json(meta["record"])
        return rivals

    def write(
        self, papers: list[Paper], chunks: list[Chunk], vectors: np.ndarray, replacing: set[str]
    ) -> None:
        """Store new or re-chunked papers: chunks first, then the records that point to them.

        `replacing` names the papers that were stored before with other text: their old chunks
        are deleted once the new record is in place.
        """
        chunk_store = self._required(CHUNKS)
        by_key = {p.key: p for p in papers}
        self._upsert_chunks(chunk_store, chunks, vectors, by_key)
        owners = np.array([c.paper_key for c in chunks])
        paper_vectors = np.stack([vectors[owners == p.key].mean(axis=0) for p in papers])
        if self._heartbeat is not None:
            self._heartbeat.check()
        # No documents: the record already holds the abstract, and storing it twice doubled
        # the cost of this upsert.
        self._required(PAPERS).upsert(
            ids=[p.key for p in papers],
            embeddings=paper_vectors,
            metadatas=[_paper_metadata(p) for p in papers],
        )
        # A run that stalled past its heartbeat timeout may have had its chunks swept; put back
        # any missing, now that the records protect them.
        present = {found for found, _ in ids_and_metadatas(chunk_store, [c.id for c in chunks])}
        missing = [i for i, c in enumerate(chunks) if c.id not in present]
        if missing:
            self._upsert_chunks(chunk_store, [chunks[i] for i in missing], vectors[missing], by_key)
        self._touched.update(key for key in by_key if key)
        self._sweep([key for key in by_key if key in replacing])

    def _upsert_chunks(
        self, chunk_store: Any, chunks: list[Chunk], vectors: np.ndarray, by_key: dict[Any, Paper]
    ) -> None:
        run = {RUN_KEY: self._run_id}
        for part in batches(range(len(chunks))):
            chunk_store.upsert(
                ids=[chunks[i].id for i in part],
                embeddings=vectors[part],
                documents=[chunks[i].text for i in part],
                metadatas=[
                    _chunk_metadata(chunks[i], by_key[chunks[i].paper_key]) | run for i in part
                ],
            )

    def update_records(self, papers: list[Paper]) -> None:
        """Store changed metadata of papers whose text, and so chunks, did not change."""
        paper_store = self._required(PAPERS)
        for part in batches(range(len(papers))):
            paper_store.update(
                ids=[papers[i].key for i in part],
                metadatas=[_paper_metadata(papers[i]) for i in part],
            )

    def remove(self, keys: list[str]) -> int:
        """Delete papers `keys`: their records, then their chunks, which no record points to
        now. Returns the number of chunks deleted."""
        self._required(PAPERS).delete(ids=keys)
        return self._sweep(keys)

    def _sweep(self, keys: list[str] | None) -> int:
        """Sweep the chunks of papers `keys` (None: all) that no record points to."""
        live = _nobody if self._exclusive else self._registry().live_writers
        return sweep(self._required(CHUNKS), self._required(PAPERS), keys, live)

    @property
    def _exclusive(self) -> bool:
        """An embedded store is written under its file lock: no other run can be alive."""
        return not self.settings.chroma_url

    def _registry(self) -> RunRegistry:
        if self._runs is None:
            self._runs = RunRegistry(self.client, self.settings.run_timeout)
        return self._runs

    def _stop_heartbeat(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.stop()
            self._heartbeat = None


def _client(settings: StoreSettings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        if not url.hostname:
            raise StoreError(f"Bad --chroma-url {settings.chroma_url!r}; use http://HOST:PORT")
        try:
            return chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:
            raise StoreError(
                f"Cannot reach the Chroma server at {settings.chroma_url} ({exc}); start it with "
                "`chroma run --path DIR --port PORT` or drop --chroma-url to use a local store."
            ) from exc
    if settings.path.exists() and not settings.path.is_dir():
        raise StoreError(
            f"{settings.path} is a file, not a store folder: pass --store with a folder "
            "(`litreview ingest PATH --store DIR` makes one)."
        )
    try:
        settings.path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file where a parent folder should be, or no permission
        raise StoreError(
            f"Cannot make the store folder {settings.path} ({exc.strerror}): pass --store with "
            "a folder you can write to."
        ) from exc
    return chromadb.PersistentClient(path=str(settings.path), settings=chroma_settings)


def _chunk_metadata(chunk: Chunk, paper: Paper) -> dict[str, Any]:
    """What search filters on and what a citation needs: owner, sentence span, year."""
    meta: dict[str, Any] = {
        "paper_key": chunk.paper_key,
        "content_hash": chunk.content_hash,
        "chunk_index": chunk.index,
        "sentence_start": chunk.sentence_start,
        "sentence_end": chunk.sentence_end,
        "token_count": chunk.token_count,
    }
    if paper.year is not None:
        meta["year"] = paper.year
    return meta


def _paper_metadata(paper: Paper) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "title": paper.title,
        "content_hash": paper.content_hash(),
        "record": paper.model_dump_json(exclude_defaults=True),
    }
    if paper.year is not None:
        meta["year"] = paper.year
    return meta


def _dimension(collection: Any) -> int | None:
    if collection is None or collection.count() == 0:
        return None
    first = collection.peek(limit=1)
    return len(first["embeddings"][0])


def _nobody() -> set[str]:
    return set()

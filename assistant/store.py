"""The Chroma store: papers and their chunks, embedded on disk or behind a `chroma run` server."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import numpy as np

from assistant.chunking import Chunk
from assistant.errors import EmbedderMismatchError, PaperNotFoundError, StoreError
from assistant.papers import Paper
from assistant.settings import StoreSettings

PAPERS = "litreview_papers"
CHUNKS = "litreview_chunks"
# HNSW tuned for recall at 100k chunks: Chroma's default ef_search (100) loses about a sixth
# of true neighbours there; 400 keeps recall near 0.97 for a few ms more per query.
HNSW = {"space": "cosine", "ef_construction": 200, "ef_search": 400, "max_neighbors": 32}
# Chroma rejects larger batches (its max_batch_size on a local store).
MAX_BATCH = 5_000
# The chunks collection's metadata says "dirty" while an ingest is writing, so the next
# ingest knows to sweep out chunks a killed run left behind.
STATE_KEY = "litreview:state"
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
        existing = self._collection(name)
        if existing is not None:
            return existing
        return self.client.create_collection(
            name,
            configuration={"hnsw": HNSW},
            metadata={"embedder": create_for, STATE_KEY: "clean"},
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
                f"{name!r} is configured. Use the same embedder (LITREVIEW_EMBEDDINGS__BACKEND "
                "and __MODEL), or pass --store with a new folder."
            )

    def papers(self) -> list[Paper]:
        """Every paper in the store, in key order."""
        papers = self._collection(PAPERS)
        if papers is None:
            return []
        records = _get_all(papers, include=["metadatas"])
        found = [Paper.model_validate_json(meta["record"]) for meta in records["metadatas"]]
        return sorted(found, key=lambda p: p.key or "")

    def paper(self, key: str) -> Paper:
        """One paper by citation key."""
        papers = self._collection(PAPERS)
        got = papers.get(ids=[key], include=["metadatas"]) if papers is not None else None
        if not got or not got["ids"]:
            raise PaperNotFoundError(
                f"No paper with key {key!r} in {self.location}; `litreview papers list` shows keys."
            )
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
            state=chunks.metadata.get(STATE_KEY, "clean") if chunks is not None else "empty",
        )

    # Writing: only `ingest` calls these, under the store's write lock.

    def begin_write(self, embedder: str) -> None:
        """Mark the store dirty, after sweeping out what an interrupted ingest left."""
        self.check_embedder(embedder)
        chunks = self._collection(CHUNKS, create_for=embedder)
        self._collection(PAPERS, create_for=embedder)
        if chunks.metadata.get(STATE_KEY) == "dirty":
            self.sweep()
        self._set_state(chunks, "dirty")

    def end_write(self) -> None:
        """Mark the store clean: every chunk belongs to a stored paper's current content."""
        self._set_state(self._required(CHUNKS), "clean", generation=uuid.uuid4().hex)

    def write(
        self, papers: list[Paper], chunks: list[Chunk], vectors: np.ndarray, replacing: set[str]
    ) -> None:
        """Store new or re-chunked papers: chunks first, then the records that point to them.

        `replacing` names the papers that were stored before with other text: their old chunks
        are deleted once the new record is in place.
        """
        chunk_store = self._required(CHUNKS)
        paper_store = self._required(PAPERS)
        by_key = {p.key: p for p in papers}
        for part in _batches(range(len(chunks))):
            chunk_store.upsert(
                ids=[chunks[i].id for i in part],
                embeddings=vectors[part],
                documents=[chunks[i].text for i in part],
                metadatas=[_chunk_metadata(chunks[i], by_key[chunks[i].paper_key]) for i in part],
            )
        owners = np.array([c.paper_key for c in chunks])
        paper_vectors = np.stack([vectors[owners == p.key].mean(axis=0) for p in papers])
        # No documents: the record already holds the abstract, and storing it twice doubled
        # the cost of this upsert.
        paper_store.upsert(
            ids=[p.key for p in papers],
            embeddings=paper_vectors,
            metadatas=[_paper_metadata(p) for p in papers],
        )
        for paper in papers:
            if paper.key not in replacing:
                continue
            chunk_store.delete(
                where={
                    "$and": [
                        {"paper_key": paper.key},
                        {"content_hash": {"$ne": paper.content_hash()}},
                    ]
                }
            )

    def update_records(self, papers: list[Paper]) -> None:
        """Store changed metadata of papers whose text, and so chunks, did not change."""
        paper_store = self._required(PAPERS)
        for part in _batches(range(len(papers))):
            paper_store.update(
                ids=[papers[i].key for i in part],
                metadatas=[_paper_metadata(papers[i]) for i in part],
            )

    def sweep(self) -> int:
        """Delete chunks whose paper record is missing or newer: leftovers of a killed ingest."""
        chunk_store = self._required(CHUNKS)
        current = {
            key: meta["content_hash"] for key, meta in _ids_and_metadatas(self._required(PAPERS))
        }
        stale = [
            chunk_id
            for chunk_id, meta in _ids_and_metadatas(chunk_store)
            if current.get(meta["paper_key"]) != meta["content_hash"]
        ]
        for part in _batches(range(len(stale))):
            chunk_store.delete(ids=[stale[i] for i in part])
        return len(stale)

    def _set_state(self, collection: Any, state: str, **extra: str) -> None:
        metadata = {k: v for k, v in collection.metadata.items() if not k.startswith("hnsw:")}
        metadata[STATE_KEY] = state
        metadata.update({f"litreview:{name}": value for name, value in extra.items()})
        collection.modify(metadata=metadata)


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


def _get_all(collection: Any, include: list[str]) -> dict[str, list[Any]]:
    """`collection.get` in pages, so large stores stay under Chroma's batch limits."""
    merged: dict[str, list[Any]] = {"ids": [], **{name: [] for name in include}}
    total = collection.count()
    for offset in range(0, total, MAX_BATCH):
        page = collection.get(include=include, limit=MAX_BATCH, offset=offset)
        for name in merged:
            merged[name].extend(page[name])
    return merged


def _ids_and_metadatas(collection: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    got = _get_all(collection, include=["metadatas"])
    return zip(got["ids"], got["metadatas"])


def _batches(indices: range) -> Iterator[list[int]]:
    for start in range(0, len(indices), MAX_BATCH):
        yield list(indices[start : start + MAX_BATCH])

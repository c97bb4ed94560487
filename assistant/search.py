"""Hybrid search: dense chunk vectors from Chroma plus BM25 over whole papers, fused per paper.

A query is embedded and its nearest chunks come from Chroma (a chunk is one abstract sentence by
default; a paper's dense score is its best chunk's cosine similarity); the best BM25 papers come
from the lexical index; each retriever's scores are standardised over its own candidates and the
two are mixed; a paper's evidence is its sentences nearest the query. A relevance gate on the
best dense similarity turns "the least bad matches" into "no relevant papers".
"""

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.chunking import sentences_of
from assistant.embedders import Embedder, make_query_embedder
from assistant.errors import PaperNotFoundError, QueryError
from assistant.lexical import LexicalIndex, PaperTable, index_folder, rebuild_lock, terms
from assistant.papers import Paper, near_key
from assistant.settings import SearchSettings, Settings
from assistant.store import Store

# Chunks read from Chroma per paper wanted: a paper's best sentences cluster among the nearest.
CHUNKS_PER_PAPER = 3
# Unfiltered neighbours read per chunk wanted when a search has filters (see Searcher._nearest).
FILTER_OVERFETCH = 2


@dataclass(frozen=True)
class Filters:
    """Which papers a search may return; `pins` are always returned."""

    year_from: int | None = None
    year_to: int | None = None
    include: frozenset[str] = frozenset()
    exclude: frozenset[str] = frozenset()
    pins: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        start, end = self.year_from, self.year_to
        if start is not None and end is not None and start > end:
            raise QueryError(
                f"--year-from {start} is after --year-to {end}, so no paper can match: swap "
                "them, or drop one."
            )

    def allows(self, key: str, year: int | None) -> bool:
        if key in self.exclude or (self.include and key not in self.include):
            return False
        if self.year_from is not None and (year is None or year < self.year_from):
            return False
        return not (self.year_to is not None and (year is None or year > self.year_to))

    def chroma_where(self) -> dict[str, Any] | None:
        """The same conditions as a Chroma `where`, or None when there are none."""
        conditions: list[dict[str, Any]] = []
        if self.year_from is not None:
            conditions.append({"year": {"$gte": self.year_from}})
        if self.year_to is not None:
            conditions.append({"year": {"$lte": self.year_to}})
        if self.include:
            conditions.append({"paper_key": {"$in": sorted(self.include)}})
        if self.exclude:
            conditions.append({"paper_key": {"$nin": sorted(self.exclude)}})
        if not conditions:
            return None
        return conditions[0] if len(conditions) == 1 else {"$and": conditions}


@dataclass
class Evidence:
    """Consecutive sentences of one abstract; `sentences` are their indices in the abstract,
    `parts` their texts."""

    text: str
    sentences: list[int]
    parts: list[str]


@dataclass
class Hit:
    """One paper in the results."""

    key: str
    title: str
    year: int | None
    score: float
    evidence: list[Evidence]
    pinned: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "year": self.year,
            "score": round(self.score, 4),
            "evidence": [{"text": e.text, "sentences": e.sentences} for e in self.evidence],
        }


@dataclass
class SearchResult:
    """Ranked papers, and whether anything cleared the relevance gate."""

    hits: list[Hit]
    relevance: float  # best dense cosine similarity of any chunk to the query
    threshold: float
    relevant: bool = field(init=False)

    def __post_init__(self) -> None:
        self.relevant = self.relevance >= self.threshold


@dataclass
class _Candidate:
    """A paper found by either retriever, with both raw scores (None: not found by that one)."""

    paper_key: str
    # Sentence spans of its chunks among the nearest to the query, nearest first.
    spans: list[tuple[int, int]] = field(default_factory=list)
    dense: float | None = None  # cosine similarity of the nearest one
    lexical: float | None = None  # BM25 score of the whole paper
    fused: float = 0.0


@dataclass
class Ranking:
    """Papers by fused score, and what the query was turned into."""

    papers: list[_Candidate]
    relevance: float  # best dense cosine similarity of any chunk to the query
    vector: np.ndarray
    terms: list[str]


class Searcher:
    """Searches one store; keeps the embedder and lexical index loaded between queries."""

    def __init__(self, settings: Settings, store: Store, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.options: SearchSettings = settings.search
        self.store = store
        self._embedder = embedder
        self._lexical: LexicalIndex | None = None
        self._lexical_generation: str | None = None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            embedding = self.settings.embedding_settings()
            self._embedder = make_query_embedder(embedding, self.store.embedder)
        return self._embedder

    def lexical(self) -> LexicalIndex:
        """The lexical index, rebuilt first when the store was written since it was built.
        A store written since the last call is also checked for its embedder."""
        generation = self.store.generation
        if self._lexical is None or self._lexical_generation != generation:
            self.store.check_embedder(self.embedder.name)
            self.store.forget_readers()  # re-open collections another process may have rebuilt
            self._lexical = lexical_index(self.store, self.settings)
            self._lexical_generation = generation
        return self._lexical

    def rank(self, query: str, depth: int, filters: Filters = Filters()) -> Ranking:
        """Every paper found for `query`, best first, up to `depth`, with no relevance gate."""
        index = self.lexical()
        vector = self.embedder.embed([query])[0]
        query_terms = terms([query])[0]
        candidates = self._dense(vector, filters)
        relevance = max((c.dense for c in candidates.values() if c.dense is not None), default=0.0)
        self._add_lexical(index, candidates, query_terms, filters)
        _fuse(candidates, self.options.dense_weight)
        ranked = sorted(candidates.values(), key=lambda c: c.fused, reverse=True)[:depth]
        return Ranking(ranked, relevance, vector, query_terms)

    def search(
        self, query: str, k: int | None = None, filters: Filters = Filters()
    ) -> SearchResult:
        """The `k` best papers for `query` with their evidence, pinned papers after them; none
        but the pinned when nothing clears the relevance gate."""
        self._check_keys(filters)
        ranking = self.rank(query, k or self.options.k, filters)
        gate = self.options.min_relevance
        found = ranking.papers if ranking.relevance >= gate else []
        keys = [candidate.paper_key for candidate in found]
        pins = [key for key in dict.fromkeys(filters.pins) if key not in keys]
        papers = {paper.key: paper for paper in self.store.papers_by_key([*keys, *pins])}
        hits = [
            self._hit(papers[c.paper_key], c.fused, c.spans, ranking.terms)
            for c in found
            if c.paper_key in papers
        ]
        hits += [
            self._pinned_hit(papers[key], ranking.vector, ranking.terms)
            for key in pins
            if key in papers
        ]
        return SearchResult(hits, ranking.relevance, gate)

    def _check_keys(self, filters: Filters) -> None:
        """Refuse keys the store does not hold: a mistyped --pin or --exclude would otherwise
        do nothing, and a mistyped --include would quietly narrow the search."""
        named = [*sorted(filters.include), *sorted(filters.exclude), *filters.pins]
        named = list(dict.fromkeys(named))
        known = {paper.key for paper in self.store.papers_by_key(named)}
        unknown = [key for key in named if key not in known]
        if unknown:
            stored = self.store.keys()
            named_as = [
                f"{key!r} (did you mean {near}?)" if (near := near_key(key, stored)) else repr(key)
                for key in unknown
            ]
            raise PaperNotFoundError(
                f"No paper with key {', '.join(named_as)} in {self.store.location}; "
                "`litreview papers list` shows the keys."
            )

    def _dense(self, vector: np.ndarray, filters: Filters) -> dict[str, _Candidate]:
        """Papers owning the nearest chunks, with those chunks' spans (results come nearest
        first, so the first chunk met of a paper is its best)."""
        papers: dict[str, _Candidate] = {}
        for _chunk_id, meta, distance in self._nearest(vector, filters):
            key = meta["paper_key"]
            if key not in papers:
                papers[key] = _Candidate(key, dense=1.0 - distance)
            papers[key].spans.append((meta["sentence_start"], meta["sentence_end"]))
        return papers

    def _nearest(
        self, vector: np.ndarray, filters: Filters
    ) -> list[tuple[str, dict[str, Any], float]]:
        """The nearest chunks the filters allow. Chroma's `where` costs hundreds of ms at 100k
        chunks and grows with the store, so a filter is first applied to twice as many
        unfiltered neighbours; only when too few of those pass is Chroma asked to filter."""
        wanted = self.options.candidates * CHUNKS_PER_PAPER
        where = filters.chroma_where()
        if where is None:
            return self.store.nearest_chunks(vector, wanted)
        found = self.store.nearest_chunks(vector, wanted * FILTER_OVERFETCH)
        kept = [row for row in found if filters.allows(row[1]["paper_key"], row[1].get("year"))]
        if len(kept) >= wanted or len(found) < wanted * FILTER_OVERFETCH:  # or the whole store
            return kept[:wanted]
        return self.store.nearest_chunks(vector, wanted, where)

    def _add_lexical(
        self,
        index: LexicalIndex,
        candidates: dict[str, _Candidate],
        query_terms: list[str],
        filters: Filters,
    ) -> None:
        table = index.table
        for row, score in index.search(query_terms, self.options.candidates):
            key = table.keys[row]
            if filters.allows(key, table.years[row]):
                candidates.setdefault(key, _Candidate(key)).lexical = score

    def lexical_idf(self, term: str) -> float:
        """IDF of a term in the index the last `rank` used."""
        return self._lexical.idf(term) if self._lexical is not None else 0.0

    def _hit(
        self, paper: Paper, score: float, spans: list[tuple[int, int]], query_terms: list[str]
    ) -> Hit:
        evidence = best_sentences(
            paper, spans, query_terms, self.lexical_idf, self.options.evidence_sentences
        )
        return Hit(paper.key or "", paper.title, paper.year, score, evidence)

    def _pinned_hit(self, paper: Paper, vector: np.ndarray, query_terms: list[str]) -> Hit:
        spans, similarity = self.store.chunks_by_closeness(paper.key or "", vector)
        hit = self._hit(paper, similarity, spans, query_terms)
        hit.pinned = True
        return hit


def lexical_index(store: Store, settings: Settings) -> LexicalIndex:
    """The store's lexical index, rebuilt first when missing or stale (one process at a time;
    the others wait, then load what it built): one document per paper, title and abstract."""
    folder = index_folder(settings.store)
    found = LexicalIndex.load(folder, store.generation)
    if found is not None:
        return found
    with rebuild_lock(folder):
        generation = store.generation
        found = LexicalIndex.load(folder, generation)
        if found is not None:
            return found
        papers = store.papers()
        table = PaperTable(keys=[p.key or "" for p in papers], years=[p.year for p in papers])
        texts = [f"{paper.title}. {paper.abstract}" for paper in papers]
        return LexicalIndex.build(folder, table, texts, generation)


def best_sentences(
    paper: Paper,
    spans: list[tuple[int, int]],
    query_terms: list[str],
    idf: Callable[[str], float],
    limit: int,
) -> list[Evidence]:
    """Up to `limit` sentences for the query, in abstract order, merged into runs of consecutive
    sentences: among the sentences of the paper's chunks found near the query (`spans`, nearest
    first; the whole abstract when none was found), those sharing the most IDF-weighted terms
    with the query, the nearer first where that ties (with no shared term: the nearest)."""
    sentences = sentences_of(paper)
    wanted = set(query_terms)
    overlap = [sum(idf(t) for t in set(stems) & wanted) for stems in terms(sentences)]
    nearness: dict[int, int] = {}
    for rank, (start, end) in enumerate(spans):
        for index in range(start, min(end, len(sentences))):
            nearness.setdefault(index, rank)
    pool = list(nearness) or list(range(len(sentences)))
    chosen = sorted(sorted(pool, key=lambda i: (-overlap[i], nearness.get(i, 0), i))[:limit])
    runs: list[list[int]] = []
    for index in chosen:
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return [
        Evidence(" ".join(sentences[i] for i in run), run, [sentences[i] for i in run])
        for run in runs
    ]


def _fuse(candidates: dict[str, _Candidate], dense_weight: float) -> None:
    """Convex mix of the standardised dense and BM25 scores; a paper one retriever did not
    return gets that retriever's lowest standardised score."""
    dense = _standardiser([c.dense for c in candidates.values()])
    lexical = _standardiser([c.lexical for c in candidates.values()])
    for candidate in candidates.values():
        candidate.fused = dense_weight * dense(candidate.dense) + (1 - dense_weight) * lexical(
            candidate.lexical
        )


def _standardiser(scores: list[float | None]) -> Callable[[float | None], float]:
    """z-scores over the scores one retriever returned (None: not returned)."""
    present = [s for s in scores if s is not None]
    if not present:
        return lambda _score: 0.0
    mean = statistics.fmean(present)
    spread = statistics.pstdev(present) or 1.0
    floor = (min(present) - mean) / spread
    return lambda score: floor if score is None else (score - mean) / spread

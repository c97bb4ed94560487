"""Hybrid search: dense chunk vectors from Chroma plus BM25 over whole papers, fused per paper.

A query is embedded and its nearest chunks come from Chroma (a paper's dense score is its best
chunk's cosine similarity); the best BM25 papers come from the lexical index; both scores are
min-max normalised over the query's candidates and mixed; a paper's evidence is the sentences
that best match the query. A relevance gate on the best dense similarity turns "the least bad
matches" into "no relevant papers".
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.chunking import sentences_of
from assistant.embedders import Embedder
from assistant.lexical import LexicalIndex, PaperTable, index_folder, terms
from assistant.papers import Paper
from assistant.settings import SearchSettings, Settings
from assistant.store import Store


@dataclass(frozen=True)
class Filters:
    """Which papers a search may return; `pins` are always returned."""

    year_from: int | None = None
    year_to: int | None = None
    include: frozenset[str] = frozenset()
    exclude: frozenset[str] = frozenset()
    pins: tuple[str, ...] = ()

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
    """Consecutive sentences of one abstract; `sentences` are their indices in the abstract."""

    text: str
    sentences: list[int]


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
    span: tuple[int, int] | None = None  # sentences of its chunk nearest the query, if found
    dense: float | None = None  # cosine similarity of that chunk
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

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.options: SearchSettings = settings.search
        self.store = Store(settings.store)
        self._embedder = embedder
        self._lexical: LexicalIndex | None = None
        self._lexical_generation: str | None = None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = query_embedder(self.settings)
        return self._embedder

    def lexical(self) -> LexicalIndex:
        """The lexical index, rebuilt first when the store was written since it was built.
        A store written since the last call is also checked for its embedder."""
        generation = self.store.generation
        if self._lexical is None or self._lexical_generation != generation:
            self.store.check_embedder(self.embedder.name)
            self.store.forget_readers()  # re-open collections another process may have rebuilt
            folder = index_folder(self.settings.store)
            self._lexical = LexicalIndex.load(folder, generation) or build_lexical_index(
                self.store, self.settings
            )
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
        ranking = self.rank(query, k or self.options.k, filters)
        gate = self.options.min_relevance
        found = ranking.papers if ranking.relevance >= gate else []
        keys = [candidate.paper_key for candidate in found]
        pins = [key for key in dict.fromkeys(filters.pins) if key not in keys]
        papers = {paper.key: paper for paper in self.store.papers_by_key([*keys, *pins])}
        hits = [
            self._hit(papers[c.paper_key], c.fused, c.span, ranking.terms)
            for c in found
            if c.paper_key in papers
        ]
        hits += [
            self._pinned_hit(papers[key], ranking.vector, ranking.terms)
            for key in pins
            if key in papers
        ]
        return SearchResult(hits, ranking.relevance, gate)

    def _dense(self, vector: np.ndarray, filters: Filters) -> dict[str, _Candidate]:
        """Papers owning the nearest chunks, each with its nearest chunk (results come nearest
        first, so the first chunk met of a paper is its best)."""
        found = self.store.nearest_chunks(vector, self.options.candidates, filters.chroma_where())
        papers: dict[str, _Candidate] = {}
        for _chunk_id, meta, distance in found:
            key = meta["paper_key"]
            if key not in papers:
                span = (meta["sentence_start"], meta["sentence_end"])
                papers[key] = _Candidate(key, span, dense=1.0 - distance)
        return papers

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
        self, paper: Paper, score: float, span: tuple[int, int] | None, query_terms: list[str]
    ) -> Hit:
        evidence = best_sentences(
            paper, span, query_terms, self.lexical_idf, self.options.evidence_sentences
        )
        return Hit(paper.key or "", paper.title, paper.year, score, evidence)

    def _pinned_hit(self, paper: Paper, vector: np.ndarray, query_terms: list[str]) -> Hit:
        span, similarity = self.store.closest_chunk_of(paper.key or "", vector)
        hit = self._hit(paper, similarity, span, query_terms)
        hit.pinned = True
        return hit


def query_embedder(settings: Settings) -> Embedder:
    """The embedder for queries: the torch-free MiniLM (same vectors, fast start) by default."""
    embedding = settings.embedding_settings()
    if embedding.backend == "minilm":
        from assistant.embedders.minilm_numpy import MiniLMQueryEncoder

        return MiniLMQueryEncoder(embedding)
    from assistant.embedders import make_embedder

    return make_embedder(embedding)


def build_lexical_index(store: Store, settings: Settings) -> LexicalIndex:
    """(Re)build the store's lexical index: one document per paper, its title and abstract."""
    generation = store.generation
    papers = store.papers()
    table = PaperTable(keys=[p.key or "" for p in papers], years=[p.year for p in papers])
    texts = [f"{paper.title}. {paper.abstract}" for paper in papers]
    return LexicalIndex.build(index_folder(settings.store), table, texts, generation)


def best_sentences(
    paper: Paper,
    span: tuple[int, int] | None,
    query_terms: list[str],
    idf: Callable[[str], float],
    limit: int,
) -> list[Evidence]:
    """Up to `limit` sentences that share the most (IDF-weighted) terms with the query, in
    abstract order, merged into runs of consecutive sentences; from the chunk nearest the query
    when there is one, else from the whole abstract. With no shared term, the first ones."""
    wanted = set(query_terms)
    sentences = sentences_of(paper)
    start, end = span or (0, len(sentences))
    indices = list(range(start, min(end, len(sentences))))
    stems = terms([sentences[i] for i in indices]) if indices else []
    weight = {i: sum(idf(t) for t in set(s) & wanted) for i, s in zip(indices, stems, strict=True)}
    chosen = sorted(sorted(indices, key=lambda i: (-weight[i], i))[:limit])
    if not any(weight[i] > 0 for i in chosen):
        chosen = indices[:limit]
    runs: list[list[int]] = []
    for index in chosen:
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return [Evidence(" ".join(sentences[i] for i in run), run) for run in runs]


def _fuse(candidates: dict[str, _Candidate], dense_weight: float) -> None:
    """Convex mix of min-max normalised dense and BM25 scores; a miss counts as the minimum."""
    dense = _normaliser([c.dense for c in candidates.values()])
    lexical = _normaliser([c.lexical for c in candidates.values()])
    for candidate in candidates.values():
        candidate.fused = dense_weight * dense(candidate.dense) + (1 - dense_weight) * lexical(
            candidate.lexical
        )


def _normaliser(scores: list[float | None]) -> Callable[[float | None], float]:
    present = [s for s in scores if s is not None]
    if not present:
        return lambda _score: 0.0
    low, high = min(present), max(present)
    spread = high - low or 1.0
    return lambda score: 0.0 if score is None else (score - low) / spread

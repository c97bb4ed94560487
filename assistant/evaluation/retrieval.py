"""`litreview eval retrieval`: build a store from a test corpus and score its rankings."""

import csv
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.errors import LitreviewError
from assistant.evaluation.files import json_lines, opened
from assistant.evaluation.metrics import mrr_at, ndcg_at, recall_at
from assistant.ingest import ingest
from assistant.search import Searcher
from assistant.settings import Settings
from assistant.store import Store

# The external-id systems the SciFact/BEIR reader records document ids under.
DOCUMENT_ID_SYSTEMS = ("scifact", "beir")
DEPTH = 100  # the deepest cut-off a metric looks at (recall@100)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Query:
    """One test query and the grade of each relevant document id."""

    id: str
    text: str
    relevance: dict[str, int]


@dataclass(frozen=True)
class RetrievalReport:
    """Mean metrics over the queries whose relevant documents are all in the corpus;
    `skipped_queries` cite a document the corpus lacks (a slice of a larger corpus)."""

    ndcg_10: float
    recall_10: float
    recall_100: float
    mrr_10: float
    queries: int
    documents: int
    rejected_documents: int
    skipped_queries: int = 0

    def as_json(self) -> dict[str, Any]:
        """The metrics rounded to four places, with the query counts."""
        return {
            "ndcg@10": round(self.ndcg_10, 4),
            "recall@10": round(self.recall_10, 4),
            "recall@100": round(self.recall_100, 4),
            "mrr@10": round(self.mrr_10, 4),
            "queries": self.queries,
            "skipped_queries": self.skipped_queries,
        }


def read_queries(path: Path, qrels: Path | None = None) -> list[Query]:
    """SciFact/MultiVerS claims (`cited_doc_ids` are relevant), or BEIR `queries.jsonl` with
    a qrels TSV. Queries without a relevant document are left out, as BEIR does."""
    records = [record for _, record in json_lines(path)]
    if qrels is None:
        queries = [
            Query(
                str(record["id"]),
                record["claim"],
                {str(doc): 1 for doc in record.get("cited_doc_ids") or []},
            )
            for record in records
            if _has(record, "id", "claim", path)
        ]
    else:
        grades = read_qrels(qrels)
        queries = [
            Query(str(record["_id"]), record["text"], grades.get(str(record["_id"]), {}))
            for record in records
            if _has(record, "_id", "text", path)
        ]
    return [query for query in queries if any(grade > 0 for grade in query.relevance.values())]


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """BEIR qrels: `query-id<TAB>corpus-id<TAB>score` lines, with or without the header."""
    grades: dict[str, dict[str, int]] = defaultdict(dict)
    with opened(path) as lines:
        for number, row in enumerate(csv.reader(lines, delimiter="\t"), 1):
            if not row or (number == 1 and row[0] == "query-id"):
                continue
            try:
                query_id, doc_id, grade = row[0], row[1], int(row[2])
            except (IndexError, ValueError):
                raise LitreviewError(
                    f"{path}:{number}: expected query-id, corpus-id and an integer score "
                    "separated by tabs."
                ) from None
            grades[query_id][doc_id] = grade
    return dict(grades)


def evaluate_retrieval(
    corpus: Path,
    queries: list[Query],
    settings: Settings,
    store_folder: Path | None = None,
    corpus_progress: Progress | None = None,
    query_progress: Progress | None = None,
) -> RetrievalReport:
    """Ingest `corpus` into `store_folder` (kept, so a re-run skips the embedding) or a
    temporary embedded store, never a configured Chroma server, rank each query's top 100
    papers with no relevance gate, and average the metrics over the queries whose relevant
    documents are all in the corpus."""
    if not queries:
        raise LitreviewError("No query has a relevant document: check --queries and --qrels.")
    settings = settings.model_copy(deep=True)
    settings.search.min_relevance = -1.0  # rank everything: the metrics judge the ranking
    settings.store.chroma_url = None  # an eval builds its own store, never into the user's
    with _store_folder(store_folder) as folder:
        settings.store.path = folder
        report = ingest([corpus], settings, format_name="scifact", progress=corpus_progress)
        document_of = {
            paper.key: doc_id
            for paper in Store(settings.store).papers()
            for system, doc_id in paper.external_ids.items()
            if system in DOCUMENT_ID_SYSTEMS
        }
        scored = _covered(queries, set(document_of.values()), corpus)
        searcher = Searcher(settings, Store(settings.store))
        totals: dict[str, float] = defaultdict(float)
        for done, query in enumerate(scored, 1):
            ranked = searcher.rank(query.text, DEPTH).papers
            ranking = [document_of.get(candidate.paper_key, "") for candidate in ranked]
            totals["ndcg_10"] += ndcg_at(10, ranking, query.relevance)
            totals["recall_10"] += recall_at(10, ranking, query.relevance)
            totals["recall_100"] += recall_at(100, ranking, query.relevance)
            totals["mrr_10"] += mrr_at(10, ranking, query.relevance)
            if query_progress:
                query_progress(done, len(scored))
    count = len(scored)
    return RetrievalReport(
        **{name: total / count for name, total in totals.items()},
        queries=count,
        documents=len(document_of),
        rejected_documents=len(report.rejected),
        skipped_queries=len(queries) - count,
    )


def _covered(queries: list[Query], documents: set[str], corpus: Path) -> list[Query]:
    """The queries whose relevant documents are all in the corpus. Scoring the others would
    count documents the corpus lacks as misses (SciFact claims over a 400-document slice:
    nDCG@10 0.050 instead of 0.848)."""
    covered = [
        query
        for query in queries
        if all(doc in documents for doc, grade in query.relevance.items() if grade > 0)
    ]
    if not covered:
        raise LitreviewError(
            f"No query's relevant documents are in {corpus}: check that --corpus is the "
            "corpus the queries were written for."
        )
    return covered


@contextmanager
def _store_folder(folder: Path | None) -> Iterator[Path]:
    if folder is not None:
        yield folder
        return
    with tempfile.TemporaryDirectory(prefix="litreview-eval-") as temporary:
        yield Path(temporary)


def _has(record: dict[str, Any], id_field: str, text_field: str, path: Path) -> bool:
    if id_field in record and isinstance(record.get(text_field), str):
        return True
    raise LitreviewError(
        f"{path}: a query without {id_field!r} and {text_field!r}; SciFact claims need "
        "id and claim, BEIR queries need _id and text (with --qrels)."
    )

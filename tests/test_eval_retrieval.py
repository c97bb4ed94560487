"""Ranking metrics on cases worked out by hand, and `litreview eval retrieval` end to end."""

from pathlib import Path

import pytest

from assistant.errors import LitreviewError
from assistant.evaluation.metrics import mrr_at, ndcg_at, recall_at
from assistant.evaluation.retrieval import read_qrels, read_queries

TINY = Path(__file__).parent / "fixtures" / "beir_tiny"


def test_ndcg_with_a_miss_between_two_hits() -> None:
    # DCG = 1/log2(2) + 1/log2(4) = 1.5; ideal = 1 + 1/log2(3) = 1.6309
    assert ndcg_at(10, ["a", "x", "b"], {"a": 1, "b": 1}) == pytest.approx(1.5 / 1.63093, abs=1e-4)


def test_ndcg_with_graded_relevance() -> None:
    # DCG = 1 + 2/log2(3) = 2.2619; ideal = 2 + 1/log2(3) = 2.6309
    assert ndcg_at(10, ["b", "a"], {"a": 2, "b": 1}) == pytest.approx(2.26186 / 2.63093, abs=1e-4)


def test_cut_offs_are_respected() -> None:
    ranking = ["x", "y", "a", "b"]
    relevance = {"a": 1, "b": 1}
    assert ndcg_at(2, ranking, relevance) == 0.0
    assert recall_at(3, ranking, relevance) == 0.5
    assert recall_at(4, ranking, relevance) == 1.0
    assert mrr_at(10, ranking, relevance) == pytest.approx(1 / 3)
    assert mrr_at(2, ranking, relevance) == 0.0


def test_beir_queries_and_qrels_leave_out_queries_without_relevant_documents() -> None:
    queries = read_queries(TINY / "queries.jsonl", TINY / "qrels.tsv")
    assert [q.id for q in queries] == ["q1", "q2", "q3", "q4"]
    assert queries[3].relevance == {"d5": 1, "d1": 1}


def test_scifact_claims_use_cited_documents() -> None:
    queries = read_queries(TINY / "claims.jsonl")
    assert [(q.id, q.relevance) for q in queries] == [("1", {"101": 1}), ("2", {"107": 1})]


def test_a_malformed_qrels_line_is_reported_with_its_line(tmp_path: Path) -> None:
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text("query-id\tcorpus-id\tscore\nq1\td1\n")
    with pytest.raises(LitreviewError, match=r"qrels.tsv:2: expected query-id, corpus-id"):
        read_qrels(qrels)


def test_claims_given_as_beir_queries_say_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(LitreviewError, match="BEIR queries need _id and text"):
        read_queries(TINY / "claims.jsonl", TINY / "qrels.tsv")


def test_eval_retrieval_on_a_tiny_beir_set(cli, tmp_path: Path) -> None:
    result = cli(
        "eval", "retrieval", "--corpus", TINY / "corpus.jsonl", "--queries",
        TINY / "queries.jsonl", "--qrels", TINY / "qrels.tsv", "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    # each query names its document's distinctive words: every relevant one ranks first
    assert result.json() == {
        "ndcg@10": 1.0, "recall@10": 1.0, "recall@100": 1.0, "mrr@10": 1.0, "queries": 4,
    }  # fmt: skip
    assert "embedding corpus: 8/8 papers" in result.err


def test_eval_retrieval_on_scifact_format_keeps_a_given_store(cli, tmp_path: Path) -> None:
    store = tmp_path / "eval-store"
    args = ["eval", "retrieval", "--corpus", TINY / "scifact_corpus.jsonl",
            "--queries", TINY / "claims.jsonl", "--store", store]  # fmt: skip
    first = cli(*args)
    assert first.code == 0, first.err
    assert "2 queries over 3 documents" in first.out and "ndcg@10     1.0000" in first.out
    assert (store / "chroma.sqlite3").is_file()
    assert cli(*args).out == first.out  # the kept store is reused, not duplicated

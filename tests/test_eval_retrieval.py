"""Ranking metrics on cases worked out by hand, and `litreview eval retrieval` end to end."""

import json
from pathlib import Path
from urllib.parse import urlparse

import pytest

from assistant.errors import LitreviewError
from assistant.evaluation.metrics import mrr_at, ndcg_at, recall_at
from assistant.evaluation.retrieval import read_qrels, read_queries
from assistant.lexical import index_folder
from assistant.settings import StoreSettings
from tests.conftest import SCIFACT_400, SCIFACT_400_CLAIMS

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
        "skipped_queries": 0,
    }  # fmt: skip
    assert "embedding corpus: 8/8 papers" in result.err


def test_eval_retrieval_on_scifact_format_keeps_a_given_store(cli, tmp_path: Path) -> None:
    store = tmp_path / "eval-store"
    args = ["eval", "retrieval", "--corpus", TINY / "scifact_corpus.jsonl",
            "--queries", TINY / "claims.jsonl", "--store", store]  # fmt: skip
    first = cli(*args)
    assert first.code == 0, first.err
    assert first.out.splitlines() == [
        "2 queries over 3 documents",
        "ndcg@10     1.0000", "recall@10   1.0000", "recall@100  1.0000", "mrr@10      1.0000",
    ]  # fmt: skip
    assert (store / "chroma.sqlite3").is_file()
    assert cli(*args).out == first.out  # the kept store is reused, not duplicated


def _collections(url: str) -> dict[str, int]:
    """Each collection on the Chroma server at `url`, with its record count."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    where = urlparse(url)
    client = chromadb.HttpClient(
        host=where.hostname or "", port=where.port or 8000,
        settings=ChromaSettings(anonymized_telemetry=False),
    )  # fmt: skip
    return {c.name: c.count() for c in client.list_collections()}


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    """Size and modification time of each file under `folder`."""
    return {
        str(f.relative_to(folder)): (f.stat().st_size, f.stat().st_mtime_ns)
        for f in folder.rglob("*")
        if f.is_file()
    }


def test_eval_retrieval_never_writes_into_the_configured_chroma_server(
    cli, chroma_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("ingest", TINY / "scifact_corpus.jsonl", "--chroma-url", chroma_server).code == 0
    before = _collections(chroma_server)
    assert sum(before.values()) > 0  # the user's own library is on the server
    server_index = index_folder(StoreSettings(chroma_url=chroma_server))
    index_before = _files(server_index)
    monkeypatch.setenv("LITREVIEW_STORE__CHROMA_URL", chroma_server)
    result = cli(
        "eval", "retrieval", "--corpus", TINY / "corpus.jsonl", "--queries",
        TINY / "queries.jsonl", "--qrels", TINY / "qrels.tsv", "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert result.json()["ndcg@10"] == 1.0  # the 8 test documents alone, not the user's 3 too
    assert _collections(chroma_server) == before
    assert _files(server_index) == index_before  # nor into its lexical index


def test_claims_citing_documents_outside_a_corpus_slice_are_skipped_with_a_warning(
    cli, tmp_path: Path
) -> None:
    documents = SCIFACT_400.read_text().splitlines()
    claims = SCIFACT_400_CLAIMS.read_text().splitlines()
    # a slice of the corpus: ten documents, and those the first five claims cite
    cited = {doc for line in claims[:5] for doc in json.loads(line)["cited_doc_ids"]}
    chosen = [d for i, d in enumerate(documents) if i < 10 or json.loads(d)["doc_id"] in cited]
    ids = {json.loads(d)["doc_id"] for d in chosen}
    covered = [c for c in claims if set(json.loads(c)["cited_doc_ids"]) <= ids]
    skipped = len(claims) - len(covered)
    assert len(covered) >= 5 and skipped > 50
    corpus, mixed, alone = tmp_path / "slice.jsonl", tmp_path / "all.jsonl", tmp_path / "in.jsonl"
    corpus.write_text("\n".join(chosen) + "\n")
    mixed.write_text("\n".join(claims) + "\n")
    alone.write_text("\n".join(covered) + "\n")
    store = tmp_path / "eval-store"

    result = cli("eval", "retrieval", "--corpus", corpus, "--queries", mixed, "--store", store,
                 "--json")  # fmt: skip
    assert result.code == 0, result.err
    report = result.json()
    assert (report["queries"], report["skipped_queries"]) == (len(covered), skipped)
    assert f"{skipped} of {len(claims)} queries" in result.err
    # the scores are those of the covered claims alone
    reference = cli("eval", "retrieval", "--corpus", corpus, "--queries", alone, "--store", store,
                    "--json").json()  # fmt: skip
    assert reference == {**report, "skipped_queries": 0}
    assert report["ndcg@10"] > 0.5

    human = cli("eval", "retrieval", "--corpus", corpus, "--queries", mixed, "--store", store)
    assert f"{len(covered)} queries over {len(chosen)} documents" in human.out
    assert f"{skipped} of {len(claims)} queries" in human.err and "left out" in human.err


def test_no_claim_covered_by_the_corpus_is_an_error(cli, tmp_path: Path) -> None:
    claims = tmp_path / "claims.jsonl"
    claims.write_text(json.dumps({"id": 1, "claim": "Absent.", "cited_doc_ids": [999]}) + "\n")
    result = cli("eval", "retrieval", "--corpus", TINY / "scifact_corpus.jsonl",
                 "--queries", claims)  # fmt: skip
    assert result.code == 1 and "Error: " in result.err and "--corpus" in result.err

"""Ingest end to end through the CLI: the seed corpus, re-runs, exports, and the store's info."""

import os
import re
import zipfile
from pathlib import Path

import bibtexparser
import pytest

from assistant.chunking import chunk_paper
from assistant.settings import Settings
from assistant.store import Store
from tests.conftest import SCIFACT_400, SEEDS, litreview_on_terminal, read_terminal


def test_seed_corpus_gives_99_distinct_papers_and_rerun_adds_nothing(
    cli, settings: Settings
) -> None:
    first = cli("ingest", SEEDS, "--json")
    assert first.code == 0, first.err
    report = first.json()
    assert report["added"] == 99
    assert report["rejected"] == []
    assert report["papers_total"] == 99
    expected_chunks = sum(
        len(chunk_paper(p, settings.chunking)) for p in Store(settings.store).papers()
    )
    assert report["chunks_total"] == expected_chunks >= 99

    again = cli("ingest", SEEDS, "--json").json()
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, 99)
    assert again["chunks_total"] == report["chunks_total"]


def test_papers_list_show_and_bibtex_export(cli, tmp_path: Path) -> None:
    assert cli("ingest", SEEDS).code == 0
    papers = cli("papers", "list", "--json").json()
    assert len(papers) == 99
    keys = [p["key"] for p in papers]
    assert len(set(keys)) == 99
    zoology = next(p for p in papers if p["title"].startswith("Zoology"))
    assert zoology["year"] == 2023 and zoology["author_count"] == 8
    assert set(zoology) >= {"key", "title", "year", "authors"}
    # A date shown without a year belongs to the page's year (2025 on the page that shows it).
    ocr = next(p for p in papers if p["title"].startswith("Generalization or Hallucination"))
    assert ocr["date"] == "2025-06-12"

    shown = cli("papers", "show", zoology["key"], "--json").json()
    assert shown["title"] == zoology["title"]
    spans = [(c["sentence_start"], c["sentence_end"]) for c in shown["chunks"]]
    assert spans[0][0] == 0 and all(start < end for start, end in spans)
    human = cli("papers", "show", zoology["key"])
    assert "Zoology" in human.out and "sentences 1-" in human.out

    missing = cli("papers", "show", "nosuchkey2099")
    assert missing.code == 1 and "papers list" in missing.err and "did you mean" not in missing.err
    mistyped = cli("papers", "show", zoology["key"].capitalize()[:-1])
    assert mistyped.code == 1 and f"did you mean {zoology['key']}?" in mistyped.err

    exported = cli("papers", "export", "--format", "bibtex")
    library = bibtexparser.parse_string(exported.out)
    assert not library.failed_blocks
    assert {e.key: e["title"] for e in library.entries} == {p["key"]: p["title"] for p in papers}

    records = cli("papers", "export", "--json").json()
    assert [r["key"] for r in records] == keys and all(r["abstract"] for r in records)


@pytest.mark.parametrize("mode", ["embedded", "server"])
def test_papers_remove_deletes_records_chunks_and_search_hits(
    cli, tmp_path: Path, request: pytest.FixtureRequest, mode: str
) -> None:
    where = ["--chroma-url", request.getfixturevalue("chroma_server")] if mode == "server" else []
    seeds = SEEDS / "001_87e089f88a505442.txt"
    first = cli("ingest", seeds, *where, "--json").json()
    zoology = "zoology2023measuring"
    question = "measuring and improving recall in efficient language models"
    hits = cli("search", question, *where, "--json").json()
    assert zoology in [hit["key"] for hit in hits]  # the lexical index is built
    own_chunks = len(cli("papers", "show", zoology, *where, "--json").json()["chunks"])

    unknown = cli("papers", "remove", zoology, "zoology2023measurin", *where)
    assert unknown.code == 1 and f"did you mean {zoology}?" in unknown.err
    assert len(cli("papers", "list", *where, "--json").json()) == first["papers_total"]

    removed = cli("papers", "remove", zoology, *where, "--json")
    assert removed.code == 0, removed.err
    assert removed.json() == {
        "removed": [zoology],
        "chunks_removed": own_chunks,
        "papers_total": first["papers_total"] - 1,
        "chunks_total": first["chunks_total"] - own_chunks,
    }
    assert cli("papers", "show", zoology, *where).code == 1
    hits = cli("search", question, *where, "--json").json()
    assert zoology not in [hit["key"] for hit in hits]
    # the paper's files bring it back, under its key
    again = cli("ingest", seeds, *where, "--json").json()
    assert (again["added"], again["chunks_total"]) == (1, first["chunks_total"])
    assert cli("papers", "show", zoology, *where).code == 0


def test_store_info_reports_embedder_counts_and_index(cli) -> None:
    assert cli("ingest", SEEDS).code == 0
    info = cli("store", "info", "--json").json()
    assert info["embedder"] == "minilm:all-MiniLM-L6-v2:int8"  # a new store gets int8
    assert info["dimension"] == 384
    assert info["papers"] == 99 and info["chunks"] >= 99
    assert info["hnsw"]["ef_search"] == 400 and info["hnsw"]["space"] == "cosine"
    assert info["state"] == "clean"


def test_another_embedder_is_refused_with_the_fix_in_the_message(cli, monkeypatch) -> None:
    assert cli("ingest", SEEDS / "000_ed3e69f438f02173.txt").code == 0
    monkeypatch.setenv("LITREVIEW_EMBEDDINGS__BACKEND", "openai")
    monkeypatch.setenv("LITREVIEW_EMBEDDINGS__MODEL", "text-embedding-3-small")
    refused = cli("ingest", SEEDS)
    assert refused.code == 1
    assert "built with embedder 'minilm:all-MiniLM-L6-v2:int8'" in refused.err
    assert "--store" in refused.err


def test_a_longer_abstract_updates_the_paper_and_replaces_its_chunks(
    cli, tmp_path: Path, settings: Settings
) -> None:
    import json

    short = {"title": "Memory Layers at Scale", "abstract": "Memory layers help. They scale."}
    longer = {**short, "abstract": short["abstract"] + " " + "They add capacity cheaply. " * 100}
    (tmp_path / "v1.jsonl").write_text(json.dumps(short) + "\n")
    (tmp_path / "v2.jsonl").write_text(json.dumps(longer) + "\n")
    assert (
        cli("ingest", tmp_path / "v1.jsonl", "--json").json()["chunks_total"] == 2
    )  # a sentence each

    report = cli("ingest", tmp_path / "v2.jsonl", "--json").json()

    assert (report["added"], report["updated"], report["papers_total"]) == (0, 1, 1)
    assert report["chunks_total"] == 102
    store = Store(settings.store)
    [paper] = store.papers()
    chunks = store.chunks_of(paper.key)
    assert len(chunks) == report["chunks_total"] > 1
    assert {c["content_hash"] for c in chunks} == {paper.content_hash()}
    assert paper.abstract == " ".join(longer["abstract"].split())


def test_format_flag_overrides_detection(cli, tmp_path: Path) -> None:
    export = tmp_path / "export.txt"  # a table saved as text reads as a listing page
    export.write_text("title,abstract\nMamba,Selective state spaces.\n")
    guessed = cli("ingest", export, "--json")
    assert guessed.code == 3
    assert "pass --format" in guessed.json()["rejected"][0]["reason"]
    forced = cli("ingest", export, "--format", "csv", "--json")
    assert forced.code == 0 and forced.json()["added"] == 1
    unknown = cli("ingest", export, "--format", "word")
    assert unknown.code == 1 and "Unknown format 'word'" in unknown.err


def test_an_empty_folder_is_an_error_saying_there_was_nothing_to_read(cli, tmp_path: Path) -> None:
    empty = tmp_path / "exports"
    empty.mkdir()
    (empty / ".DS_Store").write_text("hidden files are skipped")
    result = cli("ingest", empty)
    assert result.code == 1
    assert f"No files to read in {empty}" in result.err
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize("forced", [(), ("--format", "bibtex")])
def test_a_pdf_is_told_to_export_its_metadata_instead(
    cli, tmp_path: Path, forced: tuple[str, ...]
) -> None:
    pdf = tmp_path / "attention.pdf"
    pdf.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
    result = cli("ingest", pdf, *forced, "--json")
    assert result.code == 3
    [rejected] = result.json()["rejected"]
    assert "PDFs are not read" in rejected["reason"]
    assert "BibTeX, RIS or CSV" in rejected["reason"] and "--format" not in rejected["reason"]


def test_a_word_draft_is_told_to_go_to_check(cli, tmp_path: Path) -> None:
    draft = tmp_path / "paper.docx"
    with zipfile.ZipFile(draft, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    result = cli("ingest", draft, "--json")
    assert result.code == 3
    [rejected] = result.json()["rejected"]
    assert "a Word or OpenDocument file" in rejected["reason"]
    assert f"litreview check {draft}" in rejected["reason"]


def test_the_same_files_through_another_path_change_nothing(
    cli, tmp_path: Path, settings: Settings, monkeypatch
) -> None:
    import json

    data = tmp_path / "data"
    data.mkdir()
    records = [
        {"title": "Mamba", "abstract": "Selective state spaces."},
        {"title": "Hyena", "abstract": "Long convolutions."},
    ]
    (data / "papers.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    monkeypatch.chdir(tmp_path)
    assert cli("ingest", "data", "--json").json()["added"] == 2
    for other in ["./data/../data/", str(data.resolve()), "data/papers.jsonl"]:
        again = cli("ingest", other, "--json").json()
        assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, 2), other
    sources = {p.title: p.sources for p in Store(settings.store).papers()}
    assert sources == {
        "Mamba": [f"{data.resolve() / 'papers.jsonl'}:1"],
        "Hyena": [f"{data.resolve() / 'papers.jsonl'}:2"],
    }


def test_ingest_on_a_terminal_shows_papers_done_rate_and_time_left(store_dir: Path) -> None:
    proc, terminal = litreview_on_terminal("ingest", SCIFACT_400, "--store", store_dir)
    shown = read_terminal(terminal, r"400/400 papers")
    assert proc.wait(timeout=600) == 0
    os.close(terminal)
    # after the first batch: 256 of 400 papers, the rate, and the time left (h:mm:ss)
    after_first = r"256/400 papers\s+\d+\.\d papers/s\s+\d:\d\d:\d\d left"
    assert re.search(after_first, shown), shown[-1000:]


def test_ingest_is_quiet_off_a_terminal_and_with_json(cli, store_dir: Path) -> None:
    seeds = SEEDS / "000_ed3e69f438f02173.txt"
    piped = cli("ingest", seeds)  # stderr captured: not a terminal
    assert piped.code == 0 and "papers" not in piped.err and "ingest" not in piped.err
    other = store_dir.parent / "json-store"
    proc, terminal = litreview_on_terminal("ingest", seeds, "--store", other, "--json")
    shown = read_terminal(terminal, r"papers/s", timeout=120)
    assert proc.wait(timeout=600) == 0
    os.close(terminal)
    assert shown == ""

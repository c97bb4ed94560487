"""Hybrid search on real stores: ranking, fusion, evidence, filters, pins, the relevance gate,
the lexical index's staleness rebuild, and `litreview search` itself."""

import json
import shutil
import threading
from pathlib import Path

import pytest

from assistant.chunking import sentences_of
from assistant.ingest import ingest
from assistant.lexical import TABLE_FILE, LexicalIndex, index_folder
from assistant.search import Filters, Searcher, _Candidate, _fuse
from assistant.settings import Settings, user_cache_dir
from assistant.store import Store

TINY = Path(__file__).parent / "fixtures" / "beir_tiny"
RECALL_QUESTION = "why do recurrent models fail at associative recall"
OFF_TOPIC = "best recipe for sourdough bread with a crisp crust"


def _settings(folder: Path) -> Settings:
    settings = Settings()
    settings.store.path = folder
    return settings


@pytest.fixture(scope="module")
def seed_settings(seed_store: Path) -> Settings:
    """The seed corpus in a store shared by the read-only tests."""
    return _settings(seed_store)


@pytest.fixture(scope="module")
def seed_search(seed_settings: Settings) -> Searcher:
    return Searcher(seed_settings, Store(seed_settings.store))


@pytest.fixture
def tiny_settings(tmp_path: Path) -> Settings:
    settings = _settings(tmp_path / "store")
    ingest([TINY / "corpus.jsonl"], settings, format_name="scifact")
    return settings


def test_recall_question_finds_the_recall_papers(seed_search: Searcher) -> None:
    result = seed_search.search(RECALL_QUESTION, k=5)
    keys = [hit.key for hit in result.hits]
    assert result.relevant
    assert {"zoology2023measuring", "just2024read"} <= set(keys)
    assert len(keys) == len(set(keys)) == 5  # one entry per paper
    assert [hit.score for hit in result.hits] == sorted(
        (h.score for h in result.hits), reverse=True
    )


def test_evidence_is_the_papers_own_sentences_matching_the_query(
    seed_search: Searcher, seed_settings: Settings
) -> None:
    hit = seed_search.search(RECALL_QUESTION, k=1).hits[0]
    sentences = sentences_of(Store(seed_settings.store).paper(hit.key))
    assert 1 <= sum(len(e.sentences) for e in hit.evidence) <= 3
    for evidence in hit.evidence:
        assert evidence.text == " ".join(sentences[i] for i in evidence.sentences)
    assert any("recall" in evidence.text.lower() for evidence in hit.evidence)


def test_fusion_rewards_papers_both_retrievers_found() -> None:
    candidates = {
        "both": _Candidate("both", [(0, 1)], dense=0.8, lexical=12.0),
        "dense-only": _Candidate("dense-only", [(0, 1)], dense=0.9),
        "lexical-only": _Candidate("lexical-only", lexical=14.0),
        "weak": _Candidate("weak", [(0, 1)], dense=0.4, lexical=2.0),
    }
    _fuse(candidates, dense_weight=0.5)
    fused = {name: round(c.fused, 3) for name, c in candidates.items()}
    # dense 0.8/0.9/0.4: mean 0.7, sd 0.2160; BM25 12/14/2: mean 9.333, sd 5.2493; a miss
    # scores the retriever's lowest z (dense -1.389, BM25 -1.397).
    assert fused == {"both": 0.485, "dense-only": -0.236, "lexical-only": -0.25, "weak": -1.393}


def test_an_off_topic_question_finds_nothing_relevant(seed_search: Searcher) -> None:
    result = seed_search.search(OFF_TOPIC)
    assert not result.relevant and result.hits == []
    assert result.relevance < result.threshold


def test_year_filters_keep_only_papers_in_range(seed_search: Searcher) -> None:
    hits = seed_search.search(RECALL_QUESTION, k=10, filters=Filters(year_from=2025)).hits
    assert hits and all(hit.year is not None and hit.year >= 2025 for hit in hits)
    hits = seed_search.search(RECALL_QUESTION, k=10, filters=Filters(year_to=2023)).hits
    assert hits and all(hit.year is not None and hit.year <= 2023 for hit in hits)


def test_include_and_exclude_keys(seed_search: Searcher) -> None:
    only = seed_search.search(
        RECALL_QUESTION, filters=Filters(include=frozenset({"just2024read", "mem2025agentic"}))
    ).hits
    assert {hit.key for hit in only} <= {"just2024read", "mem2025agentic"} and only
    without = seed_search.search(
        RECALL_QUESTION, filters=Filters(exclude=frozenset({"just2024read"}))
    )
    assert "just2024read" not in [hit.key for hit in without.hits]


def test_a_filter_most_chunks_pass_needs_no_chroma_where(
    seed_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chroma's `where` on a query cost 200-380 ms at 100k chunks and grows with the store:
    a filter that leaves enough of the nearest chunks is applied to them here instead."""
    searcher = Searcher(seed_settings, Store(seed_settings.store))
    wheres: list[object] = []
    nearest = searcher.store.nearest_chunks

    def recording(vector: object, limit: int, where: object = None) -> object:
        wheres.append(where)
        return nearest(vector, limit, where)  # type: ignore[arg-type]

    monkeypatch.setattr(searcher.store, "nearest_chunks", recording)
    unfiltered = searcher.search(RECALL_QUESTION, k=5).hits
    excluded = unfiltered[0].key
    hits = searcher.search(RECALL_QUESTION, k=5, filters=Filters(exclude=frozenset({excluded})))
    assert wheres == [None, None]
    assert hits.hits and excluded not in [hit.key for hit in hits.hits]


def test_a_pinned_paper_is_always_in_the_results(seed_search: Searcher) -> None:
    pinned = seed_search.search(RECALL_QUESTION, k=3, filters=Filters(pins=("mem2025agentic",)))
    assert pinned.hits[-1].key == "mem2025agentic" and pinned.hits[-1].pinned
    assert pinned.hits[-1].evidence
    off_topic = seed_search.search(OFF_TOPIC, filters=Filters(pins=("mem2025agentic",)))
    assert [hit.key for hit in off_topic.hits] == ["mem2025agentic"]


def test_the_lexical_index_is_rebuilt_after_the_store_changes(
    tiny_settings: Settings, tmp_path: Path
) -> None:
    searcher = Searcher(tiny_settings, Store(tiny_settings.store))
    assert searcher.search("waggle dance of honeybees", k=1).hits[0].title.startswith("Honeybee")
    table = index_folder(tiny_settings.store) / TABLE_FILE
    before = json.loads(table.read_text())["generation"]

    extra = tmp_path / "extra.jsonl"
    extra.write_text(
        json.dumps(
            {
                "title": "Octopus camouflage chromatophores",
                "abstract": "Octopuses change skin colour with chromatophores within a fraction "
                "of a second to match their background.",
                "year": 2021,
            }
        )
        + "\n"
    )
    ingest([extra], tiny_settings)
    after = json.loads(table.read_text())["generation"]
    assert after != before
    assert after == Store(tiny_settings.store).generation

    shutil.rmtree(index_folder(tiny_settings.store))  # a missing index is rebuilt on demand
    searcher = Searcher(tiny_settings, Store(tiny_settings.store))
    hits = searcher.search("chromatophores octopus camouflage", k=1).hits
    assert hits[0].title == "Octopus camouflage chromatophores"
    assert table.is_file()


def test_a_searcher_notices_a_write_made_after_it_loaded_the_index(
    tiny_settings: Settings, tmp_path: Path
) -> None:
    searcher = Searcher(tiny_settings, Store(tiny_settings.store))
    searcher.search("tidal turbines")
    extra = tmp_path / "extra.jsonl"
    extra.write_text(
        json.dumps(
            {
                "title": "Axolotl limb regeneration",
                "abstract": "Axolotls regrow whole "
                "limbs through a blastema of dedifferentiated cells after amputation.",
            }
        )
        + "\n"
    )
    ingest([extra], tiny_settings)
    assert (
        searcher.search("axolotl blastema limb regrowth", k=1).hits[0].title.startswith("Axolotl")
    )


def _octopus(folder: Path) -> Path:
    extra = folder / "octopus.jsonl"
    extra.write_text(
        json.dumps(
            {
                "title": "Octopus camouflage chromatophores",
                "abstract": "Octopuses change skin colour with chromatophores within a fraction "
                "of a second to match their background.",
            }
        )
        + "\n"
    )
    return extra


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}-"))


def test_a_rebuild_killed_mid_swap_leaves_nothing_that_breaks_later_ones(
    tiny_settings: Settings, tmp_path: Path
) -> None:
    folder = index_folder(tiny_settings.store)
    # What a rebuild killed between its two renames left: the old index beside the new one,
    # and another one's half-written staging folder.
    shutil.copytree(folder, folder.with_name(f".{folder.name}-old"))
    (folder.with_name(f".{folder.name}-k2j4x9") / "part").mkdir(parents=True)

    ingest([_octopus(tmp_path)], tiny_settings)  # rebuilds the index

    searcher = Searcher(tiny_settings, Store(tiny_settings.store))
    hits = searcher.search("chromatophores octopus camouflage", k=1).hits
    assert hits[0].title == "Octopus camouflage chromatophores"
    assert _leftovers(folder) == []
    assert LexicalIndex.load(folder, Store(tiny_settings.store).generation) is not None


def test_concurrent_searches_on_a_stale_index_both_rebuild_it_safely(
    tiny_settings: Settings,
) -> None:
    folder = index_folder(tiny_settings.store)
    generation = Store(tiny_settings.store).generation
    results: dict[int, str] = {}
    errors: list[BaseException] = []

    def search(slot: int, start: threading.Barrier) -> None:
        searcher = Searcher(tiny_settings, Store(tiny_settings.store))
        _ = searcher.embedder  # load the model before the race, not during it
        start.wait()
        try:
            results[slot] = searcher.search("waggle dance of honeybees", k=1).hits[0].title
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    for _round in range(3):
        table = folder / TABLE_FILE
        table.write_text(json.dumps({**json.loads(table.read_text()), "generation": "stale"}))
        start = threading.Barrier(3)
        threads = [threading.Thread(target=search, args=(n, start)) for n in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        assert all(title.startswith("Honeybee") for title in results.values()) and len(results) == 3
        assert LexicalIndex.load(folder, generation) is not None
        assert _leftovers(folder) == []


def test_search_through_a_chroma_server(chroma_server: str, tmp_path: Path) -> None:
    settings = _settings(tmp_path / "unused")
    settings.store.chroma_url = chroma_server
    ingest([TINY / "scifact_corpus.jsonl"], settings)
    hits = (
        Searcher(settings, Store(settings.store)).search("coral bleaching in heatwaves", k=1).hits
    )
    assert hits[0].title == "Coral bleaching under marine heatwaves"
    folder = index_folder(settings.store)  # no store folder: the index lives in the user cache
    assert folder.is_relative_to(user_cache_dir()) and (folder / TABLE_FILE).is_file()


def test_search_command_prints_ranked_papers_and_evidence(cli, seed_settings: Settings) -> None:
    result = cli("search", RECALL_QUESTION, "-k", "3", "--store", seed_settings.store.path)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith(" 1. ") and "(20" in lines[0]
    assert any(line.startswith("      [") for line in lines)


def test_search_json_has_the_documented_fields(cli, seed_settings: Settings) -> None:
    result = cli(
        "search", RECALL_QUESTION, "-k", "2", "--year-from", "2024", "--json",
        "--store", seed_settings.store.path,
    )  # fmt: skip
    hits = result.json()
    assert isinstance(hits, list) and len(hits) == 2
    for hit in hits:
        assert set(hit) == {"key", "title", "year", "score", "evidence"}
        assert hit["year"] >= 2024
        assert all(set(e) == {"text", "sentences"} for e in hit["evidence"])


def test_search_command_says_when_nothing_is_relevant(cli, seed_settings: Settings) -> None:
    result = cli("search", OFF_TOPIC, "--store", seed_settings.store.path)
    assert result.code == 0
    assert result.out.startswith("No relevant papers for this question")
    assert cli("search", OFF_TOPIC, "--json", "--store", seed_settings.store.path).json() == []


def test_search_of_a_missing_store_says_how_to_make_one(cli, tmp_path: Path) -> None:
    result = cli("search", "anything", "--store", tmp_path / "empty")
    assert result.code == 1
    assert "No store at" in result.err and "litreview ingest PATH --store" in result.err


def test_search_of_an_empty_store_says_to_ingest(cli, tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("")
    assert cli("ingest", tmp_path / "empty.txt").code == 3  # creates the store, stores nothing
    result = cli("search", "anything")
    assert result.code == 1
    assert "is empty: run `litreview ingest PATH` first" in result.err


def test_search_numbers_sentences_from_one_like_papers_show(cli, seed_settings: Settings) -> None:
    store = ("--store", seed_settings.store.path)
    [hit] = cli("search", RECALL_QUESTION, "-k", "1", "--json", *store).json()
    printed = cli("search", RECALL_QUESTION, "-k", "1", *store).out
    for evidence in hit["evidence"]:  # --json keeps 0-based indices, as `papers show --json` does
        numbers = ",".join(str(i + 1) for i in evidence["sentences"])
        assert f"      [{numbers}] {evidence['text']}" in printed


@pytest.mark.parametrize("option", ["--pin", "--include", "--exclude"])
def test_an_unknown_key_is_an_error_naming_it(cli, seed_settings: Settings, option: str) -> None:
    result = cli(
        "search", RECALL_QUESTION, option, "just2024read", option, "nosuch2099",
        "--store", seed_settings.store.path,
    )  # fmt: skip
    assert result.code == 1
    assert "nosuch2099" in result.err and "just2024read" not in result.err
    assert "litreview papers list" in result.err
    mistyped = cli(
        "search", RECALL_QUESTION, option, "Just2024read", "--store", seed_settings.store.path
    )
    assert mistyped.code == 1 and "'Just2024read' (did you mean just2024read?)" in mistyped.err


@pytest.mark.parametrize(
    ("args", "said"),
    [
        ((RECALL_QUESTION, "-k", "0"), "-k"),
        ((RECALL_QUESTION, "-k", "-3"), "-k"),
        ((RECALL_QUESTION, "--year-from", "2030", "--year-to", "2020"), "--year-from 2030"),
        (("   ",), "a question"),
    ],
)
def test_a_search_that_cannot_match_is_an_error_not_an_empty_answer(
    cli, seed_settings: Settings, args: tuple[str, ...], said: str
) -> None:
    result = cli("search", *args, "--store", seed_settings.store.path)
    assert result.code in (1, 2) and said in result.err and result.out == ""


@pytest.mark.parametrize("command", ["ask", "related-work"])
def test_drafting_from_no_words_is_an_error(cli, seed_settings: Settings, command: str) -> None:
    result = cli(command, "", "--store", seed_settings.store.path)
    assert result.code == 1 and result.out == ""
    assert "in words" in result.err

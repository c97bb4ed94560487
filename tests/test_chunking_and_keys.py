"""Chunks stay under budget and name their sentences; keys are readable, stable and unique."""

import re
from itertools import pairwise

import pytest

from assistant.chunking import chunk_paper, split_sentences
from assistant.papers import Paper, citation_key, merge, normalise_title, same_work
from assistant.readers import read_file
from assistant.settings import ChunkingSettings
from assistant.tokens import count_tokens
from tests.conftest import SCIFACT_CORPUS, SEEDS, needs_shared_data

SENTENCES = [
    f"Sentence number {i} says something about topic {i} in several words." for i in range(12)
]


def _paper(**fields: object) -> Paper:
    return Paper.model_validate(
        {"key": "k2020x", "title": "T", "abstract": " ".join(SENTENCES), **fields}
    )


def test_split_sentences_keeps_abbreviations_whole() -> None:
    text = "We use e.g. BERT and GPT. Results improve by 3.5 points. See Fig. 2 for details."
    assert split_sentences(text) == [
        "We use e.g. BERT and GPT.",
        "Results improve by 3.5 points.",
        "See Fig. 2 for details.",
    ]
    # a page or a chapter is no sentence end; a word ending in "p" is no page
    text = "As shown (Smith, p. 4; Doe, pp. 5-6, ch. 2). Cells form a group. Then they split."
    assert split_sentences(text) == [
        "As shown (Smith, p. 4; Doe, pp. 5-6, ch. 2).",
        "Cells form a group.",
        "Then they split.",
    ]


def test_sentences_run_together_without_a_space_are_split() -> None:
    # as in the seed corpus: "...for knowledge consistency.Existing models..."
    text = (
        "We study knowledge consistency.Existing models fail at it. Scores rose 3.5 points "
        "in 2023.We thank AACR.This ends (see Table 2).Finally, it works!Really."
    )
    assert split_sentences(text) == [
        "We study knowledge consistency.",
        "Existing models fail at it.",
        "Scores rose 3.5 points in 2023.",
        "We thank AACR.",
        "This ends (see Table 2).",
        "Finally, it works!",
        "Really.",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Scores rose from 3.5 to 4.25 points with version 1.2.3 of the Tool v2.0.1 release.",
        "Code is at arxiv.org and github.com/Org/Repo in model.py and Data.json files.",
        "Smith et al.Then, e.g.The, i.e.This and Fig.A stay whole in one sentence.",
        "The H2A.Z variant, U.S.Army data, Phys.Rev.D76 and torch.nn.Module stay whole.",
    ],
)
def test_dots_inside_numbers_names_and_abbreviations_do_not_split(text: str) -> None:
    assert split_sentences(text) == [text]


def test_the_seed_corpus_has_no_sentences_run_together() -> None:
    papers = [item for page in sorted(SEEDS.glob("*.txt")) for item in read_file(page)]
    sentences = [s for p in papers if isinstance(p, Paper) for s in split_sentences(p.abstract)]
    assert not [s for s in sentences if re.search(r"[a-z]{3}\.[A-Z][a-z]{2,} [a-z]", s)]


@pytest.mark.parametrize(
    "max_sentences,max_tokens,overlap",
    [(1, 256, 0), (50, 40, 0), (50, 40, 1), (50, 64, 2), (3, 1000, 1), (50, 1000, 1)],
)
def test_chunks_respect_budget_cover_every_sentence_and_overlap(
    max_sentences: int, max_tokens: int, overlap: int
) -> None:
    settings = ChunkingSettings(
        max_sentences=max_sentences, max_tokens=max_tokens, overlap_sentences=overlap
    )
    chunks = chunk_paper(_paper(), settings)
    assert chunks[0].sentence_start == 0 and chunks[-1].sentence_end == len(SENTENCES)
    for before, after in pairwise(chunks):
        assert after.sentence_start == max(before.sentence_end - overlap, before.sentence_start + 1)
    for chunk in chunks:
        assert count_tokens(chunk.text) <= max_tokens - count_tokens("T") + 1
        assert chunk.sentence_end - chunk.sentence_start <= max_sentences
        assert chunk.text == " ".join(SENTENCES[chunk.sentence_start : chunk.sentence_end])
    assert len({c.id for c in chunks}) == len(chunks)


def test_a_sentence_over_budget_is_cut_into_windows_of_that_sentence() -> None:
    long_sentence = " ".join(["word"] * 300) + "."
    chunks = chunk_paper(_paper(abstract=long_sentence), ChunkingSettings(max_tokens=64))
    assert len(chunks) > 1
    assert all((c.sentence_start, c.sentence_end) == (0, 1) for c in chunks)
    assert all(c.token_count <= 64 for c in chunks)


def test_source_sentences_are_kept_as_given() -> None:
    given = ["First one, e.g. this.", "Second.", "Third"]
    paper = _paper(abstract=" ".join(given), sentences=given)
    assert [c.text for c in chunk_paper(paper, ChunkingSettings())] == given
    chunks = chunk_paper(paper, ChunkingSettings(max_sentences=5))
    assert [(c.sentence_start, c.sentence_end) for c in chunks] == [(0, 3)]


def test_citation_keys_are_readable_and_unique() -> None:
    paper = Paper(
        title="Attention Is All You Need", abstract="x", authors=["Ashish Vaswani"], year=2017
    )
    assert (
        citation_key(Paper(title="The Zoology of Recall", abstract="x", year=2023), set())
        == "zoology2023recall"
    )
    assert citation_key(paper, set()) == "vaswani2017attention"
    assert citation_key(paper, {"vaswani2017attention"}) == "vaswani2017attentiona"
    assert (
        citation_key(paper, {"vaswani2017attention", "vaswani2017attentiona"})
        == "vaswani2017attentionb"
    )
    # No year, no "nd": Better BibTeX leaves a missing year out of the key.
    assert (
        citation_key(Paper(title="On X", abstract="y", authors=["Müller, Jörg"]), set())
        == "mullerx"
    )
    assert (
        citation_key(Paper(title="Memory-R1: Agents that Learn", abstract="y"), set()) == "memoryr1"
    )
    assert citation_key(Paper(title="MemOS", abstract="y"), set()) == "memos"
    # Scopus and PubMed write the surname first, initials after, with no comma
    for author in ("Smith J.", "Smith J", "Smith J.-P."):
        assert citation_key(Paper(title="On X", abstract="y", authors=[author]), set()) == "smithx"
    berg = Paper(title="On X", abstract="y", authors=["van der Berg A.B."])
    assert citation_key(berg, set()) == "vanderbergx"
    assert citation_key(Paper(title="On X", abstract="y", authors=["Wei LI"]), set()) == "lix"
    taken: set[str] = set()
    for _ in range(30):
        taken.add(citation_key(paper, taken))
    assert len(taken) == 30 and "vaswani2017attentionac" in taken


def test_identity_ignores_case_punctuation_doi_prefix_and_arxiv_version() -> None:
    a = Paper(title="Self-RAG: Learning to Retrieve", abstract="a", doi="https://doi.org/10.1/ABC")
    b = Paper(title="Self RAG learning to retrieve", abstract="b", arxiv_id="arXiv:2310.11511v2")
    assert normalise_title(a.title) == normalise_title(b.title)
    assert "doi:10.1/abc" in a.identities() and "arxiv:2310.11511" in b.identities()
    # the DOI is kept as given, for display and export; matching ignores its case
    assert a.doi == "10.1/ABC"
    assert same_work(a, b.model_copy(update={"abstract": "a", "doi": "10.1/abc"}))


def test_merge_fills_gaps_and_keeps_known_values() -> None:
    stored = Paper(key="k", title="T", abstract="short", year=2020, sources=["a.bib:3"])
    incoming = Paper(
        title="T", abstract="a longer abstract", year=2021, venue="ACL", sources=["b.json:1"]
    )
    merged = merge(stored, incoming)
    assert (merged.key, merged.year, merged.venue) == ("k", 2020, "ACL")
    assert merged.abstract == "a longer abstract"
    assert merged.sources == ["a.bib:3", "b.json:1"]


def test_a_generic_title_does_not_merge_different_papers() -> None:
    first = Paper(
        title="Summary", abstract="Steroid receptor RNA activator augments transcription in cells."
    )
    other = Paper(
        title="Summary", abstract="Glomerular basement membrane and podocalyxin shape podocytes."
    )
    truncated = Paper(title="SUMMARY", abstract="Steroid receptor RNA activator augments")
    assert not same_work(first, other)
    assert same_work(first, truncated)
    assert not same_work(
        first.model_copy(update={"doi": "10.1/a"}), truncated.model_copy(update={"doi": "10.1/b"})
    )


@needs_shared_data
def test_every_scifact_document_stays_a_paper_of_its_own() -> None:
    from assistant.ingest import Catalog
    from assistant.readers import read_file

    catalog = Catalog([])
    for item in read_file(SCIFACT_CORPUS):
        catalog.add(item)  # type: ignore[arg-type]
    catalog.assign_keys()
    assert len(catalog.papers) == 5183
    assert len({p.key for p in catalog.papers.values()}) == 5183

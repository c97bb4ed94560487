"""`litreview check` on drafts cited by number ("[1]", "[2, 3]", "[4-6]") with a numbered
reference list at the end, as Vancouver, IEEE and most journals' styles print them."""

import re
from pathlib import Path

import pytest

from assistant.draftcheck.check import EXIT_WEAK_CITATIONS
from tests.conftest import DRAFTS, FIXTURES, MUSE, MUSE_CLAIM, pairs_of
from tests.test_check_word_processors import _run, _write_docx, _write_odt

BEES = ("Honey bees dance to tell their hive where food is", "Bees dance to share food.")


def _library(tmp_path: Path) -> Path:
    path = tmp_path / "library.bib"
    path.write_text(
        f"@article{{shi2024,\n  author = {{Shi, Weijia}},\n  title = {{{MUSE[0]}}},\n"
        f"  doi = {{10.1000/Muse.24}},\n  year = {{2024}},\n  abstract = {{{MUSE[1]}}}\n}}\n"
        f"@article{{smith2020,\n  author = {{Smith, Ann}},\n  title = {{{BEES[0]}}},\n"
        f"  year = {{2020}},\n  abstract = {{{BEES[1]}}}\n}}\n"
    )
    return path


@pytest.fixture
def store(cli, tmp_path: Path) -> Path:
    store = tmp_path / "store"
    assert cli("ingest", _library(tmp_path), "--store", store).code == 0
    return store


def test_numbered_citations_are_resolved_through_the_reference_list(
    cli, tmp_path: Path, store: Path, keyword_judge
) -> None:
    draft = tmp_path / "numbered.md"
    draft.write_text(
        "# Introduction\n\n"
        f"{MUSE_CLAIM} [1]. Bees dance well [2, 3].\n"
        "Item [9] of the array is no citation. Bees dance [1-2].\n\n"
        "## References\n\n"
        "[1] Shi W, Lee J. MUSE: machine unlearning six-way evaluation for language models.\n"
        "    arXiv. 2024.\n"
        "[2] Smith A. Honey bees dance to tell their hive where food is. J Bees. 2020;1:1-2.\n"
        "[3] Doe J. A paper the library lacks. J Things. 2019. doi:10.9999/none.1\n"
    )
    result = cli("check", draft, "--store", store, "--json")
    assert result.code == EXIT_WEAK_CITATIONS, result.err
    assert pairs_of(result) == [
        ("numbered.md", 3, "shi2024", "supported"),
        ("numbered.md", 3, "smith2020", "supported"),
        ("numbered.md", 3, "[3]", "not in the library: reference [3] names no stored paper "
         "by its DOI or title (Doe J. A paper the library lacks. J Things. 2019. "
         "doi:10.9999/none.1)"),
        ("numbered.md", 4, "shi2024", "unsupported"),
        ("numbered.md", 4, "smith2020", "supported"),
    ]  # fmt: skip
    sentences = [pair["sentence"] for pair in result.json()["pairs"]]
    assert sentences[:2] == [f"{MUSE_CLAIM}.", "Bees dance well."]
    assert result.json()["summary"]["sentences"] == 3  # the reference list is not checked


def test_a_reference_is_found_by_its_doi(cli, tmp_path: Path, store: Path, keyword_judge) -> None:
    draft = tmp_path / "doi.txt"
    draft.write_text(
        f"{MUSE_CLAIM} [1].\n\nReferences\n\n"
        "1. Shi W. Unlearning, evaluated. 2024. https://doi.org/10.1000/MUSE.24.\n"
    )
    result = cli("check", draft, "--store", store, "--json")
    assert pairs_of(result) == [("doi.txt", 1, "shi2024", "supported")]
    said = cli("check", draft, "--store", store)
    assert "1 sentence, 1 pair, 1 supported, 0 unsupported" in said.out


def test_a_word_draft_with_an_automatically_numbered_reference_list(
    cli, tmp_path: Path, store: Path, keyword_judge
) -> None:
    # Word's numbered list keeps its numbers out of the text: entries are numbered in order
    draft = tmp_path / "vancouver.docx"
    paragraphs = [
        _run(f"{MUSE_CLAIM} [2]."),
        _run("Bees dance [1]."),
        _run("References"),
        _run("Smith A. Honey bees dance to tell their hive where food is. J Bees. 2020."),
        "",
        _run("Shi W. MUSE: Machine unlearning six-way evaluation for language models. 2024."),
    ]
    _write_docx(draft, paragraphs, [])
    result = cli("check", draft, "--store", store, "--json")
    assert result.code == 0, result.err
    assert pairs_of(result) == [
        ("vancouver.docx", 1, "shi2024", "supported"),
        ("vancouver.docx", 2, "smith2020", "supported"),
    ]


@pytest.mark.parametrize(
    ("text", "cited"),
    [
        ("A [1]. B [2,3]. C [1\u20133; 5].\n\nReferences\n\n1. One\n2. Two\n3. Three\n4. F\n5. G\n",
         [["[1]"], ["[2]", "[3]"], ["[1]", "[2]", "[3]", "[5]"]]),
        # a number the list lacks, and a list with no heading, cite nothing
        ("A [1] and [7].\n\nReferences\n\n[1] One\n", [["[1]"]]),
        ("A [1].\n\n[1] One\n", []),
        ("A [1].\n\nBibliography:\n\n[1] One\n", [["[1]"]]),
        # a section so named that cites is text, not a reference list
        ("A [1].\n\n# References\n\n1. As [@b] says.\n", [["b"]]),
        ("A [1].\n\n# References\n\n1. One\n\nAppendix A\n\nAs [@b] says.\n", [["[1]"], ["b"]]),
    ],
)  # fmt: skip
def test_which_bracketed_numbers_are_citations(
    tmp_path: Path, text: str, cited: list[list[str]]
) -> None:
    from assistant.draftcheck import parse_draft

    draft = tmp_path / "draft.md"
    draft.write_text(text)
    assert [sentence.keys for sentence in parse_draft(draft)] == cited


def _keys_read(tmp_path: Path, text: str) -> list[list[str]]:
    """The keys of each citing sentence of `text` above a three-entry numbered list."""
    from assistant.draftcheck import parse_draft

    draft = tmp_path / "draft.md"
    draft.write_text(text + "\n\n# References\n\n1. One\n2. Two\n3. Three\n")
    return [sentence.keys for sentence in parse_draft(draft)]


@pytest.mark.parametrize(
    ("text", "cited"),
    [
        ("Bees dance (1). Bees fly (2, 3) and\n(1\u20133). Bees sing (1-2).",
         [["[1]"], ["[2]", "[3]", "[1]"], ["[1]", "[2]"]]),
        # a draft that cites in brackets has its parentheses read as text
        ("Bees dance [1]. Three steps (2) follow.", [["[1]"]]),
        ("Bees dance.\u00b9 Three steps (2) follow.", [["[1]"]]),
        # an enumeration, an equation, a figure and a year are no citations
        ("Bees did three things: (1) they danced, (2) they flew and (3) they sang.\n"
         "(1) Bees rest; we then saw (2) bees dance. Bees fly (1).", [["[1]"]]),
        ("As Eq. (1) and Figure (3) show, bees dance (2). Smith (2020) saw it (1).",
         [["[2]"], ["[1]"]]),
        ("Two models (1, 2) say so.", [["[1]", "[2]"]]),
    ],
)  # fmt: skip
def test_numbers_in_parentheses_cite_in_a_draft_that_cites_so(
    tmp_path: Path, text: str, cited: list[list[str]]
) -> None:
    assert _keys_read(tmp_path, text) == cited


def _superscript(text: str) -> str:
    return f'<w:r><w:rPr><w:vertAlign w:val="superscript"/></w:rPr><w:t>{text}</w:t></w:r>'


def test_a_word_draft_cited_by_superscript_numbers(
    cli, tmp_path: Path, store: Path, keyword_judge
) -> None:
    # Vancouver's superscripts, cut over runs as Word does; a unit's exponent is no citation
    draft = tmp_path / "superscript.docx"
    paragraphs = [
        _run(MUSE_CLAIM) + _superscript("1") + _superscript(",") + _superscript("2") + _run("."),
        _run("Bees need an area of 5 cm") + _superscript("2") + _run(" and 10") + _superscript("3")
        + _run(" flowers."),
        _run("Bees dance.") + _superscript("2"),
        _run("References"),
        _run("1. Shi W. MUSE: machine unlearning six-way evaluation for language models. 2024."),
        _run("2. Smith A. Honey bees dance to tell their hive where food is. J Bees. 2020."),
        _run("3. Doe J. Not stored. 2019."),
    ]  # fmt: skip
    _write_docx(draft, paragraphs, [])
    result = cli("check", draft, "--store", store, "--json")
    assert pairs_of(result) == [
        ("superscript.docx", 1, "shi2024", "supported"),
        ("superscript.docx", 1, "smith2020", "unsupported"),
        ("superscript.docx", 3, "smith2020", "supported"),
    ]
    assert result.json()["pairs"][0]["sentence"] == f"{MUSE_CLAIM}."


def test_an_opendocument_draft_cited_by_superscript_numbers(
    cli, tmp_path: Path, store: Path, keyword_judge
) -> None:
    # LibreOffice raises text by an automatic style: "super 58%" or a percentage, "33% 58%"
    styles = "".join(
        f'<style:style style:name="{name}" style:family="text">'
        f'<style:text-properties style:text-position="{position}"/></style:style>'
        for name, position in (("T1", "super 58%"), ("T2", "33% 58%"), ("T3", "sub 58%"))
    )
    span = '<text:span text:style-name="{}">{}</text:span>'.format
    body = (
        f"<text:p>{MUSE_CLAIM}{span('T1', '1')}.</text:p>"
        f"<text:p>Bees dance.{span('T2', '2')} Water is H{span('T3', '2')}O.</text:p>"
        "<text:h>References</text:h>"
        "<text:p>1. Shi W. MUSE: machine unlearning six-way evaluation for language models.</text:p>"
        "<text:p>2. Smith A. Honey bees dance to tell their hive where food is. 2020.</text:p>"
    )
    draft = tmp_path / "superscript.odt"
    _write_odt(draft, body, styles)
    result = cli("check", draft, "--store", store, "--json")
    assert pairs_of(result) == [
        ("superscript.odt", 1, "shi2024", "supported"),
        ("superscript.odt", 2, "smith2020", "supported"),
    ]


def test_a_latex_drafts_own_reference_list_names_its_papers(
    cli, tmp_path: Path, store: Path, keyword_judge
) -> None:
    # no .bib: \bibitem entries, matched like a numbered list's, after the store's keys
    draft = tmp_path / "paper.tex"
    draft.write_text(
        "\\documentclass{article}\\begin{document}\n"
        f"{MUSE_CLAIM} \\cite{{muse}}.\n"
        "Bees dance \\cite{bees,nope,smith2020}.\n"
        "\\begin{thebibliography}{9}\n"
        "\\bibitem{muse} W.~Shi.\n\\newblock MUSE: Machine unlearning six-way evaluation for\n"
        "  language models.\n\\newblock 2024.\n"
        "\\bibitem[Smith(2020)]{bees} A. Smith. \\emph{Honey bees dance to tell their hive where\n"
        "  food is}. J Bees, 2020.\n"
        "\\bibitem{nope} J. Doe. Not stored. 2019.\n"
        "\\end{thebibliography}\n\\end{document}\n"
    )
    result = cli("check", draft, "--store", store, "--json")
    assert pairs_of(result) == [
        ("paper.tex", 2, "muse", "supported"),
        ("paper.tex", 3, "bees", "supported"),
        ("paper.tex", 3, "nope", "not in the library: reference nope names no stored paper by "
         "its DOI or title (J. Doe. Not stored. 2019.)"),
        ("paper.tex", 3, "smith2020", "supported"),
    ]  # fmt: skip


def test_a_latex_drafts_bbl_names_its_papers_when_its_bib_is_missing(
    cli, tmp_path: Path, store: Path, keyword_judge
) -> None:
    # arXiv's sources carry the .bbl BibTeX wrote, not the .bib
    draft = tmp_path / "paper.tex"
    draft.write_text(f"{MUSE_CLAIM} \\citep{{shi2024muse}}.\n\\bibliography{{refs}}\n")
    (tmp_path / "paper.bbl").write_bytes(  # Latin-1, as an older BibTeX may write it
        b"\\begin{thebibliography}{1}\n\\providecommand{\\natexlab}[1]{#1}\n\n"
        b"\\bibitem[{Shi et~al.}(2024)]{shi2024muse}\nWeijia Shi, Jaechan L\xe9e.\n"
        b"\\newblock {MUSE}: Machine unlearning six-way evaluation for language models.\n"
        b"\\newblock \\emph{arXiv preprint}, 2024.\n\n\\end{thebibliography}\n"
    )
    result = cli("check", draft, "--store", store, "--json")
    assert pairs_of(result) == [("paper.tex", 1, "shi2024muse", "supported")]
    assert result.json()["missing_bibliographies"] == [str(tmp_path / "refs.bib")]


def test_a_malformed_bibitem_is_read_as_its_words() -> None:
    from assistant.draftcheck.latex import bibitems

    entries = bibitems("\\bibitem{a} A. Smith. \\emph{Bees dance}. \\href{ 2020\n\\bibitem{b} B.")
    assert entries == {"a": "A. Smith. Bees dance . 2020", "b": "B."}


def test_a_biblatex_bbl_is_read_by_title_doi_and_eprint() -> None:
    from assistant.draftcheck.latex import bibitems

    bbl = (
        "\\refsection{0}\n  \\datalist[entry]{nyt/global//global/global}\n"
        "    \\entry{muse}{article}{}\n      \\name{author}{1}{}{%\n"
        "        {{hash=1}{%\n           family={Shi},\n           given={Weijia}}}%\n      }\n"
        "      \\field{title}{{MUSE}: Machine Unlearning Six-Way Evaluation}\n"
        "      \\field{year}{2024}\n      \\verb{doi}\n      \\verb 10.1000/muse.24\n"
        "      \\endverb\n    \\endentry\n"
        "    \\entry{mamba}{misc}{}\n      \\field{eprint}{2312.00752}\n"
        "      \\field{eprinttype}{arXiv}\n      \\field{title}{Mamba}\n    \\endentry\n"
        "  \\enddatalist\n\\endrefsection\n"
    )
    assert bibitems(bbl) == {
        "muse": "MUSE: Machine Unlearning Six-Way Evaluation. doi:10.1000/muse.24",
        "mamba": "Mamba. arXiv:2312.00752",
    }


def test_a_reference_names_a_short_title_as_a_sentence_of_its_own() -> None:
    from assistant.draftcheck.numbered import resolve_listed
    from assistant.papers import Paper

    papers = [Paper(key="gu2023mamba", title="Mamba", abstract="A."),
              Paper(key="memo", title="Memory", abstract="B.")]  # fmt: skip
    references = {"[1]": "Gu A, Dao T. Mamba. arXiv. 2023.", "[2]": "Doe J. Mamba snakes. 2020."}
    resolved = resolve_listed(["[1]", "[2]"], references, papers)
    assert resolved["[1]"] == ("gu2023mamba", "")
    assert resolved["[2]"][0] is None  # "Mamba" is a word of its title, not its title


def test_eval_check_on_a_numbered_draft(cli, keyword_judge) -> None:
    # the same labelled pairs as a Markdown draft cited by number, its list giving the titles
    tiny = FIXTURES / "judge_tiny"
    args = ["eval", "check", "--corpus", tiny / "corpus.jsonl", "--claims", tiny / "claims.jsonl"]
    keyed = cli(*args, "--json")
    numbered = cli(*args, "--numbered", "--json")
    assert keyed.code == 0 and numbered.code == 0, numbered.err
    assert keyed.json()["pairs"] == numbered.json()["pairs"] == 4
    assert keyed.json()["not_judged_share"] == 0.0
    assert numbered.json()["not_judged_share"] == 0.0
    assert numbered.json()["macro_f1"] == keyed.json()["macro_f1"]


def test_eval_numbered_draft_has_one_citing_sentence_per_labelled_pair(tmp_path: Path) -> None:
    from assistant.draftcheck import parse_draft, read_plain
    from assistant.evaluation.draftcheck import write_draft

    fixtures = FIXTURES / "citation_integrity"
    corpus, claims = fixtures / "corpus_60.jsonl", fixtures / "claims_60.jsonl"
    draft, _, gold = write_draft(corpus, claims, tmp_path, numbered=True)
    sentences = parse_draft(draft)
    assert [s.line for s in sentences] == sorted(gold)
    assert all(len(s.keys) == 1 and s.keys[0].startswith("[") for s in sentences)
    references = read_plain(draft).references
    assert len(references) == len({key for s in sentences for key in s.keys})


@pytest.mark.parametrize(
    ("text", "cited"),
    [
        # Unicode superscripts, as text pasted from a PDF or typed, and pandoc's ^1,2^
        ("Bees dance.\u00b9\u02d2\u00b2 Bees fly\u00b3.", [["[1]", "[2]"], ["[3]"]]),
        ("Bees dance.^1,3^ Bees fly^2-3^.", [["[1]", "[3]"], ["[2]", "[3]"]]),
        # exponents and units are no citations
        ("An area of 5 cm\u00b2 and 10\u00b3 bees, x\u00b2 and 2^3^ or m^2^.", []),
    ],
)  # fmt: skip
def test_superscript_numbers_typed_as_text(
    tmp_path: Path, text: str, cited: list[list[str]]
) -> None:
    assert _keys_read(tmp_path, text) == cited


def test_check_reads_the_markdown_related_work_writes(
    cli, tmp_path: Path, seed_store: Path, keyword_judge
) -> None:
    written = cli("related-work", "memory mechanisms for LLM agents", "--store", seed_store)
    assert written.code == 0, written.err
    draft = tmp_path / "related.md"
    draft.write_text(written.out)
    listed = re.findall(r"^\[(\d+)\] .*`([^`]+)`$", written.out, re.MULTILINE)
    assert len(listed) >= 3
    result = cli("check", draft, "--store", seed_store, "--json")
    pairs = result.json()["pairs"]
    assert pairs and all(pair["verdict"] for pair in pairs), pairs
    assert {pair["key"] for pair in pairs} == {key for _, key in listed}


@pytest.mark.parametrize("name", ["vancouver.odt", "vancouver.docx"])
def test_drafts_saved_by_libreoffice_cite_by_superscript(
    cli, store: Path, keyword_judge, name: str
) -> None:
    # LibreOffice Writer's own files (tests/fixtures/DATA.md): superscripts as a raised text
    # style (.odt) or a raised position (.docx), the reference list an automatic numbered list
    draft = DRAFTS / name
    result = cli("check", draft, "--store", store, "--json")
    pairs = [
        (pair["key"], pair["verdict"] or pair["reason"].split(" names")[0])
        for pair in result.json()["pairs"]
    ]
    assert pairs == [
        ("shi2024", "supported"),
        ("smith2020", "supported"),
        ("[3]", "not in the library: reference [3]"),
        ("smith2020", "supported"),
    ]
    sentences = [pair["sentence"] for pair in result.json()["pairs"]]
    assert sentences[0] == f"{MUSE_CLAIM}."
    assert sentences[-1] == "An area of 5 cm2 holds 103 bees."  # exponents are no citations


@pytest.mark.parametrize(
    ("name", "note"),
    [("footnote_libreoffice.odt", "footnote_libreoffice.odt"),
     ("footnote_libreoffice.docx", "footnote_libreoffice.docx#footnotes")],
)  # fmt: skip
def test_a_footnote_cites_by_number_in_drafts_saved_by_libreoffice(
    cli, store: Path, keyword_judge, name: str, note: str
) -> None:
    draft = DRAFTS / name
    result = cli("check", draft, "--store", store, "--json")
    pairs = [(Path(p["file"]).name, p["key"], p["sentence"]) for p in result.json()["pairs"]]
    assert pairs == [
        (name, "smith2020", "Bees dance to share food."),
        (name, "[3]", "Bees sing."),
        (note, "shi2024", "Most unlearning fails on knowledge."),
    ]


@pytest.mark.parametrize("name", ["tracked_libreoffice.odt", "tracked_libreoffice.docx"])
def test_tracked_changes_in_drafts_saved_by_libreoffice(
    cli, store: Path, keyword_judge, name: str
) -> None:
    # "Bees sing [3]." is a tracked deletion; the sentence citing [1] a tracked insertion
    draft = DRAFTS / name
    result = cli("check", draft, "--store", store, "--json")
    assert [(p["key"], p["sentence"]) for p in result.json()["pairs"]] == [
        ("smith2020", "Bees dance to share food."),
        ("shi2024", f"{MUSE_CLAIM}."),
    ]


def test_a_reference_broken_over_lines_with_a_hyphen_names_its_paper() -> None:
    from assistant.draftcheck.numbered import resolve_listed
    from assistant.papers import Paper

    papers = [Paper(key="shi2024", title=MUSE[0], abstract="A."),
              Paper(key="sota", title="A state-of-the-art memory for agents", abstract="B.")]  # fmt: skip
    references = {  # as pasted from a PDF: words cut at the line's end
        "[1]": "Shi W. MUSE: machine un- learning six-way evaluation for language models. 2024.",
        "[2]": "Doe J. A state-of-the- art memory for agents. 2025.",
    }
    resolved = resolve_listed(["[1]", "[2]"], references, papers)
    assert resolved == {"[1]": ("shi2024", ""), "[2]": ("sota", "")}

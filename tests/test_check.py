"""`litreview check`: a researcher's own draft, its citations judged against their library."""

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_server import FaultServer, ok

from assistant.draftcheck.check import EXIT_WEAK_CITATIONS
from assistant.readers import READERS, bibtex
from assistant.readers.base import ReadItem
from tests.conftest import (
    FIXTURES,
    MUSE,
    MUSE_CLAIM,
    OCR,
    OCR_CLAIM,
    ROOT,
    litreview_on_terminal,
    pairs_of,
    read_terminal,
)


def bib_entry(key: str, paper: tuple[str, str] | None, title: str = "") -> str:
    """A .bib entry; with no paper, one without an abstract."""
    if paper is None:
        return f"@article{{{key},\n  title = {{{title}}},\n  year = {{2020}}\n}}\n"
    return (
        f"@article{{{key},\n  title = {{{paper[0]}}},\n  year = {{2024}},\n"
        f"  abstract = {{{paper[1]}}}\n}}\n"
    )


@pytest.fixture
def refs(tmp_path: Path) -> Path:
    path = tmp_path / "refs.bib"
    path.write_text(
        bib_entry("ocr2024", OCR) + bib_entry("muse2024", MUSE) + bib_entry("noabs", None, "Bare")
    )
    return path


def test_latex_citations_are_judged_with_the_local_judge(cli, tmp_path: Path, refs: Path) -> None:
    (tmp_path / "intro.tex").write_text(f"Intro text. {MUSE_CLAIM} \\parencite{{muse2024}}.\n")
    draft = tmp_path / "paper.tex"
    draft.write_text(
        "\\documentclass{article}\n\\begin{document}\n"
        f"{OCR_CLAIM} \\cite[p.~3]{{ocr2024,muse2024}}.\n"
        "% A commented sentence \\cite{commented}.\n"
        f"{MUSE_CLAIM} \\citep{{muse2024}}.\\footnote{{A survey covers this \\citet{{noabs}}.}}\n"
        "As $x^2 \\cite{inmath}$ shows, something else holds \\cite{missing}.\n"
        "\\input{intro}\n\\end{document}\n"
    )
    result = cli("check", draft, "--bib", refs, "--json")
    assert result.code == EXIT_WEAK_CITATIONS, result.err
    assert pairs_of(result) == [
        ("paper.tex", 3, "ocr2024", "supported"),
        ("paper.tex", 3, "muse2024", "unsupported"),
        ("paper.tex", 5, "muse2024", "supported"),
        ("paper.tex", 5, "noabs", "no abstract"),
        ("paper.tex", 6, "missing", "not in the library: not in refs.bib nor in the store"),
        ("intro.tex", 1, "muse2024", "supported"),
    ]
    records = result.json()["pairs"]
    assert records[0]["sentence"] == f"{OCR_CLAIM}."
    assert records[3]["sentence"] == "A survey covers this."
    assert records[3]["score"] is None
    assert "verbatim memorization" in records[2]["evidence"]
    assert result.json()["summary"] == {
        "sentences": 5,
        "pairs": 6,
        "supported": 3,
        "unsupported": 1,
        "contradicted": 0,
        "not_judged": 2,
    }
    text = cli("check", draft, "--bib", refs)
    assert text.code == EXIT_WEAK_CITATIONS
    assert "5 sentences, 6 pairs, 3 supported, 1 unsupported, 0 contradicted" in text.out
    assert f"paper.tex:5: {MUSE_CLAIM}." in text.out
    assert "noabs: not judged (no abstract)" in text.out
    # what to do about them, once each
    assert "Not judged for want of an abstract: 1 citation. Ingest a file" in text.err
    assert "Not judged, the cited paper in no library: 1 citation. Add each" in text.err


def test_markdown_pandoc_citations(cli, tmp_path: Path, refs: Path, keyword_judge) -> None:
    draft = tmp_path / "draft.md"
    draft.write_text(
        "# Related work\n\n"
        "Copyrighted text trains models [see @muse2024, p. 3; @ocr2024].\n"
        "Write to me@example.com, or run `@codekey`.\n\n"
        "```\n@fenced\n```\n"
        "@ocr2024 says that large models hallucinate.\n"
    )
    result = cli("check", draft, "--bib", refs, "--json")
    assert pairs_of(result) == [
        ("draft.md", 3, "muse2024", "supported"),
        ("draft.md", 3, "ocr2024", "unsupported"),
        ("draft.md", 9, "ocr2024", "unsupported"),
    ]
    assert result.json()["pairs"][2]["sentence"] == "says that large models hallucinate."
    assert keyword_judge.calls == [3]  # the whole draft in one batch
    assert result.code == EXIT_WEAK_CITATIONS


def test_a_link_or_an_escaped_at_sign_is_not_a_citation(
    cli, tmp_path: Path, refs: Path, keyword_judge
) -> None:
    # pandoc reads "[@a](url)" as a link and \@a as a literal @, neither as a citation
    draft = tmp_path / "draft.md"
    draft.write_text(
        "Language models, says [@muse2024](https://example.org/@ocr2024), hold private text"
        " (mail \\@ocr2024) [@muse2024].\n"
    )
    result = cli("check", draft, "--bib", refs, "--json")
    assert pairs_of(result) == [("draft.md", 1, "muse2024", "supported")]
    sentence = result.json()["pairs"][0]["sentence"]
    assert "says @muse2024, hold" in sentence and "(mail @ocr2024)" in sentence


def test_a_cascade_judges_counts_reach_the_json(
    cli, tmp_path: Path, refs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a band over every score: the local judge settles nothing, the model judges both pairs
    monkeypatch.setenv("LITREVIEW_JUDGE__CASCADE_LOW", "0")
    monkeypatch.setenv("LITREVIEW_JUDGE__CASCADE_HIGH", "1")
    draft = tmp_path / "draft.md"
    draft.write_text(f"{OCR_CLAIM} [@ocr2024; @muse2024].\n")
    with FaultServer([ok("PAIR 1: supported\nPAIR 2: contradicted")]) as server:
        result = cli("check", draft, "--bib", refs, "--judge", "cascade", "--llm", server.base_url,
                     "--json")  # fmt: skip
    assert result.code == EXIT_WEAK_CITATIONS, result.err
    assert [pair["verdict"] for pair in result.json()["pairs"]] == ["supported", "contradicted"]
    assert result.json()["cascade"] == {"pairs": 2, "sent_to_model": 2}
    assert "cascade judge: 2 of 2 pairs sent to the model" in result.err


def test_all_supported_exits_zero(cli, tmp_path: Path, refs: Path, keyword_judge) -> None:
    draft = tmp_path / "draft.md"
    draft.write_text("Language models hold private text [@muse2024].\n")
    result = cli("check", draft, "--bib", refs)
    assert result.code == 0, result.out + result.err
    assert "muse2024: supported (0.90)" in result.out
    assert "judging" not in result.err  # the bar is for a terminal only


def test_the_bib_is_read_once(cli, tmp_path: Path, refs: Path, keyword_judge, monkeypatch) -> None:
    """Reading is most of a large .bib's cost (3.2 s for 2,970 entries): to map the draft's keys
    and to store the entries, one read serves both."""
    reads = []

    def counted(path: Path) -> Iterator[ReadItem]:
        reads.append(path)
        return bibtex.read(path)

    monkeypatch.setitem(READERS, "bibtex", counted)
    draft = tmp_path / "draft.md"
    draft.write_text("Language models hold private text [@muse2024].\n")
    assert cli("check", draft, "--bib", refs).code == 0
    assert reads == [refs]


def test_a_mistyped_key_is_not_judged_and_the_near_one_is_named(cli, seed_store: Path) -> None:
    draft = Path("draft.md")
    draft.write_text("Attention wins at associative recall [@Zoology2023measuring].\n")
    result = cli("check", draft, "--store", seed_store, "--json")
    [pair] = result.json()["pairs"]
    assert pair["score"] is None
    near = "(did you mean zoology2023measuring?)"
    assert pair["reason"] == f"not in the library: not in the store {near}"


def test_a_bib_entry_without_an_abstract_is_judged_with_the_stored_paper(
    cli, tmp_path: Path, keyword_judge
) -> None:
    # the store holds MUSE with its abstract, under another key than the draft's .bib gives it
    earlier = tmp_path / "earlier.bib"
    earlier.write_text(bib_entry("muse2024", MUSE))
    assert cli("ingest", earlier).code == 0
    refs = tmp_path / "refs.bib"
    refs.write_text(bib_entry("Muse24", None, MUSE[0]) + bib_entry("bare", None, "Unknown"))
    draft = tmp_path / "draft.md"
    draft.write_text("Language models hold private text [@Muse24; @bare].\n")
    result = cli("check", draft, "--bib", refs, "--json")
    muse, bare = result.json()["pairs"]
    assert muse["verdict"] == "supported" and muse["evidence"] in MUSE[1]
    assert bare["verdict"] is None and bare["reason"] == "no abstract"


def test_a_bib_key_taken_in_the_store_is_matched_by_title(
    cli, tmp_path: Path, refs: Path, keyword_judge
) -> None:
    # the store already holds MUSE under the key the draft's .bib gives the OCR paper
    earlier = tmp_path / "earlier.bib"
    earlier.write_text(bib_entry("ocr2024", MUSE))
    assert cli("ingest", earlier).code == 0
    draft = tmp_path / "paper.tex"
    draft.write_text("Hallucination is common \\cite{ocr2024}.\n")
    result = cli("check", draft, "--bib", refs, "--json")
    [pair] = result.json()["pairs"]
    assert pair["evidence"] in OCR[1]  # judged against OCR, not the stored MUSE
    assert pair["verdict"] == "supported"
    # without --bib, the key is the store's: MUSE
    [pair] = cli("check", draft, "--json").json()["pairs"]
    assert pair["evidence"] in MUSE[1]
    assert pair["verdict"] == "unsupported"


def test_suggest_names_the_paper_that_supports(
    cli, tmp_path: Path, refs: Path, keyword_judge
) -> None:
    draft = tmp_path / "paper.tex"
    draft.write_text("Hallucination comes from out-of-context reasoning \\cite{muse2024}.\n")
    result = cli("check", draft, "--bib", refs, "--suggest", "--json")
    assert result.code == EXIT_WEAK_CITATIONS
    [pair] = result.json()["pairs"]
    assert pair["verdict"] == "unsupported"
    assert [s["key"] for s in pair["suggestions"]] == ["ocr2024"]
    assert "try ocr2024" in cli("check", draft, "--bib", refs, "--suggest").out


def test_a_draft_without_citations(cli, tmp_path: Path) -> None:
    draft = tmp_path / "empty.tex"
    draft.write_text("\\section{Intro}\nNo citations here, only % \\cite{a}\ntext.\n")
    result = cli("check", draft)
    assert result.code == 0
    assert "No citations found" in result.out
    org = tmp_path / "notes.org"
    org.write_text("* Notes\nNo citations here.\n")
    assert "org-cite's form ([cite:@key])" in cli("check", org).out
    for bib in (tmp_path / "missing.bib", tmp_path):  # a mistyped --bib is said even so
        wrong = cli("check", draft, "--bib", bib)
        assert wrong.code == 1 and f"No such .bib file: {bib}" in wrong.err
    not_a_bib = tmp_path / "notes"
    not_a_bib.write_text("root:x:0:0:root:/root:/bin/bash\n")
    wrong = cli("check", draft, "--bib", not_a_bib)
    assert wrong.code == 1 and f"{not_a_bib} is no bibliography" in wrong.err


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary file"),
        (b"Caf\xe9 \\cite{a}.\n", "not UTF-8"),
        (b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n", "a PDF: check reads the draft's source"),
        (b"PK\x03\x04\x14\x00\x06\x00word/document.xml", "a Word or OpenDocument file"),
    ],
)
def test_unreadable_drafts(cli, tmp_path: Path, content: bytes, says: str) -> None:
    draft = tmp_path / "draft.tex"
    draft.write_bytes(content)
    result = cli("check", draft)
    assert result.code == 1
    assert result.err.startswith("Error: ") and says in result.err
    assert "Traceback" not in result.err


def test_a_folder_or_a_missing_draft_names_the_files_check_reads(cli, tmp_path: Path) -> None:
    folder = cli("check", tmp_path)
    assert folder.code == 1 and f"{tmp_path} is a folder" in folder.err
    missing = cli("check", tmp_path / "draft.md")
    assert missing.code == 1 and "No such draft" in missing.err
    binary = tmp_path / "draft.bin"
    binary.write_bytes(b"\x00\x01")
    for result in (folder, missing, cli("check", binary)):
        assert ".tex, .md, .txt, .org, .docx or .odt" in result.err, result.err


def test_eval_draft_has_one_citing_sentence_per_labelled_pair(tmp_path: Path) -> None:
    from assistant.draftcheck import parse_draft
    from assistant.evaluation.draftcheck import write_draft

    corpus = FIXTURES / "citation_integrity" / "corpus_60.jsonl"
    claims = FIXTURES / "citation_integrity" / "claims_60.jsonl"
    draft, bib, gold = write_draft(corpus, claims, tmp_path)
    sentences = parse_draft(draft)
    assert [s.line for s in sentences] == sorted(gold)
    assert all(len(s.keys) == 1 and f"{{{s.keys[0]}," in bib.read_text() for s in sentences)
    assert "[<|" not in " ".join(s.sentence for s in sentences)


@pytest.mark.parametrize(
    ("name", "text", "sentences"),
    [
        (  # biblatex's multicite commands: every key group, with or without notes
            "draft.tex",
            "Recall lags \\autocites[see][p.~3]{a}[p.~5]{b} in such models.\n",
            [("Recall lags in such models.", ["a", "b"], 1)],
        ),
        (
            "draft.tex",
            "Two \\textcites(pre)(post){a}{b} say so. Next sentence \\cite{c}.\n",
            [("Two say so.", ["a", "b"], 1), ("Next sentence.", ["c"], 1)],
        ),
        (
            "draft.tex",
            "Prior work says so \\cites{a,b}{c}.\n",
            [("Prior work says so.", ["a", "b", "c"], 1)],
        ),
        (  # natbib's capitalized forms open sentences; apacite's and biblatex's other forms
            "draft.tex",
            "Attention wins \\citep{a}.\n\\Citet{b} pretrain models.\n"
            "\\Citeauthor{c} and \\citeA{d} agree. Bees fly \\citenum{e}.\n"
            "Wasps sting \\footfullcite{f}. \\Cites{g}{h} disagree.\n",
            [
                ("Attention wins.", ["a"], 1),
                ("pretrain models.", ["b"], 2),
                ("and agree.", ["c", "d"], 3),
                ("Bees fly.", ["e"], 3),
                ("Wasps sting.", ["f"], 4),
                ("disagree.", ["g", "h"], 4),
            ],
        ),
        (  # a draft's own citation command, defined in its preamble over natbib's
            "draft.tex",
            "\\newcommand{\\mycite}[1]{\\citep{#1}}\n\\begin{document}\n"
            "Bees fly \\mycite{a}. Wasps sting \\mycite[p.~3]{b}.\n\\end{document}\n",
            [("Bees fly.", ["a"], 3), ("Wasps sting.", ["b"], 3)],
        ),
        (  # commands whose argument is no text of the draft
            "draft.tex",
            "\\nocite{*}\nOne claim \\cite{a}.\n"
            "Bees on page \\pageref{x} and \\nameref{y} \\cite{b}.\n"
            "A note\\todo[inline]{fix this} here \\cite{c}.\n",
            [("One claim.", ["a"], 2), ("Bees on page and.", ["b"], 3), ("A note here.", ["c"], 4)],
        ),
        (  # a stop after an abbreviation whose cross-reference is gone is not doubled
            "draft.tex",
            "Smith et al.\\ show it in Fig.~\\ref{f} \\cite{a}. Bees fly... far \\cite{b}.\n",
            [("Smith et al. show it in Fig.", ["a"], 1), ("Bees fly... far.", ["b"], 1)],
        ),
        (
            "draft.tex",
            "One claim \\cite{a}.\n\\bibliographystyle{plain}\n\\printbibliography[heading=none]\n"
            "Later text \\cite{b}.\n",
            [("One claim.", ["a"], 1), ("Later text.", ["b"], 4)],
        ),
        (
            "draft.tex",
            "The \\href{https://example.org/x}{benchmark site} lists it \\cite{a}.\n",
            [("The benchmark site lists it.", ["a"], 1)],
        ),
        (  # text switched off is no text of the draft
            "draft.tex",
            "\\iffalse\nHidden \\cite{a}.\n\\fi\n\\begin{comment}\nHidden too \\cite{a}.\n"
            "\\end{comment}\nShown \\cite{b}.\n",
            [("Shown.", ["b"], 7)],
        ),
        (  # a Markdown footnote's text without its label; its marker is no word of the text
            "draft.md",
            "Recall lags in such models.[^1]\n\n[^1]: Recurrent models forget [@a].\n",
            [("Recurrent models forget.", ["a"], 3)],
        ),
        (  # a note that holds only its citations (and "see", a page) cites the sentence of its mark
            "draft.md",
            "Bees dance.[^1] Bees fly.[^2]\n\n[^1]: @a, p. 33.\n[^2]: See [@b; @a].\n",
            [("Bees dance.", ["a"], 1), ("Bees fly.", ["b", "a"], 1)],
        ),
        (
            "draft.tex",
            "Bees dance.\\footnote{\\cite{a}.} Bees sing.\\footnote{See \\citet{b}, p.~4.}\n",
            [("Bees dance.", ["a"], 1), ("Bees sing.", ["b"], 1)],
        ),
        (  # a parenthesis that holds only citations, "see" and a page is no text of the sentence
            "draft.tex",
            "Bees eat (see \\citealp{i}; \\citealp{j}, p.~4). Bees (and wasps) fly \\cite{k}.\n",
            [("Bees eat.", ["i", "j"], 1), ("Bees (and wasps) fly.", ["k"], 1)],
        ),
        (  # LaTeX's citation commands in Markdown or plain text (pandoc reads them as raw TeX)
            "draft.md",
            "Bees count \\cite{a}.\n\nAnts march \\Citep[p.~3]{c, d} and [@b].[^1]\n\n"
            "[^1]: See \\cite{e}.\n",
            [("Bees count.", ["a"], 1), ("Ants march and.", ["c", "d", "b", "e"], 3)],
        ),
        (  # Org: org-cite's and org-ref's citations; code, comments and set-up lines are no text
            "draft.org",
            "#+title: Draft\n#+bibliography: refs.bib\n\n* Intro\n"
            "Bees count to four [cite:@a]. Wasps sting [cite/t:see @b p. 3; @c].\n"
            "- Ants march cite:d,e.\n- Moths fly [[citep:&f;&g]].\n"
            "#+begin_src python\nx = '[cite:@z]'\n#+end_src\n# a comment [cite:@y]\n"
            "Owls hoot.[fn:1] The [[https://x.org][site]] and =cite:q= are no citations.\n\n"
            "[fn:1] See [cite:@h].\n",
            [
                ("Bees count to four.", ["a"], 5),
                ("Wasps sting.", ["b", "c"], 5),
                ("Ants march.", ["d", "e"], 6),
                ("Moths fly.", ["f", "g"], 7),
                ("Owls hoot.", ["h"], 12),
            ],
        ),
        (  # Quarto's and pandoc-crossref's cross-references are no citations
            "draft.md",
            "As @fig-recall shows, SSMs lag [@a]. See @sec-methods and [@tbl:results; @b].\n"
            "Bees fly (@eq-flight).\n",
            [("As Figure shows, SSMs lag.", ["a", "b"], 1)],  # the next sentence only cites
        ),
        (  # pandoc's locator after a citation in the text is no sentence of its own
            "draft.md",
            "As @a [p. 33] says, bees dance. Bees fly [@b, p. 3]. @c's bees sing.\n",
            [("As says, bees dance.", ["a"], 1), ("Bees fly.", ["b"], 1), ("bees sing.", ["c"], 1)],
        ),
        (  # each table cell is a passage of its own, without the pipes
            "draft.md",
            "| model | finding |\n|---|---|\n| Zoology | attention wins [@a] |\n",
            [("attention wins", ["a"], 3)],
        ),
        (  # a table's cells are passages, as in Markdown; a cell of numbers that cites cites
            # the one before it
            "draft.tex",
            "\\begin{table}\\caption{Methods \\cite{s}.}\n"
            "\\begin{tabularx}{\\linewidth}{lX}\n\\toprule\n"
            "Zoology \\cite{a} & attention wins \\\\\n"
            "\\multicolumn{2}{c}{Gated models lose \\cite{b}} \\\\\n"
            "JRT & 84.2 \\cite{c} \\\\\n\\bottomrule\n\\end{tabularx}\\end{table}\n",
            [
                ("Methods.", ["s"], 1),
                ("Zoology", ["a"], 4),
                ("Gated models lose", ["b"], 5),
                ("JRT", ["c"], 6),
            ],
        ),
        (  # a paragraph or sentence that only cites cites the sentence before it
            "draft.md",
            "Bees dance.\n\n[@a]\n\nBees fly.\n[@b].\n",
            [("Bees dance.", ["a"], 3), ("Bees fly.", ["b"], 6)],
        ),
        (  # a cell that only cites cites the cell before it
            "draft.md",
            "| model | finding | source |\n|---|---|---|\n| Zoology | attention wins | [@a] |\n",
            [("attention wins", ["a"], 3)],
        ),
        (
            "draft.md",
            "Bees dance.[^1] Bees fly[^2].\n\n[^1]: As shown by @a [p. 3].\n[^2]: @{b c}.\n",
            [("Bees dance.", ["a"], 1), ("Bees fly.", ["b c"], 1)],
        ),
    ],
)
def test_drafts_are_read_as_written(
    tmp_path: Path, name: str, text: str, sentences: list[tuple[str, list[str], int]]
) -> None:
    from assistant.draftcheck import parse_draft

    draft = tmp_path / name
    draft.write_text(text)
    assert [(s.sentence, s.keys, s.line) for s in parse_draft(draft)] == sentences


def test_a_latex_project_in_several_files_is_read_whole(tmp_path: Path) -> None:
    from assistant.draftcheck import parse_draft

    for folder, name, text in [
        ("chapters", "related.tex", "\\documentclass[../main.tex]{subfiles}\n"
         "\\begin{document}\nBees dance \\cite{a}.\n\\end{document}\n"),
        ("sections", "intro.tex", "Bees fly \\cite{b}.\n"),
        ("parts", "p1.tex", "Bees sing \\cite{c}.\n\\input{p2}\n"),  # from parts/, as imported
        ("parts", "p2.tex", "Bees hum \\cite{d}.\n"),
    ]:  # fmt: skip
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / name).write_text(text)
    draft = tmp_path / "main.tex"
    draft.write_text(
        "\\documentclass{book}\n\\usepackage{subfiles,import}\n\\begin{document}\n"
        "\\subfile{chapters/related}\n\\import{sections/}{intro}\n\\subimport*{parts/}{p1.tex}\n"
        "\\end{document}\n"
    )
    read = [(Path(s.file).name, s.keys) for s in parse_draft(draft)]
    assert read == [
        ("related.tex", ["a"]),
        ("intro.tex", ["b"]),
        ("p1.tex", ["c"]),
        ("p2.tex", ["d"]),
    ]


def test_an_input_file_that_is_not_there_is_said(
    cli, tmp_path: Path, refs: Path, keyword_judge
) -> None:
    draft = tmp_path / "main.tex"
    draft.write_text(
        f"{MUSE_CLAIM} \\cite{{muse2024}}.\n\\input{{chapters/gone}}\n\\include{{ok}}\n"
    )
    (tmp_path / "ok.tex").write_text("Nothing cited here.\n")
    result = cli("check", draft, "--bib", refs)
    assert result.code == 0, result.err
    gone = tmp_path / "chapters" / "gone.tex"
    assert f"The draft inputs {gone}, which is not there: its citations are not checked." in (
        result.err
    )
    as_json = cli("check", draft, "--bib", refs, "--json")
    assert as_json.json()["missing_inputs"] == [str(gone)]


def test_a_citation_with_no_sentence_is_not_judged(cli, tmp_path: Path, refs: Path) -> None:
    draft = tmp_path / "alone.md"
    draft.write_text("[@muse2024; @gone]\n")
    result = cli("check", draft, "--bib", refs, "--json")
    assert pairs_of(result) == [
        ("alone.md", 1, "muse2024", "nothing to judge: the citation has no sentence of its own"),
        ("alone.md", 1, "gone", "not in the library: not in refs.bib nor in the store"),
    ]


def test_a_long_check_on_a_terminal_shows_citations_judged(
    seed_store: Path, tmp_path: Path
) -> None:
    draft = tmp_path / "long.md"
    claim = "Attention beats gated convolutions at recall over {} tokens [@zoology2023measuring].\n"
    draft.write_text("".join(claim.format(n) for n in range(600)))  # judged once each
    proc, terminal = litreview_on_terminal(
        "check", draft, "--store", seed_store, stdout=subprocess.DEVNULL
    )
    shown = read_terminal(terminal, r"600/600 citations")
    proc.wait(timeout=600)
    os.close(terminal)
    assert proc.returncode in (0, EXIT_WEAK_CITATIONS), shown[-1000:]
    assert re.search(r"judging\s.*256/600 citations", shown), shown[-1000:]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "paper.tex",
            "Language models hold private text \\cite{muse2024}.\n\\bibliography{refs}\n",
        ),
        ("paper.tex", "\\addbibresource[label=a]{refs.bib}\nLanguage models \\cite{muse2024}.\n"),
        (
            "draft.md",
            "---\ntitle: A draft\nbibliography: refs.bib\n---\nLanguage is [@muse2024].\n",
        ),
        (  # a list, with a file that is not there
            "draft.md",
            "---\nbibliography:\n  - gone.bib\n  - refs.bib\n---\nLanguage is [@muse2024].\n",
        ),
        (
            "draft.org",
            "#+TITLE: A draft\n#+bibliography: refs.bib\nLanguage is [cite:@muse2024].\n",
        ),
        ("draft.org", "Language is cite:&muse2024.\n\nbibliography:gone.bib,refs.bib\n"),  # org-ref
    ],
)
def test_without_bib_the_bibliography_the_draft_names_is_read(
    cli, tmp_path: Path, refs: Path, keyword_judge, name: str, text: str
) -> None:
    draft = tmp_path / name
    draft.write_text(text)
    result = cli("check", draft, "--json")
    assert result.code == 0, result.err
    [pair] = result.json()["pairs"]
    assert pair["verdict"] == "supported" and pair["evidence"] in MUSE[1]
    assert result.json()["bibliographies"] == [str(refs)]
    gone = [str(tmp_path / "gone.bib")] if "gone.bib" in text else []
    assert result.json()["missing_bibliographies"] == gone
    if gone:
        assert "gone.bib, which is not there" in result.err


def test_a_pandoc_draft_with_a_csl_json_bibliography(cli, tmp_path: Path, keyword_judge) -> None:
    # pandoc reads CSL JSON as readily as BibTeX; Zotero and Better BibTeX export it
    records = [
        {"id": "muse2024", "type": "article", "title": MUSE[0], "abstract": MUSE[1],
         "issued": {"date-parts": [[2024]]}},
        {"id": "bare2020", "type": "article", "title": "Bare", "issued": {"date-parts": [[2020]]}},
    ]  # fmt: skip
    (tmp_path / "refs.json").write_text(json.dumps(records))
    draft = tmp_path / "draft.md"
    draft.write_text(
        "---\nbibliography: refs.json\n---\n"
        f"{MUSE_CLAIM} [@muse2024]. Language is hard [@bare2020].\n"
    )
    result = cli("check", draft, "--store", tmp_path / "store", "--json")
    assert pairs_of(result) == [
        ("draft.md", 4, "muse2024", "supported"),
        ("draft.md", 4, "bare2020", "no abstract"),
    ]
    assert result.code == EXIT_WEAK_CITATIONS, result.err


def test_the_example_draft_reads_as_the_readme_says(cli, seed_store: Path) -> None:
    draft = ROOT / "examples" / "draft.md"
    result = cli("check", draft, "--store", seed_store, "--suggest", "--json")
    assert result.code == EXIT_WEAK_CITATIONS
    verdicts = [(p["line"], p["key"], p["verdict"] or p["reason"]) for p in result.json()["pairs"]]
    # line 9 contradicts its paper; the offline judge passes it (issue 17), so it is not pinned
    assert [v for v in verdicts if v[0] != 9] == [
        (7, "zoology2023measuring", "supported"),
        (8, "just2024read", "supported"),
        (10, "zoology2023measuring", "unsupported"),
        (11, "gu2024mamba", "not in the library: not in the store"),
    ]
    wrong = result.json()["pairs"][3]
    assert wrong["suggestions"][0]["key"] == "mem2025agentic"


def test_the_example_draft_cited_by_number_reads_as_the_keyed_one(cli, seed_store: Path) -> None:
    def verdicts(name: str) -> list[tuple[int, str, str | None]]:
        result = cli("check", ROOT / "examples" / name, "--store", seed_store, "--json")
        return [(p["line"], p["key"], p["verdict"]) for p in result.json()["pairs"]]

    numbered = verdicts("draft_numbered.md")
    assert numbered[:4] == verdicts("draft.md")[:4]
    assert numbered[4] == (11, "[3]", None)  # Mamba, which the seeds lack


@pytest.mark.parametrize(
    "latex",
    [
        "A claim \\cite{a}. A link \\href{ left open",  # pylatexenc's own text of \href crashed
        "A claim \\cite{a}. Math $x \\href{ left open",  # and inside math
        "A claim \\cite{a}. \\input{" + "an unclosed brace " * 20,  # no file name: too long
    ],
)
def test_malformed_latex_is_read_as_far_as_it_goes(tmp_path: Path, latex: str) -> None:
    from assistant.draftcheck import parse_draft

    draft = tmp_path / "draft.tex"
    draft.write_text(latex)
    assert [(s.sentence, s.keys) for s in parse_draft(draft)] == [("A claim.", ["a"])]


def test_an_unclosed_bibliography_is_no_file_to_read(
    cli, tmp_path: Path, seed_store: Path, keyword_judge
) -> None:
    draft = tmp_path / "draft.tex"
    draft.write_text("A claim \\cite{a}. \\bibliography{" + "an unclosed brace " * 20)
    result = cli("check", draft, "--store", seed_store, "--json")
    assert result.code == EXIT_WEAK_CITATIONS and "which is not there" in result.err
    [pair] = result.json()["pairs"]
    assert pair["reason"] == "not in the library: not in the store"


def test_a_missing_bibliography_is_named_even_when_check_stops_early(
    cli, tmp_path: Path, keyword_judge
) -> None:
    # without the .bib there is no store to fall back on: both facts are the researcher's to fix
    draft = tmp_path / "draft.tex"
    draft.write_text("A claim \\cite{a}.\n\\bibliography{refs}\n")
    result = cli("check", draft, "--store", tmp_path / "nostore")
    assert result.code == 1
    assert f"The draft names {tmp_path / 'refs.bib'}, which is not there" in result.err
    assert "No store" in result.err

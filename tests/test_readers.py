"""Readers for JSON, SciFact/BEIR, arXiv, CSV, BibTeX and RIS: fields parsed, bad records named."""

import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

import pytest

from assistant.papers import Paper
from assistant.readers import detect_format, read_file
from assistant.readers.base import ReadItem, Rejected
from tests.conftest import CITATION_INTEGRITY_CORPUS, SCIFACT_CORPUS, needs_shared_data

FIXTURES = Path(__file__).parent / "fixtures" / "readers"
LONG_ABSTRACT = "x" * 60_000  # over the 50,000-character limit
CHECK_CSV = "check the quoting and the delimiter"
NOT_UTF8 = b"caf\xe9 \xff written by an old Windows tool\n"


def split(items: Iterable[ReadItem]) -> tuple[list[Paper], list[Rejected]]:
    """Papers and rejections, each in reading order."""
    items = list(items)
    papers = [item for item in items if isinstance(item, Paper)]
    rejected = [item for item in items if isinstance(item, Rejected)]
    assert len(papers) + len(rejected) == len(items)
    return papers, rejected


def where(rejected: list[Rejected]) -> dict[str, str]:
    """Location -> reason of each rejection."""
    return {item.location: item.reason for item in rejected}


# ---------------------------------------------------------------------------------------------
# The same small library written in each format, for the checks every reader must pass.


def _csv_row(title: str, abstract: str, number: int) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([title, abstract, str(2000 + number)])
    return out.getvalue()


@dataclass(frozen=True)
class Format:
    suffix: str
    reader: str
    header: str
    footer: str
    separator: str
    record: Callable[[str, str, int], str]
    first_location: str  # where the first record starts, as its Rejected would name it


# fmt: off
FORMATS = {
    "json": Format(
        ".json", "json", "[\n", "\n]\n", ",\n",
        lambda t, a, n: json.dumps({"title": t, "abstract": a, "year": 2000 + n}),
        "record 1 (line 2)",
    ),
    "jsonl": Format(
        ".jsonl", "json", "", "", "\n",
        lambda t, a, n: json.dumps({"title": t, "abstract": a, "year": 2000 + n}),
        "line 1",
    ),
    "scifact": Format(
        ".jsonl", "scifact", "", "", "\n",
        lambda t, a, n: json.dumps({"doc_id": n, "title": t, "abstract": [a] if a else []}),
        "line 1",
    ),
    "arxiv": Format(
        ".jsonl", "arxiv", "", "", "\n",
        lambda t, a, n: json.dumps(
            {"id": f"2101.0000{n}", "title": t, "abstract": a, "authors": "A. Author",
             "categories": "cs.CL", "update_date": f"{2000 + n}-01-01"}
        ),
        "line 1",
    ),
    "csv": Format(".csv", "csv", "title,abstract,year\n", "", "", _csv_row, "record 1 (line 2)"),
    "bibtex": Format(
        ".bib", "bibtex", "", "", "\n",
        lambda t, a, n: f"@article{{key{n},\n  title = {{{t}}},\n  abstract = {{{a}}},\n"
        f"  year = {{{2000 + n}}},\n}}\n",
        "entry key1 (line 1)",
    ),
    "ris": Format(
        ".ris", "ris", "", "", "\n",
        lambda t, a, n: f"TY  - JOUR\nTI  - {t}\nAB  - {a}\nPY  - {2000 + n}\nER  - \n",
        "record 1 (line 1)",
    ),
    "endnote": Format(
        ".xml", "endnote", '<?xml version="1.0" encoding="UTF-8"?>\n<xml><records>\n',
        "</records></xml>\n", "\n",
        lambda t, a, n: f"<record><titles><title><style>{xml_escape(t)}</style></title></titles>"
        f"<abstract><style>{xml_escape(a)}</style></abstract><dates><year>{2000 + n}</year>"
        "</dates></record>",
        "record 1",
    ),
    "medline": Format(
        ".nbib", "medline", "", "", "\n",
        lambda t, a, n: f"PMID- {n}\nDP  - {2000 + n} Jan\nTI  - {t}\nAB  - {a}\n"
        "FAU - Author, Ada\n",
        "record 1 (line 1)",
    ),
}
# fmt: on


def write_library(
    directory: Path, name: str, first: tuple[str, str], junk: bytes = b""
) -> tuple[Path, int]:
    """A two-record file in format `name`, `junk` on its own line between the records.

    The first record has the given title and abstract; the second is always good.
    Returns the file and the line number the junk line is on.
    """
    spec = FORMATS[name]
    head = spec.header + spec.record(*first, 1) + spec.separator
    tail = spec.record("A good second paper", "Its abstract is fine.", 2) + spec.footer
    path = directory / f"library{spec.suffix}"
    path.write_bytes(head.encode() + junk + tail.encode())
    return path, head.count("\n") + 1


@pytest.mark.parametrize("name", FORMATS)
def test_each_format_reads_both_records(tmp_path: Path, name: str) -> None:
    path, _ = write_library(tmp_path, name, ("A first paper", "First abstract."))
    assert detect_format(path) == FORMATS[name].reader
    papers, rejected = split(read_file(path))
    assert rejected == []
    assert [(p.title, p.abstract) for p in papers] == [
        ("A first paper", "First abstract."),
        ("A good second paper", "Its abstract is fine."),
    ]
    # SciFact records carry no date
    assert [p.year for p in papers] == ([None, None] if name == "scifact" else [2001, 2002])


@pytest.mark.parametrize("missing", ["title", "abstract"])
@pytest.mark.parametrize("name", FORMATS)
def test_record_missing_title_or_abstract_is_rejected(
    tmp_path: Path, name: str, missing: str
) -> None:
    first = ("", "An abstract.") if missing == "title" else ("A title", "")
    path, _ = write_library(tmp_path, name, first)
    papers, rejected = split(read_file(path))
    assert where(rejected) == {FORMATS[name].first_location: f"missing {missing}"}
    assert [p.title for p in papers] == ["A good second paper"]


@pytest.mark.parametrize("name", FORMATS)
def test_absurdly_long_abstract_is_rejected(tmp_path: Path, name: str) -> None:
    path, _ = write_library(tmp_path, name, ("Long-winded", LONG_ABSTRACT))
    papers, rejected = split(read_file(path))
    assert where(rejected) == {
        FORMATS[name].first_location: "abstract is 60,000 characters (limit 50,000)"
    }
    assert [p.title for p in papers] == ["A good second paper"]


@pytest.mark.parametrize("name", FORMATS)
def test_non_utf8_line_is_reported_and_the_rest_still_read(tmp_path: Path, name: str) -> None:
    path, junk_line = write_library(tmp_path, name, ("A first paper", "Fine."), NOT_UTF8)
    papers, rejected = split(read_file(path))
    assert where(rejected) == {
        f"line {junk_line}": "not UTF-8 (byte 0xe9 at column 4); re-save the file as UTF-8"
    }
    assert [p.title for p in papers] == ["A first paper", "A good second paper"]


# ---------------------------------------------------------------------------------------------
# Format detection on the fixture files.


@pytest.mark.parametrize(
    ("filename", "reader"),
    [
        ("papers.json", "json"),
        ("wrapped.json", "json"),
        ("papers.jsonl", "json"),
        ("scifact.jsonl", "scifact"),
        ("beir.jsonl", "scifact"),
        ("arxiv.jsonl", "arxiv"),
        ("zotero.csv", "csv"),
        ("papers.tsv", "csv"),
        ("papers.bib", "bibtex"),
        ("papers.ris", "ris"),
    ],
)
def test_detect_format_picks_the_reader(filename: str, reader: str) -> None:
    assert detect_format(FIXTURES / filename) == reader


@pytest.mark.parametrize(
    ("filename", "content", "reader"),
    [
        ("corpus.jsonl", '{"doc_id": 1, "title": "T", "abstract": ["S."]}\n', "scifact"),
        ("export", "@article{k, title={T}, abstract={A}}\n", "bibtex"),
        ("export", "TY  - JOUR\nTI  - T\nAB  - A\nER  - \n", "ris"),
        ("saved.txt", "TY  - JOUR\nTI  - T\nAB  - A\nER  - \n", "ris"),  # not a listing page
        ("pubmed.txt", "PMID- 1\nTI  - T\nAB  - A\n", "medline"),  # PubMed's "PubMed" format
    ],
)
def test_detect_format_sees_past_a_byte_order_mark(
    tmp_path: Path, filename: str, content: str, reader: str
) -> None:
    path = tmp_path / filename
    path.write_bytes(b"\xef\xbb\xbf" + content.encode())
    assert detect_format(path) == reader
    papers, rejected = split(read_file(path))
    assert rejected == []
    assert [(p.title, p.abstract) for p in papers] == [("T", "A" if reader != "scifact" else "S.")]


# ---------------------------------------------------------------------------------------------
# JSON


def test_json_array_maps_fields_and_numbers_records_by_line() -> None:
    papers, rejected = split(read_file(FIXTURES / "papers.json"))
    first, second = papers
    assert first.title == "Generic JSON Paper"
    assert first.abstract == "An abstract from a JSON array."
    assert first.authors == ["Ada Lovelace", "Charles Babbage"]
    assert (first.year, first.doi, first.arxiv_id) == (1843, "10.1000/ENGINE", "2101.00001")
    assert first.external_ids == {}
    assert (second.title, second.year) == ("Second good JSON paper", 2001)
    assert where(rejected) == {
        "record 2 (line 11)": "missing abstract",
        "record 3 (line 12)": "a JSON string, not an object",
    }


def test_json_object_with_a_papers_list() -> None:
    papers, rejected = split(read_file(FIXTURES / "wrapped.json"))
    assert rejected == []
    assert [(p.title, p.year) for p in papers] == [("Wrapped One", 2010), ("Wrapped Two", 2011)]
    assert [p.sources for p in papers] == [
        [f"{FIXTURES / 'wrapped.json'}:record 1 (line 5)"],
        [f"{FIXTURES / 'wrapped.json'}:record 2 (line 7)"],
    ]


def test_json_single_object(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text('{"title": "Only one", "abstract": "Alone.", "authors": "X and Y"}')
    papers, rejected = split(read_file(path))
    assert rejected == []
    assert [(p.title, p.authors) for p in papers] == [("Only one", ["X", "Y"])]


def test_json_lines_invalid_line_is_rejected_with_its_number() -> None:
    papers, rejected = split(read_file(FIXTURES / "papers.jsonl"))
    assert [p.title for p in papers] == ["Line One", "Line Five"]
    assert papers[0].authors == ["A. One", "B. Two"]
    assert where(rejected) == {
        "line 2": "invalid JSON: Expecting ',' delimiter (column 75)",
        "line 3": "a JSON array, not an object",
    }


def test_json_file_holding_json_lines_is_read_line_by_line(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text(
        '{"title": "One", "abstract": "A."}\n{"title": "Two", "abstract": "B."}\n{"title": \n'
    )
    papers, rejected = split(read_file(path))
    assert [p.title for p in papers] == ["One", "Two"]
    assert [r.location for r in rejected] == ["line 3"]


def test_broken_json_document_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('[\n  {"title": "One", "abstract": "A."},\n  {"title": "Two" "abstract"}\n]\n')
    papers, rejected = split(read_file(path))
    assert papers == []
    assert where(rejected) == {"line 3": "invalid JSON: Expecting ',' delimiter (column 19)"}


def test_json_field_of_the_wrong_shape_rejects_only_its_record(tmp_path: Path) -> None:
    path = tmp_path / "odd.jsonl"
    path.write_text(
        '{"title": "Odd", "abstract": "A.", "authors": 42}\n{"title": "Even", "abstract": "B."}\n'
    )
    papers, rejected = split(read_file(path))
    assert [p.title for p in papers] == ["Even"]
    assert [r.location for r in rejected] == ["line 1"]
    assert rejected[0].reason.startswith("a field has an unexpected shape")


def test_csl_json_keeps_citation_keys_and_literal_names(tmp_path: Path) -> None:
    # Zotero and Better BibTeX write CSL JSON, pandoc's bibliography format: `id` is the key
    # where it is one, not where it is Zotero's item URI
    path = tmp_path / "refs.json"
    records = [
        {"id": "smith2020deep", "type": "article-journal", "title": "Deep nets",
         "abstract": "We study deep nets.", "author": [{"family": "Smith", "given": "Jane"}],
         "issued": {"date-parts": [[2020, 5]]}, "DOI": "10.1/abc", "container-title": "J. Nets"},
        {"id": "http://zotero.org/users/1/items/ABCD", "type": "paper-conference",
         "title": "Other", "abstract": "Other text.", "author": [{"literal": "DeepMind Team"}],
         "issued": {"date-parts": [["2021"]]}, "citation-key": "team2021other"},
        {"id": "http://zotero.org/users/1/items/EFGH", "type": "report", "title": "Third",
         "abstract": "Third text."},
    ]  # fmt: skip
    path.write_text(json.dumps(records))
    papers, rejected = split(read_file(path))
    assert rejected == []
    assert [(p.key, p.authors, p.year) for p in papers] == [
        ("smith2020deep", ["Jane Smith"], 2020),
        ("team2021other", ["DeepMind Team"], 2021),
        (None, [], None),
    ]
    assert (papers[0].doi, papers[0].venue) == ("10.1/abc", "J. Nets")


def test_openalex_works_export(tmp_path: Path) -> None:
    # OpenAlex gives abstracts as an inverted index (word -> positions) under `results`
    work = {
        "id": "https://openalex.org/W1", "doi": "https://doi.org/10.2/XYZ",
        "display_name": "Open work", "publication_year": 2022,
        "authorships": [{"author": {"display_name": "Ada Lovelace"}},
                        {"author": {"display_name": "Charles Babbage"}}],
        "abstract_inverted_index": {"Open": [0], "works": [1, 4], "and": [3], "help.": [5],
                                    "read,": [2]},
        "primary_location": {"source": {"display_name": "Nature"}},
    }  # fmt: skip
    path = tmp_path / "works.json"
    path.write_text(json.dumps({"meta": {"count": 1}, "results": [work]}))
    papers, rejected = split(read_file(path))
    assert rejected == []
    [paper] = papers
    assert (paper.title, paper.abstract) == ("Open work", "Open works read, and works help.")
    assert paper.authors == ["Ada Lovelace", "Charles Babbage"]
    assert (paper.year, paper.doi, paper.venue) == (2022, "10.2/XYZ", "Nature")


def test_semantic_scholar_export_ids_and_venue(tmp_path: Path) -> None:
    paper_record = {
        "paperId": "abc", "title": "S2 paper", "abstract": "S2 text.", "year": 2019,
        "authors": [{"authorId": "1", "name": "Bob Jones"}],
        "externalIds": {"DOI": "10.3/s2", "ArXiv": "1901.00001", "CorpusId": 42},
        "journal": {"name": "J. Mach. Learn.", "volume": "3"},
    }  # fmt: skip
    path = tmp_path / "s2.json"
    path.write_text(json.dumps({"total": 1, "data": [paper_record]}))
    papers, rejected = split(read_file(path))
    assert rejected == []
    [paper] = papers
    assert (paper.doi, paper.arxiv_id, paper.venue) == ("10.3/s2", "1901.00001", "J. Mach. Learn.")
    assert paper.authors == ["Bob Jones"]


def test_litreviews_own_json_export_reads_back_whole(tmp_path: Path) -> None:
    exported = Paper(
        key="team2024notes", title="Notes", abstract="A note.", author_count=8,
        organization="A Lab", date="2024-06-12", year=2024, categories=["cs.CL"],
        external_ids={"scifact": "7"}, sources=["elsewhere.txt:3"],
        bibtex_type="misc", bibtex_fields={"note": "{Kept}"},
    )  # fmt: skip
    path = tmp_path / "export.json"
    path.write_text(json.dumps([exported.model_dump()]))
    [paper] = split(read_file(path))[0]
    assert paper.model_dump(exclude={"sources"}) == exported.model_dump(exclude={"sources"})
    assert paper.sources == [f"{path}:record 1 (line 1)"]


# ---------------------------------------------------------------------------------------------
# SciFact and BEIR


def test_scifact_keeps_sentences_and_doc_id() -> None:
    papers, rejected = split(read_file(FIXTURES / "scifact.jsonl"))
    (paper,) = papers
    assert paper.title == "Microstructural development of white matter."
    assert paper.sentences == ["First sentence.", "Second  sentence."]
    assert paper.abstract == "First sentence. Second sentence."
    assert paper.external_ids == {"scifact": "4983"}
    assert where(rejected) == {"line 2": "missing title"}


def test_beir_corpus_uses_text_and_id() -> None:
    papers, rejected = split(read_file(FIXTURES / "beir.jsonl"))
    (paper,) = papers
    assert paper.title == "New opportunities: the use of nanotechnologies"
    assert paper.abstract == "Nanotechnologies are emerging platforms."
    assert paper.sentences is None
    assert paper.external_ids == {"beir": "31715818"}
    assert where(rejected) == {"line 2": "missing abstract"}


@needs_shared_data
def test_real_scifact_corpus_reads_every_abstract_with_its_sentences() -> None:
    papers, rejected = split(read_file(SCIFACT_CORPUS))
    assert rejected == []
    assert len(papers) == 5_183
    with SCIFACT_CORPUS.open() as handle:
        first = json.loads(handle.readline())
    assert papers[0].external_ids == {"scifact": str(first["doc_id"])} == {"scifact": "4983"}
    assert papers[0].sentences == first["abstract"]
    assert len(papers[0].sentences) > 1
    assert all(p.sentences for p in papers)
    assert len({p.external_ids["scifact"] for p in papers}) == 5_183


@needs_shared_data
def test_real_citation_integrity_corpus_has_no_titles() -> None:
    papers, rejected = split(read_file(CITATION_INTEGRITY_CORPUS))
    # Its passages carry an empty title; three carry no sentences at all.
    assert papers == []
    reasons = [r.reason for r in rejected]
    assert len(reasons) == 3_063
    assert reasons.count("missing title; missing abstract") == 3
    assert reasons.count("missing title") == 3_060


# ---------------------------------------------------------------------------------------------
# arXiv


def test_arxiv_snapshot_fields() -> None:
    papers, rejected = split(read_file(FIXTURES / "arxiv.jsonl"))
    assert rejected == []
    parsed, plain = papers
    assert parsed.arxiv_id == "0704.0001"
    assert parsed.url == "https://arxiv.org/abs/0704.0001"
    assert parsed.title.endswith("at Tevatron and LHC energies")
    assert parsed.abstract.startswith("A fully differential calculation")
    # authors_parsed wins over the LaTeX-accented string
    assert parsed.authors == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C. -P. Yuan"]
    # the year of version 1 (2007), not of the last update (2008)
    assert (parsed.year, parsed.date) == (2007, "2007-04-02")
    assert parsed.doi == "10.1103/PhysRevD.76.013009"  # as given; identity lower-cases
    assert parsed.venue == "Phys.Rev.D76:013009,2007"
    assert parsed.categories == ["hep-ph"]
    assert plain.authors == ["Alice Smith", "Bob Jones", "Carol White"]
    assert (plain.year, plain.date, plain.doi, plain.venue) == (2023, None, None, None)
    assert plain.categories == ["cs.CL", "cs.LG"]


@pytest.mark.parametrize(
    ("tex", "text"),
    [
        ("reduces accuracy by up to 15\\% while", "reduces accuracy by up to 15% while"),
        ("we introduce \\textbf{ghost sentences} and \\emph{unique ids}",
         "we introduce ghost sentences and unique ids"),
        ("conditions B (\\eg, Indoors), \\ie the rest, Smith \\etal",
         "conditions B (e.g., Indoors), i.e. the rest, Smith et al."),
        ("{\\em bold} claims, ``quoted'' words, R\\&D", 'bold claims, "quoted" words, R&D'),
        ('Sch\\"olkopf, Bal\\\'azs, G\\"{o}del, Erd\\H{o}s, \\c{C}a\\u{g}lar, {\\"u}ber',
         "Schölkopf, Balázs, Gödel, Erdős, Çağlar, über"),
        # math is kept as written; % and ~ mean what their authors meant, not TeX's comment and tie
        ("costs $O(n^2)$ and $\\textbf{x}_i$, ~10% faster, 5% of",
         "costs $O(n^2)$ and $\\textbf{x}_i$, ~10% faster, 5% of"),
        ("a \\unknown{macro} stays", "a \\unknown{macro} stays"),
    ],
)  # fmt: skip
def test_arxiv_tex_is_read_as_plain_text(tex: str, text: str) -> None:
    from assistant.readers.tex_marks import plain_text

    assert plain_text(tex) == text


def test_arxiv_papers_lose_their_tex_marks(tmp_path: Path) -> None:
    record = {
        "id": "2401.00001",
        "title": "The \\emph{Mamba} in the room",
        "abstract": "Gains of 15\\% over $\\mathcal{O}(n)$ baselines.",
        "authors": 'Bernhard Sch\\"olkopf and Ada Lovelace',
    }
    snapshot = tmp_path / "arxiv.jsonl"
    snapshot.write_text(json.dumps(record) + "\n")
    [paper] = split(read_file(snapshot, "arxiv"))[0]
    assert paper.title == "The Mamba in the room"
    assert paper.abstract == "Gains of 15% over $\\mathcal{O}(n)$ baselines."
    assert paper.authors == ["Bernhard Schölkopf", "Ada Lovelace"]


# ---------------------------------------------------------------------------------------------
# CSV and TSV


def test_zotero_csv_export() -> None:
    papers, rejected = split(read_file(FIXTURES / "zotero.csv"))
    first, second = papers
    assert first.title == "Language Models are Few-Shot Learners"
    assert first.authors == ["Brown, Tom B.", "Mann, Benjamin"]
    assert first.abstract.endswith("few-shot performance. A second line of the abstract.")
    assert (first.year, first.doi, first.venue) == (2020, "10.5555/3495724.3495883", "NeurIPS")
    assert first.url == "https://arxiv.org/abs/2005.14165"
    assert second.title == "An Image is Worth 16x16 Words"
    # the first row spans lines 2-3, so the next rows start on lines 4 and 5
    assert where(rejected) == {
        "record 2 (line 4)": "missing abstract",
        "record 3 (line 5)": f"10 columns where the header has 9; {CHECK_CSV}",
    }


def test_a_table_without_an_abstract_column_is_one_rejection_saying_where_to_get_one(
    tmp_path: Path,
) -> None:
    # PubMed's "Save as CSV" holds no abstracts: one line saying so, not one per row
    path = tmp_path / "csv-aspirin-set.csv"
    path.write_text(
        "PMID,Title,Authors,Citation,Journal/Book,Publication Year,DOI\n"
        '1,"Aspirin, again","Smith JA, Doe J","J Things. 2019",J Things,2019,10.1/a\n'
        '2,"Aspirin, still","Roe R","J Things. 2020",J Things,2020,10.1/b\n'
    )
    papers, rejected = split(read_file(path))
    assert papers == []
    assert [(r.location, r.reason) for r in rejected] == [
        (
            "line 1",
            "no abstract column (the header has: PMID, Title, Authors, Citation, Journal/Book, "
            "Publication Year, DOI); export the table with abstracts. PubMed's CSV has none: "
            "save the search as format PubMed (a .txt) instead",
        )
    ]


def test_row_with_too_few_columns_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("title,abstract,year\nOne,First.,2001\nTwo,Second.\n")
    papers, rejected = split(read_file(path))
    assert [p.title for p in papers] == ["One"]
    assert where(rejected) == {
        "record 2 (line 3)": f"2 columns where the header has 3; {CHECK_CSV}"
    }


def test_tsv_by_suffix() -> None:
    papers, rejected = split(read_file(FIXTURES / "papers.tsv"))
    assert rejected == []
    (paper,) = papers
    assert paper.title == "Graph Attention Networks"
    assert paper.authors == ["Velickovic, Petar", "Bengio, Yoshua"]
    assert (paper.year, paper.doi) == (2018, "10.48550/arXiv.1710.10903")


def test_semicolon_delimited_csv(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_text('Title;Abstract;Year\n"Commas, inside";"An abstract, with commas.";1999\n')
    papers, rejected = split(read_file(path))
    assert rejected == []
    assert [(p.title, p.abstract, p.year) for p in papers] == [
        ("Commas, inside", "An abstract, with commas.", 1999)
    ]


@pytest.mark.parametrize(
    ("name", "content", "fields"),
    [
        (
            "scopus.csv",
            b'\xef\xbb\xbf"Authors","Title","Year","Source title","DOI","Abstract"\n'
            b'"Smith J.; van der Berg A.B.","Recall in models","2023","J. Tests","10.1/x",'
            b'"We show that recall improves."\n',
            {  # names as BibTeX reads them
                "authors": ["Smith, J.", "van der Berg, A.B."],
                "title": "Recall in models",
                "abstract": "We show that recall improves.",
                "year": 2023,
                "venue": "J. Tests",
                "doi": "10.1/x",
            },
        ),
        (  # Web of Science's "Tab delimited file": two-letter field tags, a .txt name
            "savedrecs.txt",
            b"\xef\xbb\xbfPT\tAU\tTI\tSO\tPY\tAB\tDI\n"
            b"J\tSmith, J; Doe, A\tMemory and recall\tJ TESTS\t2022\tWe find that memory matters."
            b"\t10.1/wos\n",
            {
                "authors": ["Smith, J", "Doe, A"],
                "title": "Memory and recall",
                "abstract": "We find that memory matters.",
                "year": 2022,
                "venue": "J TESTS",
                "doi": "10.1/wos",
            },
        ),
    ],
)
def test_database_exports_by_their_field_names(
    tmp_path: Path, name: str, content: bytes, fields: dict[str, object]
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert detect_format(path) == "csv"
    papers, rejected = split(read_file(path))
    assert rejected == []
    [paper] = papers
    assert {field: getattr(paper, field) for field in fields} == fields


def test_csv_field_over_the_csv_module_limit_rejects_only_its_row(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    path.write_text(f'title,abstract\nHuge,"{"x" * 200_000}"\nSmall,Fine.\n')
    papers, rejected = split(read_file(path))
    assert [p.title for p in papers] == ["Small"]
    assert where(rejected) == {
        "record 1 (line 2)": "unreadable row: field larger than field limit (131072)"
    }


# ---------------------------------------------------------------------------------------------
# BibTeX


def test_bibtex_fields_latex_and_malformed_entry() -> None:
    papers, rejected = split(read_file(FIXTURES / "papers.bib"))
    vaswani, devlin, duplicate = papers
    assert vaswani.title == "Attention Is All You Need"
    assert vaswani.authors == ["Vaswani, Ashish", "Shazeer, Noam", "Kaiser, Łukasz"]
    assert vaswani.abstract == (
        "The dominant sequence transduction models are based on complex recurrent networks."
        " We propose the Transformer, 50% faster, by Müller's measure."
    )
    assert (vaswani.year, vaswani.arxiv_id) == (2017, "1706.03762")
    assert vaswani.venue == "Advances in Neural Information Processing Systems"  # via @string
    assert vaswani.url == "https://arxiv.org/abs/1706.03762?a=1%20b"  # '%' is no comment here
    assert devlin.title == "BERT: Pre-training of Deep Bidirectional Transformers"
    assert devlin.authors == ["Jacob Devlin", "Ming-Wei Chang", "Barnes and Noble"]
    assert (devlin.year, devlin.doi, devlin.venue) == (2019, "10.18653/V1/N19-1423", "NAACL")
    assert devlin.arxiv_id is None
    # the same key again is still a paper; the store deduplicates
    assert duplicate.title == "Attention Is All You Need (journal version)"
    assert duplicate.venue == "Advances in Neural Information Processing Systems"
    assert duplicate.sources == [f"{FIXTURES / 'papers.bib'}:entry vaswani2017attention (line 37)"]
    # @comment and @string are not records: only the two bad entries are rejected
    assert [r.location for r in rejected] == [
        "entry broken2020 (line 16)",
        "entry noabstract2021 (line 31)",
    ]
    assert rejected[0].reason.startswith("malformed entry: Unexpected block start: `@article`")
    assert rejected[1].reason == "missing abstract"


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        (
            'Aspirin\'s effect on 2,000 patients (p < 0.05) [1.2; 3.4]: a/b, "x" @ 5.\n  Done.',
            False,
        ),
        ("Ab\u00e9 \u2014 \u00b5m <tag> = 3 * 4 + 1 ! ? ` '", False),
        ("50\\% of cases \\& 3\\_a, \\#1 for \\$5", False),
        ("A \\textit{word}, 50\\% {Caps} $x^2$ a~b", True),
        ("a line break \\\\% then a comment", True),
        ("en--dash and em---dash, ``quoted'' and !` ?`", True),
        ("under_score & hash # caret ^", True),
    ],
)
def test_plain_text_skips_the_latex_parser_and_reads_the_same(
    value: str, parsed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the LaTeX parser reads 5 ms an entry, most of a large .bib's time; text with nothing it
    # would change skips it
    from assistant.readers import bibtex

    expected = " ".join(bibtex._LATEX.latex_to_text(value).split())
    calls: list[str] = []
    real = bibtex._LATEX

    class Recording:
        def latex_to_text(self, latex: str) -> str:
            calls.append(latex)
            return real.latex_to_text(latex)

    monkeypatch.setattr(bibtex, "_LATEX", Recording())
    assert bibtex.latex_to_text(value) == expected
    assert bool(calls) == parsed


def test_bibtex_eprint_that_looks_like_arxiv_and_field_given_twice(tmp_path: Path) -> None:
    path = tmp_path / "more.bib"
    path.write_text(
        "@misc{a, title={A}, abstract={x}, eprint={2106.09685v2}, date={2021-06-17}}\n"
        "@misc{b, title={B}, abstract={y}, eprint={hep-th/9711200}}\n"
        "@misc{c, title={C}, abstract={z}, eprint={12345}, url={https://x.org/a\\_b\\%20c}}\n"
        "@misc{d, title={D}, title={D again}, abstract={w}}\n"
    )
    papers, rejected = split(read_file(path))
    assert [(p.title, p.arxiv_id, p.year) for p in papers] == [
        ("A", "2106.09685", 2021),
        ("B", "hep-th/9711200", None),
        ("C", None, None),
    ]
    assert papers[2].url == "https://x.org/a_b%20c"
    assert where(rejected) == {"entry d (line 4)": "field given twice: title; keep one"}


def test_bibtex_crossref_child_takes_its_volume_from_the_parent(tmp_path: Path) -> None:
    # DBLP and many reference managers write a paper's year and venue once, on the volume
    path = tmp_path / "dblp.bib"
    path.write_text(
        "@inproceedings{child, author={Ada Lovelace}, title={Engines}, abstract={x},\n"
        "  crossref={DBLP:conf/nips/2017}, pages={1--9}}\n"
        "@inproceedings{own, title={Own year}, abstract={y}, year={2016},\n"
        "  crossref={dblp:CONF/nips/2017}}\n"
        "@inproceedings{dangling, title={Lost}, abstract={z}, crossref={nowhere}}\n"
        "@inproceedings{own, title={Same key}, abstract={w}, crossref={DBLP:conf/nips/2017}}\n"
        "@proceedings{DBLP:conf/nips/2017, title={Advances in Neural Information Processing"
        " Systems 30}, year={2017}, publisher={Curran}, doi={10.5555/volume},\n"
        "  abstract={The volume's own text.}}\n"
    )
    papers, _ = split(read_file(path))
    child, own, dangling, same_key, volume = papers
    assert (child.year, child.venue, child.doi) == (
        2017,
        "Advances in Neural Information Processing Systems 30",
        None,  # the volume's DOI is not the paper's: papers that shared it would merge
    )
    assert child.abstract == "x"
    assert child.bibtex_fields["publisher"] == "Curran"
    assert "crossref" not in child.bibtex_fields  # the export stands without the volume
    assert (own.year, own.venue) == (2016, "Advances in Neural Information Processing Systems 30")
    assert (dangling.year, dangling.bibtex_fields["crossref"]) == (None, "nowhere")
    assert same_key.year == 2017  # a repeated key is parsed alone, its volume still found
    assert volume.title.startswith("Advances")


# ---------------------------------------------------------------------------------------------
# RIS


def test_ris_fields_and_broken_records() -> None:
    papers, rejected = split(read_file(FIXTURES / "papers.ris"))
    he, smith = papers
    assert he.title == "Deep Residual Learning for Image Recognition"
    assert he.abstract == (
        "Deeper neural networks are more difficult to train."
        " We present a residual learning framework."
    )
    assert he.authors == ["He, Kaiming", "Zhang, Xiangyu"]
    assert (he.year, he.doi, he.venue) == (2016, "10.1109/CVPR.2016.90", "CVPR")
    assert he.url == "https://doi.org/10.1109/CVPR.2016.90"
    # T1, N2, A1, Y1 and JO stand in for TI, AB, AU, PY and T2
    assert (smith.title, smith.abstract) == ("Title Given As T1", "Abstract given as N2.")
    assert (smith.authors, smith.year, smith.venue) == (["Smith, Ann"], 2018, "Journal Of Tests")
    assert where(rejected) == {
        "record 2 (line 13)": "missing abstract",
        "record 4 (line 27)": "no 'TY  -' line opening the record",
        "record 5 (line 31)": "no 'ER  -' line closing the record",
    }


def test_ris_record_missing_its_er_line_does_not_swallow_the_next(tmp_path: Path) -> None:
    path = tmp_path / "merged.ris"
    path.write_text(
        "TY  - JOUR\nTI  - Unclosed\nAB  - First.\n"
        "TY  - JOUR\nTI  - Closed\nAB  - Second.\nER  - \n"
    )
    papers, rejected = split(read_file(path))
    assert [(p.title, p.abstract) for p in papers] == [("Closed", "Second.")]
    assert where(rejected) == {"record 1 (line 1)": "no 'ER  -' line closing the record"}


def test_ris_from_pubmed_names_authors_surname_first(tmp_path: Path) -> None:
    # PubMed's RIS writes "Smith JA": the surname, then initials without dots
    path = tmp_path / "pubmed.ris"
    path.write_text(
        "TY  - JOUR\nTI  - Aspirin and adenomas\nAB  - Aspirin helps.\nAU  - Smith JA\n"
        "AU  - Doe J\nAU  - Roe RB Jr\nPY  - 2019\nER  - \n"
    )
    from assistant.papers import citation_key

    (paper,), _ = split(read_file(path))
    assert paper.authors == ["Smith, JA", "Doe, J", "Roe, RB Jr"]
    assert citation_key(paper, set()) == "smith2019aspirin"


# ---------------------------------------------------------------------------------------------
# PubMed (MEDLINE tagged text: "Save" as PubMed format, or a citation manager's .nbib)

PUBMED = """PMID- 31452104
OWN - NLM
DP  - 2019 Oct 15
TI  - Aspirin lowers the risk of colorectal adenoma recurrence: a randomised
      controlled trial.
LID - S0000-0000(19)30000-1 [pii]
LID - 10.1000/ASP.2019.01 [doi]
AB  - BACKGROUND: Aspirin may prevent adenomas. METHODS: We randomised 900
      patients. RESULTS: Recurrence fell by a fifth.
FAU - Smith, John A
AU  - Smith JA
FAU - Doe, Jane
AU  - Doe J
JT  - The Journal of Things
TA  - J Things

PMID- 31452105
DP  - 2019
TI  - A comment without an abstract.
FAU - Roe, Richard
"""


def test_pubmed_records_with_wrapped_fields_ids_and_names(tmp_path: Path) -> None:
    path = tmp_path / "pubmed-aspirin.txt"
    path.write_text(PUBMED)
    assert detect_format(path) == "medline"
    papers, rejected = split(read_file(path))
    [paper] = papers
    assert paper.title == (
        "Aspirin lowers the risk of colorectal adenoma recurrence: a randomised controlled trial."
    )
    assert paper.abstract.startswith("BACKGROUND: Aspirin may prevent adenomas. METHODS: We")
    assert paper.abstract.endswith("900 patients. RESULTS: Recurrence fell by a fifth.")
    assert paper.authors == ["Smith, John A", "Doe, Jane"]  # full names, surname first
    assert (paper.year, paper.doi, paper.venue) == (
        2019,
        "10.1000/ASP.2019.01",
        "The Journal of Things",
    )
    assert paper.external_ids == {"pubmed": "31452104"}
    assert paper.url == "https://pubmed.ncbi.nlm.nih.gov/31452104/"
    assert where(rejected) == {"record 2 (line 17)": "missing abstract"}


# ---------------------------------------------------------------------------------------------
# EndNote XML (File > Export, XML)


def test_endnote_xml_export_fields_and_a_broken_file(tmp_path: Path) -> None:
    style = '<style face="normal" font="default" size="100%">{}</style>'.format
    path = tmp_path / "My EndNote Library.xml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8" ?><xml><records><record>'
        "<database name='My Library.enl'>My Library.enl</database><ref-type name='Journal"
        " Article'>17</ref-type><contributors><authors>"
        f"<author>{style('Smith, John A.')}</author><author>{style('Doe, J.')}</author>"
        f"</authors></contributors><titles><title>{style('Aspirin and ')}"
        f'<style face="italic">{"adenomas"}</style></title>'
        f"<secondary-title>{style('The Journal of Things')}</secondary-title></titles>"
        f"<dates><year>{style('2019')}</year></dates>"
        f"<electronic-resource-num>{style('10.1000/asp.2019.01')}</electronic-resource-num>"
        f"<abstract>{style('Aspirin lowered recurrence by a fifth.')}</abstract>"
        "</record></records></xml>\n"
    )
    assert detect_format(path) == "endnote"
    [paper] = split(read_file(path))[0]
    assert (paper.title, paper.abstract) == (
        "Aspirin and adenomas",
        "Aspirin lowered recurrence by a fifth.",
    )
    assert paper.authors == ["Smith, John A.", "Doe, J."]
    assert (paper.year, paper.doi, paper.venue) == (
        2019,
        "10.1000/asp.2019.01",
        "The Journal of Things",
    )
    broken = tmp_path / "cut.xml"
    broken.write_text("<xml><records><record><titles>\n<title>Cut short")
    assert where(split(read_file(broken, "endnote"))[1]) == {
        "line 2": "not well-formed XML (column 17); nothing read"
    }


# ---------------------------------------------------------------------------------------------
# Saved listing pages (the seed corpus's format).

PAGE_HEADER = "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nDaily Papers\n\n"


def listing_entry(title: str, byline: str, date: str) -> str:
    """One entry as a saved page shows it: title, abstract, byline (author count or team),
    separator, date."""
    byline = f"  • {byline}" if byline.endswith("authors") else byline
    return f"{title}\n\nThe abstract of {title.lower()}.\n\n{byline}\n·\n{date}\n\n"


def test_listing_papers_lose_their_tex_marks(tmp_path: Path) -> None:
    # the seed pages show abstracts as their authors typed them for arXiv: "15\%", "\eg"
    page = tmp_path / "page.txt"
    page.write_text(
        PAGE_HEADER
        + "\\textbf{Bold} title\n\nRecall improves by 15\\% (\\eg, MQAR).\n\n  • 3 authors\n·\n"
        + "Jun 12, 2025\n"
    )
    [paper] = split(read_file(page))[0]
    assert (paper.title, paper.abstract) == ("Bold title", "Recall improves by 15% (e.g., MQAR).")


def test_an_impossible_listing_date_keeps_the_paper_without_a_date(tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_text(
        PAGE_HEADER
        + "Dec 8\n\n"
        + listing_entry("Impossible date", "3 authors", "Feb 31, 2025")
        + listing_entry("Good date", "2 authors", "Jun 12, 2025 6")
    )
    papers, rejected = split(read_file(page))
    assert rejected == []
    assert [(p.title, p.date, p.author_count) for p in papers] == [
        ("Impossible date", None, 3),
        ("Good date", "2025-06-12", 2),
    ]


def test_a_page_without_its_own_date_keeps_its_first_entry(tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_text(
        PAGE_HEADER
        + listing_entry("First paper", "8 authors", "Jun 12, 2024")
        + listing_entry("Second paper", "facebook AI at Meta", "Feb 21")
    )
    papers, rejected = split(read_file(page))
    assert rejected == []
    assert [(p.title, p.date) for p in papers] == [
        ("First paper", "2024-06-12"),
        ("Second paper", "2025-02-21"),
    ]
    assert papers[1].organization == "facebook AI at Meta"


def test_a_page_of_entries_alone_reads_every_entry(tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_text(
        listing_entry("First paper", "8 authors", "Jun 12, 2024")
        + listing_entry("Second paper", "2 authors", "Feb 21, 2024")
    )
    papers, rejected = split(read_file(page))
    assert rejected == [] and [p.title for p in papers] == ["First paper", "Second paper"]

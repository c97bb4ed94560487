"""`litreview check` on word processors' drafts (Word, LibreOffice) cited with Zotero, Mendeley
or EndNote, and on citations typed as text (`--author-year`)."""

import base64
import json
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

import pytest

from assistant.draftcheck.check import EXIT_WEAK_CITATIONS
from assistant.draftcheck.endnote_cites import DROPPED_ENDNOTE_RECORDS
from tests.conftest import DRAFTS, MUSE, MUSE_CLAIM, OCR, OCR_CLAIM, pairs_of

_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _run(text: str) -> str:
    return f'<w:r><w:t xml:space="preserve">{xml_escape(text)}</w:t></w:r>'


def _field(code: str, shown: str) -> str:
    """A complex field as Word writes it, its code cut over two runs as Word often does."""
    mark = '<w:r><w:fldChar w:fldCharType="{}"/></w:r>'.format
    half = len(code) // 2
    codes = "".join(
        f'<w:r><w:instrText xml:space="preserve">{xml_escape(part)}</w:instrText></w:r>'
        for part in (code[:half], code[half:])
    )
    return mark("begin") + codes + mark("separate") + _run(shown) + mark("end")


def _citation(*items: dict, program: str = "ZOTERO_ITEM CSL_CITATION") -> str:
    code = f" ADDIN {program} " + json.dumps({"citationID": "c", "citationItems": list(items)})
    return _field(code, "(Author, 2024)")


def _item(uri: str, **data: object) -> dict:
    return {"id": uri, "uris": [uri], "itemData": {"type": "article-journal", **data}}


def _muse_item() -> dict:
    """MUSE as a Zotero item without author or year: its key is made from its title."""
    return _item("http://zotero.org/users/1/items/MUSE", title=MUSE[0], abstract=MUSE[1])


def _write_docx(path: Path, paragraphs: list[str], footnotes: list[str]) -> None:
    def part(tag: str, inner: list[str]) -> str:
        return f"<w:{tag} {_W}>" + "".join(f"<w:p>{p}</w:p>" for p in inner) + f"</w:{tag}>"

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", part("document", paragraphs))
        notes = "".join(
            f'<w:footnote w:id="{n}"><w:p>{note}</w:p></w:footnote>'
            for n, note in enumerate(footnotes, start=1)
        )
        archive.writestr("word/footnotes.xml", f"<w:footnotes {_W}>{notes}</w:footnotes>")


def test_a_word_draft_with_zotero_and_mendeley_citations(
    cli, tmp_path: Path, keyword_judge
) -> None:
    muse = _item(
        "http://zotero.org/users/1/items/MUSE", title=MUSE[0], abstract=MUSE[1], DOI="10.5/muse",
        author=[{"family": "Shi", "given": "Weijia"}], issued={"date-parts": [[2024]]},
    )  # fmt: skip
    ocr = _item("http://zotero.org/users/1/items/OCR", title=OCR[0], abstract=OCR[1])
    ocr["itemData"]["citation-key"] = "ocr2024"  # Better BibTeX gives Zotero items their keys
    bare = _item("ITEM-1", title="MUSE, the version without an abstract", DOI="10.5/MUSE")
    draft = tmp_path / "paper.docx"
    _write_docx(
        draft,
        [
            _run("Introduction"),
            _run(f"{MUSE_CLAIM} ") + _citation(muse) + _run(". Not cited here. See ")
            + _field(' HYPERLINK "https://x.org" ', "our site") + _run("."),
            _run(f"{OCR_CLAIM} ") + _citation(ocr, muse) + _run("."),
            _run("Language models forget ") + _citation(bare, program="CSL_CITATION") + _run("."),
        ],
        [_run("Most footnotes say little ") + _citation(muse) + _run(".")],
    )  # fmt: skip
    result = cli("check", draft, "--store", tmp_path / "store", "--json")
    assert result.code == EXIT_WEAK_CITATIONS, result.err
    assert pairs_of(result) == [
        ("paper.docx", 2, "shi2024muse", "supported"),
        ("paper.docx", 3, "ocr2024", "supported"),
        ("paper.docx", 3, "shi2024muse", "unsupported"),
        # no abstract: judged against the stored paper its DOI names
        ("paper.docx", 4, "museversion", "supported"),
        ("paper.docx#footnotes", 1, "shi2024muse", "supported"),
    ]
    sentences = [pair["sentence"] for pair in result.json()["pairs"]]
    assert sentences[0] == f"{MUSE_CLAIM}."  # what the field showed, "(Author, 2024)", is not read
    assert sentences[3] == "Language models forget."


def test_a_paragraph_that_only_cites_cites_the_one_before_it(
    cli, tmp_path: Path, keyword_judge
) -> None:
    # as a table's cells are: the claim in one, its citation alone in the next
    draft = tmp_path / "table.docx"
    _write_docx(draft, [_run("Results"), _run(MUSE_CLAIM), _citation(_muse_item())], [])
    result = cli("check", draft, "--store", tmp_path / "store", "--json")
    assert result.code == 0, result.err
    assert pairs_of(result) == [("table.docx", 3, "musemachine", "supported")]
    assert result.json()["pairs"][0]["sentence"] == MUSE_CLAIM


@pytest.mark.parametrize(
    ("name", "parts", "says"),
    [
        ("a.docx", None, "cannot be read as a Word document"),  # cut short: no zip directory
        ("a.docx", {"content.xml": "<office/>"}, "a zip archive but no Word document"),
        ("a.docx", {"word/document.xml": "<w:document"}, "document.xml is not well-formed XML"),
        ("a.odt", None, "cannot be read as an OpenDocument file"),
        ("a.odt", {"word/document.xml": "<w/>"}, "a zip archive but no OpenDocument text"),
        ("a.odt", {"content.xml": "<office:document"}, "content.xml is not well-formed XML"),
    ],
)
def test_unreadable_word_processor_drafts(
    cli, tmp_path: Path, name: str, parts: dict | None, says: str
) -> None:
    draft = tmp_path / name
    if parts is None:
        draft.write_bytes(b"PK\x03\x04\x14\x00\x06\x00word/document.xml")
    else:
        with zipfile.ZipFile(draft, "w") as archive:
            for part, text in parts.items():
                archive.writestr(part, text)
    result = cli("check", draft)
    assert result.code == 1
    assert result.err.startswith("Error: ") and says in result.err, result.err
    assert "Traceback" not in result.err


def test_a_word_draft_without_citation_fields_says_where_citations_are_read(
    cli, tmp_path: Path
) -> None:
    draft = tmp_path / "typed.docx"
    _write_docx(draft, [_run("Attention wins (Vaswani et al., 2017).")], [])
    result = cli("check", draft)
    assert result.code == 0, result.err
    assert "No citations found" in result.out and "Zotero, Mendeley or EndNote" in result.out
    assert "--author-year" in result.out and "numbered reference list" in result.out
    markdown = tmp_path / "typed.md"
    markdown.write_text("Attention wins (Vaswani et al., 2017).\n")
    result = cli("check", markdown)
    assert "[@key]" in result.out and "--author-year" in result.out


_ODT = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)


def _write_odt(path: Path, body: str, styles: str = "") -> None:
    """An .odt whose text is `body` (OpenDocument text elements), with automatic `styles`."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr(
            "content.xml",
            f"<office:document-content {_ODT}><office:automatic-styles>{styles}"
            "</office:automatic-styles><office:body><office:text>"
            f"{body}</office:text></office:body></office:document-content>",
        )


def _mark(*items: dict) -> str:
    """A citation as Zotero leaves it in LibreOffice: a reference mark named by its code."""
    code = "ZOTERO_ITEM CSL_CITATION " + json.dumps({"citationItems": list(items)}) + " RNDx1"
    name = xml_escape(code, {'"': "&quot;"})
    return (
        f'<text:reference-mark-start text:name="{name}"/>(Shi et al., 2024)'
        f'<text:reference-mark-end text:name="{name}"/>'
    )


def test_an_opendocument_draft_with_zotero_citations(cli, tmp_path: Path, keyword_judge) -> None:
    muse = _item(
        "http://zotero.org/users/1/items/MUSE", title=MUSE[0], abstract=MUSE[1],
        author=[{"family": "Shi", "given": "Weijia"}], issued={"date-parts": [[2024]]},
    )  # fmt: skip
    body = (
        "<text:h>Introduction</text:h>"
        f"<text:p>{MUSE_CLAIM}<text:s/>{_mark(muse)}. Plain text.</text:p>"
        f"<text:p><text:span>Transformers</text:span> leak {_mark(muse)}."
        f"<text:note><text:note-body><text:p>Most notes cite {_mark(muse)}.</text:p>"
        "</text:note-body></text:note> After the note.</text:p>"
    )
    draft = tmp_path / "paper.odt"
    _write_odt(draft, body)
    result = cli("check", draft, "--store", tmp_path / "store", "--json")
    assert result.code == EXIT_WEAK_CITATIONS, result.err
    assert pairs_of(result) == [
        ("paper.odt", 2, "shi2024muse", "supported"),
        ("paper.odt", 3, "shi2024muse", "unsupported"),
        ("paper.odt", 4, "shi2024muse", "supported"),
    ]
    sentences = [pair["sentence"] for pair in result.json()["pairs"]]
    assert sentences == [f"{MUSE_CLAIM}.", "Transformers leak.", "Most notes cite."]


def _endnote_record(number: int, title: str, abstract: str = "", **more: str) -> str:
    """One cited reference as EndNote writes it into a field: its XML export, text in <style>."""
    style = '<style face="normal" font="default" size="100%">{}</style>'.format
    fields = "".join(f"<{tag}>{style(xml_escape(text))}</{tag}>" for tag, text in more.items())
    abstract_xml = f"<abstract>{style(xml_escape(abstract))}</abstract>" if abstract else ""
    return (
        f"<Cite><Author>Shi</Author><Year>2024</Year><RecNum>{number}</RecNum><record>"
        f"<rec-number>{number}</rec-number><contributors><authors><author>{style('Shi, Weijia')}"
        f"</author></authors></contributors><titles><title>{style(xml_escape(title))}</title>"
        f"</titles><dates><year>{style('2024')}</year></dates>{abstract_xml}{fields}"
        "</record></Cite>"
    )


def test_a_word_draft_with_endnote_citations(cli, tmp_path: Path, keyword_judge) -> None:
    muse = "<EndNote>" + _endnote_record(7, MUSE[0], MUSE[1]) + "</EndNote>"
    # a long citation: the code is only "ADDIN EN.CITE", the XML is base64 in a nested field
    ocr = (
        "<EndNote>"
        + _endnote_record(9, OCR[0], OCR[1])
        + _endnote_record(7, MUSE[0])
        + "</EndNote>"
    )
    data = base64.b64encode(ocr.encode()).decode()
    nested = (
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        '<w:r><w:instrText xml:space="preserve"> ADDIN EN.CITE </w:instrText></w:r>'
        f'<w:r><w:fldChar w:fldCharType="begin"><w:fldData xml:space="preserve">{data}'
        "</w:fldData></w:fldChar></w:r>"
        '<w:r><w:instrText xml:space="preserve"> ADDIN EN.CITE.DATA </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
        + _run("(Out, 2025; Shi, 2024)")
        + '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
    )
    draft = tmp_path / "paper.docx"
    _write_docx(
        draft,
        [
            _run(f"{MUSE_CLAIM} ") + _field(f" ADDIN EN.CITE {muse}", "(Shi, 2024)") + _run("."),
            _run(f"{OCR_CLAIM} ") + nested + _run("."),
        ],
        [],
    )
    result = cli("check", draft, "--store", tmp_path / "store", "--json")
    assert result.code == EXIT_WEAK_CITATIONS, result.err
    assert pairs_of(result) == [
        ("paper.docx", 1, "shi2024muse", "supported"),
        ("paper.docx", 2, "shi2024generalization", "supported"),
        ("paper.docx", 2, "shi2024muse", "unsupported"),  # record 7 again: the same key
    ]
    assert [pair["sentence"] for pair in result.json()["pairs"]][:2] == [
        f"{MUSE_CLAIM}.",
        f"{OCR_CLAIM}.",
    ]


def test_a_word_draft_with_mendeley_cite_content_controls(
    cli, tmp_path: Path, keyword_judge
) -> None:
    # Mendeley Cite (the add-in of Mendeley Reference Manager) keeps each citation's items as
    # base64 JSON in the tag of a content control around what the citation shows
    muse = _item(
        "mendeley-1", title=MUSE[0], abstract=MUSE[1],
        author=[{"family": "Shi", "given": "Weijia"}], issued={"date-parts": [[2024]]},
    )  # fmt: skip
    payload = json.dumps({"citationID": "MENDELEY_CITATION_1", "citationItems": [muse]})
    tag = "MENDELEY_CITATION_v3_" + base64.b64encode(payload.encode()).decode()
    control = (
        f'<w:sdt><w:sdtPr><w:tag w:val="{tag}"/></w:sdtPr>'
        f"<w:sdtContent>{_run('(Shi et al., 2024)')}</w:sdtContent></w:sdt>"
    )
    draft = tmp_path / "paper.docx"
    _write_docx(draft, [_run(f"{MUSE_CLAIM} ") + control + _run(". Plain.")], [])
    result = cli("check", draft, "--store", tmp_path / "store", "--json")
    assert result.code == 0, result.err
    assert pairs_of(result) == [("paper.docx", 1, "shi2024muse", "supported")]
    assert result.json()["pairs"][0]["sentence"] == f"{MUSE_CLAIM}."


def test_a_word_text_box_is_read_once(cli, tmp_path: Path, keyword_judge) -> None:
    # Word writes a text box twice (for new readers and, under mc:Fallback, for old ones),
    # each copy a paragraph inside the paragraph that anchors it
    muse = _muse_item()
    boxed = f"<w:p>{_run(f'{MUSE_CLAIM} ') + _citation(muse) + _run('.')}</w:p>"
    mc = 'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
    anchor = (
        _run("Anchor text. ")
        + f"<w:r><mc:AlternateContent {mc}><mc:Choice><w:drawing><w:txbxContent>{boxed}"
        + f"</w:txbxContent></w:drawing></mc:Choice><mc:Fallback><w:pict><w:txbxContent>{boxed}"
        + "</w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r>"
    )
    draft = tmp_path / "boxed.docx"
    _write_docx(draft, [anchor], [])
    result = cli("check", draft, "--store", tmp_path / "store", "--json")
    assert result.code == 0, result.err
    assert [pair["sentence"] for pair in result.json()["pairs"]] == [f"{MUSE_CLAIM}."]


def test_a_word_draft_with_tracked_changes_is_read_as_it_now_stands(
    cli, tmp_path: Path, keyword_judge
) -> None:
    muse = _muse_item()
    moved = _run(f"{MUSE_CLAIM} ") + _citation(muse) + _run(".")
    deleted = '<w:r><w:delText xml:space="preserve">Deleted words. </w:delText></w:r>'
    draft = tmp_path / "tracked.docx"
    _write_docx(
        draft,
        [
            f"<w:moveFrom>{moved}</w:moveFrom>",  # where the sentence was: struck through
            f"<w:del>{deleted}</w:del>" + f"<w:moveTo>{moved}</w:moveTo>",
        ],
        [],
    )
    result = cli("check", draft, "--store", tmp_path / "store", "--json")
    assert result.code == 0, result.err
    assert pairs_of(result) == [("tracked.docx", 2, "musemachine", "supported")]
    assert result.json()["pairs"][0]["sentence"] == f"{MUSE_CLAIM}."


# ---------------------------------------------------------------------------------------------
# Typed author-year citations (check --author-year)


def _library(tmp_path: Path) -> Path:
    """A .bib of three papers with authors: two by Smith from 2020, one by Shi from 2024."""
    path = tmp_path / "library.bib"
    path.write_text(
        f"@article{{shi2024,\n  author = {{Shi, Weijia and Lee, Jaechan}},\n"
        f"  title = {{{MUSE[0]}}},\n  year = {{2024}},\n  abstract = {{{MUSE[1]}}}\n}}\n"
        "@article{smith2020a,\n  author = {Smith, Ann},\n  title = {First},\n"
        "  year = {2020},\n  abstract = {Bees dance.}\n}\n"
        "@article{smith2020b,\n  author = {Smith, Bob},\n  title = {Second},\n"
        "  year = {2020},\n  abstract = {Bees sing.}\n}\n"
    )
    return path


def test_typed_author_year_citations_are_resolved_by_surname_and_year(
    cli, tmp_path: Path, keyword_judge
) -> None:
    store = tmp_path / "store"
    assert cli("ingest", _library(tmp_path), "--store", store).code == 0
    draft = tmp_path / "typed.md"
    draft.write_text(
        f"{MUSE_CLAIM} (see Shi et al., 2024).\n"
        "Most unlearning fails, as Shi and Lee (2024) show.\n"
        "Bees dance (Smith, 2020; Jones & Brown, 2019).\n"
        "Table 2 lists them (Table 2, 2020). Sales rose (n = 2,000) in 2021.\n"
    )
    plain = cli("check", draft, "--store", store, "--json")
    assert plain.json()["pairs"] == []  # without --author-year, typed citations are text
    result = cli("check", draft, "--store", store, "--author-year", "--json")
    assert result.code == EXIT_WEAK_CITATIONS, result.err
    assert pairs_of(result) == [
        ("typed.md", 1, "shi2024", "supported"),
        ("typed.md", 2, "shi2024", "supported"),
        ("typed.md", 3, "Smith (2020)",
         "not in the library: 2 stored papers by Smith from 2020: smith2020a, smith2020b"),
        ("typed.md", 3, "Jones and Brown (2019)",
         "not in the library: no stored paper by Jones from 2019"),
    ]  # fmt: skip
    sentences = [pair["sentence"] for pair in result.json()["pairs"]]
    assert sentences[:2] == [f"{MUSE_CLAIM}.", "Most unlearning fails, as Shi and Lee show."]


def test_typed_citations_in_a_word_draft(cli, tmp_path: Path, keyword_judge) -> None:
    store = tmp_path / "store"
    assert cli("ingest", _library(tmp_path), "--store", store).code == 0
    draft = tmp_path / "typed.docx"
    _write_docx(draft, [_run("Intro."), _run(f"{MUSE_CLAIM} (Shi et al., 2024).")], [])
    result = cli("check", draft, "--store", store, "--author-year", "--json")
    assert result.code == 0, result.err
    assert pairs_of(result) == [("typed.docx", 2, "shi2024", "supported")]


@pytest.mark.parametrize(
    ("text", "cited"),
    [
        ("Shown (Smith et al., 2019a, 2020).", [["Smith (2019a)", "Smith (2020)"]]),
        ("Shown (e.g., Smith, 2019; see also Doe and Roe, 2021, p. 4).",
         [["Smith (2019)", "Doe and Roe (2021)"]]),
        ("Smith & Jones (2019) and Doe et al. (2020, 2021) agree.",
         [["Smith and Jones (2019)"], ["Doe (2020)", "Doe (2021)"]]),
        ("Müller (2018) disagrees.", [["Müller (2018)"]]),
        # Harvard's page after a colon, and a possessive in the sentence
        ("Shown (Smith 2019: 12; Doe, 2020, pp. 3-4).", [["Smith (2019)", "Doe (2020)"]]),
        ("Smith et al.'s (2019) and Doe\u2019s (2020) data.", [["Smith (2019)"], ["Doe (2020)"]]),
        # surnames with particles, in parentheses and in the sentence
        ("Shown (van der Berg, 2019; de Vries et al., 2020).",
         [["van der Berg (2019)", "de Vries (2020)"]]),
        ("As Van der Berg and Smith (2019) and von Neumann (1945) found.",
         [["Van der Berg and Smith (2019)"], ["von Neumann (1945)"]]),
        # not citations: a table, a figure, a count, a bare year, capitals, a month, a p value
        ("See (Table 2, 2020), (n = 2,000), (2019), BERT (2019) and WHO (2020).", []),
        ("It ran in March (2020) with (p < 0.05, 2020) and (Figure 3, 2021).", []),
        ("A mixed group (Smith, 2019; Table 2) stays text.", []),
    ],
)  # fmt: skip
def test_which_typed_text_is_an_author_year_citation(text: str, cited: list[list[str]]) -> None:
    from assistant.draftcheck.author_year import mark_typed

    found: list[list[str]] = []

    def cite(keys: list[str], line: int) -> str:
        found.append(keys)
        return "[cited]"

    mark_typed(text, cite, lambda offset: 1)
    assert found == cited


def test_word_special_characters_read_as_text(tmp_path: Path) -> None:
    from assistant.draftcheck import parse_draft

    muse = _muse_item()
    hyphen, line_break = "<w:r><w:noBreakHyphen/></w:r>", "<w:r><w:cr/></w:r>"
    draft = tmp_path / "special.docx"
    paragraph = (
        _run("State") + hyphen + _run("of") + hyphen + _run("the") + hyphen + _run("art")
        + line_break + _run("models forget ") + _citation(muse) + _run(".")
    )  # fmt: skip
    _write_docx(draft, [paragraph], [])
    [sentence] = parse_draft(draft)
    assert sentence.sentence == "State-of-the-art models forget."


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_endnote_data_reads_in_either_encoding(encoding: str) -> None:
    from assistant.draftcheck.endnote_cites import endnote_records, endnote_xml

    xml = "<EndNote>" + _endnote_record(3, "Café society", "An abstract.") + "</EndNote>"
    data = base64.b64encode(xml.encode(encoding)).decode()
    [(ids, fields)] = endnote_records(endnote_xml(" ADDIN EN.CITE ", data))
    assert ids == ["endnote:3"]
    assert (fields["title"], fields["abstract"], fields["year"]) == (
        "Café society",
        "An abstract.",
        2024,
    )
    assert endnote_records(endnote_xml(" ADDIN EN.CITE ", "not base64 at all!")) == []


def test_mendeley_item_numbers_name_no_paper_across_citations(tmp_path: Path) -> None:
    # Mendeley Desktop numbers each citation's items ITEM-1, ITEM-2, ... afresh, inside
    # itemData too: neither a key nor the same paper in another citation
    from assistant.draftcheck import read_plain

    def item(title: str, uuid: str) -> dict:
        data = {"id": "ITEM-1", "type": "article-journal", "title": title, "abstract": "A."}
        uri = f"http://www.mendeley.com/documents/?uuid={uuid}"
        return {"id": "ITEM-1", "uris": [uri], "itemData": data}

    draft = tmp_path / "mendeley.docx"
    paragraphs = [
        _run("One claim ") + _citation(item("Deep nets", "u1"), program="CSL_CITATION") + _run("."),
        _run("Two claim ") + _citation(item("Shallow nets", "u2"), program="CSL_CITATION") + _run("."),
    ]  # fmt: skip
    _write_docx(draft, paragraphs, [])
    plain = read_plain(draft)
    keys = [key for citation in plain.citations for key in citation.keys]
    assert keys == ["deepnets", "shallownets"]


def test_an_opendocument_draft_without_its_comments_and_deleted_text(tmp_path: Path) -> None:
    from assistant.draftcheck import parse_draft

    muse = _muse_item()
    deleted = f"<text:p>An old claim {_mark(muse)}.</text:p>"
    body = (
        "<text:tracked-changes><text:changed-region><text:deletion>"
        f"{deleted}</text:deletion></text:changed-region></text:tracked-changes>"
        f"<text:p>Models forget<office:annotation><text:p>Check this {_mark(muse)}.</text:p>"
        f"</office:annotation> {_mark(muse)}.</text:p>"
    )
    draft = tmp_path / "commented.odt"
    _write_odt(draft, body)
    assert [(s.sentence, s.line) for s in parse_draft(draft)] == [("Models forget.", 1)]


def test_a_note_style_citation_is_judged_with_the_sentence_its_note_hangs_from(
    tmp_path: Path,
) -> None:
    # Chicago's notes: the footnote holds nothing but the citation, so the claim is the body
    # sentence that the note's reference mark follows
    from assistant.draftcheck import parse_draft

    muse = _muse_item()
    mark = '<w:r><w:footnoteReference w:id="{}"/></w:r>'.format
    body = [
        _run("First sentence here.") + mark(2) + _run(" Second sentence.") + mark(3),
        _run(f"{MUSE_CLAIM}") + _run(" (") + _citation(muse) + _run(")."),
    ]
    notes = (
        f'<w:footnote w:id="2"><w:p><w:r><w:footnoteRef/></w:r>{_citation(muse)}'
        "<w:r><w:t>.</w:t></w:r></w:p></w:footnote>"
        f'<w:footnote w:id="3"><w:p>{_run("A note that says more ")}{_citation(muse)}'
        f"{_run('.')}</w:p></w:footnote>"
    )
    draft = tmp_path / "notes.docx"
    with zipfile.ZipFile(draft, "w") as archive:
        archive.writestr(
            "word/document.xml",
            f"<w:document {_W}><w:body>"
            + "".join(f"<w:p>{p}</w:p>" for p in body)
            + "</w:body></w:document>",
        )
        archive.writestr("word/footnotes.xml", f"<w:footnotes {_W}>{notes}</w:footnotes>")
    found = [(Path(s.file).name, s.line, s.sentence) for s in parse_draft(draft)]
    assert found == [
        ("notes.docx", 1, "First sentence here."),
        ("notes.docx", 2, f"{MUSE_CLAIM}."),
        ("notes.docx#footnotes", 2, "A note that says more."),
    ]


def test_an_opendocument_note_style_citation_goes_to_its_sentence(tmp_path: Path) -> None:
    from assistant.draftcheck import parse_draft

    muse = _muse_item()

    def note(body: str) -> str:
        return (
            "<text:note><text:note-citation>1</text:note-citation><text:note-body>"
            f"<text:p>{body}</text:p></text:note-body></text:note>"
        )

    body = f"<text:p>{MUSE_CLAIM}.{note(_mark(muse) + '.')} Then more.{note('A real note ' + _mark(muse) + '.')}</text:p>"
    draft = tmp_path / "notes.odt"
    _write_odt(draft, body)
    found = [(s.line, s.sentence) for s in parse_draft(draft)]
    assert found == [(1, f"{MUSE_CLAIM}."), (3, "A real note.")]


def test_typed_and_keyed_citations_keep_the_drafts_order(cli, tmp_path: Path) -> None:
    from assistant.draftcheck import read_plain
    from assistant.draftcheck.sentences import citing_sentences

    draft = tmp_path / "mixed.md"
    draft.write_text("First (Smith, 2020).\n\nSecond [@doe2021].\n\nThird (Roe, 2019).\n")
    sentences = citing_sentences(read_plain(draft, author_year=True))
    assert [s.sentence for s in sentences] == ["First.", "Second.", "Third."]


def test_a_surname_with_a_particle_is_matched_by_its_last_word() -> None:
    from assistant.draftcheck.author_year import resolve_typed
    from assistant.papers import Paper

    berg = Paper(
        key="vanderberg2019", title="T", abstract="A.", authors=["van der Berg, Anna"], year=2019
    )
    typed = ["Berg (2019)", "van der Berg (2019)", "Van der Berg (2019)"]
    assert resolve_typed(typed, [berg]) == {key: ("vanderberg2019", "") for key in typed}


def test_a_second_author_tells_two_papers_of_one_first_author_and_year_apart() -> None:
    from assistant.draftcheck.author_year import mark_typed, resolve_typed
    from assistant.papers import Paper

    papers = [
        Paper(key="a", title="T", abstract="A.", authors=["Smith, Ann", "Jones, Bo"], year=2020),
        Paper(key="b", title="U", abstract="B.", authors=["Smith, Bob"], year=2020),
    ]
    found: list[list[str]] = []
    text = "Bees dance (Smith & Jones, 2020), as Smith and Roe (2020) and Smith (2020) say."
    mark_typed(text, lambda keys, line: found.append(keys) or "", lambda offset: 1)
    assert found == [["Smith and Jones (2020)"], ["Smith and Roe (2020)"], ["Smith (2020)"]]
    resolved = resolve_typed([key for keys in found for key in keys], papers)
    assert resolved["Smith and Jones (2020)"] == ("a", "")
    assert resolved["Smith and Roe (2020)"] == (None, "2 stored papers by Smith from 2020: a, b")
    assert resolved["Smith (2020)"] == (None, "2 stored papers by Smith from 2020: a, b")


def test_an_opendocument_draft_saved_by_libreoffice_keeps_its_zotero_citation(
    cli, tmp_path: Path, keyword_judge
) -> None:
    # a Zotero reference mark in an .odt that LibreOffice Writer opened and saved again
    draft = DRAFTS / "zotero_libreoffice.odt"
    result = cli("check", draft, "--store", tmp_path / "store", "--json")
    assert pairs_of(result) == [("zotero_libreoffice.odt", 2, "musemachine", "supported")]


@pytest.mark.parametrize("suffix", [".odt", ".docx"])
def test_a_word_drafts_zotero_field_kept_through_libreoffice(
    cli, tmp_path: Path, keyword_judge, suffix: str
) -> None:
    # a Word draft's Zotero field, opened and saved by LibreOffice Writer: as .docx, a field as
    # LibreOffice writes fields; as .odt, a fieldmark that keeps the field's code
    name = f"zotero_word_to_libreoffice{suffix}"
    draft = DRAFTS / name
    result = cli("check", draft, "--store", tmp_path / "store", "--json")
    assert pairs_of(result) == [(name, 2, "musemachine", "supported")]
    assert result.json()["pairs"][0]["sentence"] == f"{MUSE_CLAIM}."


@pytest.mark.parametrize("suffix", [".docx", ".odt"])
def test_an_endnote_citation_whose_records_were_dropped_is_reported(
    cli, tmp_path: Path, keyword_judge, suffix: str
) -> None:
    # LibreOffice Writer saved this EndNote-cited .docx again, as .docx and as .odt: the short
    # citation keeps its XML in the field's code, the long one loses its base64 data; it is
    # said, not skipped
    name = f"endnote_libreoffice{suffix}"
    draft = DRAFTS / name
    result = cli("check", draft, "--store", tmp_path / "store", "--json")
    assert result.code == EXIT_WEAK_CITATIONS, result.err
    assert pairs_of(result) == [
        (name, 2, "shi2024muse", "supported"),
        (name, 3, "EndNote citation", DROPPED_ENDNOTE_RECORDS),
    ]


@pytest.mark.parametrize("between", ["\n\n", "\n"])  # entries apart, or line after line
def test_typed_citations_are_resolved_through_the_drafts_reference_list(
    cli, tmp_path: Path, keyword_judge, between: str
) -> None:
    # APA's list tells Smith's two papers of 2020 apart by the letter after the year, which the
    # store alone cannot; a citation its list lacks falls back to the store
    store = tmp_path / "store"
    assert cli("ingest", _library(tmp_path), "--store", store).code == 0
    draft = tmp_path / "apa.md"
    draft.write_text(
        "Bees sing (Smith, 2020b). Bees dance, as Smith (2020a) shows.\n"
        f"{MUSE_CLAIM} (Shi & Lee, 2024).\n\n"
        "# References\n\n"
        "Smith, A. (2020a). First. *Journal of\n    Bees*, 1, 1-2."
        + between
        + "Smith, B. (2020b). Second. *Journal of Bees*, 2, 3-4.\n"
    )
    result = cli("check", draft, "--store", store, "--author-year", "--json")
    assert pairs_of(result) == [
        ("apa.md", 1, "smith2020b", "supported"),
        ("apa.md", 1, "smith2020a", "supported"),
        ("apa.md", 2, "shi2024", "supported"),
    ]

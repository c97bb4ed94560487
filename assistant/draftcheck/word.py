"""Word drafts (.docx) cited with Zotero, Mendeley or EndNote: each citation is a field whose
code holds its references (`ADDIN ZOTERO_ITEM CSL_CITATION {...}`, Mendeley Desktop's `ADDIN
CSL_CITATION {...}`, read by `cited_items`; EndNote's `ADDIN EN.CITE <EndNote>...`, read by
`endnote_cites`), or, from Mendeley Cite, a content control whose tag holds them
(`MENDELEY_CITATION_v3_` and base64 CSL JSON); what a citation shows, "(Smith et al., 2020)",
is not read. Superscript numbers that cite (Vancouver's) read as "[1,2]", for `numbered`; other
citations typed as text are read only as `author_year` reads them. Body paragraphs, then
footnotes and endnotes, are passages; a sentence's "line" is its paragraph's number in its part.
"""

import base64
import binascii
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from assistant.draftcheck.cited_items import CitedItems, is_citation, is_endnote_citation
from assistant.draftcheck.endnote_cites import CITE_MARK, DATA_MARK
from assistant.draftcheck.numbered import add_superscript
from assistant.draftcheck.sentences import (
    Citation,
    Passage,
    PlainText,
    before_final_stop,
    renumbered,
    says_nothing,
)
from assistant.errors import DraftError

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_PARTS = ("word/document.xml", "word/footnotes.xml", "word/endnotes.xml")
MENDELEY_CITE = "MENDELEY_CITATION_v3_"
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
# Not part of this paragraph as it stands: a paragraph inside it (a text box's, read on its
# own), the old-reader copy of a text box, and text tracked as moved away or deleted.
_SPACES = (f"{_W}tab", f"{_W}br", f"{_W}cr")
_NOTE_KINDS = ("footnote", "endnote")
_NOTE_REFERENCES = {f"{_W}{kind}Reference": kind for kind in _NOTE_KINDS}
_NOT_READ = (f"{_W}p", _FALLBACK, f"{_W}moveFrom", f"{_W}del")


def read_word(path: Path) -> PlainText:
    """A .docx draft as plain text with placeholders for its Zotero, Mendeley or EndNote
    citations."""
    text = PlainText()
    items = CitedItems(text, path)
    parts = dict(_parts(path))
    # notes first: a note that holds nothing but citations (a note style's) lends them to the
    # body sentence its reference mark follows
    notes: dict[str, list[Passage]] = {}
    citing_notes: dict[tuple[str, str], list[Citation]] = {}
    for kind in _NOTE_KINDS:
        if f"{kind}s" in parts:
            notes[kind] = _notes(kind, parts[f"{kind}s"], items, citing_notes, f"{path}#{kind}s")
    for number, paragraph in enumerate(_paragraphs(parts[""]), start=1):
        passage = _paragraph_text(paragraph, _Fields(items, number, citing_notes))
        text.passages.append(Passage(str(path), passage, number))
    for passages in notes.values():  # numbered again, after the body's citations
        text.passages += [renumbered(passage, text) for passage in passages]
    return text


def _notes(
    kind: str,
    root: ElementTree.Element,
    items: CitedItems,
    citing: dict[tuple[str, str], list[Citation]],
    name: str,
) -> list[Passage]:
    """The passages of a footnotes or endnotes part; a note that holds only citations gives
    none, its citations going to `citing` by (kind, note id) instead."""
    passages: list[Passage] = []
    paragraphs = {id(p): n for n, p in enumerate(_paragraphs(root), start=1)}
    for note in root.iter(f"{_W}{kind}"):
        first = len(items.text.citations)
        read = [
            Passage(name, _paragraph_text(p, _Fields(items, paragraphs[id(p)])), paragraphs[id(p)])
            for p in _paragraphs(note)
        ]
        cited = items.text.citations[first:]
        if cited and says_nothing("".join(passage.text for passage in read)):
            citing[(kind, note.get(f"{_W}id", ""))] = cited
        else:
            passages += read
    return passages


def _paragraphs(root: ElementTree.Element) -> list[ElementTree.Element]:
    """The paragraphs under `root`; a text box's once (its copy for old readers, under
    mc:Fallback, is skipped)."""
    copies = {element for fallback in root.iter(_FALLBACK) for element in fallback.iter()}
    return [p for p in root.iter(f"{_W}p") if p not in copies]


def _paragraph_text(paragraph: ElementTree.Element, fields: "_Fields") -> str:
    """A paragraph's text as it now stands, each citation in it a placeholder."""
    skipped: set[ElementTree.Element] = set()
    for element in paragraph.iter():
        if element in skipped:
            continue
        code = _mendeley_cite(element)
        if code is not None:  # a content control: what it shows is not read
            skipped.update(element.iter())
            fields.pieces.append(fields.items.cite(code, fields.line))
        elif element.tag in _NOT_READ and element is not paragraph:
            skipped.update(element.iter())
        else:
            fields.take(element)
    return fields.text()


def _parts(path: Path) -> Iterator[tuple[str, ElementTree.Element]]:
    """(name for the file column, root) of the body, then footnotes and endnotes."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if _PARTS[0] not in names:
                raise DraftError(f"{path} is a zip archive but no Word document (.docx).")
            parts = [(name, archive.read(name)) for name in _PARTS if name in names]
    except (zipfile.BadZipFile, OSError) as exc:
        raise DraftError(f"{path} cannot be read as a Word document: {exc}.") from None
    for name, data in parts:
        try:
            root = ElementTree.fromstring(data)
        except ElementTree.ParseError as exc:
            raise DraftError(f"{path}: {name} is not well-formed XML ({exc}).") from None
        yield ("" if name == _PARTS[0] else name.removeprefix("word/").removesuffix(".xml")), root


def _mendeley_cite(element: ElementTree.Element) -> str | None:
    """The citation code (CSL JSON) of a Mendeley Cite content control: its tag is
    `MENDELEY_CITATION_v3_` and the JSON in base64."""
    if element.tag != f"{_W}sdt":
        return None
    tag = element.find(f"{_W}sdtPr/{_W}tag")
    value = tag.get(f"{_W}val", "") if tag is not None else ""
    if not value.startswith(MENDELEY_CITE):
        return None
    try:
        return base64.b64decode(value.removeprefix(MENDELEY_CITE)).decode("utf-8")
    except (binascii.Error, ValueError):
        return ""  # a citation all the same: what it shows is not read


def _raised(run: ElementTree.Element) -> bool:
    """Whether a run is superscript: Word's vertAlign, or a raised position as LibreOffice
    saves its superscripts."""
    align = run.find(f"{_W}rPr/{_W}vertAlign")
    if align is not None and align.get(f"{_W}val") == "superscript":
        return True
    position = run.find(f"{_W}rPr/{_W}position")
    value = position.get(f"{_W}val", "") if position is not None else ""
    return value.isdigit() and int(value) > 0  # half-points up; "-6" is lowered


@dataclass
class _Field:
    """A field begun and not yet ended."""

    code: str = ""  # its instruction text, as its runs are met
    showing: bool = False  # past its separator: its runs are what it shows
    data: str = ""  # its binary data (EndNote's, base64)

    @property
    def is_citation(self) -> bool:
        return is_citation(self.code) or CITE_MARK in self.code


class _Fields:
    """One paragraph's text as its runs are met, fields and all: a citation field becomes a
    placeholder; any other field (a link, a page number) reads as what it shows."""

    def __init__(
        self,
        items: CitedItems,
        line: int,
        citing_notes: dict[tuple[str, str], list[Citation]] | None = None,
    ) -> None:
        self.items = items
        self.line = line
        self.citing_notes = citing_notes or {}  # a note style's citations, by (kind, note id)
        self.pieces: list[str] = []
        self.open: list[_Field] = []  # fields begun and not ended, innermost last
        self.superscript = False  # the run being read is superscript
        self.cited_at = -1  # the piece of superscript numbers, bracketed as "[1,2]"

    def take(self, element: ElementTree.Element) -> None:
        tag = element.tag
        if tag == f"{_W}r":
            self.superscript = _raised(element)
        elif tag == f"{_W}fldChar":
            self._field_mark(element)
        elif tag == f"{_W}instrText" and self.open:
            self.open[-1].code += element.text or ""
        elif tag == f"{_W}t" and not (self.open and self._hidden()):
            self._run_text(element.text or "")
        elif tag in _SPACES:
            self.pieces.append(" ")
        elif tag == f"{_W}noBreakHyphen":
            self.pieces.append("-")
        elif tag in _NOTE_REFERENCES:  # the citations of a note that holds nothing else
            note = (_NOTE_REFERENCES[tag], element.get(f"{_W}id", ""))
            cited = self.citing_notes.get(note, [])
            self._before_stop([self.items.text.cite(list(c.keys), self.line) for c in cited])

    def text(self) -> str:
        return "".join(self.pieces)

    def _run_text(self, text: str) -> None:
        """A run's text; superscript numbers that cite as "[1,2]", for `numbered` to read."""
        cited_at = add_superscript(self.pieces, self.cited_at, text) if self.superscript else -1
        if cited_at < 0:
            self.pieces.append(text)
        self.cited_at = cited_at

    def _before_stop(self, placeholders: list[str]) -> None:
        self.pieces = [before_final_stop(self.text(), "".join(placeholders))]
        self.cited_at = -1

    def _field_mark(self, mark: ElementTree.Element) -> None:
        kind = mark.get(f"{_W}fldCharType")
        if kind == "begin":
            data = "".join(part.text or "" for part in mark.iter(f"{_W}fldData"))
            self.open.append(_Field(data=data))
        elif kind == "separate" and self.open:
            self.open[-1].showing = True
        elif kind == "end" and self.open:
            self._field_end(self.open.pop())

    def _field_end(self, field: _Field) -> None:
        code = field.code
        if DATA_MARK in code:  # EndNote's data field: its XML belongs to the field around it
            if self.open:
                self.open[-1].data += field.data
        elif is_citation(code) or is_endnote_citation(code):
            self.pieces.append(self.items.cite_field(code, self.line, field.data))

    def _hidden(self) -> bool:
        """A run inside a field's code, or inside what a citation field shows."""
        field = self.open[-1]
        return not field.showing or field.is_citation

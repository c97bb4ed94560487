"""OpenDocument drafts (.odt, LibreOffice Writer) cited with Zotero or Mendeley: each citation
is a reference mark named by its code, `ZOTERO_ITEM CSL_CITATION {...} RND...`, around what it
shows, "(Smith, 2020)", which is not read (`cited_items` reads the code); a Word draft saved as
.odt keeps a Zotero, Mendeley or EndNote field as a fieldmark that holds its code, read the same
way.

Paragraphs and headings are passages, a footnote's paragraphs too (after the text around it);
comments and tracked deletions are not read; a sentence's "line" is its paragraph's number.
Raised numbers that cite (Vancouver's superscripts) read as "[1,2]", for `numbered`.
"""

import zipfile
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

from assistant.draftcheck.cited_items import CitedItems, is_citation, is_endnote_citation
from assistant.draftcheck.numbered import add_superscript
from assistant.draftcheck.sentences import (
    Passage,
    PlainText,
    before_final_stop,
    says_nothing,
)
from assistant.errors import DraftError

_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_STYLE = "{urn:oasis:names:tc:opendocument:xmlns:style:1.0}"
# A Word field kept by LibreOffice (a .docx saved as .odt): a fieldmark holding the field's code
_FIELD = "{urn:openoffice:names:experimental:ooo-ms-interop:xmlns:field:1.0}"
_FIELD_CODE = "vnd.oasis.opendocument.field.code"
_PARAGRAPHS = (f"{_TEXT}p", f"{_TEXT}h")
_SPACES = (f"{_TEXT}s", f"{_TEXT}tab", f"{_TEXT}line-break")
# Not the draft's text: tracked deletions (kept apart, at the top) and comments.
_NOT_READ = (
    f"{_TEXT}tracked-changes",
    "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}annotation",
)


def read_opendocument(path: Path) -> PlainText:
    """An .odt draft as plain text with placeholders for its Zotero or Mendeley citations."""
    text = PlainText()
    items = CitedItems(text, path)
    root = _content(path)
    unread = {e for skipped in root.iter() if skipped.tag in _NOT_READ for e in skipped.iter()}
    paragraphs = [e for e in root.iter() if e.tag in _PARAGRAPHS and e not in unread]
    raised = _superscript_styles(root)
    for number, paragraph in enumerate(paragraphs, start=1):
        if paragraph in unread:  # a note's, whose citations its mark's sentence took
            continue
        reading = _Paragraph(items.cite_field, number, raised)
        reading.walk(paragraph)
        unread.update(reading.lent)
        text.passages.append(Passage(str(path), "".join(reading.pieces), number))
    return text


def _content(path: Path) -> ElementTree.Element:
    try:
        with zipfile.ZipFile(path) as archive:
            data = archive.read("content.xml")
    except KeyError:
        raise DraftError(f"{path} is a zip archive but no OpenDocument text (.odt).") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise DraftError(f"{path} cannot be read as an OpenDocument file: {exc}.") from None
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise DraftError(f"{path}: content.xml is not well-formed XML ({exc}).") from None


def _superscript_styles(root: ElementTree.Element) -> set[str]:
    """The names of the text styles that raise text: "super 58%", or a percentage, "33% 58%"."""
    raised = set()
    for style in root.iter(f"{_STYLE}style"):
        for properties in style.iter(f"{_STYLE}text-properties"):
            position = properties.get(f"{_STYLE}text-position", "")
            if position.startswith("super") or position[:1].isdigit() and position[0] != "0":
                raised.add(style.get(f"{_STYLE}name", ""))
    return raised


def _field_code(fieldmark: ElementTree.Element) -> str:
    """The code of the Word field a fieldmark keeps ("ADDIN ZOTERO_ITEM CSL_CITATION {...}")."""
    return next(
        (
            param.get(f"{_FIELD}value", "")
            for param in fieldmark.iter(f"{_FIELD}param")
            if param.get(f"{_FIELD}name") == _FIELD_CODE
        ),
        "",
    )


class _Paragraph:
    """One paragraph's text; a citation's mark becomes a placeholder and what it shows is
    skipped. A footnote inside is left to be read as paragraphs of its own, unless it holds
    nothing but citations (a note style's): those cite the sentence its mark follows."""

    def __init__(
        self, cite: Callable[[str, int], str], line: int, raised: set[str] | None = None
    ) -> None:
        self.cite = cite
        self.line = line
        self.raised = raised or set()  # the superscript styles: their numbers may cite
        self.cited_at = -1  # the piece of superscript numbers, bracketed as "[1,2]"
        self.pieces: list[str] = []
        self.hiding: str | None = None  # the citation mark whose shown text is being skipped
        self.fields_open = 0  # the fieldmarks begun in a citation's and not ended, its own too
        self.lent: set[ElementTree.Element] = set()  # the elements of notes read here

    def walk(self, element: ElementTree.Element) -> None:
        self._add(element.text)
        for child in element:
            self._enter(child)
            self._add(child.tail)

    def _enter(self, child: ElementTree.Element) -> None:
        name = child.get(f"{_TEXT}name") or ""
        if child.tag == f"{_TEXT}reference-mark-start" and is_citation(name):
            self.pieces.append(self.cite(name, self.line))
            self.hiding = name
        elif child.tag == f"{_TEXT}reference-mark-end" and name == self.hiding:
            self.hiding = None
        elif child.tag == f"{_FIELD}fieldmark-start":
            self._field_start(_field_code(child))
        elif child.tag == f"{_FIELD}fieldmark-end" and self.hiding == _FIELD_CODE:
            self.fields_open -= 1
            self.hiding = _FIELD_CODE if self.fields_open else None
        elif child.tag in _SPACES:
            self._add(" ")
        elif child.tag == f"{_TEXT}note":
            self._note(child)
        elif child.get(f"{_TEXT}style-name") in self.raised and self.hiding is None:
            self._superscript(child)
        elif child.tag not in (*_PARAGRAPHS, *_NOT_READ):
            self.walk(child)

    def _field_start(self, code: str) -> None:
        """A citation field's code becomes a placeholder and what it shows is skipped, fields
        nested in it too (EndNote's data field)."""
        if self.hiding == _FIELD_CODE:
            self.fields_open += 1
        elif is_citation(code) or is_endnote_citation(code):
            self.pieces.append(self.cite(code, self.line))
            self.hiding, self.fields_open = _FIELD_CODE, 1

    def _superscript(self, span: ElementTree.Element) -> None:
        """Raised numbers that cite as "[1,2]", for `numbered` to read; other raised text as is."""
        self.cited_at = add_superscript(self.pieces, self.cited_at, "".join(span.itertext()))
        if self.cited_at < 0:
            self.walk(span)

    def _note(self, note: ElementTree.Element) -> None:
        codes: list[str] = []

        def noted(code: str, line: int) -> str:
            codes.append(code)
            return ""

        probe = _Paragraph(noted, self.line)
        for paragraph in (e for e in note.iter() if e.tag in _PARAGRAPHS):
            probe.walk(paragraph)
        if codes and says_nothing("".join(probe.pieces)):
            inserted = "".join(self.cite(code, self.line) for code in codes)
            self.pieces = [before_final_stop("".join(self.pieces), inserted)]
            self.cited_at = -1
            self.lent.update(note.iter())

    def _add(self, text: str | None) -> None:
        if text and self.hiding is None:
            self.pieces.append(text)

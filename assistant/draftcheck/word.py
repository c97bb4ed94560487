"""Word drafts (.docx) cited with Zotero or Mendeley: each citation is a field whose code holds
its items as CSL JSON (`ADDIN ZOTERO_ITEM CSL_CITATION {...}`, Mendeley's `ADDIN CSL_CITATION
{...}`), and what the field shows, "(Smith et al., 2020)", is not read.

The items are the draft's own bibliography: each gets its citation key (Better BibTeX's, or one
made as the store makes keys), an item with an abstract is judged against it, one without
against the stored paper it names (DOI, arXiv id or title). A citation typed as text has no
item and is not seen. Body paragraphs, then footnotes and endnotes, are passages; a sentence's
"line" is its paragraph's number in its part.
"""

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from assistant.draftcheck.sentences import Passage, PlainText
from assistant.errors import DraftError
from assistant.papers import Paper, citation_key
from assistant.readers.base import checked
from assistant.readers.json_fields import json_paper_fields

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_PARTS = ("word/document.xml", "word/footnotes.xml", "word/endnotes.xml")
_CITATION_CODES = ("CSL_CITATION",)  # Zotero writes ZOTERO_ITEM CSL_CITATION, Mendeley not
_DECODER = json.JSONDecoder()


def read_word(path: Path) -> PlainText:
    """A .docx draft as plain text with placeholders for its Zotero or Mendeley citations."""
    text = PlainText()
    keys: dict[str, str] = {}  # an item's id or URI -> its key
    for part, root in _parts(path):
        for number, paragraph in enumerate(root.iter(f"{_W}p"), start=1):
            field = _Fields(text, keys, path, number)
            for element in paragraph.iter():
                field.take(element)
            text.passages.append(Passage(f"{path}#{part}" if part else str(path), field.text()))
    return text


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


class _Fields:
    """One paragraph's text as its runs are met, fields and all: a citation field becomes a
    placeholder; any other field (a link, a page number) reads as what it shows."""

    def __init__(self, text: PlainText, keys: dict[str, str], path: Path, line: int) -> None:
        self.out = text
        self.keys = keys
        self.path = path
        self.line = line
        self.pieces: list[str] = []
        self.open: list[dict[str, Any]] = []  # fields begun and not ended: code, shown or not

    def take(self, element: ElementTree.Element) -> None:
        tag = element.tag
        if tag == f"{_W}fldChar":
            self._field_mark(element.get(f"{_W}fldCharType"))
        elif tag == f"{_W}instrText" and self.open:
            self.open[-1]["code"] += element.text or ""
        elif tag == f"{_W}t" and not (self.open and self._hidden()):
            self.pieces.append(element.text or "")
        elif tag in (f"{_W}tab", f"{_W}br"):
            self.pieces.append(" ")

    def text(self) -> str:
        return "".join(self.pieces)

    def _field_mark(self, kind: str | None) -> None:
        if kind == "begin":
            self.open.append({"code": "", "showing": False})
        elif kind == "separate" and self.open:
            self.open[-1]["showing"] = True
        elif kind == "end" and self.open:
            code = self.open.pop()["code"]
            if _is_citation(code):
                self.pieces.append(self._placeholder(code))

    def _hidden(self) -> bool:
        """A run inside a field's code, or inside what a citation field shows."""
        field = self.open[-1]
        return not field["showing"] or _is_citation(field["code"])

    def _placeholder(self, code: str) -> str:
        items = _items(code)
        keys = [self._key(item) for item in items if isinstance(item, dict)]
        return self.out.cite(keys, self.line)

    def _key(self, item: dict[str, Any]) -> str:
        """The item's key, its record added to the draft's bibliography the first time."""
        ids = [str(uri) for uri in item.get("uris") or []] + [str(item.get("id"))]
        known = next((self.keys[i] for i in ids if i in self.keys), None)
        if known is not None:
            return known
        data = item.get("itemData")
        try:
            fields = json_paper_fields(data if isinstance(data, dict) else {})
        # an item of another shape than CSL JSON's is no record: rejected as untitled
        except (TypeError, ValueError, AttributeError, IndexError, KeyError):
            fields = {"title": "", "abstract": ""}
        key = fields.get("key") or _made_key(fields, set(self.keys.values()))
        self.out.entries.append(checked({**fields, "key": key}, self.path, f"citation {key}"))
        self.keys.update(dict.fromkeys(ids, key))
        return key


def _is_citation(code: str) -> bool:
    return any(name in code for name in _CITATION_CODES)


def _items(code: str) -> list[Any]:
    """The citation items of a field code; none where its JSON is cut or malformed."""
    start = code.find("{")
    try:
        data, _ = _DECODER.raw_decode(code, start) if start >= 0 else ({}, 0)
    except json.JSONDecodeError:
        return []
    items = data.get("citationItems") if isinstance(data, dict) else None
    return items if isinstance(items, list) else []


def _made_key(fields: dict[str, Any], taken: set[str]) -> str:
    """A key as the store makes them, from the item's first author, year and title."""
    named = Paper.model_construct(
        title=str(fields.get("title") or ""),
        abstract="",
        authors=[str(a) for a in fields.get("authors") or []],
        year=fields.get("year") if isinstance(fields.get("year"), int) else None,
    )
    return citation_key(named, taken)

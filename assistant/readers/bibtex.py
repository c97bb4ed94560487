"""BibTeX and BibLaTeX files, parsed by bibtexparser v2, LaTeX turned into plain text."""

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bibtexparser
from bibtexparser.library import Library
from bibtexparser.middlewares.names import split_multiple_persons_names
from bibtexparser.model import (
    Block,
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    Field,
    ParsingFailedBlock,
)
from pylatexenc.latex2text import LatexNodes2Text

from assistant.readers.base import ReadItem, Rejected, checked, decoded_lines, year_of

# Math stays as written ($\alpha$); braces, accents and text macros become plain text.
# bibtexparser's LatexDecodingMiddleware uses this same decoder, but on every field, and in
# URLs it reads '%' as a comment and '~' as a space, so only prose fields are decoded here.
_LATEX = LatexNodes2Text(math_mode="verbatim")
# What LaTeX reads otherwise than as plain text: macros, groups, math, comments, ties, the
# other special characters, and the ligatures of dashes and quotes.
_LATEX_MARK = re.compile(r"[\\{}$%~^_&#]|--|``|''|[!?]`")
# The splitter logs each malformed block with a 0-based line number; the Rejected items
# already report them (1-based), so its warnings would only repeat them, off by one.
logging.getLogger("bibtexparser.splitter").setLevel(logging.ERROR)
_ARXIV_ID = re.compile(
    r"^(arxiv:)?(\d{4}\.\d{4,5}|[a-z-]+(\.[a-z]{2})?/\d{7})(v\d+)?$", re.IGNORECASE
)
_ESCAPED = re.compile(r"\\([_%&#$])")
_ENTRY_KEY = re.compile(r"@\s*\w+\s*[{(]\s*([^,\s{}()=]*)")
_VENUE_FIELDS = ("journal", "journaltitle", "booktitle")
# `_location` writes "entry KEY (line N)"; a rejection names its entry this way.
_LOCATION_KEY = re.compile(r"^entry (\S+) \(line \d+\)$")
# What a `crossref` child takes from its parent volume where it gives none (BibTeX's rule,
# kept to the fields that describe the volume: its DOI, URL or abstract are not the paper's).
_INHERITED = (
    "year", "date", "month", "booktitle", "journal", "journaltitle", "volume", "number",
    "series", "editor", "publisher", "organization", "address", "location",
)  # fmt: skip
# Volumes whose title is their children's booktitle (biblatex's inheritance rule).
_VOLUME_TYPES = ("proceedings", "book", "collection", "mvproceedings", "mvbook", "mvcollection")


def read(path: Path) -> Iterator[ReadItem]:
    """Papers from the entries of a .bib file; @string, @comment and @preamble are skipped."""
    lines, bad = decoded_lines(path)
    yield from bad
    text = "".join(lines)
    try:
        library = bibtexparser.parse_string(text)
    # bibtexparser re-raises states it calls its own bugs; the file is still only bad input.
    except Exception as exc:  # noqa: BLE001 - reported as the file's rejection
        yield Rejected(str(path), "file", f"BibTeX parser failed: {exc!r}")
        return
    volumes = {entry.key.lower(): entry for entry in library.entries}
    for block in library.blocks:
        if isinstance(block, Entry):
            entry = _with_volume(block, volumes)
            yield checked(entry_fields(entry), path, _location(block, block.key))
        elif isinstance(block, DuplicateBlockKeyBlock):
            # Same key twice: both are papers here; deduplication happens in the store.
            yield from _reparsed(block, library, path, volumes)
        elif isinstance(block, DuplicateFieldKeyBlock):
            keys = ", ".join(sorted(block.duplicate_keys))
            yield Rejected(
                str(path), _location(block, _key_in(block)), f"field given twice: {keys}; keep one"
            )
        elif isinstance(block, ParsingFailedBlock):
            reason = (getattr(block.error, "abort_reason", None) or str(block.error)).strip()
            yield Rejected(
                str(path), _location(block, _key_in(block)), f"malformed entry: {reason}"
            )


def entry_fields(entry: Entry) -> dict[str, Any]:
    """Paper fields of one parsed entry, with the entry's type and fields kept for export."""
    values = {field.key.lower(): str(field.value).strip() for field in entry.fields}
    return {
        "title": latex_to_text(values.get("title", "")),
        "abstract": latex_to_text(values.get("abstract", "")),
        "authors": _authors(values.get("author", "")),
        "year": year_of(values.get("year") or values.get("date")),
        "doi": _verbatim(values.get("doi", "")) or None,
        "arxiv_id": _arxiv_id(values),
        "url": _verbatim(values.get("url", "")) or None,
        "venue": latex_to_text(values.get(venue_field(values) or "", "")) or None,
        # the user's own key, kept by the store where no other paper holds it
        "key": entry.key.strip() or None,
        "bibtex_type": entry.entry_type,
        "bibtex_fields": {field.key: str(field.value) for field in entry.fields},
    }


def _with_volume(entry: Entry, volumes: dict[str, Entry]) -> Entry:
    """`entry` with the fields it lacks taken from the volume its `crossref` names (keys
    compared without case, as BibTeX does); the field itself goes once resolved, so an export
    stands alone. An entry whose volume is not in the file is returned as it is."""
    crossref = next((field for field in entry.fields if field.key.lower() == "crossref"), None)
    volume = volumes.get(str(crossref.value).strip().lower()) if crossref else None
    if volume is None:
        return entry
    given = {field.key.lower() for field in entry.fields}
    offered = {field.key.lower(): field.value for field in volume.fields}
    if volume.entry_type.lower() in _VOLUME_TYPES and "title" in offered:
        offered.setdefault("booktitle", offered["title"])
    taken = [
        Field(name, offered[name]) for name in _INHERITED if name in offered and name not in given
    ]
    kept = [field for field in entry.fields if field is not crossref]
    return Entry(entry.entry_type, entry.key, kept + taken, entry.start_line, entry.raw)


def venue_field(values: dict[str, str]) -> str | None:
    """The field a venue is read from: the first non-empty of journal, journaltitle, booktitle."""
    return next((name for name in _VENUE_FIELDS if values.get(name)), None)


def latex_to_text(latex: str) -> str:
    """A LaTeX field value as the plain text a Paper holds (whitespace collapsed). Text with
    nothing the parser would change skips it: it reads about 5 ms an entry, most of a large
    .bib's time (the same text on 14,110 such SciFact and Citation-Integrity texts, and with
    their special characters escaped as \\%)."""
    if _LATEX_MARK.search(_ESCAPED.sub("", latex)):
        return " ".join(_LATEX.latex_to_text(latex).split())
    return " ".join(_ESCAPED.sub(r"\1", latex).split())  # "50\\%" is "50%"


def _reparsed(
    block: DuplicateBlockKeyBlock, library: Library, path: Path, volumes: dict[str, Entry]
) -> Iterator[ReadItem]:
    """The duplicate entry, parsed alone: bibtexparser leaves it raw, strings unresolved."""
    strings: list[Block] = list(library.strings)
    alone = bibtexparser.parse_string(block.raw or "", library=Library(strings))
    for entry in alone.entries:
        fields = entry_fields(_with_volume(entry, volumes))
        yield checked(fields, path, _location(block, entry.key))


def entry_key(location: str) -> str | None:
    """The entry key in a rejection's location ("entry KEY (line N)"), if it names one."""
    match = _LOCATION_KEY.match(location)
    return match.group(1) if match else None


def _location(block: Block, key: str) -> str:
    line = (block.start_line or 0) + 1  # bibtexparser counts lines from 0
    return f"entry {key} (line {line})" if key else f"line {line}"


def _key_in(block: Block) -> str:
    match = _ENTRY_KEY.match(block.raw or "")
    return match.group(1) if match else ""


def _verbatim(value: str) -> str:
    """An identifier as written, less the backslashes some exporters put before '_' or '%'."""
    return _ESCAPED.sub(r"\1", value)


def _authors(value: str) -> list[str]:
    """Names split on 'and' outside braces, so '{Barnes and Noble}' stays one name."""
    names = (latex_to_text(name) for name in split_multiple_persons_names(value))
    return [name for name in names if name and name != "others"]


def _arxiv_id(values: dict[str, str]) -> str | None:
    eprint = values.get("eprint", "")
    declared = (values.get("archiveprefix") or values.get("eprinttype") or "").lower() == "arxiv"
    if eprint and (declared or _ARXIV_ID.match(eprint)):
        return eprint
    return values.get("arxivid") or values.get("arxiv") or None

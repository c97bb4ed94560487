"""Papers out of the store: BibTeX that the BibTeX reader reads back exactly, and JSON.

A paper read from a .bib file is written back as it came in: its entry type and every field
verbatim (brace protection, LaTeX, fields litreview does not model). A value the paper holds
that the source entry does not give (a longer abstract merged from elsewhere, a paper read from
another format) is written as LaTeX that `readers.bibtex` decodes to exactly the stored text.
"""

import json
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import bibtexparser
from bibtexparser.model import Entry, Field

from assistant.papers import Paper
from assistant.readers.bibtex import entry_fields, latex_to_text, venue_field

if TYPE_CHECKING:
    from assistant.store import Store

# Characters LaTeX (and pylatexenc) read as markup: '%' starts a comment that cut abstracts,
# '&' is an alignment tab that vanished, '~' a non-breaking space.
_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "%": r"\%",
    "&": r"\&",
    "#": r"\#",
    "_": r"\_",
    "$": r"\$",
    "~": r"\textasciitilde{}",
}
_SPECIAL = re.compile("|".join(re.escape(char) for char in _ESCAPES))
# Between two characters that would join into a ligature: -- ---  `` '' !` ?` ; "{}" keeps
# them apart (`^` needs nothing: pylatexenc reads a bare caret as itself).
_LIGATURE = re.compile(r"(?<=[-`'!?])(?=[-`'])")
_MATH = re.compile(r"(\$[^$]+\$)")
# The field a Paper attribute is written to (venue and arxiv_id have rules of their own).
_FIELD_OF = {
    "title": "title",
    "authors": "author",
    "year": "year",
    "doi": "doi",
    "url": "url",
    "abstract": "abstract",
}
_BOOKTITLE_TYPES = frozenset({"inproceedings", "incollection", "conference", "inbook"})


def latex_value(text: str) -> str:
    """`text` as a BibTeX value that decodes back to exactly `text`; $math$ kept as written."""
    parts = _MATH.split(text)
    with_math = "".join(part if odd else _escaped(part) for odd, part in _alternating(parts))
    if with_math != _escaped(text) and _balanced(with_math) and latex_to_text(with_math) == text:
        return with_math
    return _escaped(text)


def _escaped(text: str) -> str:
    return _LIGATURE.sub("{}", _SPECIAL.sub(lambda match: _ESCAPES[match.group()], text))


def _alternating(parts: list[str]) -> list[tuple[bool, str]]:
    """re.split parts with a capturing group: odd positions are the matches."""
    return [(index % 2 == 1, part) for index, part in enumerate(parts)]


def _balanced(text: str) -> bool:
    """Whether braces balance, ignoring escaped ones, as bibtexparser counts them."""
    depth = 0
    for match in re.finditer(r"\\[{}]|[{}]", text):
        depth += {"{": 1, "}": -1}.get(match.group(), 0)
        if depth < 0:
            return False
    return depth == 0


def _identifier(value: str) -> str:
    """A DOI or URL as written; a value with unbalanced braces loses its braces."""
    return value if _balanced(value) else value.replace("{", "").replace("}", "")


def _authors(names: list[str]) -> str:
    # A name holding the word 'and' is braced so the reader does not split it.
    return " and ".join(
        f"{{{latex_value(name)}}}"
        if re.search(r"\band\b", name, re.IGNORECASE)
        else latex_value(name)
        for name in names
    )


def _derived(paper: Paper) -> dict[str, str]:
    """Each modelled attribute of `paper` as a BibTeX value, in the order fields are written."""
    return {
        "title": latex_value(paper.title),
        "authors": _authors(paper.authors),
        "year": str(paper.year) if paper.year else "",
        "venue": latex_value(paper.venue or ""),
        "doi": _identifier(paper.doi or ""),
        "arxiv_id": paper.arxiv_id or "",
        "url": _identifier(paper.url or ""),
        "abstract": latex_value(paper.abstract),
    }


def _fields(paper: Paper, entry_type: str) -> dict[str, str]:
    """The source entry's fields, with each attribute the source does not give overridden."""
    fields = dict(paper.bibtex_fields)
    given = Paper.model_validate(entry_fields(Entry(entry_type, "", _as_fields(fields))))
    lower = {name.lower(): value for name, value in fields.items()}
    for attribute, value in _derived(paper).items():
        if getattr(given, attribute) == getattr(paper, attribute):
            continue
        if attribute == "venue":
            default = "booktitle" if entry_type.lower() in _BOOKTITLE_TYPES else "journal"
            _set(fields, venue_field(lower) or default, value)
        elif attribute == "arxiv_id":
            _set(fields, "eprint", value)
            _set(fields, "archivePrefix", "arXiv" if value else "")
        else:
            _set(fields, _FIELD_OF[attribute], value)
    return fields


def _set(fields: dict[str, str], name: str, value: str) -> None:
    """Set field `name` in place, matching an existing field's case; empty removes it."""
    written = next((key for key in fields if key.lower() == name.lower()), name)
    if value:
        fields[written] = value
    else:
        fields.pop(written, None)


def _as_fields(values: dict[str, str]) -> list[Field]:
    return [Field(name, value) for name, value in values.items()]


def _entry(paper: Paper) -> Entry:
    entry_type = paper.bibtex_type or ("article" if paper.venue else "misc")
    return Entry(entry_type, paper.key or "", _as_fields(_fields(paper, entry_type)))


CITED_BIB_HEADER = "% Written by litreview related-work: the papers its section cites.\n"
"""The first line of `bibtex_of`'s files, by which related-work knows it may replace one."""


def bibtex_of(store: "Store", keys: Sequence[str]) -> str:
    """A .bib file of the stored papers `keys` names, in that order, under CITED_BIB_HEADER."""
    papers = {paper.key: paper for paper in store.papers_by_key(list(keys))}
    return CITED_BIB_HEADER + to_bibtex([papers[key] for key in keys if key in papers])


def to_bibtex(papers: Sequence[Paper]) -> str:
    """A .bib file with one entry per paper, keyed by its citation key."""
    library = bibtexparser.Library()
    for paper in papers:
        library.add(_entry(paper))
    return bibtexparser.write_string(library)


def record_json(paper: Paper) -> dict[str, Any]:
    """A paper as plain JSON for `--json` listings (without the abstract's sentence list)."""
    return paper.model_dump(mode="json", exclude={"sentences"})


def to_json(papers: Sequence[Paper]) -> str:
    """A JSON list of full paper records, abstract sentences included."""
    return (
        json.dumps([p.model_dump(mode="json") for p in papers], indent=2, ensure_ascii=False) + "\n"
    )


EXPORTERS: dict[str, Callable[[Sequence[Paper]], str]] = {"bibtex": to_bibtex, "json": to_json}

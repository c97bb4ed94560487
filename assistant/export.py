"""Papers out of the store: BibTeX (read back by bibtexparser with the same keys and titles), JSON."""

import json
from collections.abc import Callable, Sequence
from typing import Any

import bibtexparser
from bibtexparser.model import Entry, Field

from assistant.papers import Paper


def _balanced(text: str) -> str:
    """BibTeX values are brace-delimited: a value with unbalanced braces loses its braces."""
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            break
    return text if depth == 0 else text.replace("{", "").replace("}", "")


def _entry(paper: Paper) -> Entry:
    values = {
        "title": paper.title,
        "author": " and ".join(paper.authors),
        "year": str(paper.year) if paper.year else "",
        "journal": paper.venue or "",
        "doi": paper.doi or "",
        "eprint": paper.arxiv_id or "",
        "archiveprefix": "arXiv" if paper.arxiv_id else "",
        "url": paper.url or "",
        "abstract": paper.abstract,
    }
    fields = [Field(name, _balanced(value)) for name, value in values.items() if value]
    return Entry("article" if paper.venue else "misc", paper.key or "", fields)


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

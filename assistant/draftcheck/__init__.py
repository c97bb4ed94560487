"""Checking a researcher's own draft: its citing sentences, judged against the cited papers."""

from collections.abc import Callable
from pathlib import Path

from assistant.draftcheck.author_year import mark_typed
from assistant.draftcheck.latex import read_latex
from assistant.draftcheck.markdown import read_markdown
from assistant.draftcheck.numbered import mark_numbered
from assistant.draftcheck.opendocument import read_opendocument
from assistant.draftcheck.org import read_org
from assistant.draftcheck.sentences import (
    CitingSentence,
    Passage,
    PlainText,
    citing_sentences,
    read_draft,
    renumbered,
)
from assistant.draftcheck.word import read_word

# Draft formats by file extension; any other file is LaTeX when it looks like it.
READERS: dict[str, Callable[[Path], PlainText]] = {
    ".tex": read_latex,
    ".ltx": read_latex,
    ".latex": read_latex,
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".qmd": read_markdown,
    ".rmd": read_markdown,
    ".txt": read_markdown,
    ".org": read_org,
    ".docx": read_word,
    ".odt": read_opendocument,
}
_LATEX_SIGNS = ("\\cite", "\\begin{", "\\section", "\\documentclass")


def read_plain(path: Path, author_year: bool = False) -> PlainText:
    """A LaTeX, Markdown, Org, Word or OpenDocument draft as plain text, its citations and the
    .bib files it names (or the cited items a word processor's draft holds). A draft that is
    not LaTeX has its numbered citations read too ("[1]", with a numbered reference list), and
    with `author_year`, its typed author-year citations."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        text = read_draft(path)
        reader = read_latex if any(sign in text for sign in _LATEX_SIGNS) else read_markdown
    plain = reader(path)
    if reader is read_latex:
        return plain
    made = mark_numbered(plain)
    if author_year:
        plain.passages = [_typed_marked(passage, plain) for passage in plain.passages]
    if made or author_year:
        # numbered and typed citations were made after the others: all made again, in order
        plain.passages = [renumbered(passage, plain) for passage in plain.passages]
    return plain


def _typed_marked(passage: Passage, plain: PlainText) -> Passage:
    def line_of(offset: int) -> int:
        return passage.line + passage.text.count("\n", 0, offset)

    marked = mark_typed(passage.text, plain.cite, line_of)
    return Passage(passage.file, marked, passage.line)


def parse_draft(path: Path) -> list[CitingSentence]:
    """The citing sentences of a LaTeX, Markdown, Org, Word or OpenDocument draft, in order."""
    return citing_sentences(read_plain(path))


__all__ = ["READERS", "CitingSentence", "parse_draft", "read_plain"]

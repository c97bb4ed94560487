"""Markdown drafts with pandoc citations: `[@a]`, `[see @a, p. 3; @b]`, `@a says`, `-@a`, and
LaTeX's `\\citep{a}` written as raw TeX (Quarto's cross-references, `@fig-a`, are none).

Code blocks, code spans, HTML comments and YAML front matter are blanked first (keeping their
line breaks, so line numbers stay true); headings, list items, footnotes and table cells are
passages of their own, but a footnote that only cites ("[^1]: See @a, p. 3.") cites the
sentence of its mark.
"""

import re
from pathlib import Path

from assistant.draftcheck.latex import CITE_COMMAND
from assistant.draftcheck.sentences import (
    Passage,
    PlainText,
    line_breaks_of,
    read_draft,
    says_nothing,
)

# A pandoc citation key: starts with a letter, digit or _, may hold internal punctuation
# (:.#$%&-+?<>~/) but ends on a word character; or any text in braces, @{like this}.
KEY = r"@(?:\{([^{}]+)\}|([\w](?:[\w]|[:.#$%&\-+?<>~/](?=\w))*))"
_KEY = re.compile(KEY)
# A bracketed group holding at least one key, not a link's text ("[@a](url)" is a link).
_BRACKETED = r"\[[^\[\]]*?(?:(?<=\[)|[\s;\-])-?" + KEY + r"[^\[\]]*\](?![(\[])"
# Or a key in running text; not inside a word or an e-mail address, nor escaped (\@a is a
# literal @). A key in running text may carry its locator, "@a [p. 33] says", or be a
# possessive, "@a's model". Or LaTeX's citation commands, which pandoc reads as raw TeX:
# "\citep[p.~3]{a,b}", as `latex` reads them. One pattern for all, so citations are numbered
# in the order they occur.
_LATEX_CITATION = rf"\\{CITE_COMMAND}" + r"\*?(?:\s*\[[^\]\n]*\]){0,2}\s*\{(?P<tex>[^{}\n]*)\}"
_CITATION = re.compile(
    f"{_LATEX_CITATION}|{_BRACKETED}|"
    + r"(?<![\w@\]\\])-?"
    + KEY
    + r"(?:\s?\[[^\[\]@]*\](?![(\[])|['\u2019]s\b)?"
)
# Quarto's and pandoc-crossref's cross-references ("@fig-recall", "[@tbl:results]") are no
# citations: each reads as the name of what it points to.
_CROSS_REFERENCED = {
    "fig": "Figure", "tbl": "Table", "lst": "Listing", "eq": "Equation", "sec": "Section",
    "thm": "Theorem", "lem": "Lemma", "cor": "Corollary", "prp": "Proposition",
    "cnj": "Conjecture", "def": "Definition", "exm": "Example", "exr": "Exercise",
    "sol": "Solution", "rem": "Remark",
}  # fmt: skip
_CROSS_REFERENCE = re.compile(rf"^({'|'.join(_CROSS_REFERENCED)})[-:]")

_FRONT_MATTER = re.compile(r"\A---\n.*?\n(?:---|\.\.\.)\n", re.DOTALL)
# pandoc's `bibliography:` in the front matter: one file, [a.bib, b.bib], or a list of "- a.bib"
_BIBLIOGRAPHY = re.compile(r"^bibliography:[ \t]*(.*)\n((?:[ \t]+-[ \t]*.+\n)*)", re.MULTILINE)
_FENCED = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.DOTALL | re.MULTILINE)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1", re.DOTALL)
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"\*{1,3}|_{2,3}")
_FOOTNOTE_MARK = re.compile(r"\[\^[^\]\s]+\](?!:)")
# A footnote's label and its first paragraph: up to a blank line or the next footnote
_NOTE = re.compile(
    r"^\s{0,3}\[\^([^\]\s]+)\]:(.*(?:\n(?![ \t]*\n|\s{0,3}\[\^)[^\n]*)*)", re.MULTILINE
)
# A footnote's mark, after the stop it may follow: "dance.[^1]"
_MARK_AFTER_STOP = re.compile(r"([.!?]['\"\u2019\u201d)]*)?\[\^([^\]\s]+)\](?!:)")
# A line that starts a passage of its own: a heading, a list item, a quote, a footnote.
_BLOCK_START = re.compile(r"^\s{0,3}(#{1,6}\s|[-*+]\s|\d+[.)]\s|>|\[\^[^\]\s]+\]:)")
_TABLE_ROW = re.compile(r"^\s{0,3}\|")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")


def read_markdown(path: Path) -> PlainText:
    """A Markdown draft as plain text with citation placeholders."""
    return markdown_text(read_draft(path), path)


def markdown_text(source: str, path: Path) -> PlainText:
    """Markdown `source`, the text of the draft at `path`, as plain text with citation
    placeholders."""
    text = PlainText()
    if front := _FRONT_MATTER.match(source):
        text.bibliographies = [path.parent / name for name in _bibliography_names(front.group())]
    for pattern in (_FRONT_MATTER, _FENCED, _HTML_COMMENT, _CODE_SPAN):
        source = pattern.sub(line_breaks_of, source)
    # a link reads as its text, whose @ is no citation ("[@a](url)" is a link)
    source = _LINK.sub(lambda link: link[1].replace("@", "\\@"), _IMAGE.sub("", source))
    source = _FOOTNOTE_MARK.sub("", _notes_that_cite(source))
    source = _EMPHASIS.sub("", _cite(source, text)).replace("\\@", "@")
    lines: list[str] = []
    start = 1  # the line the passage being gathered starts on
    for number, line in enumerate(source.split("\n"), start=1):
        table_row = _TABLE_ROW.match(line)
        if _BLOCK_START.match(line) or table_row:  # the block before it ends here
            text.passages.append(Passage(str(path), "\n".join(lines), start))
            lines, start = [], number
        if table_row:
            cells = line.strip().strip("|").split("|")
            text.passages.extend(Passage(str(path), cell, number) for cell in cells)
            start = number + 1
            continue
        if _HEADING.match(line):  # a heading ends where its line does
            text.passages.append(Passage(str(path), _BLOCK_START.sub("", line), number))
            start = number + 1
            continue
        lines.append(_BLOCK_START.sub("", line))
    text.passages.append(Passage(str(path), "\n".join(lines), start))
    return text


def _notes_that_cite(source: str) -> str:
    """The source with each footnote that only cites ("[^1]: See @a, p. 3.") moved to its
    mark: its citations stand where the mark does (before the stop it follows) and its
    definition is blanked, so they cite the sentence of the mark."""
    cited: dict[str, str] = {}

    def taken(note: re.Match[str]) -> str:
        citations = list(_CITATION.finditer(note[2]))
        if not citations or not says_nothing(_CITATION.sub("", note[2])):
            return note.group()
        cited[note[1]] = "; ".join(f"@{{{key}}}" for c in citations for key in _keys(c))
        return line_breaks_of(note)

    def moved(mark: re.Match[str]) -> str:
        if mark[2] not in cited:
            return mark.group()
        return f" [{cited[mark[2]]}]{mark[1] or ''}"

    return _MARK_AFTER_STOP.sub(moved, _NOTE.sub(taken, source))


def _bibliography_names(front_matter: str) -> list[str]:
    """The files of the front matter's `bibliography:` field, in order."""
    field = _BIBLIOGRAPHY.search(front_matter)
    if field is None:
        return []
    inline, items = field.groups()
    names = inline.strip().strip("[]").split(",") + [
        item.strip().lstrip("-") for item in items.splitlines()
    ]
    return [name.strip().strip("'\"") for name in names if name.strip().strip("'\"")]


def _cite(source: str, text: PlainText) -> str:
    """Each match replaced by a placeholder for its keys; line breaks inside it are kept so
    the lines after it keep their numbers."""

    def placeholder(match: re.Match[str]) -> str:
        keys = _keys(match)
        named = [_CROSS_REFERENCED[found[1]] for k in keys if (found := _CROSS_REFERENCE.match(k))]
        keys = [key for key in keys if not _CROSS_REFERENCE.match(key)]
        line = source.count("\n", 0, match.start()) + 1
        cited = text.cite(keys, line) if keys else ""
        return " ".join([*named, cited]).strip() + "\n" * match.group().count("\n")

    return _CITATION.sub(placeholder, source)


def _keys(citation: re.Match[str]) -> list[str]:
    """The keys one citation (a match of `_CITATION`) cites, pandoc's or LaTeX's."""
    if citation["tex"] is not None:
        return [key.strip() for key in citation["tex"].split(",") if key.strip()]
    return [braced or bare for braced, bare in _KEY.findall(citation.group())]

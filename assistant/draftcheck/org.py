"""Org drafts (Emacs): org-cite's `[cite:@a]`, `[cite/t:see @a p. 3; @b]` and org-ref's
`cite:a,b`, `citep:&a;&b`, `[[cite:&a]]`, read as the Markdown reader reads pandoc's.

The Org text is rewritten line for line into Markdown (so line numbers stay true): headings,
footnotes, links and verbatim text take Markdown's forms; code and comment blocks, drawers,
comment lines and `#+KEYWORD:` lines are blanked. The bibliography is what `#+bibliography:`
or org-ref's `bibliography:a.bib,b.bib` names.
"""

import re
from pathlib import Path

from assistant.draftcheck.markdown import markdown_text
from assistant.draftcheck.sentences import PlainText, line_breaks_of, read_draft

_BIBLIOGRAPHY_KEYWORD = re.compile(
    r"^[ \t]*#\+bibliography:[ \t]*(.+)$", re.IGNORECASE | re.MULTILINE
)
_BIBLIOGRAPHY_LINK = re.compile(r"(?<![\w\[])bibliography:([^\s\]]+)")
# Blocks with no prose: code, examples, exports, comments; and drawers (:PROPERTIES: ... :END:)
_UNREAD_BLOCK = re.compile(
    r"^[ \t]*#\+begin_(src|example|export|comment)\b.*?^[ \t]*#\+end_\1\b[^\n]*$"
    r"|^[ \t]*:[A-Za-z_]+:[ \t]*\n.*?^[ \t]*:END:[ \t]*$",
    re.IGNORECASE | re.DOTALL | re.MULTILINE,
)
# Lines with no prose: "#+TITLE: ...", "#+begin_quote", "# a comment"
_SET_UP_LINE = re.compile(r"^[ \t]*#(?:[+ \t].*)?$", re.MULTILINE)
_HEADING = re.compile(r"^\*+[ \t]", re.MULTILINE)
# org-cite: [cite/style:global prefix; prefix @key suffix; ...]
_ORG_CITE = re.compile(r"\[cite(?:/[\w/-]+)?:([^\[\]]*)\]")
# org-ref: cite:a,b (version 2), citep:&a;&b (version 3), also as a link [[cite:&a][text]]
_ORG_REF_KEYS = r"&?[\w.:#$%+?<>~/-]*\w(?:[,;]&?[\w.:#$%+?<>~/-]*\w)*"
_ORG_REF = re.compile(
    rf"\[\[[A-Za-z]*cite[a-z]*:({_ORG_REF_KEYS})\](?:\[[^\]]*\])?\]"
    rf"|(?<![\w\[/=~])[A-Za-z]*cite[a-z]*:({_ORG_REF_KEYS})"
)
_LINK = re.compile(r"\[\[([^\]]*)\](?:\[([^\]]*)\])?\]")
_FOOTNOTE = re.compile(r"\[fn:([\w-]+)\]")
_FOOTNOTE_DEFINITION = re.compile(r"^\[fn:([\w-]+)\][ \t]*", re.MULTILINE)
# =verbatim= and ~code~, as Org marks them: not inside a word, no space just inside the marks
_VERBATIM = re.compile(r"(?<![\w=~])([=~])([^\s=~](?:[^\n]{0,300}?[^\s=~])?)\1(?![\w=~])")


def read_org(path: Path) -> PlainText:
    """An Org draft as plain text with citation placeholders, and the bibliographies it names."""
    source = read_draft(path)
    names = _BIBLIOGRAPHY_KEYWORD.findall(source) + _BIBLIOGRAPHY_LINK.findall(source)
    text = markdown_text(_as_markdown(source), path)
    text.bibliographies = [
        path.parent / name.strip() for found in names for name in found.split(",") if name.strip()
    ]
    return text


def _as_markdown(source: str) -> str:
    """The Org source in Markdown's forms, line for line."""
    source = _VERBATIM.sub(lambda code: f"`{code[2]}`", _UNREAD_BLOCK.sub(line_breaks_of, source))
    source = _BIBLIOGRAPHY_LINK.sub("", _SET_UP_LINE.sub("", source))
    source = _ORG_CITE.sub(lambda cite: f"[{_without_style_prefix(cite[1])}]", source)
    source = _ORG_REF.sub(_org_ref_citation, source)
    source = _LINK.sub(lambda link: link[2] or link[1], source)
    source = _FOOTNOTE_DEFINITION.sub(lambda note: f"[^{note[1]}]: ", source)
    return _HEADING.sub("# ", _FOOTNOTE.sub(lambda mark: f"[^{mark[1]}]", source))


def _without_style_prefix(cited: str) -> str:
    """org-cite's citation without its global prefix, where one comes before the first key."""
    first, _, rest = cited.partition(";")
    return rest if rest and "@" not in first else cited


def _org_ref_citation(cite: re.Match[str]) -> str:
    keys = re.split(r"[,;]", cite[1] or cite[2])
    return "[" + "; ".join(f"@{{{key.lstrip('&')}}}" for key in keys) + "]"

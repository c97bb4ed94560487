"""What both draft parsers share: reading the file, the citation placeholder, and turning the
plain text they produce into citing sentences.

A parser reduces a draft to plain text in which each citation command stands as a placeholder
`[\\ue000N]` (N indexes the citation's keys and line). The placeholder opens with "[" so the
sentence splitter still splits before a sentence that starts with a citation; the private-use
character never occurs in a real draft.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from assistant.chunking import split_sentences
from assistant.errors import DraftError
from assistant.readers.base import ReadItem

BINARY_SNIFF_BYTES = 8_192
DRAFT_TYPES = ".tex, .md, .txt, .org, .docx or .odt"  # the drafts check reads (draftcheck.READERS)
PLACEHOLDER = re.compile("\\[\ue000(\\d+)\\]")
"""A citation's placeholder in the text; its group is the citation's number."""
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_FINAL_STOP = re.compile(r"[.!?]['\"\u2019\u201d)]*\s*$")
_LETTER = re.compile(r"[^\W\d_]")
# The words of a note that only cites: "See also", "cf.", "for a review", "p. 33", "ibid."
_CITING_WORDS = re.compile(
    r"\b(?:see|also|cf|e\.g|esp|especially|compare|for|an?|the|and|or|in|at|on|of|reviews?"
    r"|examples?|details|discussion|further|more|pp?|pages?|chap|chapters?|ch|sec|sections?"
    r"|vol|nos?|figs?|figures?|tables?|ibid|ibidem|op|cit|loc|et|al|passim|ff|nn?|notes?"
    r"|as|by|shown|described|reported|discussed|reviewed|quoted|cited|from|after|following)\b",
    re.IGNORECASE,
)
# What removing a citation leaves behind: "( )", "[ ; ]", a space before punctuation.
_EMPTY_BRACKETS = re.compile(r"\(\s*[;,]?\s*\)|\[\s*[;,]?\s*\]")
_CITING_PARENTHESIS = re.compile("\\([^()]*\\[\ue000\\d+\\][^()]*\\)")  # holds a citation
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([.,;:!?])")
# An abbreviation's stop and the sentence's, once what stood between them is gone ("Fig.~\ref{f}.")
_DOUBLED_STOP = re.compile(r"(?<!\.)\.\.(?!\.)")


class CitingSentence(BaseModel):
    """A sentence of a draft that cites papers: where it is and the keys it cites, in order."""

    file: str
    line: int  # of its first citation
    sentence: str
    keys: list[str]


@dataclass(frozen=True)
class Citation:
    """One citation command or group: its keys and the line it is on."""

    keys: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class Passage:
    """Text of one file in which sentences run on; a footnote or a heading is another."""

    file: str
    text: str
    line: int = 1  # where the passage starts: a line of a text file, a word processor's paragraph


@dataclass
class PlainText:
    """A draft reduced to plain passages, with placeholders for `citations`."""

    passages: list[Passage] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    # the .bib files the draft names (\\bibliography, \\addbibresource, pandoc's front matter)
    bibliographies: list[Path] = field(default_factory=list)
    # the files the draft inputs (\\input, \\include, \\subfile, \\import) that are not there
    missing_inputs: list[Path] = field(default_factory=list)
    # the records the draft carries itself: a word processor's Zotero, Mendeley or EndNote ones
    entries: list[ReadItem] = field(default_factory=list)
    # a numbered reference list's entries, by the key that stands for them ("[3]")
    references: dict[str, str] = field(default_factory=dict)
    # citations that name no paper the file still holds, by the key they are shown under: why
    unread: dict[str, str] = field(default_factory=dict)

    def cite(self, keys: list[str], line: int) -> str:
        """Record a citation; returns the placeholder that stands for it in the text."""
        self.citations.append(Citation(tuple(k for k in keys if k), line))
        return f"[\ue000{len(self.citations) - 1}]"


def read_draft(path: Path) -> str:
    """The draft's text; a missing, binary or non-UTF-8 file is an error saying so."""
    if path.is_dir():
        raise DraftError(f"{path} is a folder: pass the draft's own file ({DRAFT_TYPES}).")
    if not path.is_file():
        raise DraftError(f"No such draft: {path}. Pass the path of the draft ({DRAFT_TYPES}).")
    data = path.read_bytes()
    if data.startswith(b"%PDF-"):
        raise DraftError(f"{path} is a PDF: check reads the draft's source ({DRAFT_TYPES}).")
    if data.startswith(b"PK\x03\x04"):  # .docx and .odt are zip archives
        raise DraftError(
            f"{path} is a zip archive, such as a Word or OpenDocument file: check reads them "
            "named .docx or .odt (cited with Zotero, Mendeley or EndNote), Markdown with pandoc "
            "citations ([@key]) and LaTeX; save the draft as one of those and check that."
        )
    if b"\x00" in data[:BINARY_SNIFF_BYTES]:
        raise DraftError(f"{path} is a binary file, not a draft: pass its {DRAFT_TYPES} file.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DraftError(
            f"{path} is not UTF-8 (byte 0x{data[exc.start]:02x} on line {line}): "
            "re-save it as UTF-8."
        ) from None


def is_file(path: Path) -> bool:
    """Whether a path the draft names is a file; False for a name no file can have (an unclosed
    `\\input{` runs on past any file name's length)."""
    try:
        return path.is_file()
    except OSError:
        return False


def renumbered(passage: Passage, text: PlainText) -> Passage:
    """The passage with each of its citations made again, so they count after those made
    before: citations are listed in the order they were made."""

    def again(match: re.Match[str]) -> str:
        citation = text.citations[int(match.group(1))]
        return text.cite(list(citation.keys), citation.line)

    return Passage(passage.file, PLACEHOLDER.sub(again, passage.text), passage.line)


def before_final_stop(text: str, inserted: str) -> str:
    """`text` with `inserted` put before the stop it ends on ("... here." and a note's mark),
    so that a note's citations cite the sentence that stop ends."""
    stop = _FINAL_STOP.search(text)
    at = stop.start() if stop else len(text)
    return text[:at] + inserted + text[at:]


def says_nothing(text: str) -> bool:
    """Whether text holds nothing but its citations and the words a note cites with ("See",
    "cf.", "p. 33"): a note style's note, which cites the sentence of its mark."""
    return not _LETTER.search(_CITING_WORDS.sub("", PLACEHOLDER.sub("", text)))


def line_breaks_of(match: re.Match[str]) -> str:
    """Text that is not read, reduced to its line breaks so later lines keep their numbers."""
    return "\n" * match.group().count("\n")


def citing_sentences(text: PlainText) -> list[CitingSentence]:
    """Every sentence of the text that holds a citation, with its keys, in the order of the
    draft (a footnote's sentence after the one it hangs from: citations are numbered in order).
    A sentence that only cites (a citation alone in a table's cell or on a line of its own)
    cites the sentence before it in the same file."""
    sentences = [
        (passage.file, sentence)
        for passage in text.passages
        for paragraph in _PARAGRAPH_BREAK.split(passage.text)
        for sentence in split_sentences(" ".join(paragraph.split()))
    ]
    found: dict[int, tuple[int, CitingSentence]] = {}  # by the index of the sentence cited
    for index, (file, sentence) in enumerate(sentences):
        numbers = [int(n) for n in PLACEHOLDER.findall(sentence)]
        cited = [text.citations[n] for n in numbers]
        keys = [key for citation in cited for key in citation.keys]
        if not keys:
            continue
        target = index
        while target and says_nothing(sentences[target][1]) and sentences[target - 1][0] == file:
            target -= 1
        if target in found:
            found[target][1].keys = list(dict.fromkeys(found[target][1].keys + keys))
            continue
        citing = CitingSentence(
            file=file,
            line=cited[0].line,
            sentence=_without_citations(sentences[target][1]),
            keys=list(dict.fromkeys(keys)),
        )
        found[target] = (numbers[0], citing)
    return [sentence for _, sentence in sorted(found.values(), key=lambda pair: pair[0])]


def _without_citations(sentence: str) -> str:
    """The sentence as the judge reads it: no citation, nor a parenthesis that only cites
    ("(see [1]; [2], p. 4)")."""
    sentence = _CITING_PARENTHESIS.sub(_unless_it_says_something, sentence)
    bare = _EMPTY_BRACKETS.sub("", PLACEHOLDER.sub("", sentence))
    return _DOUBLED_STOP.sub(".", _SPACE_BEFORE_PUNCTUATION.sub(r"\1", " ".join(bare.split())))


def _unless_it_says_something(parenthesis: re.Match[str]) -> str:
    return "" if says_nothing(parenthesis.group()[1:-1]) else parenthesis.group()

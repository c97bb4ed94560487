"""Citations by number: "[1]", "[2, 3]", "[4-6]" in a draft that ends with a numbered reference
list (Vancouver, IEEE and most journals' styles), in Markdown, plain text, Word or LibreOffice.

The list is what follows the draft's last "References" (or "Bibliography", "Works Cited",
"Literature Cited") heading. An entry starts with its number ("[3]", "3." or "3)"); a
paragraph or list item without one (Word's and Markdown's numbered lists keep the number out
of the text, and APA's list has none) is the entry after the one before. A bracketed group is a citation only when every
number in it is an entry of the list; each stands for "[N]" until it is resolved against the
store by the DOI, arXiv id or title its entry holds. Superscript numbers cite too, after a word
or a stop: Word's and LibreOffice's (their readers bracket them), Unicode's ("trials.¹˒²") and
pandoc's ("trials.^1,2^"); a group after a stop cites the sentence that stop ends. Numbers in
parentheses, "(1)", "(2, 3)", cite in a draft with no bracketed citation, after a word: not as
an enumeration ("three steps: (1) ..., (2) ..."), nor after "Eq." or "Figure".
"""

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from assistant.draftcheck.sentences import PLACEHOLDER, Passage, PlainText
from assistant.papers import Paper, normalise_title

_HEADING = re.compile(
    r"^\s*(?:\d+\.?\s+)?(?:references|bibliography|works cited|literature cited|reference list)"
    r"\s*:?\s*$",
    re.IGNORECASE,
)
_ENTRY_NUMBER = re.compile(r"^\s*(?:\[(\d{1,4})\]|(\d{1,4})[.)])\s+")
# What may follow the reference list: not entries, read as the draft's text again
_AFTER_LIST = re.compile(
    r"^\s*(?:appendix|appendices|supplementary|supporting information|figure legends)\b",
    re.IGNORECASE,
)
_NUMBERS = r"\d{1,4}(?:\s*[,;\u2013\u2014-]\s*\d{1,4})*"  # "1", "2, 5", "3-6; 8"
_GROUP = re.compile(rf"\[({_NUMBERS})\]")
_AFTER_PUNCTUATION = re.compile(rf"([.!?,;:])(\[{_NUMBERS}\])")
# How an author-year list's entry opens: "Smith, A. (2020a).", "van der Berg, J., & Roe, R. (2019)"
_AUTHOR_YEAR_ENTRY = re.compile(
    r"^(?:[a-z]+ )*[A-Z][\w'\u2019-]+, (?:[A-Z]\.|[^()\n]{0,200}\(\d{4}[a-z]?\))"
)
_PARENTHESIZED = re.compile(rf"\(({_NUMBERS})\)")
_ENUMERATION_AFTER = ".!?:;,(-*\u2022"  # "(1)" after these, or first in a passage, lists items
# "(1)" after these words names an equation, a figure or a part, not a reference ("two models
# (1, 2)" cites)
_NOT_CITING_AFTER = re.compile(
    r"\b(?:eqs?|equations?|figs?|figures?|tables?|sections?|chapters?|appendix|panels?"
    r"|formulae?|step|stage|phase|line|item|no|nos)\.?$",
    re.IGNORECASE,
)
_RANGE = re.compile(r"^(\d+)\s*[\u2013\u2014-]\s*(\d+)$")
_LONGEST_RANGE = 100  # "[1-2000]" is no citation of two thousand papers
_LISTED = re.compile(r"^\[\d+\]$")
_DOI = re.compile(r"\b10\.\d{4,9}/[^\s\"<>]+")
_ARXIV = re.compile(r"arxiv(?:\.org/abs/|:\s*|\s+)(\d{4}\.\d{4,5})", re.IGNORECASE)
# Superscript numbers that cite (Vancouver's "trials.1,3-5"): after a word of three letters or
# more, or after punctuation; not an exponent ("10" or "cm" before it).
_SUPERSCRIPT_NUMBERS = re.compile(r"^[\d,\u2013-]+$")
_CITED_BY_SUPERSCRIPT = re.compile(r"(?:[^\W\d_]{3,}|[.,;:)\]])$")
_ENTRY_PARTS = re.compile(r"[.?!]\s+|[\"\u201c\u201d]")  # an entry's sentences, a quoted title
# Superscripts typed as text: Unicode's digits (pasted from a PDF) and pandoc's ^1,2^
_SUPERSCRIPT_DIGITS = str.maketrans(
    "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079\u02d2\u207b", "0123456789,-"
)
_TYPED_SUPERSCRIPT = re.compile(
    "[\u2070\u00b9\u00b2\u00b3\u2074-\u2079][\u2070\u00b9\u00b2\u00b3\u2074-\u2079\u02d2\u207b]*"
    r"|\^([\d,\u2013-]+)\^"
)
_CUT_WORD = re.compile(r"(\w)- (\w)")
_TITLE_WORDS = 3  # the fewest words a title is found by inside an entry's sentence
_SHOWN = 120  # characters of an unmatched entry shown in the reason
# Stored titles of three words or more by their first three: (the title's words, its key)
_Titles = dict[tuple[str, ...], list[tuple[list[str], str]]]


def mark_numbered(plain: PlainText) -> bool:
    """Replace the numbered citations of `plain` by placeholders and take its reference list
    out of its passages, into `plain.references`; whether it has such a list."""
    found = _reference_list(plain.passages)
    if found is None:
        return False
    kept, references = found
    plain.references = {f"[{number}]": entry for number, entry in references.items()}
    # superscripts typed as text are read as the bracketed groups they stand for
    kept = [replace(p, text=_TYPED_SUPERSCRIPT.sub(_bracketed, p.text)) for p in kept]
    bracketed = any(_listed_group(match, plain) for p in kept for match in _GROUP.finditer(p.text))
    plain.passages = [_marked(passage, plain, parenthesized=not bracketed) for passage in kept]
    return True


def add_superscript(pieces: list[str], cited_at: int, text: str) -> int:
    """Add superscript `text` to a paragraph's `pieces` as "[1,2]" where it cites by number,
    for `mark_numbered` to read, and return the index of the piece that holds it; -1, adding
    nothing, where it does not cite. It cites after a word or punctuation ("trials." before
    "1,2"), not as an exponent ("10" or "cm" before "2"); `cited_at`, the piece of the last
    superscript numbers, takes on numbers cut over runs ("1" then ",2")."""
    if not _SUPERSCRIPT_NUMBERS.match(text):
        return -1
    if cited_at == len(pieces) - 1 >= 0:
        pieces[-1] = pieces[-1][:-1] + text + "]"
        return cited_at
    if not re.search(r"\d", text) or not _CITED_BY_SUPERSCRIPT.search("".join(pieces)):
        return -1
    pieces.append(f"[{text}]")
    return len(pieces) - 1


def is_listed(key: str) -> bool:
    """Whether a cited key is a reference list's number ("[3]"), not a citation key."""
    return bool(_LISTED.match(key))


def resolve_listed(
    keys: Iterable[str], references: Mapping[str, str], papers: Sequence[Paper]
) -> dict[str, tuple[str | None, str]]:
    """Each numbered key's stored key, or None and why not: its entry's DOI or arXiv id is no
    stored paper's, no sentence of it is a stored title, and no stored title of three words or
    more is in it."""
    # a title is an identity too: a short one matches a sentence of the entry that is all of it
    by_id = {i: paper.key for paper in papers if paper.key for i in paper.identities()}
    titles: _Titles = defaultdict(list)
    for paper in papers:
        words = normalise_title(paper.title).split()
        if len(words) >= _TITLE_WORDS and paper.key:
            titles[tuple(words[:_TITLE_WORDS])].append((words, paper.key))
    resolved: dict[str, tuple[str | None, str]] = {}
    for key in keys:
        entry = references[key]
        stored = _named_paper(entry, by_id, titles)
        shown = entry if len(entry) <= _SHOWN else entry[: _SHOWN - 1] + "\u2026"
        why = f"reference {key} names no stored paper by its DOI or title ({shown})"
        resolved[key] = (stored, "" if stored else why)
    return resolved


def _reference_list(passages: list[Passage]) -> tuple[list[Passage], dict[int, str]] | None:
    """The passages without the reference list, and its entries by number; None without a
    list: no heading in the body, or no entry after it."""
    body = passages[0].file if passages else ""
    headings = [
        (index, at)
        for index, passage in enumerate(passages)
        if passage.file == body
        for at, line in enumerate(passage.text.split("\n"))
        if _HEADING.match(line)
    ]
    if not headings:
        return None
    index, at = headings[-1]
    heading = passages[index]
    lines = heading.text.split("\n")
    kept = [*passages[:index], Passage(heading.file, "\n".join(lines[:at]), heading.line)]
    listed = [Passage(heading.file, "\n".join(lines[at + 1 :]), heading.line + at + 1)]
    rest = passages[index + 1 :]
    while rest and rest[0].file == body:
        listed.append(rest.pop(0))
    entries, after = _entries(listed)
    if not entries or any(PLACEHOLDER.search(entry) for entry in entries.values()):
        return None  # a section so named that cites is no reference list
    return kept + after + rest, entries


def _entries(listed: list[Passage]) -> tuple[dict[int, str], list[Passage]]:
    """The numbered entries of the list's passages, and the passages after its end. In a list
    without numbers, a line that opens as an author-year entry does ("Smith, A. (2020).")."""
    entries: dict[int, list[str]] = {}
    number = 0
    numbered_list = False
    for place, passage in enumerate(listed):
        lines = passage.text.split("\n")
        first = True  # a passage's first line of text begins an entry, and one after a blank
        for at, line in enumerate(lines):
            if _AFTER_LIST.match(line):
                after = Passage(passage.file, "\n".join(lines[at:]), passage.line + at)
                return _joined(entries), [after, *listed[place + 1 :]]
            numbered = _ENTRY_NUMBER.match(line)
            numbered_list = numbered_list or bool(numbered)
            opens = not numbered_list and _AUTHOR_YEAR_ENTRY.match(line)
            if numbered:
                number = int(numbered[1] or numbered[2])
                entries[number] = [line[numbered.end() :]]
            elif line.strip() and (first or not entries or opens):
                number += 1
                entries[number] = [line]
            elif line.strip():
                entries[number].append(line)
            first = not line.strip()
    return _joined(entries), []


def _joined(entries: dict[int, list[str]]) -> dict[int, str]:
    return {number: " ".join(" ".join(lines).split()) for number, lines in entries.items()}


def _listed_group(match: re.Match[str], plain: PlainText) -> bool:
    """Whether every number of a group is an entry of the reference list."""
    numbers = _numbers(match[1])
    return bool(numbers) and all(f"[{n}]" in plain.references for n in numbers)


def _marked(passage: Passage, plain: PlainText, parenthesized: bool) -> Passage:
    """The passage with each bracketed group of listed numbers a citation placeholder, and
    with `parenthesized`, each such group in parentheses that cites."""

    def placeholder(match: re.Match[str]) -> str:
        if not _listed_group(match, plain):
            return match.group()
        line = passage.line + match.string.count("\n", 0, match.start())
        return plain.cite([f"[{n}]" for n in _numbers(match[1])], line)

    text = _AFTER_PUNCTUATION.sub(r"\2\1", passage.text)  # "dance.[1]" cites "dance", then stops
    text = _GROUP.sub(placeholder, text)
    if parenthesized:
        text = _cited_in_parentheses(text, placeholder)
    return Passage(passage.file, text, passage.line)


def _cited_in_parentheses(text: str, cite: Callable[[re.Match[str]], str]) -> str:
    """`text` with `cite` applied to its parenthesized groups that follow a word; a group first
    in the text or after a stop or a colon starts an enumeration, and the number that goes on
    from it is its next item, wherever it stands ("propose: (1) A ... then (2) B")."""
    pieces: list[str] = []
    done = 0
    item = None  # the number an enumeration's next item would have
    for match in _PARENTHESIZED.finditer(text):
        before = text[: match.start()].rstrip()
        numbers = _numbers(match[1])
        if _NOT_CITING_AFTER.search(before):
            continue
        if not before or before[-1] in _ENUMERATION_AFTER or numbers == [item]:
            item = numbers[0] + 1 if len(numbers) == 1 else None
        else:
            pieces += [text[done : match.start()], cite(match)]
            done = match.end()
    return "".join(pieces) + text[done:]


def _bracketed(superscript: re.Match[str]) -> str:
    """Superscript numbers typed as text, as "[1,2]" where they cite (after a word or a stop)."""
    numbers = superscript[1] or superscript.group().translate(_SUPERSCRIPT_DIGITS)
    before = superscript.string[: superscript.start()]
    return f"[{numbers}]" if _CITED_BY_SUPERSCRIPT.search(before) else superscript.group()


def _numbers(group: str) -> list[int]:
    """The numbers a group cites, ranges spelled out: "1-3, 5" is 1, 2, 3 and 5; none for a
    backward or overlong range."""
    numbers: list[int] = []
    for part in re.split(r"\s*[,;]\s*", group):
        span = _RANGE.match(part)
        if span is None:
            numbers.append(int(part))
            continue
        low, high = int(span[1]), int(span[2])
        if not low <= high <= low + _LONGEST_RANGE:
            return []
        numbers += range(low, high + 1)
    return list(dict.fromkeys(numbers))


def _named_paper(entry: str, by_id: dict[str, str], titles: _Titles) -> str | None:
    """The key of the stored paper an entry names; a word cut at a line's end ("un- learning",
    pasted from a PDF) is tried joined too."""
    for text in (entry, _CUT_WORD.sub(r"\1\2", entry)):
        found = _by_identity(text, by_id) or _by_title(text, titles)
        if found:
            return found
    return None


def _by_identity(entry: str, by_id: dict[str, str]) -> str | None:
    """The key of the stored paper whose DOI or arXiv id the entry holds, or whose title is
    one of the entry's sentences ("Gu A, Dao T. Mamba. 2023.")."""
    dois = [f"doi:{doi.rstrip('.,;)]').lower()}" for doi in _DOI.findall(entry)]
    arxiv_ids = [f"arxiv:{arxiv_id}" for arxiv_id in _ARXIV.findall(entry)]
    parts = [normalise_title(part) for part in _ENTRY_PARTS.split(entry)]
    titles = [f"title:{part}" for part in parts if part]
    return next((by_id[i] for i in [*dois, *arxiv_ids, *titles] if i in by_id), None)


def _by_title(entry: str, titles: _Titles) -> str | None:
    """The key of the longest stored title that the entry holds, word for word."""
    words = normalise_title(entry).split()
    best: tuple[int, str] | None = None
    for start in range(len(words)):
        for title, key in titles.get(tuple(words[start : start + _TITLE_WORDS]), []):
            if words[start : start + len(title)] == title and (
                best is None or len(title) > best[0]
            ):
                best = (len(title), key)
    return best[1] if best else None

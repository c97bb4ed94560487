"""Typed author-year citations, read when `check --author-year` asks for them: "(see Vaswani et
al., 2017; Devlin and Chang, 2019a)" and "Vaswani et al. (2017)". They name no key, so each
stands for "Surname (year)" until it is resolved against the store by its first author's
surname and its year; where no stored paper fits, or more than one, it is reported as not judged
with the reason.

A parenthesis is read only when every part of it is such a citation, so "(Table 2, 2020)" or
"(n = 2,000)" stays text. A narrative citation keeps its names in the sentence: "Vaswani et al.
(2017) show ..." is judged as "Vaswani et al. show ...".
"""

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping

from assistant.papers import Paper, normalise_title, surname_of

# A capitalised name with a lower-case letter: "Vaswani", "McDonald", not "BERT" or "WHO"
_NAME = r"(?=[A-Z][A-Za-z\u00c0-\u024f'\u2019-]*[a-z])[A-Z][A-Za-z\u00c0-\u024f'\u2019-]+"
# The particles a surname may begin with: "van der Berg", "de Vries", "Von Neumann"
_PARTICLE = r"(?:[Vv]an|[Vv]on|[Dd]e[lnrs]?|[Dd]ella|[Dd][aiu]|[Dd]os|[Ll][ae]|ten|ter)\s+"
_SURNAME = rf"(?:{_PARTICLE})*{_NAME}(?<!['\u2019]s)"  # not a possessive's "s"
_AUTHORS = rf"(?P<first>{_SURNAME})(?:\s+et\s+al\.?|\s+(?:and|&)\s+(?P<second>{_SURNAME}))?"
_YEAR = r"(?:19|20)\d\d[a-z]?"
_YEARS = rf"(?P<years>{_YEAR}(?:\s*,\s*{_YEAR})*)"
_PREFIX = r"(?:(?:see|e\.g\.|cf\.|also|i\.e\.),?\s+)*"
_PAGES = (
    r"(?:,\s*pp?\.\s*[\d\u2013-]+|:\s*[\d\u2013-]+)?"  # ", p. 4", ", pp. 3-4", Harvard's ": 12"
)
_PART = re.compile(rf"^\s*{_PREFIX}{_AUTHORS},?\s+{_YEARS}{_PAGES}\s*$")
# One pattern for both kinds, so citations are numbered in the order they occur: a parenthesis
# holding a year (group 1), or names followed by years in parentheses.
_CITATION = re.compile(
    rf"\(([^()\n]*?{_YEAR}[^()\n]*?)\)|\b{_AUTHORS}(?:['\u2019]s)?\s+(?P<cite>\({_YEARS}\))"
)
# Capitalised words that begin a "word, year" or "word (year)" that cites nothing.
_NOT_NAMES = frozenset(
    "Table Tables Figure Figures Fig Figs Section Sections Eq Equation Appendix Chapter Page "
    "Step Version Phase Study Experiment In By See January February March April May June July "
    "August September October November December".split()
)
TYPED_MARK = " ("
_AND = " and "  # between the two authors a typed key names: "Smith and Jones (2020)"
"""What a typed citation's key holds ("Vaswani (2017)") and a citation key never does."""

Cite = Callable[[list[str], int], str]


def mark_typed(text: str, cite: Cite, line_of: Callable[[int], int]) -> str:
    """`text` with each typed citation replaced by `cite(keys, line)`'s placeholder."""

    def placeholder(match: re.Match[str]) -> str:
        if match.group(1) is not None:  # a parenthesis: a citation when all its parts are
            parts = [_PART.match(part) for part in match.group(1).split(";")]
            if not all(parts) or any(part["first"] in _NOT_NAMES for part in parts if part):
                return match.group()
            keys = [key for part in parts if part for key in _keys(part)]
            return cite(keys, line_of(match.start()))
        if match["first"] in _NOT_NAMES:
            return match.group()
        names = match.group()[: match.start("cite") - match.start()]  # they stay in the text
        return names + cite(_keys(match), line_of(match.start()))

    return _CITATION.sub(placeholder, text)


def is_typed(key: str) -> bool:
    return TYPED_MARK in key


def resolve_typed(keys: Iterable[str], papers: list[Paper]) -> dict[str, tuple[str | None, str]]:
    """Each typed key's stored key, or None and why not: no stored paper by that first author
    from that year, or several (that a second author, where one is typed, does not tell
    apart)."""
    by_name_year: dict[tuple[str, int], list[Paper]] = defaultdict(list)
    for paper in papers:
        if paper.authors and paper.year and paper.key:
            for name in _forms(paper.authors):
                by_name_year[(name, paper.year)].append(paper)
    resolved: dict[str, tuple[str | None, str]] = {}
    for key in keys:
        names, year = key.split(TYPED_MARK)
        name, _, second = names.partition(_AND)
        candidates = by_name_year.get((_folded(name), int(year[:4])), [])
        if second and len(candidates) > 1:
            by_both = [p for p in candidates if _folded(second) in _forms(p.authors[1:2])]
            candidates = by_both or candidates
        found = sorted(paper.key or "" for paper in candidates)
        if len(found) == 1:
            resolved[key] = (found[0], "")
        elif found:
            listed = ", ".join(found)
            resolved[key] = (
                None,
                f"{len(found)} stored papers by {name} from {year[:4]}: {listed}",
            )
        else:
            resolved[key] = (None, f"no stored paper by {name} from {year[:4]}")
    return resolved


def typed_entries(keys: Iterable[str], references: Mapping[str, str]) -> dict[str, str]:
    """The entry of the draft's own reference list that each typed key names, where exactly
    one does: it starts with the first author's surname and holds the year as typed ("2020a";
    "2020" not "2020a")."""
    found: dict[str, str] = {}
    for key in keys:
        names, year = key.split(TYPED_MARK)
        name = _folded(names.partition(_AND)[0])
        typed_year = re.compile(rf"\b{re.escape(year[:-1])}(?![a-z])")
        named = [
            entry
            for entry in references.values()
            if _folded(entry).startswith(name) and typed_year.search(entry)
        ]
        if len(named) == 1:
            found[key] = named[0]
    return found


def _keys(match: re.Match[str]) -> list[str]:
    years = [year.strip() for year in match["years"].split(",")]
    names = match["first"] + (f"{_AND}{match['second']}" if match["second"] else "")
    return [f"{names}{TYPED_MARK}{year})" for year in years]


def _forms(authors: list[str]) -> set[str]:
    """The folded forms the first of `authors`' surname is typed in (none without one): "van
    der Berg" is typed "van der Berg (2019)" or, in a sentence, "Berg (2019)"."""
    surname = surname_of(authors[0]) if authors else ""
    return {_folded(surname), _folded(surname.split()[-1] if surname else "")} - {""}


def _folded(name: str) -> str:
    return normalise_title(name).replace(" ", "")

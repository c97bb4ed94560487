"""Saved listing pages of paper abstracts: title, abstract, author count or team, date.

A page looks like this (blank lines ignored):

    Daily Papers            <- header: the site's own lines, then the page's date if it shows one
    Dec 8
    <title>
    <abstract>
    • 8 authors             <- or a team name such as "facebook AI at Meta"
    ·
    Jun 12, 2025 6          <- date, year only when not the page's year, then an upvote count

The first entry is found from its byline (two lines after its title), not from the page's
date, which some pages lack. The page never states its own year. Dates shown without one are
the page's year, and the page shows a year for every other date, so the page's year is one after
the latest year it shows.
"""

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from assistant.readers.base import ReadItem, Rejected, checked, decoded_lines
from assistant.readers.tex_marks import plain_text

_MONTHS = {m: i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}
_DATE = re.compile(r"^(?P<month>[A-Z][a-z]{2}) (?P<day>\d{1,2})(?:, (?P<year>\d{4}))?(?: \d+)?$")
_AUTHORS = re.compile(r"^•\s*(?P<count>\d+)\s+authors?$")
_SEPARATOR = "·"
# Lines the site puts above the entries; with the page's date they make the header.
_HEADER_LINES = frozenset(
    {
        "new",
        "Get trending papers in your email inbox!",
        "Subscribe",
        "Daily Papers",
        "byAK and the research community",
    }
)


def read(path: Path) -> Iterator[ReadItem]:
    """Papers from one saved listing page."""
    text, bad = decoded_lines(path)
    yield from bad
    lines = [(n, line.strip()) for n, line in enumerate(text, start=1) if line.strip()]
    if not any(line == _SEPARATOR for _, line in lines):
        yield Rejected(
            str(path), "file", "not a paper listing page; pass --format to say what it is"
        )
        return
    start = _first_entry([line for _, line in lines])
    page_year = _page_year(line for _, line in lines)
    i = start
    while i < len(lines):
        number, title = lines[i]
        abstract = lines[i + 1][1] if i + 1 < len(lines) else ""
        i += 2
        # abstracts as typed for arXiv: "15\%", "\eg"
        fields: dict[str, object] = {"title": plain_text(title), "abstract": plain_text(abstract)}
        if i + 1 < len(lines) and (_AUTHORS.match(lines[i][1]) or lines[i + 1][1] == _SEPARATOR):
            byline = _AUTHORS.match(lines[i][1])
            if byline:
                fields["author_count"] = int(byline["count"])
            else:
                fields["organization"] = lines[i][1]
            i += 2 if lines[i + 1][1] == _SEPARATOR else 1
            dated = _DATE.match(lines[i][1]) if i < len(lines) else None
            if dated:
                i += 1
                if day := _date(dated, page_year):
                    fields.update(date=day.isoformat(), year=day.year)
        yield checked(fields, path, f"line {number}")


def _first_entry(lines: list[str]) -> int:
    """Index of the first entry's title: after the header lines and the page's date, all of
    which come before the title of the first entry with a byline."""
    byline = next(
        (
            i
            for i, line in enumerate(lines)
            if _AUTHORS.match(line) or (i + 1 < len(lines) and lines[i + 1] == _SEPARATOR)
        ),
        len(lines),
    )
    before = lines[: max(byline - 2, 0)]
    header = [i for i, line in enumerate(before) if line in _HEADER_LINES or _DATE.match(line)]
    return header[-1] + 1 if header else 0


def _page_year(lines: Iterator[str]) -> int:
    shown = [int(m["year"]) for line in lines if (m := _DATE.match(line)) and m["year"]]
    return max(shown) + 1 if shown else date.today().year


def _date(match: re.Match[str], page_year: int) -> date | None:
    """The date shown, or None for one that does not exist ("Feb 31"): the paper is kept."""
    year = int(match["year"]) if match["year"] else page_year
    try:
        return date(year, _MONTHS[match["month"]], int(match["day"]))
    except ValueError:
        return None

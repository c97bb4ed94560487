"""Saved listing pages of paper abstracts: title, abstract, author count or team, date.

A page looks like this (blank lines ignored):

    Daily Papers            <- header, ends at the page's own date ("Dec 8")
    Dec 8
    <title>
    <abstract>
    • 8 authors             <- or a team name such as "facebook AI at Meta"
    ·
    Jun 12, 2025 6          <- date, year only when not the page's year, then an upvote count

The page never states its own year. Dates shown without one are the page's year, and the page
shows a year for every other date, so the page's year is one after the latest year it shows.
"""

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from assistant.readers.base import ReadItem, Rejected, checked, decoded_lines

_MONTHS = {m: i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}
_DATE = re.compile(r"^(?P<month>[A-Z][a-z]{2}) (?P<day>\d{1,2})(?:, (?P<year>\d{4}))?(?: \d+)?$")
_AUTHORS = re.compile(r"^•\s*(?P<count>\d+)\s+authors?$")
_SEPARATOR = "·"


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
    start = next((i + 1 for i, (_, line) in enumerate(lines) if _DATE.match(line)), 0)
    page_year = _page_year(line for _, line in lines)
    i = start
    while i < len(lines):
        number, title = lines[i]
        abstract = lines[i + 1][1] if i + 1 < len(lines) else ""
        i += 2
        fields: dict[str, object] = {"title": title, "abstract": abstract}
        if i + 1 < len(lines) and (_AUTHORS.match(lines[i][1]) or lines[i + 1][1] == _SEPARATOR):
            byline = _AUTHORS.match(lines[i][1])
            if byline:
                fields["author_count"] = int(byline["count"])
            else:
                fields["organization"] = lines[i][1]
            i += 2 if lines[i + 1][1] == _SEPARATOR else 1
            dated = _DATE.match(lines[i][1]) if i < len(lines) else None
            if dated:
                day = _date(dated, page_year)
                fields.update(date=day.isoformat(), year=day.year)
                i += 1
        yield checked(fields, path, f"line {number}")


def _page_year(lines: Iterator[str]) -> int:
    shown = [int(m["year"]) for line in lines if (m := _DATE.match(line)) and m["year"]]
    return max(shown) + 1 if shown else date.today().year


def _date(match: re.Match[str], page_year: int) -> date:
    year = int(match["year"]) if match["year"] else page_year
    return date(year, _MONTHS[match["month"]], int(match["day"]))

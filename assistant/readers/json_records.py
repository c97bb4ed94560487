"""JSON exports: a list of paper objects, a wrapper object holding one, or JSON Lines."""

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from assistant.readers.base import ReadItem, Rejected, checked, decoded_lines
from assistant.readers.json_fields import json_paper_fields

JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
# Keys under which exports nest their list of records, tried in this order (Semantic
# Scholar's API answers with `data`, OpenAlex's with `results`).
LIST_KEYS = ("papers", "items", "records", "data", "results")

FieldsOf = Callable[[dict[str, Any]], dict[str, Any]]
_DECODER = json.JSONDecoder()


def read(path: Path) -> Iterator[ReadItem]:
    """Papers from a .json document or a JSON Lines file."""
    lines, bad = decoded_lines(path)
    if path.suffix.lower() in JSON_LINES_SUFFIXES:
        yield from _line_items(path, lines, bad, json_paper_fields)
        return
    text = "".join(lines)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        if _first_line_is_object(lines):
            yield from _line_items(path, lines, bad, json_paper_fields)
        else:
            yield from bad
            yield Rejected(
                str(path), f"line {exc.lineno}", f"invalid JSON: {exc.msg} (column {exc.colno})"
            )
        return
    yield from bad
    line, counted_to = 1, 0
    for number, (offset, record) in enumerate(_records(text, document), start=1):
        line, counted_to = line + text.count("\n", counted_to, offset), offset
        yield _record_item(record, json_paper_fields, path, f"record {number} (line {line})")


def read_json_lines(path: Path, fields_of: FieldsOf) -> Iterator[ReadItem]:
    """Papers from a JSON Lines file, each line's object mapped to Paper fields by `fields_of`."""
    lines, bad = decoded_lines(path)
    return _line_items(path, lines, bad, fields_of)


def _line_items(
    path: Path, lines: list[str], bad: list[Rejected], fields_of: FieldsOf
) -> Iterator[ReadItem]:
    bad_at = {rejected.location: rejected for rejected in bad}
    for number, line in enumerate(lines, start=1):
        location = f"line {number}"
        if location in bad_at:
            yield bad_at[location]
        elif line.strip():
            yield _line_item(line, fields_of, path, location)


def _record_item(record: Any, fields_of: FieldsOf, path: Path, location: str) -> ReadItem:
    if not isinstance(record, dict):
        return Rejected(str(path), location, f"a JSON {_kind(record)}, not an object")
    try:
        fields = fields_of(record)
    # Any JSON shape can arrive (a number for a list of authors): a field of the wrong type
    # rejects its record rather than stopping the whole import.
    except (TypeError, ValueError, AttributeError, IndexError, KeyError) as exc:
        return Rejected(str(path), location, f"a field has an unexpected shape: {exc}")
    return checked(fields, path, location)


def _line_item(line: str, fields_of: FieldsOf, path: Path, location: str) -> ReadItem:
    try:
        record = json.loads(line.rstrip())
    except json.JSONDecodeError as exc:
        return Rejected(str(path), location, f"invalid JSON: {exc.msg} (column {exc.colno})")
    return _record_item(record, fields_of, path, location)


def _kind(value: Any) -> str:
    kinds = {list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return kinds.get(type(value), "null")


def _first_line_is_object(lines: list[str]) -> bool:
    first = next((line for line in lines if line.strip()), "")
    try:
        return isinstance(json.loads(first), dict)
    except json.JSONDecodeError:
        return False


def _records(text: str, document: Any) -> Iterator[tuple[int, Any]]:
    """(offset in text, record) for each record in a parsed JSON document."""
    start = _skip_space(text, 0)
    if isinstance(document, list):
        yield from _array_items(text, start)
        return
    if isinstance(document, dict):
        members = dict(_object_members(text, start))
        key = next((k for k in LIST_KEYS if isinstance(document.get(k), list)), None)
        if key is not None:
            yield from _array_items(text, members[key])
            return
    yield start, document


def _array_items(text: str, start: int) -> Iterator[tuple[int, Any]]:
    """(offset, value) of each element of the valid JSON array opening at `start`."""
    index = _skip_space(text, start + 1)
    while text[index] != "]":
        value, end = _DECODER.raw_decode(text, index)
        yield index, value
        index = _skip_space(text, end)
        if text[index] == ",":
            index = _skip_space(text, index + 1)


def _object_members(text: str, start: int) -> Iterator[tuple[str, int]]:
    """(key, value offset) of each member of the valid JSON object opening at `start`."""
    index = _skip_space(text, start + 1)
    while text[index] != "}":
        key, end = _DECODER.raw_decode(text, index)
        index = _skip_space(text, _skip_space(text, end) + 1)  # past the colon
        _, end = _DECODER.raw_decode(text, index)
        yield key, index
        index = _skip_space(text, end)
        if text[index] == ",":
            index = _skip_space(text, index + 1)


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index

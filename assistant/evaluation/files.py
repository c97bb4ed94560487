"""Reading eval inputs: JSON lines, with errors that name the file and line."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from assistant.errors import LitreviewError


def json_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-blank line; a line that is not JSON is an error."""
    with opened(path) as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise LitreviewError(f"{path}:{number}: not a JSON object ({exc.msg}).") from None
            if isinstance(record, dict):
                yield number, record


@contextmanager
def opened(path: Path) -> Iterator[Any]:
    """A UTF-8 text file, with a one-line error when it is missing or not text."""
    try:
        with path.open(encoding="utf-8", newline="") as file:
            yield file
    except FileNotFoundError:
        raise LitreviewError(f"{path} does not exist.") from None
    except UnicodeDecodeError:
        raise LitreviewError(f"{path} is not UTF-8 text.") from None

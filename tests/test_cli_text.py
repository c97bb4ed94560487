"""What the CLI prints for people: stores that are not there, stored text printed verbatim,
names told apart, flags shown as flags."""

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEEDS

SEED_FILE = SEEDS / "000_ed3e69f438f02173.txt"
READ_COMMANDS = [
    ("papers", "list"),
    ("papers", "show", "vaswani2017attention"),
    ("papers", "export"),
    ("store", "info"),
    ("search", "associative recall"),
    ("ask", "Why do recurrent models fail at associative recall?"),
    ("related-work", "associative recall"),
    ("eval", "suite", str(ROOT / "evals" / "seed_questions.jsonl"), "--report", "reports"),
    ("eval", "citations", str(ROOT / "tests" / "fixtures" / "judge_tiny" / "answers.jsonl")),
    ("check", str(ROOT / "tests" / "fixtures" / "drafts" / "cites.tex")),
]


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_read_command_never_creates_a_store(
    cli, tmp_path: Path, command: tuple[str, ...]
) -> None:
    mistyped = tmp_path / "stroe"
    result = cli(*command, "--store", mistyped)
    assert result.code == 1
    assert f"No store at {mistyped}" in result.err
    assert f"litreview ingest PATH --store {mistyped}" in result.err
    assert not mistyped.exists()


@pytest.mark.parametrize(
    "command", [("ingest", str(SEED_FILE)), *READ_COMMANDS], ids=lambda c: " ".join(c[:2])
)
def test_a_store_that_is_a_file_is_a_clear_error(
    cli, tmp_path: Path, command: tuple[str, ...]
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a store\n")
    result = cli(*command, "--store", notes)
    assert result.code == 1
    assert f"{notes} is a file, not a store folder" in result.err
    assert "Traceback" not in result.err
    assert notes.read_text() == "not a store\n"


MARKUP_TITLE = "Recall with [bold]x[/bold] tokens in state space models"
MARKUP_ABSTRACT = (
    "Recurrent state space models fail at associative recall [/b] of tokens. "
    "We show that [bold]gated[/bold] recall with :smile: fixes associative recall."
)


@pytest.fixture
def markup_store(cli, tmp_path: Path) -> None:
    """A store holding a paper whose title and abstract look like Rich markup."""
    record = {
        "title": MARKUP_TITLE,
        "abstract": MARKUP_ABSTRACT,
        "authors": ["Vaswani, Ashish", "Noam Shazeer", "Parmar, Niki"],
        "year": 2024,
    }
    (tmp_path / "markup.jsonl").write_text(json.dumps(record) + "\n")
    assert cli("ingest", tmp_path / "markup.jsonl").code == 0


def test_stored_text_is_printed_verbatim_by_every_command(cli, markup_store: None) -> None:
    [paper] = cli("papers", "list", "--json").json()
    key = paper["key"]
    question = "Why do recurrent state space models fail at associative recall of tokens?"
    for command in [
        ("papers", "list"),
        ("papers", "show", key),
        ("search", question),
        ("ask", question),
        ("related-work", "associative recall in state space models"),
    ]:
        result = cli(*command)
        assert result.code == 0, (command, result.err)
        printed = result.out + result.err
        assert "[bold]x[/bold]" in printed or "[/b]" in printed, command
    shown = cli("papers", "show", key).out
    assert MARKUP_TITLE in shown and MARKUP_ABSTRACT in shown


def test_author_names_are_told_apart(cli, markup_store: None) -> None:
    [paper] = cli("papers", "list", "--json").json()
    shown = cli("papers", "show", paper["key"]).out
    assert "authors: Ashish Vaswani; Noam Shazeer; Niki Parmar" in shown


@pytest.mark.parametrize(
    "command",
    [("search",), ("ingest",), ("papers", "list"), ("papers", "export"), ("ask",), ("check",), ()],
)
def test_flags_show_as_flags_in_help(cli, command: tuple[str, ...]) -> None:
    result = cli(*command, "--help")
    assert result.code == 0
    flags = [line for line in result.out.splitlines() if "--json" in line or "--debug" in line]
    assert flags and all("<bool>" not in line for line in flags)


def test_search_key_options_have_help(cli) -> None:
    shown = cli("search", "--help").out
    for option, words in [
        ("--include", "Only search"),
        ("--exclude", "Leave out"),
        ("--pin", "Always return"),
    ]:
        [line] = [line for line in shown.splitlines() if line.lstrip("│ ").startswith(f"{option} ")]
        assert words in line, line

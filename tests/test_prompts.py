"""Every prompt file has exactly the placeholders its caller fills; a missing one is an error."""

import re
from importlib import resources

import pytest

from assistant.prompts import load, render

PLACEHOLDERS = {
    "ask": {"question", "evidence", "max_sentences"},
    "cite_with_markers": set(),
    "cite_with_schema": set(),
    "judge": {"count", "pairs"},
    "judge_grid": {"sources", "claims", "evidence", "sentences"},
    "judge_pair": {"number", "claim", "source"},
    "ping": set(),
    "plan_related_work": {"topic", "max_themes", "evidence"},
    "repair_output": {"error", "schema"},
    "structured_output": {"schema"},
    "write_theme": {"topic", "theme", "evidence", "max_sentences"},
}


def test_the_table_lists_every_prompt_file() -> None:
    files = resources.files("assistant.prompt_files").iterdir()
    names = {f.name.removesuffix(".md") for f in files if f.name.endswith(".md")}
    assert names - {"README"} == set(PLACEHOLDERS)


@pytest.mark.parametrize("name", sorted(PLACEHOLDERS))
def test_placeholders_are_the_ones_the_code_fills(name: str) -> None:
    found = {
        m.group("named") or m.group("braced")
        for m in load(name).pattern.finditer(load(name).template)
    }
    assert found - {None} == PLACEHOLDERS[name]


def test_a_missing_value_is_an_error_naming_it() -> None:
    with pytest.raises(KeyError, match="evidence"):
        render("ask", question="why?", max_sentences="8")
    assert "why?" in render(
        "ask", question="why?", max_sentences="8", evidence="[1] A paper (2024): text"
    )
    assert not re.search(r"\$\w", render("judge", count="1", pairs="PAIR 1"))

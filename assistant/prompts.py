"""Prompt files from `prompts/`, installed as the package data `assistant.prompt_files`."""

from functools import cache
from importlib import resources
from string import Template


@cache
def load(name: str) -> Template:
    """The prompt `prompts/<name>.md` as a template with `$placeholders`."""
    text = resources.files("assistant.prompt_files").joinpath(f"{name}.md").read_text("utf-8")
    return Template(text.strip())


def render(name: str, **values: str) -> str:
    """The prompt `name` with every placeholder filled; a missing value is a KeyError."""
    return load(name).substitute(values)

"""What every command shares: store options, settings with CLI overrides, output."""

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
)
from rich.text import Text

from assistant.errors import ConfigError, QueryError
from assistant.settings import Settings, read_settings

if TYPE_CHECKING:
    from assistant.verdicts import Judge
    from assistant.workspace import Writers

# Plain text: titles, abstracts and model output hold brackets and colons that Rich would
# read as markup (`[/b]` raises) or emoji codes; styled labels are built as rich Text.
console = Console(soft_wrap=True, markup=False, emoji=False, highlight=False)
if not console.is_terminal:  # piped output: one line per table row, never wrapped at 80
    console.width = 1_000
stderr = Console(stderr=True, soft_wrap=True, markup=False, emoji=False, highlight=False)

StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="Folder of the embedded store (default: ./store, or LITREVIEW_STORE__PATH).",
        show_default=False,
    ),
]
ChromaUrlOption = Annotated[
    str | None,
    typer.Option(
        "--chroma-url",
        help="Use a Chroma server instead of a folder, e.g. http://127.0.0.1:8000 "
        "(or LITREVIEW_STORE__CHROMA_URL).",
        show_default=False,
    ),
]
WaitOption = Annotated[
    float | None,
    typer.Option(
        "--wait",
        help="Seconds to wait for another writer's lock on the store "
        "(default: 0, or LITREVIEW_STORE__LOCK_TIMEOUT).",
        show_default=False,
    ),
]
# Typer labels a flag `<bool>` in help as if it took a value; an empty metavar shows none.
FLAG = ""
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON.", metavar=FLAG)
]
LlmOption = Annotated[
    str | None,
    typer.Option(
        "--llm",
        help="'local' runs the bundled model for this command; or a base URL such as "
        "http://localhost:11434/v1 (default: llm.base_url, or OPENAI_BASE_URL).",
        show_default=False,
    ),
]
ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        help="Chat model name (default: llm.model, or the endpoint's only model).",
        show_default=False,
    ),
]


JudgeOption = Annotated[
    Literal["local", "similarity", "llm", "cascade"] | None,
    typer.Option(
        "--judge",
        help="local (the built-in trained judge), similarity (its untrained baseline), llm "
        "(the chat model) or cascade (local, asking the chat model only where local is unsure); "
        "default: judge.backend.",
        show_default=False,
    ),
]


def load_settings(
    store: Path | None = None,
    chroma_url: str | None = None,
    llm: str | None = None,
    model: str | None = None,
    wait: float | None = None,
) -> Settings:
    """Settings from files, env and defaults, with the command's flags on top."""
    settings = read_settings()
    if store is not None:
        settings.store.path = store
    if chroma_url is not None:
        settings.store.chroma_url = chroma_url
    if wait is not None:
        settings.store.lock_timeout = wait
    if llm not in (None, "local"):
        if not llm.startswith(("http://", "https://")):
            raise ConfigError(
                f"--llm takes 'local' or a base URL such as http://host:port/v1, not {llm!r}."
            )
        settings.llm.base_url = llm
    if model is not None:
        settings.llm.model = model
    return settings


def _rate(task: Task) -> float | None:
    """Items a second since the work began. Rich's own speed averages the last 30 s, and has
    no figure at all when one batch of papers takes longer than that."""
    elapsed = task.elapsed
    return task.completed / elapsed if task.completed and elapsed else None


class _RateColumn(ProgressColumn):
    """`12.3 papers/s`, a dash until the first batch is done."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        """The rate so far."""
        rate = _rate(task)
        shown = f"{rate:.1f}" if rate else "-"
        return Text(f"{shown} {self.unit}/s", style="progress.data.speed")


class _TimeLeftColumn(ProgressColumn):
    """`0:01:05 left` at the rate so far."""

    def render(self, task: Task) -> Text:
        """The time left."""
        rate = _rate(task)
        if rate is None or task.total is None:
            return Text("-:--:-- left", style="progress.remaining")
        seconds = round((task.total - task.completed) / rate)
        return Text(f"{timedelta(seconds=seconds)} left", style="progress.remaining")


@contextmanager
def progress_bar(
    label: str, unit: str, *, show: bool = True, lines_off_terminal: bool = True
) -> Iterator[Callable[[int, int], None]]:
    """A callback `(done, total)` drawing a bar on stderr: done of total, rate and time left.
    Off a terminal, plain lines ("label: done/total unit") at every twentieth of the way, for
    logs, unless `lines_off_terminal` is False; nothing at all unless `show`."""
    on_terminal = show and stderr.is_terminal
    lines = show and lines_off_terminal and not on_terminal
    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        _RateColumn(unit),
        _TimeLeftColumn(),
        console=stderr,
        disable=not on_terminal,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)
        printed = 0

        def advance(done: int, total: int) -> None:
            nonlocal printed
            if done == 0:  # the work itself starts now: time before it is not in the rate
                bar.reset(task, total=total)
            bar.update(task, completed=done, total=total)
            # a plain line each time another twentieth of the way is done
            if lines and (done == total or done * 20 // total > printed * 20 // total):
                stderr.print(f"{label}: {done}/{total} {unit}")
                printed = done

        yield advance


def in_words(text: str) -> str:
    """A question or topic as given; one with no words is an error, not a search for nothing."""
    if not text.strip():
        raise QueryError("Give a question or topic in words: the one given is empty.")
    return text


def print_json(value: Any) -> None:
    """JSON on stdout, nothing else, so scripts can parse it."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


@contextmanager
def open_judge(settings: Settings, backend: str | None, llm: str | None) -> Iterator["Judge"]:
    """The judge `--judge` names (default: judge.backend), for the duration; a model judge's
    usage (and a cascade's pairs sent to the model) is printed when it is done."""
    from assistant.workspace import judging

    settings.judge.backend = backend or settings.judge.backend  # type: ignore[assignment]
    with judging(settings, local=llm == "local") as writing:
        assert writing.judge is not None
        yield writing.judge
    report_models(writing)


def report_models(writing: "Writers") -> None:
    """For the end of a command: a cascade judge's pairs sent to the model, the model's usage."""
    from assistant.cascade_judge import CascadeJudge

    if isinstance(writing.judge, CascadeJudge):
        stderr.print(writing.judge.summary())
    if writing.chat is not None:
        stderr.print(writing.chat.usage.summary())


def with_cascade(value: dict[str, Any], judge: "Judge | None") -> dict[str, Any]:
    """A command's JSON, plus a cascade judge's counts (pairs, sent to the model) if it ran one."""
    from assistant.cascade_judge import CascadeJudge

    return {**value, "cascade": judge.as_json()} if isinstance(judge, CascadeJudge) else value

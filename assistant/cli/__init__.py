"""The `litreview` command: a thin Typer layer over the `assistant` library."""

from typing import Annotated

import typer

from assistant.cli import config, evaluate, model, papers, store
from assistant.cli.check import check_command
from assistant.cli.common import FLAG, stderr
from assistant.cli.ingest import ingest_command
from assistant.cli.search import search_command
from assistant.cli.write import ask_command, related_work_command
from assistant.errors import LitreviewError

app = typer.Typer(
    help="A literature-review assistant whose every citation is real and checked.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("ingest")(ingest_command)
app.command("search")(search_command)
app.command("ask")(ask_command)
app.command("related-work")(related_work_command)
app.command("check")(check_command)
app.add_typer(papers.app, name="papers")
app.add_typer(store.app, name="store")
app.add_typer(model.app, name="model")
app.add_typer(config.app, name="config")
app.add_typer(evaluate.app, name="eval")

_debug = False


@app.callback()
def _options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks for errors.", metavar=FLAG)
    ] = False,
) -> None:
    global _debug
    _debug = debug


def main() -> None:
    """Entry point: run the app, turning litreview errors into one line and exit status 1."""
    try:
        app()
    except LitreviewError as exc:
        if _debug:
            raise
        stderr.print(f"Error: {exc}")
        raise SystemExit(1) from None

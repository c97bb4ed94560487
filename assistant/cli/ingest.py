"""`litreview ingest`: add papers from files and folders to the store."""

from pathlib import Path
from typing import Annotated

import typer

from assistant.cli.common import (
    ChromaUrlOption,
    JsonOption,
    StoreOption,
    WaitOption,
    console,
    load_settings,
    print_json,
    progress_bar,
    stderr,
)
from assistant.ingest import IngestReport, ingest
from assistant.readers import READERS

# Exit status when the run stored what it could but rejected some records.
EXIT_REJECTED = 3


def ingest_command(
    paths: Annotated[
        list[Path], typer.Argument(help="Files or folders of papers.", show_default=False)
    ],
    format_name: Annotated[
        str | None,
        typer.Option("--format", help=f"Read every file as this format: {', '.join(READERS)}."),
    ] = None,
    wait: WaitOption = None,
    store: StoreOption = None,
    chroma_url: ChromaUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add papers (listing pages, JSON/JSONL, SciFact/BEIR, arXiv, CSV, BibTeX, RIS, PubMed,
    EndNote XML) to the store."""
    settings = load_settings(store, chroma_url, wait=wait)
    # quiet off a terminal too: a log gets the summary line, not a line per twentieth
    with progress_bar("ingest", "papers", show=not as_json, lines_off_terminal=False) as progress:
        report = ingest(paths, settings, format_name, progress=progress)
    if as_json:
        print_json(report.model_dump())
    else:
        _print_report(report)
    if report.rejected:
        raise typer.Exit(EXIT_REJECTED)


def _print_report(report: IngestReport) -> None:
    console.print(
        f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
        f"{len(report.rejected)} rejected; the store holds {report.papers_total} papers in "
        f"{report.chunks_total} chunks."
    )
    for record in report.rejected:
        stderr.print(f"rejected {record.file}:{record.location}: {record.reason}")

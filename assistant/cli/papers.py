"""`litreview papers`: list, show, export and remove what the store holds."""

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from assistant.cli.common import (
    FLAG,
    ChromaUrlOption,
    JsonOption,
    StoreOption,
    WaitOption,
    console,
    load_settings,
    print_json,
)
from assistant.export import EXPORTERS, record_json
from assistant.store import Store
from assistant.workspace import existing_store

app = typer.Typer(
    help="List, show, export and remove the papers in the store.", no_args_is_help=True
)


@app.command("list")
def list_papers(
    store: StoreOption = None, chroma_url: ChromaUrlOption = None, as_json: JsonOption = False
) -> None:
    """List every paper: key, year, title."""
    paper_store = _existing_store(store, chroma_url)
    papers = paper_store.papers()
    if as_json:
        print_json([record_json(p) for p in papers])
        return
    if not papers:
        console.print(
            f"No papers in {paper_store.location}; add some with `litreview ingest PATH`."
        )
        return
    # Plain aligned lines: a rich Table takes over a second to lay out 5,000 rows.
    width = max(len(p.key or "") for p in papers)
    rows = [f"{'key':<{width}}  year  authors  title"]
    for paper in papers:
        authors = str(len(paper.authors) or paper.author_count or "")
        rows.append(f"{paper.key:<{width}}  {paper.year or '':>4}  {authors:>7}  {paper.title}")
    sys.stdout.write("\n".join(rows) + f"\n{len(papers)} papers\n")


@app.command("remove")
def remove_papers_command(
    keys: Annotated[list[str], typer.Argument(help="Citation keys, as `papers list` shows them.")],
    wait: WaitOption = None,
    store: StoreOption = None,
    chroma_url: ChromaUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Remove papers and their chunks; ingesting their files again brings them back."""
    from assistant.ingest import remove_papers

    settings = load_settings(store, chroma_url, wait=wait)
    report = remove_papers(keys, settings)
    if as_json:
        print_json(report.model_dump())
        return
    console.print(
        f"Removed {', '.join(report.removed)} ({report.chunks_removed} chunks); the store "
        f"holds {report.papers_total} papers in {report.chunks_total} chunks."
    )


@app.command("show")
def show_paper(
    key: Annotated[str, typer.Argument(help="Citation key, as `papers list` shows it.")],
    store: StoreOption = None,
    chroma_url: ChromaUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one paper with its chunks and the sentences each covers."""
    paper_store = _existing_store(store, chroma_url)
    paper = paper_store.paper(key)
    chunks = paper_store.chunks_of(key)
    if as_json:
        print_json({**record_json(paper), "chunks": chunks})
        return
    console.print(Text.assemble((paper.title, "bold"), f"  ({paper.key})"))
    byline = "; ".join(map(display_name, paper.authors)) or (
        f"{paper.author_count} authors" if paper.author_count else ""
    )
    for label, value in [
        ("authors", byline),
        ("team", paper.organization),
        ("date", paper.date or paper.year),
        ("venue", paper.venue),
        ("doi", paper.doi),
        ("arXiv", paper.arxiv_id),
        ("url", paper.url),
        ("sources", "; ".join(paper.sources)),
    ]:
        if value:
            console.print(Text.assemble((f"{label}:", "dim"), f" {value}"))
    console.print()
    console.print(paper.abstract)
    console.print()
    for chunk in chunks:
        console.print(
            f"chunk {chunk['chunk_index']}: sentences {chunk['sentence_start'] + 1}"
            f"-{chunk['sentence_end']}, {chunk['token_count']} tokens",
            style="dim",
        )


@app.command("export")
def export_papers(
    format_name: Annotated[
        str, typer.Option("--format", help=f"One of: {', '.join(EXPORTERS)}.")
    ] = "bibtex",
    store: StoreOption = None,
    chroma_url: ChromaUrlOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Same as --format json.", metavar=FLAG)
    ] = False,
) -> None:
    """Write every paper to stdout in a reference format (redirect to a .bib file)."""
    format_name = "json" if as_json else format_name
    if format_name not in EXPORTERS:
        raise typer.BadParameter(f"choose one of: {', '.join(EXPORTERS)}", param_hint="--format")
    papers = _existing_store(store, chroma_url).papers()
    typer.echo(EXPORTERS[format_name](papers), nl=False)


def display_name(author: str) -> str:
    """'Vaswani, Ashish' as 'Ashish Vaswani' (and 'King, Jr., Martin' as 'Martin King, Jr.'),
    so a list of names joined by '; ' reads the same whatever form each source used."""
    parts = [part.strip() for part in author.split(",")]
    if len(parts) == 2 and all(parts):
        return f"{parts[1]} {parts[0]}"
    if len(parts) == 3 and all(parts):  # BibTeX's "von Last, Jr, First"
        return f"{parts[2]} {parts[0]}, {parts[1]}"
    return author


def _existing_store(store: Path | None, chroma_url: str | None) -> Store:
    return existing_store(load_settings(store, chroma_url).store)

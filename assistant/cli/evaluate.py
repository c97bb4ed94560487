"""`litreview eval`: measure retrieval against labelled test sets."""

from pathlib import Path
from typing import Annotated

import typer

from assistant.cli.common import JsonOption, console, load_settings, print_json, progress_bar
from assistant.evaluation.retrieval import evaluate_retrieval, read_queries

app = typer.Typer(help="Measure retrieval quality on labelled test sets.", no_args_is_help=True)


@app.command("retrieval")
def retrieval_command(
    corpus: Annotated[
        Path, typer.Option(help="SciFact/MultiVerS corpus.jsonl, or a BEIR corpus.jsonl.")
    ],
    queries: Annotated[
        Path, typer.Option(help="SciFact/MultiVerS claims, or BEIR queries.jsonl with --qrels.")
    ],
    qrels: Annotated[
        Path | None,
        typer.Option(help="BEIR qrels TSV (query-id, corpus-id, score).", show_default=False),
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option(
            "--store",
            help="Build the corpus store here and keep it, so a re-run skips the embedding "
            "(default: a temporary folder).",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """nDCG@10, recall@10, recall@100 and MRR@10 of hybrid search over a test corpus."""
    settings = load_settings()
    test_queries = read_queries(queries, qrels)
    with (
        progress_bar("embedding corpus", "papers") as corpus_progress,
        progress_bar("ranking", "queries") as query_progress,
    ):
        report = evaluate_retrieval(
            corpus, test_queries, settings, store, corpus_progress, query_progress
        )
    if as_json:
        print_json(report.as_json())
        return
    console.print(
        f"{report.queries} queries over {report.documents} documents"
        + (f" ({report.rejected_documents} rejected)" if report.rejected_documents else ""),
        highlight=False,
    )
    for name, value in report.as_json().items():
        if name != "queries":
            console.print(f"{name:<11} {value:.4f}", highlight=False)

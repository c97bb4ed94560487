"""`litreview search`: the papers that best match a question, with their evidence sentences."""

from typing import Annotated

import typer

from assistant.cli.common import (
    ChromaUrlOption,
    JsonOption,
    StoreOption,
    console,
    load_settings,
    print_json,
)
from assistant.errors import StoreError
from assistant.search import Filters, Searcher

KeysOption = Annotated[list[str] | None, typer.Option(show_default=False, metavar="KEY")]


def search_command(
    query: Annotated[str, typer.Argument(help="A question or topic, in plain words.")],
    k: Annotated[int | None, typer.Option("-k", help="Papers to return (default 10).")] = None,
    year_from: Annotated[int | None, typer.Option(help="Only papers from this year on.")] = None,
    year_to: Annotated[int | None, typer.Option(help="Only papers up to this year.")] = None,
    include: KeysOption = None,
    exclude: KeysOption = None,
    pin: KeysOption = None,
    store: StoreOption = None,
    chroma_url: ChromaUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Hybrid (dense + BM25) search. --include KEY limits the search to those papers,
    --exclude KEY drops papers, --pin KEY always returns a paper; each may be repeated."""
    settings = load_settings(store, chroma_url)
    searcher = Searcher(settings)
    if searcher.store.is_empty():
        raise StoreError(
            f"The store at {searcher.store.location} is empty: run `litreview ingest PATH` first."
        )
    filters = Filters(
        year_from=year_from,
        year_to=year_to,
        include=frozenset(include or ()),
        exclude=frozenset(exclude or ()),
        pins=tuple(pin or ()),
    )
    result = searcher.search(query, k, filters)
    if as_json:
        print_json([hit.as_json() for hit in result.hits])
        return
    if not result.relevant:
        console.print(
            f"No relevant papers for this question (best similarity {result.relevance:.2f}, "
            f"below search.min_relevance {result.threshold:.2f}).",
            markup=False,
            highlight=False,
        )
    for rank, hit in enumerate(result.hits, 1):
        year = hit.year if hit.year is not None else "n.d."
        label = "pinned" if hit.pinned else f"{hit.score:.3f}"
        console.print(
            f"{rank:>2}. {hit.key} ({year})  {label}  {hit.title}", markup=False, highlight=False
        )
        for evidence in hit.evidence:
            where = ",".join(str(i) for i in evidence.sentences)
            console.print(f"      [{where}] {evidence.text}", markup=False, highlight=False)

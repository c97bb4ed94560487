"""`litreview search`: the papers that best match a question, with their evidence sentences."""

from typing import Annotated, Any

import typer

from assistant.cli.common import (
    ChromaUrlOption,
    JsonOption,
    StoreOption,
    console,
    in_words,
    load_settings,
    print_json,
)
from assistant.search import Filters
from assistant.workspace import searcher as open_searcher


def _keys_option(help_text: str) -> Any:
    return typer.Option(help=f"{help_text} (a citation key; repeat for more).", metavar="KEY")


IncludeOption = Annotated[list[str] | None, _keys_option("Only search these papers")]
ExcludeOption = Annotated[list[str] | None, _keys_option("Leave out these papers")]
PinOption = Annotated[list[str] | None, _keys_option("Always return these papers")]


def search_command(
    query: Annotated[str, typer.Argument(help="A question or topic, in plain words.")],
    k: Annotated[
        int | None, typer.Option("-k", min=1, help="Papers to return (default 10).")
    ] = None,
    year_from: Annotated[int | None, typer.Option(help="Only papers from this year on.")] = None,
    year_to: Annotated[int | None, typer.Option(help="Only papers up to this year.")] = None,
    include: IncludeOption = None,
    exclude: ExcludeOption = None,
    pin: PinOption = None,
    store: StoreOption = None,
    chroma_url: ChromaUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Hybrid (dense + BM25) search: the best papers, each with its best-matching sentences."""
    query = in_words(query)
    settings = load_settings(store, chroma_url)
    searcher = open_searcher(settings)
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
            f"below search.min_relevance {result.threshold:.2f})."
        )
    for rank, hit in enumerate(result.hits, 1):
        year = hit.year if hit.year is not None else "n.d."
        label = "pinned" if hit.pinned else f"{hit.score:.3f}"
        console.print(f"{rank:>2}. {hit.key} ({year})  {label}  {hit.title}")
        for evidence in hit.evidence:
            # numbered from 1, as `papers show` numbers them (--json keeps 0-based indices)
            where = ",".join(str(i + 1) for i in evidence.sentences)
            console.print(f"      [{where}] {evidence.text}")

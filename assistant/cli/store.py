"""`litreview store`: what the store holds and how it was built."""

import dataclasses

import typer
from rich.text import Text

from assistant.cli.common import (
    ChromaUrlOption,
    JsonOption,
    StoreOption,
    console,
    load_settings,
    print_json,
)
from assistant.workspace import existing_store

app = typer.Typer(help="Inspect the store.", no_args_is_help=True)


@app.command("info")
def store_info(
    store: StoreOption = None, chroma_url: ChromaUrlOption = None, as_json: JsonOption = False
) -> None:
    """Location, embedder, paper and chunk counts, index settings."""
    settings = load_settings(store, chroma_url)
    info = existing_store(settings.store).info()
    if as_json:
        print_json(dataclasses.asdict(info))
        return
    for field in dataclasses.fields(info):
        console.print(Text.assemble((f"{field.name}:", "dim"), f" {getattr(info, field.name)}"))

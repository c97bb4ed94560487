"""Chroma reads and writes in pages, under the batch limits of its local store."""

from collections.abc import Iterator
from typing import Any

# Chroma rejects larger batches (its max_batch_size on a local store).
MAX_BATCH = 5_000
# Papers per `get` by key: their chunks stay well under MAX_BATCH.
KEYS_PER_GET = 200


def get_all(collection: Any, include: list[str]) -> dict[str, list[Any]]:
    """`collection.get` in pages, so large stores stay under Chroma's batch limits."""
    merged: dict[str, list[Any]] = {"ids": [], **{name: [] for name in include}}
    total = collection.count()
    for offset in range(0, total, MAX_BATCH):
        page = collection.get(include=include, limit=MAX_BATCH, offset=offset)
        for name, values in merged.items():
            values.extend(page[name])
    return merged


def ids_and_metadatas(
    collection: Any, keys: list[str] | None = None, field: str = ""
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(id, metadata) of every record, or of those whose `field` (default: the id) is in `keys`."""
    if keys is None:
        got = get_all(collection, include=["metadatas"])
        yield from zip(got["ids"], got["metadatas"])
        return
    for start in range(0, len(keys), KEYS_PER_GET):
        part = keys[start : start + KEYS_PER_GET]
        if field:
            got = collection.get(where={field: {"$in": part}}, include=["metadatas"])
        else:
            got = collection.get(ids=part, include=["metadatas"])
        yield from zip(got["ids"], got["metadatas"])


def batches(indices: range) -> Iterator[list[int]]:
    """Lists of at most MAX_BATCH consecutive indices."""
    for start in range(0, len(indices), MAX_BATCH):
        yield list(indices[start : start + MAX_BATCH])

"""The synthetic pair maker of evals/make_pairs.py, on real SciFact abstracts."""

import json
import random
import sys
from itertools import islice
from pathlib import Path

from tests.conftest import SCIFACT_400

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "evals"))
from make_pairs import (
    CONTRADICTED,
    ENTAILED,
    NEUTRAL,
    make_pairs,
    negate,
    swap_antonym,
    swap_number,
)


def _abstracts(n: int) -> list[list[str]]:
    with SCIFACT_400.open() as corpus:
        papers = [json.loads(line) for line in islice(corpus, n)]
    return [p["abstract"] for p in papers if p["abstract"]]


def test_every_label_is_made_and_the_pairs_are_seeded() -> None:
    abstracts = _abstracts(30)
    pairs = make_pairs(abstracts)
    labels = {label for _, _, label, _ in pairs}
    assert labels == {ENTAILED, NEUTRAL, CONTRADICTED}
    hows = {how for _, _, label, how in pairs if label == CONTRADICTED}
    assert {"negation", "antonym"} <= hows
    assert make_pairs(abstracts) == pairs
    assert make_pairs(abstracts, seed=1) != pairs


def test_contradictions_flip_what_the_sentence_says() -> None:
    rng = random.Random(0)
    assert swap_antonym("Aspirin increases bleeding.", rng) == "Aspirin decreases bleeding."
    assert swap_antonym("Levels were Higher in mice.", rng) == "Levels were Lower in mice."
    assert negate("The drug did not reduce mortality.", rng) == "The drug reduced mortality."
    assert negate("IL-6 was associated with risk.", rng) == "IL-6 was not associated with risk."
    assert negate("There was no significant effect.", rng) == "There was a significant effect."
    assert negate("Cats purr.", rng) is None
    changed = swap_number("Mortality fell by 12% in 300 patients.", rng)
    assert changed is not None and changed != "Mortality fell by 12% in 300 patients."

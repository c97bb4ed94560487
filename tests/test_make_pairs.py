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
    findings,
    make_pairs,
    negate,
    restated_pairs,
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


TITLED = [
    (
        "Metformin reduces hepatic glucose output in obese mice",
        [
            "Obesity raises fasting glucose through hepatic glucose production.",
            "In obese mice, metformin lowered the hepatic glucose output by a third.",
            "These results suggest that AMPK signalling mediates the effect of metformin.",
            "Thus, hepatic AMPK activity rose in the treated mice.",
        ],
    ),
    ("Survey of clinicians", ["We surveyed 400 clinicians about their prescribing habits."]),
] + [("", [f"Bread number {i} was baked at a bakery in a small town."]) for i in range(3)]


def test_findings_are_titles_with_a_verb_and_conclusions_without_their_frame() -> None:
    title, sentences = TITLED[0]
    assert findings(title, sentences) == [
        (title, None, "title"),
        ("AMPK signalling mediates the effect of metformin.", 2, "conclusion"),
        ("hepatic AMPK activity rose in the treated mice.", 3, "conclusion"),
    ]
    assert findings(*TITLED[1]) == []  # a title without a verb states no finding


def test_a_restated_finding_is_paired_with_the_sentence_that_shares_its_words() -> None:
    pairs = restated_pairs(TITLED, overlap=0.4)
    mine = [(p, h, label) for p, h, label, how in pairs if how.startswith("title")]
    claim = "Metformin reduces hepatic glucose output in obese mice."
    assert (TITLED[0][1][1], claim, ENTAILED) in mine
    flipped = "Metformin enhances hepatic glucose output in obese mice."
    assert (TITLED[0][1][1], flipped, CONTRADICTED) in mine
    neutral = [p for p, h, label in mine if label == NEUTRAL and h == claim]
    assert len(neutral) == 1 and neutral[0] not in TITLED[0][1]
    assert restated_pairs(TITLED, overlap=0.4) == pairs
    assert len(restated_pairs(TITLED[:2], overlap=0.4)) == 3  # fewer abstracts than the pool


def test_a_finding_pairs_with_as_many_sentences_as_share_its_words_up_to_matches() -> None:
    def premises(matches: int) -> list[str]:
        pairs = restated_pairs(TITLED, overlap=0.25, matches=matches)
        return [p for p, h, label, how in pairs if how == "title" and label == ENTAILED]

    sentences = TITLED[0][1]
    assert premises(1) == [sentences[1]]  # the sentence sharing most: 6 of 7 words
    two = premises(2)
    assert len(two) == 2 and sentences[1] in two and set(two) <= set(sentences)
    # only three of the sentences share 2 of its 7 words or more
    assert len(premises(3)) == 3 and sorted(premises(4)) == sorted(premises(3))

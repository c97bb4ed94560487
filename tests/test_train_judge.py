"""evals/train_judge.py's figures beyond the table."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "evals"))
from judge_pairs import Pairs
from train_judge import called_supported


def test_the_share_called_supported_is_per_scifact_label_without_titled_copies() -> None:
    y = np.array([1, 1, 0, 0, 0, 1, 1])
    refuted = np.array([0, 0, 1, 1, 0, 0, 0], bool)
    dataset = np.array([0, 0, 0, 0, 0, 0, 1])
    titled = np.array([0, 0, 0, 0, 0, 1, 0], bool)  # a title-first copy is not counted
    pairs = Pairs([("c", "s")] * 7, y, refuted, dataset, titled, np.arange(7))
    predicted = np.array([1, 0, 1, 0, 1, 1, 1])
    assert called_supported(predicted, pairs) == {
        "SUPPORT": (0.5, 2),
        "REFUTE": (0.5, 2),
        "NEI": (1.0, 1),
    }

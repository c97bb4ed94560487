"""evals/interpolate_weights.py: fine-tuned adapters moved part of the way back to their start
(WiSE-FT), keeping the fine-tune's marks."""

import sys
from pathlib import Path

import numpy as np

from assistant.cross_encoder import HUMAN_PAIRS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "evals"))
from interpolate_weights import interpolate


def test_each_array_goes_alpha_of_the_way_from_the_start_and_the_marks_stay() -> None:
    start = {"layer.a": np.zeros((2, 3), np.float16), "scale": np.array(2.0, np.float32)}
    tuned = {
        "layer.a": np.full((2, 3), 4.0, np.float16),
        "scale": np.array(2.0, np.float32),
        HUMAN_PAIRS: np.array(3519),
    }
    out = interpolate(start, tuned, 0.25)
    assert out["layer.a"].dtype == np.float16 and np.all(out["layer.a"] == 1.0)
    assert out[HUMAN_PAIRS] == 3519 and out["scale"] == 2.0
    assert np.all(interpolate(start, tuned, 1.0)["layer.a"] == 4.0)
    assert np.all(interpolate(start, tuned, 0.0)["layer.a"] == 0.0)

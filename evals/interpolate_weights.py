"""Move fine-tuned cross-encoder adapters part of the way back to the adapters they started
from (WiSE-FT, Wortsman et al., 2022: weight interpolation keeps more of what the start knew).

Each fold's --tuned file (evals/finetune_cross_encoder.py's --out-pattern, with {k}) becomes
--alpha of the way from --start to it, array by array, and keeps its marks (how many human pairs
it saw, how many tokens it reads), so evals/train_judge.py still reads it per fold:

    .venv/bin/python evals/interpolate_weights.py --start /tmp/restated-synth.npz \
        --tuned '/tmp/mix-fold{k}.npz' --alpha 0.5 --out '/tmp/wise-fold{k}.npz'
    OPENBLAS_NUM_THREADS=1 .venv/bin/python evals/train_judge.py --data ../shared/data \
        --xenc-folds '/tmp/wise-fold{k}.npz' --out /tmp/wise-judge.npz
"""

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from judge_pairs import FOLDS  # evals/judge_pairs.py, beside this script


def interpolate(
    start: Mapping[str, np.ndarray], tuned: Mapping[str, np.ndarray], alpha: float
) -> dict[str, Any]:
    """`tuned`'s arrays, each `alpha` of the way from `start`'s to its own; what `start` lacks
    (the fine-tune's marks) as it is."""
    out: dict[str, Any] = {}
    for key, array in tuned.items():
        if key in start and array.dtype.kind == "f":
            moved = alpha * array.astype(np.float32) + (1 - alpha) * start[key].astype(np.float32)
            out[key] = moved.astype(array.dtype)
        else:
            out[key] = array
    return out


def main() -> None:
    """Interpolate every fold's tuned adapters with the start and write them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--start", type=Path, required=True)
    parser.add_argument("--tuned", required=True, help="a path pattern with {k}")
    parser.add_argument("--alpha", type=float, required=True, help="1 keeps the tuned weights")
    parser.add_argument("--out", required=True, help="a path pattern with {k}")
    args = parser.parse_args()
    with np.load(args.start) as start:
        before = dict(start)
    for k in range(FOLDS):
        with np.load(args.tuned.format(k=k)) as tuned:
            np.savez_compressed(
                args.out.format(k=k), **interpolate(before, dict(tuned), args.alpha)
            )
        print(f"wrote {args.out.format(k=k)}")


if __name__ == "__main__":
    main()

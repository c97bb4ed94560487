"""The numpy cross-encoder against the torch model it was trained as, with merged LoRA weights."""

import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.cross_encoder import CrossEncoder
from assistant.embedders.minilm_numpy import MiniLMQueryEncoder
from assistant.settings import EmbeddingSettings

torch = pytest.importorskip("torch")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "evals"))
import train_cross_encoder

PAIRS = [
    ("Aspirin increases bleeding.", "In 4,000 patients, aspirin decreased the risk of bleeding."),
    ("IL-6 is not associated with risk.", "IL-6 was strongly associated with coronary risk."),
    ("A short claim.", "An unrelated sentence about bread " * 30),
]


def test_numpy_probabilities_match_the_torch_forward_pass() -> None:
    torch.manual_seed(0)
    model_dir = MiniLMQueryEncoder(EmbeddingSettings()).model_dir
    model = train_cross_encoder.CrossEncoder(model_dir, rank=4, alpha=8.0, top=2)
    with torch.no_grad():
        # trained adapters are non-zero; round to what is stored (float16) before comparing
        for parameter in model.parameters():
            if parameter.requires_grad:
                parameter.copy_(torch.randn_like(parameter).mul(0.05).half().float())
    model.eval()
    tokenizer = CrossEncoder(model_dir).tokenizer
    ((ids, types, mask, _),) = train_cross_encoder.batches(
        tokenizer, [(h, p, 0) for h, p in PAIRS], 8
    )
    with torch.no_grad():
        expected = model(ids, types, mask).softmax(-1).numpy()
        plain = train_cross_encoder.CrossEncoder(model_dir, 4, 8.0, 0)
        plain.head = model.head
        unadapted = plain(ids, types, mask).softmax(-1).numpy()
    got = CrossEncoder(model_dir, model.arrays()).probabilities(PAIRS)
    assert got.shape == (3, 3)
    assert np.abs(got - expected).max() < 2e-3
    # the adapters change the output: the comparison would catch them not being merged
    assert np.abs(unadapted - expected).max() > 1e-2
    assert CrossEncoder(model_dir, model.arrays()).probabilities([]).shape == (0, 3)

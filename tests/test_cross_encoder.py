"""The int8 cross-encoder against the torch model it was trained as, with merged LoRA weights."""

import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.cross_encoder import (
    MAX_PAIR_TOKENS,
    MAX_TOKENS,
    WEIGHTS_FILE,
    CrossEncoder,
    pair_tokenizer,
)
from assistant.embedders.minilm_numpy import MiniLMQueryEncoder
from assistant.settings import EmbeddingSettings

torch = pytest.importorskip("torch")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "evals"))
import train_cross_encoder

PAIRS = [
    ("Aspirin increases bleeding.", "In 4,000 patients, aspirin decreased the risk of bleeding."),
    ("IL-6 is not associated with risk.", "IL-6 was strongly associated with coronary risk."),
    ("A short claim.", "An unrelated sentence about bread " * 30),
]


def test_int8_probabilities_follow_the_torch_forward_pass(model_cache: Path) -> None:
    model_dir = MiniLMQueryEncoder(EmbeddingSettings()).model_dir
    model = train_cross_encoder.CrossEncoder(model_dir, rank=8, alpha=16.0, top=3)
    train_cross_encoder.load_arrays(model, ROOT / "assistant" / WEIGHTS_FILE)
    model.eval()
    tokenizer = pair_tokenizer(model_dir)
    ((ids, types, mask, _),) = train_cross_encoder.batches(
        tokenizer, [(h, p, 0) for h, p in PAIRS], 8
    )
    with torch.no_grad():
        expected = model(ids, types, mask).softmax(-1).numpy()
        plain = train_cross_encoder.CrossEncoder(model_dir, 8, 16.0, 0)
        plain.head = model.head
        unadapted = plain(ids, types, mask).softmax(-1).numpy()
    cross = CrossEncoder(model_dir, model.arrays(), model_cache)
    got = cross.probabilities(PAIRS)
    assert got.shape == (3, 3)
    # int8 moves each probability a little (0.08 at most here), the adapters far more: the
    # comparison would catch them not being merged, or the token types not read
    assert np.abs(got - expected).max() < 0.1, np.abs(got - expected).max()
    assert np.abs(unadapted - expected).max() > 0.3
    # one pair a forward pass: the same pair scores the same whatever is judged beside it
    assert np.allclose(cross.probabilities(PAIRS[1:2]), got[1:2], atol=1e-6)
    assert cross.probabilities([]).shape == (0, 3)


def test_weights_trained_on_whole_sources_read_as_many_tokens_as_they_were_trained_on() -> None:
    model_dir = MiniLMQueryEncoder(EmbeddingSettings()).model_dir
    long_pair = PAIRS[2]
    assert len(CrossEncoder(model_dir).tokenizer.encode(*long_pair).ids) == MAX_PAIR_TOKENS
    with np.load(ROOT / "assistant" / WEIGHTS_FILE) as stored:
        weights = {name: stored[name] for name in stored.files}
    passage = CrossEncoder(model_dir, {**weights, MAX_TOKENS: np.array(320)})
    assert MAX_PAIR_TOKENS < len(passage.tokenizer.encode(*long_pair).ids) <= 320


def test_length_bucketing_keeps_every_pair_in_batches_of_similar_length() -> None:
    pairs = [("x" * n, "y", n % 3) for n in range(1, 65)]
    ordered = train_cross_encoder.length_bucketed(pairs, 16)
    assert sorted(ordered) == sorted(pairs)
    for start in range(0, 64, 16):
        lengths = [len(h) for h, _, _ in ordered[start : start + 16]]
        assert max(lengths) - min(lengths) == 15


def test_bfloat16_training_still_fits_a_few_pairs() -> None:
    # the setup check of train_cross_encoder.py --overfit, under bfloat16 autocast
    model_dir = MiniLMQueryEncoder(EmbeddingSettings()).model_dir
    torch.manual_seed(0)
    model = train_cross_encoder.CrossEncoder(model_dir, rank=8, alpha=16.0, top=3)
    few = [(h, p, label) for label, (h, p) in enumerate(PAIRS)] * 2
    tokenizer = pair_tokenizer(model_dir)
    before = train_cross_encoder.probabilities(model, tokenizer, few).argmax(1)
    train_cross_encoder.train(model, tokenizer, few, (2e-3, 6, 5.0), epochs=15, bf16=True)
    after = train_cross_encoder.probabilities(model, tokenizer, few).argmax(1)
    assert (after == [label for *_, label in few]).all()
    assert not (before == [label for *_, label in few]).all()


def test_adapters_load_into_a_wider_model_that_computes_the_same_until_trained(
    tmp_path: Path,
) -> None:
    # more rank and more layers start as the narrower model exactly: the new rows of A are
    # random, the new columns of B and the new layers' B zero
    model_dir = MiniLMQueryEncoder(EmbeddingSettings()).model_dir
    weights = ROOT / "assistant" / WEIGHTS_FILE
    narrow = train_cross_encoder.CrossEncoder(model_dir, rank=8, alpha=16.0, top=3)
    wide = train_cross_encoder.CrossEncoder(model_dir, rank=16, alpha=32.0, top=6)
    train_cross_encoder.load_arrays(narrow, weights)
    train_cross_encoder.load_arrays(wide, weights)
    tokenizer = pair_tokenizer(model_dir)
    few = [(h, p, 0) for h, p in PAIRS]
    expected = train_cross_encoder.probabilities(narrow, tokenizer, few)
    assert np.allclose(train_cross_encoder.probabilities(wide, tokenizer, few), expected, atol=1e-5)
    assert len(wide.arrays()) > len(narrow.arrays())
    # the other way round would silently drop what the stored model learnt
    np.savez(tmp_path / "wide.npz", **wide.arrays())
    with pytest.raises(ValueError, match="layers this model does not"):
        train_cross_encoder.load_arrays(narrow, tmp_path / "wide.npz")
    lower_rank = train_cross_encoder.CrossEncoder(model_dir, rank=4, alpha=8.0, top=3)
    with pytest.raises(ValueError, match="more rank"):
        train_cross_encoder.load_arrays(lower_rank, weights)
    other_scale = train_cross_encoder.CrossEncoder(model_dir, rank=16, alpha=16.0, top=3)
    with pytest.raises(ValueError, match="scale"):
        train_cross_encoder.load_arrays(other_scale, weights)

"""The numpy query encoder against sentence-transformers, on real SciFact abstracts."""

import json
import subprocess
import sys
from itertools import islice
from pathlib import Path

import numpy as np
import pytest

from assistant.embedders.minilm_numpy import MiniLMQueryEncoder
from assistant.settings import EmbeddingSettings
from tests.conftest import SCIFACT_400

ROOT = Path(__file__).resolve().parents[1]
MIN_COSINE = 0.9999


@pytest.fixture(scope="module")
def reference():
    """sentence-transformers in fp32: the ingest-time embedder the store's vectors come from."""
    from assistant.embedders.minilm import MiniLMEmbedder

    return MiniLMEmbedder(EmbeddingSettings(precision="fp32"))


@pytest.fixture(scope="module")
def encoder() -> MiniLMQueryEncoder:
    return MiniLMQueryEncoder(EmbeddingSettings())


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """Texts of different lengths: past the 256-token limit, mid-length, a title, a query."""
    with SCIFACT_400.open() as corpus:
        papers = [json.loads(line) for line in islice(corpus, 10)]
    abstract = [f"{paper['title']}. {' '.join(paper['abstract'])}" for paper in papers]
    return [
        abstract[0],
        abstract[9],
        papers[1]["title"],
        abstract[6],
        "Does aspirin prevent cancer?",
    ]


@pytest.fixture(scope="module")
def expected(reference, texts) -> np.ndarray:
    return reference.embed(texts)


def _min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float((a * b).sum(axis=1).min())


def test_long_text_is_truncated_at_max_seq_length(encoder, texts):
    encoding = encoder.tokenizer.encode(texts[0])
    assert len(encoding.ids) == 256 and encoding.overflowing  # truncated at 256, not 128
    assert len(encoder.tokenizer.encode(texts[-1]).ids) < 20  # a single text is not padded


def test_padded_batch_matches_sentence_transformers(encoder, texts, expected):
    vectors = encoder.embed(texts)
    assert vectors.shape == (len(texts), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert _min_cosine(vectors, expected) >= MIN_COSINE


def test_single_texts_match_sentence_transformers(encoder, texts, expected):
    vectors = np.vstack([encoder.embed([text]) for text in texts])
    assert _min_cosine(vectors, expected) >= MIN_COSINE


def test_several_batches_keep_the_input_order(texts, expected):
    picked = [1, 4, 2]  # 102, 9 and 20 tokens: sorted into batches in another order
    vectors = MiniLMQueryEncoder(EmbeddingSettings(batch_size=2)).embed([texts[i] for i in picked])
    assert _min_cosine(vectors, expected[picked]) >= MIN_COSINE


def test_name_matches_the_ingest_embedder(reference, encoder):
    assert encoder.name == reference.name == "minilm:all-MiniLM-L6-v2"


def test_empty_input(encoder):
    vectors = encoder.embed([])
    assert vectors.shape == (0, 384) and vectors.dtype == np.float32


def test_never_imports_torch():
    script = (
        "import sys\n"
        "from assistant.embedders.minilm_numpy import MiniLMQueryEncoder\n"
        "from assistant.settings import EmbeddingSettings\n"
        "vectors = MiniLMQueryEncoder(EmbeddingSettings()).embed(['statins and dementia'])\n"
        "assert vectors.shape == (1, 384), vectors.shape\n"
        "loaded = {'torch', 'transformers', 'sentence_transformers'} & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,  # the assertion below shows the child's traceback
    )
    assert result.returncode == 0, result.stderr

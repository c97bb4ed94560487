"""Where a command gets its parts, built from `Settings` in one place: the store (never created
by a command that only reads), the searcher over it, and the chat model and judge that draft
and check. The bundled model's server lives exactly as long as the `writers` block.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Never

from assistant.errors import ConfigError, StoreError
from assistant.search import Searcher
from assistant.settings import JudgeSettings, Settings, StoreSettings
from assistant.store import Store
from assistant.verdicts import Judge

if TYPE_CHECKING:  # the openai SDK loads with the chat model, not with every command
    from assistant.llm.chat import ChatModel

# The file Chroma's PersistentClient writes in every store folder it opens.
CHROMA_FILE = "chroma.sqlite3"


def existing_store(settings: StoreSettings) -> Store:
    """The store to read. Refuses one that is not there: opening it would create it, and a
    mistyped --store would then look like an empty library instead of an error."""
    path = settings.path
    is_store = settings.chroma_url or (path / CHROMA_FILE).is_file()
    if not is_store and not (path.exists() and not path.is_dir()):  # a file: Store says so
        raise StoreError(
            f"No store at {path}: make one with `litreview ingest PATH --store {path}`, or pass "
            "--store with the folder you ingested into."
        )
    return Store(settings)


def searcher(settings: Settings) -> Searcher:
    """A searcher over the configured store, which must hold papers."""
    store = existing_store(settings.store)
    if store.is_empty():
        raise StoreError(
            f"The store at {store.location} is empty: run `litreview ingest PATH` first."
        )
    return Searcher(settings, store)


@dataclass
class Writers:
    """Who drafts and who checks; both None in extractive mode (no model configured)."""

    chat: "ChatModel | None"
    judge: Judge | None


def model_configured(settings: Settings) -> bool:
    """Is there an endpoint to draft with (a base URL, or a key for the OpenAI API)?"""
    return settings.llm.base_url is not None or settings.llm.api_key is not None


@contextmanager
def writers(settings: Settings, local: bool = False) -> Iterator[Writers]:
    """The chat model and judge a drafting command uses: the bundled model with `local`, the
    configured endpoint otherwise, or neither (extractive mode) when none is configured. An
    LLM judge uses the judge section's endpoint where it has one, else the drafting model;
    either way its calls count in the same usage."""
    if not local and not model_configured(settings):
        yield Writers(None, None)
        return
    from assistant.judges import make_judge
    from assistant.llm import chat_session
    from assistant.llm.chat import ChatModel

    with chat_session(settings, local) as chat:  # a local server stops when the block ends
        own_endpoint = any(
            getattr(settings.judge, name) is not None for name in ("base_url", "api_key", "model")
        )

        def judge_chat() -> ChatModel:
            if not own_endpoint:
                return chat
            return ChatModel(settings.judge_llm(), usage=chat.usage, section="judge")

        yield Writers(chat, make_judge(settings.judge, judge_chat, settings.embeddings.model_cache))


def offline_judge(settings: Settings) -> Judge:
    """The configured judge where it needs no model, else the built-in `local` one."""
    from assistant.judges import make_judge

    offline = settings.judge if not settings.judge.needs_model else JudgeSettings()
    return make_judge(offline, chat=_no_chat, model_cache=settings.embeddings.model_cache)


@contextmanager
def judging(settings: Settings, local: bool = False) -> Iterator[Writers]:
    """The configured judge, with the chat model an `llm` or `cascade` judge runs on (None
    otherwise); the bundled model with `local`. Such a judge without a configured model is an
    error."""
    if not settings.judge.needs_model:
        yield Writers(None, offline_judge(settings))
        return
    if not local and not model_configured(settings):
        raise ConfigError(
            f"The {settings.judge.backend} judge needs a model: set OPENAI_BASE_URL (and "
            "OPENAI_API_KEY if it needs one), pass --llm URL or --llm local, or use --judge local."
        )
    with writers(settings, local) as writing:
        yield writing


def _no_chat() -> Never:
    raise AssertionError("only the llm and cascade judges need a chat model")

"""The model side of litreview: the ChatModel seam, token budgets, usage, the response cache
and the bundled local model."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import openai

from assistant.errors import ModelNotFoundError, ModelUnreachableError
from assistant.llm.chat import ChatModel
from assistant.llm.local import local_llm_settings, local_model_server
from assistant.prompts import render
from assistant.settings import Settings

__all__ = ["ChatModel", "PingReport", "chat_session", "ping"]


@contextmanager
def chat_session(settings: Settings, local: bool = False) -> Iterator[ChatModel]:
    """The configured chat model, or with `local` the bundled one, served for the duration."""
    if not local:
        yield ChatModel(settings.llm)
        return
    with local_model_server(settings.local_model) as base_url:
        yield ChatModel(local_llm_settings(settings.llm, base_url, settings.local_model))


@dataclass
class PingReport:
    """What `litreview model ping` found out about an endpoint."""

    base_url: str
    models: list[str] | None  # None: the endpoint does not list its models
    model: str
    reply: str
    list_seconds: float
    reply_seconds: float

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def ping(chat: ChatModel) -> PingReport:
    """Reachable? Model served? One tiny completion. Raises a ModelError saying what is wrong."""
    started = time.perf_counter()
    models: list[str] | None
    try:
        models = chat.served_models()
    except ModelUnreachableError as exc:  # some servers have no /models: the completion decides
        if not isinstance(exc.__cause__, openai.NotFoundError):
            raise
        models = None
    listed = time.perf_counter()
    if models is not None and chat.model not in models:
        raise ModelNotFoundError(
            f"{chat.where} does not serve '{chat.model}'; it serves: "
            f"{', '.join(models[:20]) or 'nothing'}. Set llm.model (LITREVIEW_LLM__MODEL)."
        )
    completion = chat.complete([{"role": "user", "content": render("ping")}], max_tokens=8)
    return PingReport(
        base_url=chat.where,
        models=models,
        model=chat.model,
        reply=completion.text.strip(),
        list_seconds=listed - started,
        reply_seconds=time.perf_counter() - listed,
    )

"""Typed settings, nested by concern; the only place that reads the environment.

Sources, highest first: command-line flags (applied by the CLI on top of this object),
`LITREVIEW_<SECTION>__<FIELD>` env vars, the standard `OPENAI_API_KEY` / `OPENAI_BASE_URL`,
`litreview.toml` in the current folder, `litreview.toml` in the user config folder, defaults.
"""

import difflib
import os
import tomllib
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from assistant.errors import ConfigError

CONFIG_FILE_NAME = "litreview.toml"
ENV_PREFIX = "LITREVIEW_"
ENV_DELIMITER = "__"


def user_config_dir() -> Path:
    """`$XDG_CONFIG_HOME/litreview`, or `~/.config/litreview`."""
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "litreview"


def user_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/litreview`, or `~/.cache/litreview`."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "litreview"


class Section(BaseModel):
    """A settings section: a misspelt key is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class StoreSettings(Section):
    """Where papers and chunks live."""

    path: Path = Field(Path("store"), description="Folder of the embedded Chroma store.")
    chroma_url: str | None = Field(
        None,
        description="URL of a Chroma server (e.g. http://127.0.0.1:8000); overrides path.",
    )
    lock_timeout: float = Field(
        0.0,
        description="Seconds an ingest waits for another ingest's lock; 0 exits at once.",
    )
    run_timeout: float = Field(
        60.0,
        gt=0,
        description="Server mode: seconds without a heartbeat after which an ingest counts as "
        "dead, so another ingest may sweep out what it left half-written.",
    )


class EmbeddingSettings(Section):
    """Which embedder turns chunks into vectors."""

    backend: Literal["minilm", "openai"] = Field(
        "minilm",
        description="minilm: bundled all-MiniLM-L6-v2, offline; openai: /v1/embeddings.",
    )
    model: str = Field(
        "all-MiniLM-L6-v2",
        description="Embedding model name (sent to the endpoint for openai).",
    )
    precision: Literal["auto", "int8", "bf16", "fp32"] = Field(
        "auto",
        description="minilm arithmetic. int8: onnxruntime, quantized, for ingest and queries; "
        "fp32: the exact model (bf16: the same, autocast at ingest). auto: int8 for a new store, "
        "the exact model (bf16 where the CPU has it) for a store built with it.",
    )
    model_cache: Path = Field(
        default_factory=lambda: user_cache_dir() / "models",
        description="Folder of the int8 model built from the bundled weights (built once).",
    )
    batch_size: int = Field(
        16,
        ge=1,
        description="Texts per forward pass or request (16 is fastest for MiniLM on CPU).",
    )
    base_url: str | None = Field(
        None, description="Endpoint for the openai backend; unset: the llm section's."
    )
    api_key: SecretStr | None = Field(
        None, description="API key for the openai backend; unset: the llm section's."
    )
    timeout: float = Field(
        60.0, gt=0, description="openai backend: seconds to wait for one HTTP request."
    )
    max_retries: int = Field(
        3,
        ge=0,
        description="openai backend: retries after a transport failure (connection, 429, 5xx, "
        "timeout).",
    )


class ChunkingSettings(Section):
    """How abstracts are cut into chunks."""

    max_sentences: int = Field(
        1,
        ge=1,
        description="Sentences in one chunk at most. One: search scores the very sentence that "
        "matches and cites it.",
    )
    max_tokens: int = Field(256, ge=16, description="Token budget of one chunk (cl100k_base).")
    overlap_sentences: int = Field(
        0,
        ge=0,
        description="Trailing sentences of a chunk repeated at the start of the next.",
    )


class SearchSettings(Section):
    """How hybrid search ranks papers and when it finds nothing relevant."""

    k: int = Field(10, ge=1, description="Papers returned.")
    candidates: int = Field(
        100,
        ge=10,
        description="Papers wanted from each retriever per query (the dense one reads three "
        "chunks per paper wanted).",
    )
    dense_weight: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Share of the standardised dense score in the fused score (BM25: the rest).",
    )
    min_relevance: float = Field(
        0.43,
        ge=-1,
        le=1,
        description="Best chunk's cosine similarity below which nothing is relevant (see README).",
    )
    evidence_sentences: int = Field(3, ge=1, description="Sentences of evidence per paper.")


class ModelPrice(Section):
    """What one model costs, in currency units per million tokens."""

    prompt: float = Field(ge=0, description="Price of a million prompt tokens.")
    completion: float = Field(ge=0, description="Price of a million completion tokens.")


class LLMSettings(Section):
    """The OpenAI-compatible chat endpoint that drafts (and, unless the judge has its own, judges)."""

    base_url: str | None = Field(
        None,
        description="Endpoint, e.g. http://localhost:11434/v1; unset: the OpenAI API.",
    )
    api_key: SecretStr | None = Field(None, description="API key (local servers need none).")
    model: str | None = Field(
        None,
        description="Chat model; unset: the endpoint's model when it serves exactly one.",
    )
    context_window: int = Field(
        8192,
        ge=256,
        description="Tokens the model accepts, prompt and completion together.",
    )
    max_output_tokens: int = Field(1024, ge=1, description="Most tokens one completion may use.")
    tokenizer_margin: float = Field(
        0.10,
        ge=0,
        lt=1,
        description="Share of the context window kept free: prompts are counted with "
        "cl100k_base, not the model's own tokenizer.",
    )
    timeout: float = Field(60.0, gt=0, description="Seconds to wait for one HTTP request.")
    max_retries: int = Field(
        2,
        ge=0,
        description="Retries after a transport failure (connection, 429, 5xx, timeout).",
    )
    repair_attempts: int = Field(
        2,
        ge=0,
        description="Re-asks after output that does not parse or fit its schema.",
    )
    temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature.")
    structured_output: Literal["auto", "json_schema", "json_object", "text"] = Field(
        "auto",
        description="How to ask for JSON: json_schema (OpenAI style), json_object with a schema "
        "(llama-cpp-python), or text instructions; auto tries them in that order.",
    )
    prices: dict[str, ModelPrice] = Field(
        default_factory=dict,
        description="Per-model prices, so usage reports show cost.",
    )
    cache: bool = Field(False, description="Keep responses on disk; an identical call is free.")
    cache_dir: Path = Field(
        default_factory=lambda: user_cache_dir() / "responses",
        description="Folder of the response cache.",
    )


class JudgeSettings(Section):
    """Who checks that a cited source supports its sentence. The llm backend may use its own
    endpoint; each unset endpoint field is the llm section's."""

    backend: Literal["local", "similarity", "llm", "cascade"] = Field(
        "local",
        description="local: the built-in trained judge (offline); similarity: its untrained "
        "baseline; llm: the chat model, one batched call per draft; cascade: local, asking the "
        "chat model only about pairs it scores between cascade_low and cascade_high.",
    )
    min_support: float = Field(
        0.59,
        ge=0,
        le=1,
        description="similarity backend: support score (mean of the claim's similarity to its "
        "source's closest sentence and the share of its content words the source uses) needed.",
    )
    # the default band: from the local judge's scores on the training splits (BENCHMARKS.md,
    # "Cascade judge"); its agreement with the llm judge is still to be measured
    cascade_low: float = Field(
        0.4, ge=0, le=1, description="cascade: a local score at or below it is no support."
    )
    cascade_high: float = Field(
        0.6, ge=0, le=1, description="cascade: a local score at or above it is support."
    )
    base_url: str | None = Field(None, description="Judge endpoint; unset: llm.base_url.")
    api_key: SecretStr | None = Field(None, description="Judge API key; unset: llm.api_key.")
    model: str | None = Field(None, description="Judge model; unset: llm.model.")

    @model_validator(mode="after")
    def _band_in_order(self) -> "JudgeSettings":
        if self.cascade_low > self.cascade_high:
            raise ValueError("cascade_low must not exceed cascade_high")
        return self

    @property
    def needs_model(self) -> bool:
        """Does this backend ask a chat model?"""
        return self.backend in ("llm", "cascade")


class DraftingSettings(Section):
    """How `ask` and `related-work` draft and check."""

    papers: int = Field(8, ge=1, description="Papers retrieved as evidence for `ask`.")
    related_work_papers: int = Field(
        15, ge=1, description="Papers retrieved as evidence for `related-work`."
    )
    on_unsupported: Literal["drop", "flag"] = Field(
        "drop",
        description="What to do with a cited sentence the judge finds unsupported.",
    )


class LocalModelSettings(Section):
    """The bundled SmolLM2-135M-Instruct, served by llama-cpp-python (`--llm local`)."""

    context_window: int = Field(4096, ge=512, description="Context the local server allocates.")
    threads: int | None = Field(None, ge=1, description="CPU threads; unset: llama.cpp's choice.")
    startup_timeout: float = Field(120.0, gt=0, description="Seconds to wait for the server.")


class Settings(BaseSettings):
    """Every setting of litreview; env vars are LITREVIEW_<SECTION>__<FIELD>."""

    # forbid: a misspelt section in a config file is an error; the environment is checked
    # in read_settings, since pydantic-settings reads only the variables of known sections
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter=ENV_DELIMITER, extra="forbid"
    )

    store: StoreSettings = Field(default_factory=StoreSettings)
    embeddings: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    judge: JudgeSettings = Field(default_factory=JudgeSettings)
    drafting: DraftingSettings = Field(default_factory=DraftingSettings)
    local_model: LocalModelSettings = Field(default_factory=LocalModelSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            OpenAIEnvironment(settings_cls),
            *(TomlConfigSettingsSource(settings_cls, toml_file=path) for path in config_files()),
        )

    def embedding_settings(self) -> EmbeddingSettings:
        """The embeddings section, with the llm endpoint filled in where it has none of its own."""
        if self.embeddings.backend != "openai" or self.embeddings.base_url:
            return self.embeddings
        return self.embeddings.model_copy(
            update={
                "base_url": self.llm.base_url,
                "api_key": self.embeddings.api_key or self.llm.api_key,
            }
        )

    def judge_llm(self) -> LLMSettings:
        """The llm section with the judge's own endpoint, key and model where it sets them."""
        overrides = {
            name: getattr(self.judge, name)
            for name in ("base_url", "api_key", "model")
            if getattr(self.judge, name) is not None
        }
        return self.llm.model_copy(update=overrides)


def config_files() -> list[Path]:
    """The settings files litreview reads, the one that wins first."""
    return [Path(CONFIG_FILE_NAME), user_config_dir() / CONFIG_FILE_NAME]


def read_settings() -> Settings:
    """Settings from every source, with problems turned into one line naming the setting."""
    if unknown := [problem for name in os.environ if (problem := _unknown_variable(name))]:
        raise ConfigError(
            f"Unknown settings in the environment ({'; '.join(unknown)}): rename or unset them."
        )
    try:
        return Settings()
    except tomllib.TOMLDecodeError as exc:
        files = " or ".join(str(path) for path in config_files() if path.is_file())
        raise ConfigError(f"{files} is not valid TOML: {exc}.") from exc
    except ValidationError as exc:
        problems = "; ".join(_problem(error) for error in exc.errors())
        raise ConfigError(
            f"Invalid settings ({problems}): fix them in litreview.toml or the matching "
            "LITREVIEW_<SECTION>__<FIELD> variable (`litreview config show` lists them)."
        ) from exc


def _problem(error: Any) -> str:
    """One validation error as `where: what`, an unknown name with the nearest valid one."""
    loc = tuple(str(part) for part in error["loc"])
    where = ".".join(loc)
    if error["type"] != "extra_forbidden":
        return f"{where}: {error['msg']}"
    valid = _names_at(loc[:-1])
    near = difflib.get_close_matches(loc[-1], valid, n=1)
    if len(loc) == 1:
        hint = f"did you mean {near[0]}?" if near else f"sections are {', '.join(valid)}"
        return f"{where}: unknown section; {hint}"
    if near:
        return f"{where}: unknown setting; did you mean {'.'.join((*loc[:-1], near[0]))}?"
    return f"{where}: unknown setting; {'.'.join(loc[:-1])} has {', '.join(valid)}"


def _unknown_variable(variable: str) -> str | None:
    """What is wrong with a LITREVIEW_ variable that names no setting; None if it names one."""
    if not variable.upper().startswith(ENV_PREFIX):
        return None
    path = tuple(variable[len(ENV_PREFIX) :].lower().split(ENV_DELIMITER))
    for depth in range(len(path)):
        valid = _names_at(path[:depth])
        if not valid or path[depth] in valid:
            continue  # a known name, or a key of a table such as llm.prices
        near = difflib.get_close_matches(path[depth], valid, n=1)
        fixed = (*path[:depth], near[0], *path[depth + 1 :]) if near else ()
        hint = (
            f"did you mean {ENV_PREFIX}{ENV_DELIMITER.join(fixed).upper()}?"
            if near
            else f"variables are named {ENV_PREFIX}<SECTION>{ENV_DELIMITER}<FIELD>, with "
            f"{'sections' if depth == 0 else '.'.join(path[:depth]) + ' fields'} "
            f"{', '.join(valid)}"
        )
        what = "section" if depth == 0 else "setting"
        return f"{variable}: unknown {what} {'.'.join(path[: depth + 1])}; {hint}"
    return None


def _names_at(path: tuple[str, ...]) -> list[str]:
    """The field names valid under `path` (a section, a table entry); [] where any key goes."""
    kind: Any = Settings
    for part in path:
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            field = kind.model_fields.get(part)
            if field is None:
                return []
            kind = field.annotation
        elif get_origin(kind) is dict:
            kind = get_args(kind)[1]  # `part` is a key of the table, e.g. a model's name
        else:
            return []
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return list(kind.model_fields)
    return []


class OpenAIEnvironment(PydanticBaseSettingsSource):
    """`OPENAI_BASE_URL` and `OPENAI_API_KEY`, the variables every OpenAI-compatible tool reads."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return (
            None,
            field_name,
            False,
        )  # unused: __call__ builds the whole section at once

    def __call__(self) -> dict[str, Any]:
        llm = {
            name: os.environ[variable]
            for name, variable in (
                ("base_url", "OPENAI_BASE_URL"),
                ("api_key", "OPENAI_API_KEY"),
            )
            if os.environ.get(variable)
        }
        return {"llm": llm} if llm else {}

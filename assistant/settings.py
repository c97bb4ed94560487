"""Typed settings, nested by concern; the only place that reads the environment."""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class StoreSettings(BaseModel):
    """Where papers and chunks live."""

    path: Path = Field(Path("store"), description="Folder of the embedded Chroma store.")
    chroma_url: str | None = Field(
        None, description="URL of a Chroma server (e.g. http://127.0.0.1:8000); overrides path."
    )
    lock_timeout: float = Field(
        0.0, description="Seconds an ingest waits for another ingest's lock; 0 exits at once."
    )


class EmbeddingSettings(BaseModel):
    """Which embedder turns chunks into vectors."""

    backend: Literal["minilm", "openai"] = Field(
        "minilm", description="minilm: bundled all-MiniLM-L6-v2, offline; openai: /v1/embeddings."
    )
    model: str = Field(
        "all-MiniLM-L6-v2", description="Embedding model name (sent to the endpoint for openai)."
    )
    precision: Literal["auto", "bf16", "fp32"] = Field(
        "auto", description="minilm arithmetic; auto uses bf16 where the CPU supports it."
    )
    batch_size: int = Field(
        16, ge=1, description="Texts per forward pass or request (16 is fastest for MiniLM on CPU)."
    )
    base_url: str | None = Field(
        None, description="Endpoint for the openai backend (defaults to the OpenAI SDK's)."
    )
    api_key: SecretStr | None = Field(None, description="API key for the openai backend.")


class ChunkingSettings(BaseModel):
    """How abstracts are cut into chunks."""

    max_tokens: int = Field(256, ge=16, description="Token budget of one chunk (cl100k_base).")
    overlap_sentences: int = Field(
        1, ge=0, description="Trailing sentences of a chunk repeated at the start of the next."
    )


class Settings(BaseSettings):
    """Every setting of litreview; env vars are LITREVIEW_<SECTION>__<FIELD>."""

    model_config = SettingsConfigDict(
        env_prefix="LITREVIEW_", env_nested_delimiter="__", extra="ignore"
    )

    store: StoreSettings = Field(default_factory=StoreSettings)
    embeddings: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)

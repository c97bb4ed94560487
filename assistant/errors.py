"""The one error hierarchy: every message says what to do next."""


class LitreviewError(Exception):
    """Base of every error litreview reports to the user; the message carries the fix."""


class StoreError(LitreviewError):
    """The store cannot be opened, is busy, or was built differently."""


class EmbedderMismatchError(StoreError):
    """The store was built with another embedder than the one configured."""


class StoreBusyError(StoreError):
    """Another process holds the store's write lock."""


class PaperNotFoundError(LitreviewError):
    """No paper in the store has the requested key."""


class DraftError(LitreviewError):
    """A draft to check cannot be read: missing, binary, not UTF-8."""


class EmbeddingError(LitreviewError):
    """The embedder failed or could not be reached."""


class QueryError(LitreviewError):
    """A search cannot match anything as asked: no words, or years that end before they start."""


class ConfigError(LitreviewError):
    """A setting is invalid; the message names it and where it can be changed."""


class ModelError(LitreviewError):
    """The chat model could not be reached, refused the request, or gave no usable answer."""


class ModelUnreachableError(ModelError):
    """Nothing answers at the base URL (connection refused, unknown host, wrong URL)."""


class ModelAuthError(ModelError):
    """The endpoint refused the API key."""


class ModelNotFoundError(ModelError):
    """The endpoint does not serve the configured model."""


class ModelTimeoutError(ModelError):
    """The endpoint did not answer within the timeout, retries included."""


class ContextTooLongError(ModelError):
    """The prompt does not fit the model's context window."""


class ModelResponseError(ModelError):
    """The endpoint answered with something unusable: malformed, cut short, or off-schema."""


class LocalModelError(ModelError):
    """The bundled local model is not installed or its server did not start."""

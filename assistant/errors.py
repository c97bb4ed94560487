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


class EmbeddingError(LitreviewError):
    """The embedder failed or could not be reached."""

"""litreview: a literature-review assistant whose citations are real and checked."""

__version__ = "0.1.0"

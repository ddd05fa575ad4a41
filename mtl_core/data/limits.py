"""Input limits, configurable per deployment: a shared classroom server must not be sunk by one big file.

- ``MTL_LAB_MAX_UPLOAD_MB`` (default 50): largest upload, in MB (checked by ``library.save_upload``).
- ``MTL_LAB_MAX_ROWS`` (default 1,000,000): most examples one load may hold; more is refused (DataError).
- ``MTL_LAB_MAX_TOKENS`` (default 5,000): tokens kept per text at load time; longer texts are cut, with a
  warning in the validation report (a text is also cut at 32 characters per kept token, so one 10 MB
  "word" cannot stall the tokenizer). Training then keeps at most ``RunConfig.max_len`` (default 120).
- ``MTL_LAB_MAX_VOCAB`` (default 200,000): most words a vocabulary keeps (the most frequent; the rest
  are out-of-vocabulary).
"""
from __future__ import annotations

import os

from mtl_core.errors import ConfigError

DEFAULTS = {"MTL_LAB_MAX_UPLOAD_MB": 50, "MTL_LAB_MAX_ROWS": 1_000_000, "MTL_LAB_MAX_TOKENS": 5_000,
            "MTL_LAB_MAX_VOCAB": 200_000}
CHARS_PER_TOKEN = 32  # cap on characters per kept token when cutting a text


def limit(name: str) -> int:
    """The value of limit ``name`` (one of DEFAULTS): the environment variable, else its default."""
    raw = os.environ.get(name, "").strip().replace("_", "").replace(",", "")
    if not raw:
        return DEFAULTS[name]
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"The {name} setting must be a whole number (1 or more). Got {raw!r} instead.")
    return int(raw)


def max_rows() -> int:
    return limit("MTL_LAB_MAX_ROWS")


def max_tokens() -> int:
    return limit("MTL_LAB_MAX_TOKENS")


def max_vocab() -> int:
    return limit("MTL_LAB_MAX_VOCAB")


def cut_text(text: str, tokens: int) -> str | None:
    """``text`` cut to its first ``tokens`` whitespace tokens (and ``tokens`` x 32 characters); None if it fits."""
    if len(text) <= tokens:
        return None  # fewer characters than the limit: fewer tokens too
    parts = text.split(maxsplit=tokens)
    if len(parts) <= tokens and len(text) <= tokens * CHARS_PER_TOKEN:
        return None
    return " ".join(parts[:tokens])[: tokens * CHARS_PER_TOKEN]

"""Text normalisation shared by the deterministic checks.

Model output arrives in whatever Unicode form the provider produced. Two strings that a
reader sees as identical (a precomposed ``"é"`` and ``"e"`` followed by a combining
acute accent) must compare equal, and a case-insensitive comparison must also fold
compatibility characters (the ``"ﬁ"`` ligature, full-width letters) and special case
mappings (``"ß"`` folds to ``"ss"``).
"""

from __future__ import annotations

import unicodedata

__all__ = ["fold", "nfc", "normalize_apostrophes", "preview", "quote_list"]

# Typographic apostrophes and look-alikes that models emit instead of U+0027.
_APOSTROPHES = str.maketrans(
    {
        "\u2019": "'",  # right single quotation mark (the usual "smart" apostrophe)
        "\u2018": "'",  # left single quotation mark
        "\u02bc": "'",  # modifier letter apostrophe
        "\u2032": "'",  # prime
        "\u00b4": "'",  # acute accent
        "\u0060": "'",  # grave accent
        "\uff07": "'",  # full-width apostrophe
    }
)


def nfc(text: str) -> str:
    """Return ``text`` in Unicode normal form C (canonical composition).

    The quick check makes this free for text that is already NFC, which covers ASCII.
    """
    if unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Return the caseless form of ``text`` for case-insensitive comparison.

    This is NFKC, then full Unicode case folding, then NFKC again (folding can produce
    sequences that are no longer normalised). ASCII takes a fast path.
    """
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def normalize_apostrophes(text: str) -> str:
    """Replace typographic apostrophes with ``'`` so ``can\u2019t`` matches ``can't``."""
    # str.translate walks the text in Python-level mapping lookups; skip it when the only
    # candidate in ASCII text, the grave accent, is absent.
    if text.isascii() and "`" not in text:
        return text
    return text.translate(_APOSTROPHES)


def preview(text: str, limit: int = 60) -> str:
    """A short ``repr`` of ``text`` for a score reason, cut at ``limit`` characters."""
    if len(text) <= limit:
        return repr(text)
    return repr(text[:limit]) + "…"


def quote_list(items: list[str] | tuple[str, ...], limit: int = 5) -> str:
    """``'a', 'b', 'c'`` with at most ``limit`` items and a count of the rest."""
    shown = ", ".join(preview(item, 40) for item in items[:limit])
    rest = len(items) - limit
    return shown + (f" (+{rest} more)" if rest > 0 else "")

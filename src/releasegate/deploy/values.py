"""Checks of the free-text values an operator hands the control plane: the actor, a
reason, an API token. Each check names the value it refuses (``--actor``,
``RELEASEGATE_API_TOKEN``, ...) and never echoes a secret.

Feature and version names have their own grammar (enforced by the deployment service);
these checks are about values that travel in HTTP headers or land in the audit log.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote, unquote

from releasegate.errors import UsageError

__all__ = [
    "check_reason",
    "clean_actor",
    "clean_token",
    "decode_actor",
    "describe_char",
    "encode_actor",
    "first_bad",
]

_TEXT_CONTROLS_OK = frozenset("\t\n\r")
# Printable ASCII except "%": sent as is in the actor header; everything else is
# percent-encoded UTF-8.
_HEADER_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")


def describe_char(ch: str) -> str:
    """``U+000A (a control character)``-style description of one character."""
    code = ord(ch)
    if 0xD800 <= code <= 0xDFFF:
        kind = "a lone surrogate: the text is not valid Unicode, e.g. bytes that are not UTF-8"
    elif unicodedata.category(ch) == "Cc":
        kind = "a control character"
    elif code > 0xFF:
        kind = "a character outside Latin-1"
    else:
        kind = unicodedata.name(ch, "a character").lower()
    return f"U+{code:04X} ({kind})"


def _bad_in_text(ch: str, allowed: frozenset[str]) -> bool:
    code = ord(ch)
    if ch in allowed:
        return False
    return code < 0x20 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF


def first_bad(value: str, *, allowed: frozenset[str] = frozenset()) -> int | None:
    """Index of the first control character or lone surrogate in ``value`` (characters
    in ``allowed`` excepted), or None."""
    return next((i for i, ch in enumerate(value) if _bad_in_text(ch, allowed)), None)


def clean_actor(value: str, *, source: str = "the actor") -> str:
    """The actor recorded in the audit log: ``value`` without surrounding whitespace.

    Args:
        value: Who acts (any Unicode text: ``José``, ``李雷``).
        source: How the user gave it, named in the error (``--actor``, ...).

    Raises:
        UsageError: the value is blank, or holds a control character or a lone surrogate.
    """
    actor = value.strip()
    if not actor:
        raise UsageError(f"{source} must not be blank")
    bad = first_bad(actor)
    if bad is not None:
        raise UsageError(
            f"{source} is malformed: it contains {describe_char(actor[bad])} at position {bad + 1}"
        )
    return actor


def check_reason(value: str, *, source: str = "--reason") -> str:
    """``value`` unchanged when it is printable text (tabs and line breaks allowed).

    Raises:
        UsageError: it holds another control character or a lone surrogate.
    """
    bad = first_bad(value, allowed=_TEXT_CONTROLS_OK)
    if bad is not None:
        raise UsageError(
            f"{source} is malformed: it contains {describe_char(value[bad])} at position {bad + 1}"
        )
    return value


def clean_token(value: str, *, source: str) -> str:
    """An API token without surrounding whitespace (``$(cat file)`` keeps a newline).

    Args:
        value: The token as given.
        source: Where it came from (``RELEASEGATE_API_TOKEN``), named in the error.

    Raises:
        UsageError: blank, or a character other than printable ASCII inside it. The
            message names the position and kind of the character, never the token.
    """
    token = value.strip()
    if not token:
        raise UsageError(f"{source} is empty")
    for i, ch in enumerate(token):
        code = ord(ch)
        if not 0x21 <= code <= 0x7E:
            # Name the kind of character, not the character: it is part of a secret.
            if code < 0x20 or 0x7F <= code <= 0x9F:
                kind = f"a control character (U+{code:04X})"
            elif ch.isspace():
                kind = "a space"
            else:
                kind = "a non-ASCII character"
            raise UsageError(
                f"{source} is malformed: character {i + 1} of {len(token)} is {kind}; "
                "a token is printable ASCII without spaces (the value is not shown)"
            )
    return token


def encode_actor(actor: str) -> str:
    """The ``X-Releasegate-Actor`` header value for ``actor``: UTF-8, percent-encoded
    except printable ASCII (``José`` -> ``Jos%C3%A9``, ``50%`` -> ``50%25``)."""
    return quote(actor, safe=_HEADER_SAFE)


def decode_actor(header: str) -> str:
    """The actor sent in an ``X-Releasegate-Actor`` header (inverse of
    :func:`encode_actor`), checked like :func:`clean_actor`.

    Raises:
        UsageError: not percent-encoded UTF-8, blank, or holding a control character.
    """
    try:
        actor = unquote(header, errors="strict")
    except UnicodeDecodeError:
        raise UsageError(
            "X-Releasegate-Actor is malformed: it must be percent-encoded UTF-8"
        ) from None
    return clean_actor(actor, source="X-Releasegate-Actor")

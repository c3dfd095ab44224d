"""A small path syntax to pick a value out of a JSON document.

Accepted forms (all equivalent for the OpenAI response shape)::

    choices.0.message.content
    $.choices[0].message.content
    $["choices"][0]["message"]["content"]

A leading ``$`` or ``$.`` is optional. Segments are separated by dots; ``[N]`` indexes a
list (negative counts from the end) and ``["key"]`` or ``['key']`` names a key that
contains dots or brackets. A bare integer segment indexes a list, or names a key of a
dict ("0" as a key). Nothing else (wildcards, filters) is supported: a path names one
value.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["JsonPathError", "extract", "parse_path"]

_TOKEN = re.compile(
    r"""
      \[\s*(?P<index>-?[0-9]+)\s*\]          # [0]
    | \[\s*(?P<q>["'])(?P<quoted>.*?)(?P=q)\s*\]  # ["key"]
    | (?P<name>[^.\[\]]+)                   # key or 0
    | (?P<dot>\.)
    """,
    re.VERBOSE | re.DOTALL,
)


class JsonPathError(ValueError):
    """A path that cannot be parsed, or that does not match the document."""


def parse_path(path: str) -> tuple[str | int, ...]:
    """Split ``path`` into keys (str) and list indexes (int).

    Raises:
        JsonPathError: empty path or a malformed segment.
    """
    text = path.strip()
    if text.startswith("$"):
        text = text[1:]
    if not text:
        raise JsonPathError(f"path {path!r} is empty")
    parts: list[str | int] = []
    pos = 0
    expect_segment = True
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise JsonPathError(f"path {path!r}: cannot parse at {text[pos:]!r}")
        if m.group("dot") is not None:
            if expect_segment and parts:
                raise JsonPathError(f"path {path!r}: empty segment")
            expect_segment = True
        elif m.group("index") is not None:
            parts.append(int(m.group("index")))
            expect_segment = False
        elif m.group("quoted") is not None:
            parts.append(m.group("quoted"))
            expect_segment = False
        else:
            name = m.group("name")
            if not expect_segment:
                raise JsonPathError(f"path {path!r}: missing '.' before {name!r}")
            parts.append(int(name) if re.fullmatch(r"-?[0-9]+", name) else name)
            expect_segment = False
        pos = m.end()
    if expect_segment:
        raise JsonPathError(f"path {path!r} ends with '.'")
    return tuple(parts)


def _show(parts: tuple[str | int, ...]) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def extract(data: Any, path: str | tuple[str | int, ...]) -> Any:
    """The value at ``path`` in ``data``.

    Raises:
        JsonPathError: naming the first segment that does not match and what was there.
    """
    parts = parse_path(path) if isinstance(path, str) else path
    current = data
    for i, part in enumerate(parts):
        here = _show(parts[:i]) if i else "$"
        if isinstance(current, dict):
            key = str(part)
            if key not in current:
                keys = ", ".join(map(repr, list(current)[:10])) or "none"
                raise JsonPathError(f"no key {key!r} at {here} (keys: {keys})")
            current = current[key]
        elif isinstance(current, list):
            if not isinstance(part, int):
                raise JsonPathError(f"{here} is a list; expected an index, got {part!r}")
            if not -len(current) <= part < len(current):
                raise JsonPathError(f"index {part} out of range at {here} (length {len(current)})")
            current = current[part]
        else:
            raise JsonPathError(f"cannot take {part!r} of {type(current).__name__} at {here}")
    return current

"""JSON on the gateway's hot path: orjson where its result is exactly the standard
library's, the standard library everywhere else.

Parsing and re-encoding each request and answer was about a twentieth of the gateway's
CPU per request with :mod:`json`; orjson does the same in a fraction of the time. What it
does differently is kept out:

* integers beyond 64 bits (orjson reads them as floats, losing digits): text with a run
  of 20 or more digits is parsed by :mod:`json`;
* ``NaN``/``Infinity``, a byte order mark, lone surrogates and anything else orjson
  refuses: parsed by :mod:`json` (which accepts or rejects it with its usual error);
* encoding: a value parsed by :mod:`json` (which may hold ``NaN``, written by orjson as
  ``null``) is encoded by :mod:`json` again, and so is anything orjson cannot encode (a
  non-string key, an integer beyond 64 bits, a string with a lone surrogate).

Encoded bodies are compact (no spaces); orjson's are UTF-8 without ``\\u`` escapes of
non-ASCII text, :mod:`json`'s are ASCII with them (so a lone surrogate survives). Both
decode to the same value.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

__all__ = ["dumps", "loads", "loads_exact"]

_LONG_NUMBER_TEXT = re.compile(r"\d{20}")
# Bytes: every ASCII digit becomes "0" and everything else a space, then one substring
# search for twenty zeros -- what ``re.search(rb"\d{20}")`` finds, at a fifth of its cost
# (the regex tries a match at every position; translate and ``in`` run in C).
_DIGITS_AS_ZEROS = bytes(0x30 if 0x30 <= i <= 0x39 else 0x20 for i in range(256))
_TWENTY_DIGITS = b"0" * 20


def loads_exact(raw: bytes | str) -> tuple[Any, bool]:
    """The parsed value, and whether orjson parsed it (False: :mod:`json` did, and the
    value may hold what only :mod:`json` writes back as it was, such as ``NaN``).

    Raises:
        ValueError: not JSON (:class:`json.JSONDecodeError`, as :func:`json.loads`).
    """
    if isinstance(raw, str):
        long = _LONG_NUMBER_TEXT.search(raw) is not None
    else:
        long = _TWENTY_DIGITS in raw.translate(_DIGITS_AS_ZEROS)
    if not long:
        try:
            return orjson.loads(raw), True
        except orjson.JSONDecodeError:
            pass
    return json.loads(raw), False


def loads(raw: bytes | str) -> Any:
    """:func:`json.loads`, faster (see the module docstring).

    Raises:
        ValueError: not JSON (:class:`json.JSONDecodeError`).
    """
    return loads_exact(raw)[0]


def dumps(value: Any, *, exact: bool = True) -> bytes:
    """``value`` as compact UTF-8 JSON; ``exact=False`` (a value :func:`loads_exact` got
    from :mod:`json`) encodes with :mod:`json`, as does anything orjson cannot encode.

    Raises:
        TypeError: ``value`` is not JSON-serializable (as :func:`json.dumps`).
        ValueError: a circular reference (as :func:`json.dumps`).
    """
    if exact:
        try:
            return orjson.dumps(value)
        except orjson.JSONEncodeError:
            pass
    return json.dumps(value, separators=(",", ":")).encode()

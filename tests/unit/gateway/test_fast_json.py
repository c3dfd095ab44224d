"""The gateway's JSON gives exactly the standard library's values, and a body the
standard library had to parse is written back by it."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releasegate.gateway import _json as fast_json

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)


def _same(a: Any, b: Any) -> bool:
    # equal, with the same types (1 vs 1.0 vs True) all the way down
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


@given(_values, st.sampled_from([None, 2, (", ", ": ")]))
@settings(max_examples=400, deadline=None)
def test_parses_what_json_parses_to_the_same_value(value: Any, style: Any) -> None:
    text = (
        json.dumps(value, indent=style)
        if isinstance(style, int) or style is None
        else json.dumps(value, separators=style)
    )
    for raw in (text, text.encode()):
        assert _same(fast_json.loads(raw), json.loads(raw))


@given(_values)
@settings(max_examples=400, deadline=None)
def test_encodes_to_what_decodes_to_the_same_value(value: Any) -> None:
    assert _same(json.loads(fast_json.dumps(value)), value)


@pytest.mark.parametrize(
    ("raw", "exact"),
    [
        (b'{"seed": 123456789012345678901234567890}', False),  # beyond 64 bits
        (b'{"seed": 18446744073709551615}', False),  # 20 digits: json's reading
        (b'{"seed": 1844674407370955161}', True),
        (b'{"temperature": NaN}', False),
        (b'{"x": Infinity, "y": -Infinity}', False),
        (b'\xef\xbb\xbf{"a": 1}', False),  # a byte order mark
        (b'{"a": "\\ud800"}', False),  # a lone surrogate
        (b'{"a": 1e400}', False),
        (b'{"a": 1, "a": 2}', True),
        (b'{"seed": -123456789012345678901}', False),  # negative, beyond 64 bits
        (b'{"a": 1234567890123456789, "b": 1234567890123456789}', True),  # 19 and 19
        (b'{"id": "12345678901234567890"}', False),  # 20 digits in a string: json too
        (b"12345678901234567890", False),  # at both ends of the body
        (b'{"a": "\xd9\xa0\xd9\xa1 1234567890123456789"}', True),  # non-ASCII digits
        (b'{"text": "caf\xc3\xa9 \\u00e9 \\ud83d\\ude00"}', True),
    ],
)
def test_what_orjson_would_read_differently_is_read_by_json(raw: bytes, exact: bool) -> None:
    try:
        expected = json.loads(raw)
    except ValueError:
        with pytest.raises(ValueError):
            fast_json.loads_exact(raw)
        return
    value, got_exact = fast_json.loads_exact(raw)
    assert _same(value, expected)
    assert got_exact is exact


@given(st.binary(max_size=60) | st.from_regex(rb"[0-9a ]{0,45}", fullmatch=True))
@settings(max_examples=500, deadline=None)
def test_the_long_number_scan_finds_what_the_regex_finds(raw: bytes) -> None:
    import re

    scan = fast_json._TWENTY_DIGITS in raw.translate(fast_json._DIGITS_AS_ZEROS)
    assert scan is (re.search(rb"\d{20}", raw) is not None)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"temperature": NaN, "messages": []}',
        b'{"seed": 123456789012345678901234567890, "n": 1}',
        b'{"a": "\\ud800 lone"}',
        b'{"x": -Infinity}',
    ],
)
def test_a_body_json_had_to_read_is_written_back_unchanged(raw: bytes) -> None:
    value, exact = fast_json.loads_exact(raw)
    assert not exact
    assert fast_json.dumps(value, exact=exact) == json.dumps(value, separators=(",", ":")).encode()
    assert _same(json.loads(fast_json.dumps(value, exact=exact)), json.loads(raw))


@pytest.mark.parametrize(
    "value",
    [{1: "int key"}, {"big": 2**70}, {"s": "\ud800"}, {"t": (1, 2)}],
)
def test_what_orjson_cannot_encode_is_encoded_by_json(value: Any) -> None:
    assert fast_json.dumps(value) == json.dumps(value, separators=(",", ":")).encode()


@pytest.mark.parametrize("raw", [b"", b"{", b"nul", b'{"a": 1} x', b"[1,]", "{'a': 1}"])
def test_not_json_is_a_value_error(raw: bytes | str) -> None:
    with pytest.raises(ValueError):
        fast_json.loads(raw)
    with pytest.raises(ValueError):
        json.loads(raw)


def test_unencodable_values_raise_as_json_does() -> None:
    with pytest.raises(TypeError):
        fast_json.dumps({"a": object()})
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError):
        fast_json.dumps(loop)

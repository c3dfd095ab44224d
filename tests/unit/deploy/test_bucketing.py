from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from releasegate.control.router import threshold_for
from releasegate.deploy.bucketing import bucket, in_canary, key_bytes, scalar_text

DOC = Path(__file__).resolve().parents[3] / "docs" / "bucketing.md"
keys = st.text(min_size=0, max_size=40)
# Every code point, surrogates included (hypothesis leaves them out by default).
any_keys = st.text(st.characters(blacklist_categories=()), min_size=0, max_size=40)
shares = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


def _reference(salt: str, unit: str) -> float:
    # Independent restatement of the documented algorithm, with exact integer arithmetic.
    n = int(hashlib.sha256(f"{salt}:{unit}".encode()).hexdigest()[:16], 16)
    return (n // 2**11) / 2**53


def _published_vectors() -> list[tuple[str, str, str]]:
    rows = re.findall(
        r"^\| `([^`]*)` \| `([^`]*)` \| `([0-9.e-]+)` \|", DOC.read_text(), flags=re.M
    )
    return [(salt, unit, value) for salt, unit, value in rows]


def test_docs_publish_at_least_20_vectors_and_they_hold() -> None:
    vectors = _published_vectors()
    assert len(vectors) >= 20
    for salt, unit, value in vectors:
        assert repr(bucket(salt, unit)) == value, (salt, unit)


def _escaped(text: str) -> str:
    return text.encode("ascii").decode("unicode_escape")


def _escaped_vectors() -> list[tuple[str, str, str, str, str]]:
    rows = re.findall(
        r"^\| `([^`]*)` \| `([^`]*)` \| `([^`]*)` \| `([0-9.e-]+)` \| `([0-9a-f]{16})` \|",
        DOC.read_text(),
        flags=re.M,
    )
    return [
        (salt, _escaped(key), _escaped(same), value, hexa) for salt, key, same, value, hexa in rows
    ]


def test_docs_publish_vectors_for_text_that_is_not_valid_unicode() -> None:
    vectors = _escaped_vectors()
    assert len(vectors) >= 6
    assert any(scalar_text(key) != key for _, key, _, _, _ in vectors)
    for salt, key, same, value, hexa in vectors:
        assert repr(bucket(salt, key)) == value, (salt, key)
        assert repr(bucket(salt, same)) == value, (salt, same)
        assert scalar_text(key) == same
        assert hashlib.sha256(key_bytes(f"{salt}:{key}")).hexdigest()[:16] == hexa


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", b""),
        ("plain", b"plain"),
        ("caf\u00e9", "caf\u00e9".encode()),
        ("caf\udce9", "caf\ufffd".encode()),
        ("\ud800", "\ufffd".encode()),
        ("\ud83d\ude42", "\U0001f642".encode()),
        ("\ude42\ud83d", "\ufffd\ufffd".encode()),
        ("a\ud800\ud800b", "a\ufffd\ufffdb".encode()),
    ],
)
def test_key_bytes_rule(text: str, expected: bytes) -> None:
    assert key_bytes(text) == expected


@given(text=any_keys)
def test_key_bytes_never_raises_and_only_touches_surrogates(text: str) -> None:
    data = key_bytes(text)
    assert data.decode() == scalar_text(text)
    assert scalar_text(scalar_text(text)) == scalar_text(text)
    if not any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        assert data == text.encode() and scalar_text(text) == text


@given(salt=keys, unit=any_keys, share=shares)
def test_router_threshold_agrees_for_any_string(salt: str, unit: str, share: float) -> None:
    raw = int.from_bytes(hashlib.sha256(key_bytes(f"{salt}:{unit}")).digest()[:8], "big")
    assert (raw < threshold_for(share)) == (bucket(salt, unit) < share)
    assert bucket(salt, unit) == bucket(salt, scalar_text(unit))


@given(salt=keys, unit=keys)
def test_matches_the_reference_and_stays_in_range(salt: str, unit: str) -> None:
    b = bucket(salt, unit)
    assert 0.0 <= b < 1.0
    assert b == _reference(salt, unit)


@given(salt=keys, unit=keys, a=shares, b=shares)
def test_raising_the_share_never_moves_a_unit_back(
    salt: str, unit: str, a: float, b: float
) -> None:
    low, high = sorted((a, b))
    if in_canary(salt, unit, low):
        assert in_canary(salt, unit, high)


@given(salt=keys, unit=keys, share=shares)
def test_router_threshold_is_equivalent_to_the_float_rule(
    salt: str, unit: str, share: float
) -> None:
    raw = int.from_bytes(hashlib.sha256(f"{salt}:{unit}".encode()).digest()[:8], "big")
    assert (raw < threshold_for(share)) == (bucket(salt, unit) < share)


def test_shares_below_one_percent_work() -> None:
    n = 200_000
    hits = sum(in_canary("s-half", f"user-{i}", 0.005) for i in range(n))
    # Binomial(200k, 0.005): mean 1000, sd ~31.5; 5 sd bounds.
    assert abs(hits - 1000) < 5 * math.sqrt(n * 0.005 * 0.995)


def test_features_are_independent() -> None:
    n = 100_000
    a = np.array([bucket("salt-feature-a", f"u{i}") < 0.3 for i in range(n)])
    b = np.array([bucket("salt-feature-b", f"u{i}") < 0.3 for i in range(n)])
    table = [[int(np.sum(a & b)), int(np.sum(a & ~b))], [int(np.sum(~a & b)), int(np.sum(~a & ~b))]]
    p = stats.chi2_contingency(table).pvalue
    assert p > 1e-4
    # And the raw positions are uncorrelated.
    xa = np.array([bucket("salt-feature-a", f"u{i}") for i in range(20_000)])
    xb = np.array([bucket("salt-feature-b", f"u{i}") for i in range(20_000)])
    assert abs(np.corrcoef(xa, xb)[0, 1]) < 0.04


@pytest.mark.slow
def test_uniform_on_one_million_keys() -> None:
    values = np.fromiter((bucket("uniformity", str(i)) for i in range(1_000_000)), float)
    counts, _ = np.histogram(values, bins=100, range=(0.0, 1.0))
    assert stats.chisquare(counts).pvalue > 1e-4
    assert stats.kstest(values, "uniform").pvalue > 1e-4
    assert values.min() >= 0.0 and values.max() < 1.0

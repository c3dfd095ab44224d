"""Which units a shadow candidate answers, the shadow call's request id, and where
spans are sent."""

from __future__ import annotations

import hashlib

import pytest

from releasegate.gateway.shadow import ShadowPolicy, in_shadow_sample, shadow_request_id
from releasegate.gateway.tracing import traces_endpoint


def test_a_unit_is_in_or_out_every_time() -> None:
    first = [in_shadow_sample("chat", "v2", f"u{i}", 0.3) for i in range(500)]
    again = [in_shadow_sample("chat", "v2", f"u{i}", 0.3) for i in range(500)]
    assert first == again


def test_the_share_over_many_units_is_the_sample() -> None:
    n = 20_000
    share = sum(in_shadow_sample("chat", "v2", f"unit-{i}", 0.25) for i in range(n)) / n
    assert abs(share - 0.25) < 0.02  # about 6 standard deviations


def test_the_rule_is_the_documented_hash() -> None:
    digest = hashlib.sha256(b"shadow:chat:v2:alice").digest()
    expected = int.from_bytes(digest[:8], "big") < 0.5 * 2.0**64
    assert in_shadow_sample("chat", "v2", "alice", 0.5) is expected


def test_edges_and_odd_keys() -> None:
    assert all(in_shadow_sample("f", "v", f"u{i}", 1.0) for i in range(100))
    assert not any(in_shadow_sample("f", "v", f"u{i}", 0.0) for i in range(100))
    assert in_shadow_sample("f", "v", "\ud800", 0.5) in (True, False)  # lone surrogate


def test_each_candidate_samples_its_own_units() -> None:
    a = {i for i in range(2000) if in_shadow_sample("chat", "v2", str(i), 0.5)}
    b = {i for i in range(2000) if in_shadow_sample("chat", "v3", str(i), 0.5)}
    assert a != b


def test_policy_bounds() -> None:
    with pytest.raises(ValueError, match="sample"):
        ShadowPolicy(sample=1.5)
    with pytest.raises(ValueError, match="max_concurrent"):
        ShadowPolicy(max_concurrent=0)


def test_shadow_request_ids_fit_the_recording_limit() -> None:
    assert shadow_request_id("abc") == "abc:shadow"
    long = "x" * 64
    rid = shadow_request_id(long)
    assert len(rid) <= 64 and rid.startswith("shadow:")
    assert rid == shadow_request_id(long)


def test_traces_endpoint_precedence() -> None:
    assert traces_endpoint("http://c/v1/traces", "http://t", "http://b") == "http://c/v1/traces"
    assert traces_endpoint(None, "http://t/x", "http://b") == "http://t/x"
    assert traces_endpoint(None, None, "http://b:4318/") == "http://b:4318/v1/traces"
    assert traces_endpoint(None, None, None) is None

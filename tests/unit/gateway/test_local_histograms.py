"""The gateway's plain-number histograms and counters expose exactly what
prometheus_client's own would for the same observations."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from releasegate.gateway._histograms import LocalCounter, LocalHistogram
from releasegate.gateway.metrics import GatewayMetrics

BOUNDS = (0.0001, 0.001, 0.01, 0.02, 0.5, 1.0, 2.5, 10.0, 67108864.0)


def _text(registry: CollectorRegistry) -> list[str]:
    # prometheus_client's own children add optional `_created` samples; ours do not
    return [
        line for line in generate_latest(registry).decode().splitlines() if "_created" not in line
    ]


_obs = st.lists(
    st.tuples(
        st.sampled_from([("a", "x"), ("b", "x"), ("a", "y")]),
        st.one_of(
            st.sampled_from(BOUNDS),  # exactly on a bound: counted in that bucket
            st.floats(min_value=0, max_value=1e9, allow_nan=False),
            st.integers(min_value=0, max_value=10**8),
        ),
    ),
    max_size=60,
)


@given(_obs)
@settings(max_examples=200, deadline=None)
def test_histogram_exposition_matches_prometheus_client(
    obs: list[tuple[tuple[str, str], float]],
) -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    mine = LocalHistogram("h_seconds", "help text", ("f", "v"), buckets=BOUNDS, registry=ours)
    ref = Histogram("h_seconds", "help text", ("f", "v"), buckets=BOUNDS, registry=theirs)
    for labels, value in obs:
        mine.labels(*labels).observe(value)
        ref.labels(*labels).observe(value)
    assert _text(ours) == _text(theirs)


@given(st.lists(st.tuples(st.sampled_from(["200", "400", "502"]), st.integers(0, 5)), max_size=30))
@settings(max_examples=100, deadline=None)
def test_counter_exposition_matches_prometheus_client(incs: list[tuple[str, int]]) -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    mine = LocalCounter("reqs", "help", ("status",), registry=ours)
    ref = Counter("reqs", "help", ("status",), registry=theirs)
    for status, n in incs:
        mine.labels(status).inc(n)
        ref.labels(status).inc(n)
    assert _text(ours) == _text(theirs)


@pytest.mark.parametrize("buckets", [(), (1.0, 1.0), (2.0, 1.0), (1.0, float("inf"))])
def test_bad_bounds_are_refused(buckets: tuple[float, ...]) -> None:
    with pytest.raises(ValueError):
        LocalHistogram("h", "h", (), buckets=buckets, registry=CollectorRegistry())


def test_wrong_label_count_and_negative_increments_are_refused() -> None:
    registry = CollectorRegistry()
    h = LocalHistogram("h", "h", ("a", "b"), buckets=(1.0,), registry=registry)
    c = LocalCounter("c", "c", ("a",), registry=registry)
    with pytest.raises(ValueError):
        h.labels("only-one")
    with pytest.raises(ValueError):
        c.labels("x", "y")
    with pytest.raises(ValueError):
        c.labels("x").inc(-1)


def test_the_gateways_series_are_exposed_with_their_conventional_names() -> None:
    m = GatewayMetrics()
    series = m.series("chat", "v2", "m-1", "m-2", 200, "")
    record = {"latency_ms": 25.0, "overhead_ms": 0.7, "ttft_ms": 3.0}
    series.observe({**record, "prompt_tokens": 12, "completion_tokens": 30}, 1)
    text = m.render().decode()
    requests = 'releasegate_gateway_requests_total{feature="chat",route="chat",status="200"'
    assert requests + ',version="v2"} 1.0' in text
    assert "gen_ai_client_operation_duration_seconds_sum" in text
    assert 'gen_ai_token_type="output"' in text and 'le="+Inf"' in text
    assert (
        'releasegate_gateway_overhead_seconds_bucket{feature="chat",le="0.001",version="v2"} 1.0'
        in text
    )
    assert "gen_ai_client_operation_time_to_first_chunk_seconds_count{" in text
    assert 'releasegate_gateway_fallbacks_total{depth="1",feature="chat",version="v2"} 1.0' in text

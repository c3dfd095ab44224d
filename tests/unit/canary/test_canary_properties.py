"""Properties of analyze_canary: stats path == raw path, monotone evidence, symmetry."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releasegate import CanaryPolicy, Observation, analyze_canary
from releasegate.canary import ArmStats

RANK = {"rollback": 0, "hold": 1, "alert": 2, "continue": 3, "advance": 4, "promote": 4}

obs = st.builds(
    Observation,
    score=st.one_of(st.none(), st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]), st.floats(0, 1)),
    error=st.booleans(),
    latency_ms=st.one_of(st.none(), st.floats(0, 5000)),
    cost_usd=st.one_of(st.none(), st.floats(0, 0.01)),
    feedback=st.one_of(st.none(), st.integers(-1, 1)),
)
POLICY = CanaryPolicy(min_samples=5, n_star=50, min_score=0.3, min_pass_rate=0.2)


@settings(max_examples=60, deadline=None)
@given(st.lists(obs, max_size=120), st.lists(obs, max_size=60), st.integers(1, 7))
def test_merged_statistics_give_the_same_decision(
    inc: list[Observation], can: list[Observation], chunk: int
) -> None:
    raw = analyze_canary(inc, can, POLICY)

    def folded(xs: list[Observation]) -> ArmStats:
        acc = ArmStats()
        for i in range(0, len(xs), chunk):
            acc = acc.merge(ArmStats.from_observations(xs[i : i + chunk]))
        return acc

    fast = analyze_canary(folded(inc), folded(can), POLICY)
    assert fast.action == raw.action
    assert fast.signals == raw.signals
    assert same_numbers(fast.stats, raw.stats)


def same_numbers(a: dict[str, float | int | None], b: dict[str, float | int | None]) -> bool:
    assert a.keys() == b.keys()
    for k in a:
        x, y = a[k], b[k]
        if x is None or y is None:
            assert x is y, k
        else:
            assert x == pytest.approx(y, rel=1e-9, abs=1e-12), k
    return True


scores = st.lists(st.floats(0.3, 1.0), min_size=30, max_size=150)


@settings(max_examples=60, deadline=None)
@given(scores, scores, st.floats(0.01, 0.3))
def test_a_lower_canary_never_looks_better(
    inc: list[float], can: list[float], shift: float
) -> None:
    p = CanaryPolicy(min_samples=10, n_star=100)
    i = [Observation(x) for x in inc]
    before = analyze_canary(i, [Observation(x) for x in can], p)
    after = analyze_canary(i, [Observation(x - shift) for x in can], p)
    assert after.stats["quality.upper"] < before.stats["quality.upper"]
    assert after.stats["quality.lower"] < before.stats["quality.lower"]
    assert RANK[after.action] <= RANK[before.action]


@settings(max_examples=60, deadline=None)
@given(st.integers(200, 2000), st.integers(0, 30), st.integers(1, 20))
def test_more_canary_errors_never_look_better(n: int, errs: int, more: int) -> None:
    inc = ArmStats(count=19 * n, errors=19 * n // 100)
    a = analyze_canary(inc, ArmStats(count=n, errors=min(errs, n)))
    b = analyze_canary(inc, ArmStats(count=n, errors=min(errs + more, n)))
    assert b.stats["errors.e_value"] >= a.stats["errors.e_value"]
    assert RANK[b.action] <= RANK[a.action]


@settings(max_examples=40, deadline=None)
@given(st.lists(obs, min_size=2, max_size=80), st.lists(obs, min_size=2, max_size=80))
def test_swapping_arms_mirrors_the_comparison(a: list[Observation], b: list[Observation]) -> None:
    ab, ba = analyze_canary(a, b, POLICY), analyze_canary(b, a, POLICY)
    if "quality.diff" in ab.stats:
        assert ab.stats["quality.diff"] == pytest.approx(-ba.stats["quality.diff"], abs=1e-12)
        assert ab.stats["quality.se"] == pytest.approx(ba.stats["quality.se"])
    # identical arms: no comparison ever fails (only the absolute floors may)
    same = analyze_canary(a, list(a), POLICY)
    for signal in ("quality", "errors", "feedback", "latency", "cost"):
        assert same.signals[signal] != "fail", signal

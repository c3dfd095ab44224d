"""analyze_canary: every action, modes, floors, SRM, timeouts, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from releasegate import CanaryPolicy, Decision, Observation, analyze_canary
from releasegate.canary import ArmStats
from releasegate.errors import ConfigError, UsageError


def arm(
    seed: int,
    n: int,
    mean: float = 0.75,
    *,
    err: float = 0.01,
    lat: float = 300.0,
    cost: float = 0.002,
    neg: float = 0.1,
) -> list[Observation]:
    rng = np.random.default_rng(seed)
    k = 8.0
    scores = rng.beta(mean * k, (1 - mean) * k, n)
    return [
        Observation(
            float(s),
            error=bool(rng.random() < err),
            latency_ms=float(rng.lognormal(np.log(lat), 0.3)),
            cost_usd=float(rng.lognormal(np.log(cost), 0.3)),
            feedback=(0 if rng.random() < neg else 1) if rng.random() < 0.3 else None,
        )
        for s in scores
    ]


INC = arm(1, 19_000)


def test_equal_canary_advances_then_promotes_on_the_last_stage() -> None:
    can = arm(2, 2500)
    d = analyze_canary(INC, can)
    assert d.action == "advance", d.reasons
    assert d.signals["quality"] == "pass"
    assert d.stats["quality.lower"] > -0.02
    assert analyze_canary(INC, can, CanaryPolicy(last_stage=True)).action == "promote"


def test_too_few_samples_continue_and_minimum_duration_waits() -> None:
    assert analyze_canary(INC, arm(3, 40)).action == "continue"
    d = analyze_canary(INC, arm(2, 2500), CanaryPolicy(elapsed_s=60, min_duration_s=600))
    assert d.action == "continue"
    assert "minimum duration" in d.reasons[0]


@pytest.mark.parametrize("drop", [0.08, 0.15, 0.3])
def test_worse_quality_rolls_back_with_numbers(drop: float) -> None:
    d = analyze_canary(INC, arm(4, 600, 0.75 - drop))
    assert d.action == "rollback"
    assert d.reasons[0].startswith("Quality is worse")
    assert d.stats["quality.upper"] < 0
    assert d.stats["quality.alpha_rollback"] == pytest.approx(0.05 * 0.4)


@pytest.mark.parametrize(
    ("kw", "signal"),
    [({"err": 0.05}, "errors"), ({"neg": 0.5}, "feedback"), ({"lat": 900.0}, "latency")],
)
def test_event_guardrails_roll_back(kw: dict[str, float], signal: str) -> None:
    d = analyze_canary(INC, arm(5, 2000, **kw))
    assert d.action == "rollback", d.reasons
    assert d.signals[signal] == "fail"
    assert d.stats[f"{signal}.e_value"] >= d.stats[f"{signal}.threshold"]


@pytest.mark.parametrize("mode", ["pause", "dry-run"])
def test_signal_modes(mode: str) -> None:
    p = CanaryPolicy(modes={"errors": mode})  # type: ignore[dict-item]
    d = analyze_canary(INC, arm(5, 2000, err=0.05), p)
    assert d.signals["errors"] == "fail"
    if mode == "pause":
        assert d.action == "hold"
        assert "pause mode" in d.reasons[0]
    else:
        assert d.action == "advance"
        assert any(r.startswith("[dry-run, no action]") for r in d.reasons)


@pytest.mark.parametrize("up", [1.6, 2.0])
def test_cost_up_alerts_never_rolls_back(up: float) -> None:
    d = analyze_canary(INC, arm(6, 4000, cost=0.002 * up))
    assert d.action == "alert"
    assert d.stats["cost.change"] == pytest.approx(up - 1, abs=0.05)
    assert analyze_canary(INC, arm(6, 4000, cost=0.0021)).action == "advance"


def test_no_data_continues_then_holds_after_grace() -> None:
    assert analyze_canary(INC, []).action == "continue"
    d = analyze_canary(INC, [], CanaryPolicy(elapsed_s=601))
    assert d.action == "hold"
    assert "No data" in d.reasons[0]
    unscored = [Observation(None) for _ in range(50)]
    assert analyze_canary(INC, unscored).action == "continue"
    assert analyze_canary(INC, unscored, CanaryPolicy(elapsed_s=700)).action == "hold"


@pytest.mark.parametrize(("units", "held"), [((9000, 1000), True), ((9500, 500), False)])
def test_sample_ratio_mismatch_holds(units: tuple[int, int], held: bool) -> None:
    p = CanaryPolicy(canary_share=0.05, units=units, requests=(19_000, 1000))
    d = analyze_canary(INC, arm(2, 2500), p)
    assert (d.action == "hold") is held
    if held:
        assert "Sample ratio mismatch" in d.reasons[0]
        assert d.stats["srm.units_p_value"] < 0.001


@pytest.mark.parametrize(("on_timeout", "action"), [("hold", "hold"), ("advance", "advance")])
def test_timeout_with_an_inconclusive_result(on_timeout: str, action: str) -> None:
    p = CanaryPolicy(elapsed_s=3600, max_duration_s=3600, on_timeout=on_timeout)  # type: ignore[arg-type]
    d = analyze_canary(INC, arm(7, 150, 0.745), p)
    assert d.signals["quality"] == "inconclusive"
    assert d.action == action
    assert "maximum duration" in d.reasons[0]


@pytest.mark.parametrize(
    ("offset", "action"), [(0.1, "rollback"), (0.002, "continue"), (-0.2, "advance")]
)
def test_score_floor(offset: float, action: str) -> None:
    can = arm(2, 2500)
    floor = sum(o.score or 0.0 for o in can) / len(can) + offset
    d = analyze_canary(INC, can, CanaryPolicy(min_score=floor))
    assert d.action == action, d.reasons


def test_pass_rate_floor_rejects_early() -> None:
    d = analyze_canary(INC, arm(2, 500), CanaryPolicy(min_pass_rate=0.99))
    assert d.action == "rollback"
    assert d.signals["pass_floor"] == "fail"


def test_decisions_are_deterministic_and_equal_for_stats() -> None:
    can = arm(8, 700, 0.72)
    a = analyze_canary(INC, can)
    assert a == analyze_canary(INC, can)
    assert isinstance(a, Decision)
    b = analyze_canary(ArmStats.from_observations(INC), ArmStats.from_observations(can))
    assert (a.action, a.reasons, a.signals) == (b.action, b.reasons, b.signals)
    assert a.stats == pytest.approx(b.stats)


@pytest.mark.parametrize(
    ("obs", "where"),
    [
        (Observation(1.5), "score 1.5"),
        (Observation(float("nan")), "score nan"),
        (Observation(0.5, latency_ms=-1.0), "latency_ms"),
        (Observation(0.5, cost_usd=float("inf")), "cost_usd"),
        (Observation(0.5, feedback=1.5), "feedback"),  # type: ignore[arg-type]
    ],
)
def test_bad_observations_say_where(obs: Observation, where: str) -> None:
    with pytest.raises(UsageError, match=rf"canary observation 2: .*{where}"):
        analyze_canary(INC, [Observation(0.5), Observation(0.5), obs])


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"alpha": 1.5}, "alpha"),
        ({"alpha_split": {"quality": 0.9, "errors": 0.5}}, "alpha_split"),
        ({"modes": {"quality": "maybe"}}, "modes"),
        ({"canary_share": 0.0}, "canary_share"),
        ({"min_samples": 1}, "min_samples"),
        ({"max_duration_s": 5.0, "min_duration_s": 10.0}, "max_duration_s"),
    ],
)
def test_bad_policy_names_the_field(kw: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        CanaryPolicy(**kw)  # type: ignore[arg-type]


def test_stats_counted_with_other_definitions_are_refused() -> None:
    s = ArmStats.from_observations(INC[:10], pass_score=0.7)
    with pytest.raises(UsageError, match="pass_score"):
        analyze_canary(s, s)
    with pytest.raises(UsageError, match="different definitions"):
        s.merge(ArmStats.from_observations(INC[:10]))
    with pytest.raises(UsageError, match="errors"):
        analyze_canary(ArmStats(count=1, errors=2), s)
    with pytest.raises(UsageError, match="sequence"):
        analyze_canary("abc", [])  # type: ignore[arg-type]


def _equal_quality(n: int, errors: int) -> ArmStats:
    # scores with mean 0.75 and variance 0.02, as running sums
    return ArmStats(count=n, errors=errors, scored=n, score_sum=0.75 * n, score_sumsq=n * 0.5825)


@pytest.mark.parametrize(
    ("margin", "action"), [(0.01, "continue"), (0.02, "advance"), (None, "advance")]
)
def test_advancing_needs_the_error_rate_shown_within_its_margin(
    margin: float | None, action: str
) -> None:
    inc, can = _equal_quality(57_000, 570), _equal_quality(3000, 45)  # 1% vs 1.5%
    d = analyze_canary(inc, can, CanaryPolicy(error_margin=margin))
    assert d.signals["quality"] == "pass"
    assert d.action == action, d.reasons
    if margin == 0.01:
        assert d.signals["errors"] == "inconclusive"
        assert d.stats["errors.diff_upper"] >= 0.01


def test_a_dry_run_signal_never_acts_not_even_by_blocking() -> None:
    p = CanaryPolicy(modes={"quality": "dry-run"})
    d = analyze_canary(INC, arm(4, 2500, 0.6), p)
    assert d.signals["quality"] == "fail"
    assert d.action == "advance"
    assert d.reasons[0].startswith("Ready")
    assert any("[dry-run, no action] Quality is worse" in r for r in d.reasons)

"""Template filters: numbers as a person reads them, a decision's numbers by signal."""

from __future__ import annotations

from releasegate.dashboard import _format as f


def test_numbers_and_missing_values() -> None:
    assert f.pct(0.0512) == "5.1%" and f.pct(None) == "\u2013"
    assert f.ms(840.2) == "840 ms" and f.ms(1250) == "1.25 s"
    assert f.usd(0.0005) == "$0.000500" and f.usd(1.5) == "$1.5000"
    assert f.num(4560) == "4,560" and f.num(float("nan")) == "\u2013"
    assert f.signed(0.0123) == "+0.0123"


def test_groups_put_each_number_under_its_signal_and_states_first() -> None:
    stats = {"quality.lower": -0.01, "quality.diff": 0.02, "errors.n_canary": 5, "alpha": 0.05}
    signals = {"quality": "pass", "errors": "inconclusive", "srm": "off"}
    out = f.groups(stats, signals)
    assert [g for g, _, _ in out] == ["errors", "quality", "srm", "general"]
    assert out[1] == ("quality", "pass", [("diff", 0.02), ("lower", -0.01)])
    assert out[2] == ("srm", "off", [])
    assert out[3] == ("general", None, [("alpha", 0.05)])

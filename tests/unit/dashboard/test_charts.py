"""Server-side SVG charts: the shapes a chart draws for its data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from releasegate.canary.observations import latency_bucket
from releasegate.dashboard._charts import latency_histogram, quality_chart, share_chart
from releasegate.dashboard.views import QualityPoint

T = datetime(2030, 1, 1, tzinfo=UTC)


def _pt(i: int, est: float, lo: float | None, up: float | None) -> QualityPoint:
    return QualityPoint(T + timedelta(minutes=i), "continue", est, lo, up, -0.02, -0.05)


def test_quality_chart_draws_a_point_per_decision_a_band_and_the_margin() -> None:
    chart = quality_chart([_pt(0, 0.01, -0.08, 0.1), _pt(1, 0.02, -0.03, 0.06)])
    assert chart is not None
    kinds = [(s.kind, s.cls) for s in chart.shapes]
    assert kinds.count(("circle", "point action-continue")) == 2
    assert ("path", "band") in kinds and ("path", "estimate") in kinds
    assert ("line", "margin") in kinds and ("line", "zero") in kinds
    assert ("line", "rollback") in kinds
    labels = [s.text for s in chart.shapes if s.kind == "text"]
    assert "advance above -0.020" in labels and "roll back below -0.050" in labels
    # y grows downwards: the band's upper bound is drawn above the estimate
    points = [s for s in chart.shapes if s.kind == "circle"]
    assert "+0.0100" in points[0].text and "lower -0.0800" in points[0].text


def test_quality_chart_with_one_decision_or_none() -> None:
    assert quality_chart([]) is None
    one = quality_chart([_pt(0, 0.0, -0.1, None)])
    assert one is not None
    assert [s.kind for s in one.shapes if s.cls == "band"] == ["rect"]


def test_latency_histogram_shares_per_arm() -> None:
    inc = {latency_bucket(100.0): 3, latency_bucket(1000.0): 1}
    can = {latency_bucket(120.0): 1}
    chart = latency_histogram({"incumbent": inc, "canary": can}, n=8)
    assert chart is not None
    bars = [s for s in chart.shapes if s.kind == "rect"]
    assert len(bars) == 16  # 8 bins x 2 arms
    tall = [s for s in bars if float(s.attrs["height"]) > 1.0]
    assert {s.cls for s in tall} == {"bar arm-incumbent", "bar arm-canary"}
    assert any("75.0% of requests" in s.text for s in bars)  # 3 of the incumbent's 4
    assert chart.legend == [("arm-incumbent", "incumbent"), ("arm-canary", "canary")]


def test_latency_histogram_without_latencies() -> None:
    assert latency_histogram({"incumbent": {}, "canary": {}}) is None


def test_share_chart_draws_steps() -> None:
    assert share_chart([(T, 0.05)]) is None
    chart = share_chart([(T, 0.05), (T + timedelta(hours=1), 0.25), (T + timedelta(hours=2), 0.25)])
    assert chart is not None
    line = next(s for s in chart.shapes if s.cls == "share-line")
    assert str(line.attrs["d"]).count("L") == 4  # two changes, each a vertical and a flat step
    assert [s.text for s in chart.shapes if s.kind == "circle"][1].endswith("25.0%")

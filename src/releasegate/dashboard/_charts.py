"""Server-side SVG charts: geometry in Python, markup in a template (autoescaped).

A chart is a :class:`Chart` of primitive shapes; ``templates/_svg.html`` draws it. No
script runs in the browser and every label goes through Jinja's escaping, so a chart
can show user-supplied names safely and works offline.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from releasegate.canary.observations import bucket_value
from releasegate.dashboard.views import QualityPoint

__all__ = ["Chart", "Shape", "latency_histogram", "quality_chart", "share_chart"]

_W, _H = 1000, 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 16, 16, 40


@dataclass(frozen=True, slots=True)
class Shape:
    """One SVG element: ``kind`` is ``line``, ``path``, ``rect``, ``circle`` or ``text``.

    ``attrs`` are numeric geometry (``x1``, ``cx``, ``width`` ...) or the path's ``d``;
    ``cls`` is the CSS class; ``text`` is a label or a hover title (escaped on output).
    """

    kind: str
    attrs: Mapping[str, float | str]
    cls: str = ""
    text: str = ""


@dataclass(slots=True)
class Chart:
    """A chart: size, shapes in drawing order, a title and a legend."""

    title: str
    width: int = _W
    height: int = _H
    shapes: list[Shape] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (css class, label)

    def add(self, kind: str, cls: str = "", text: str = "", **attrs: float | str) -> None:
        self.shapes.append(Shape(kind, {k: _r(v) for k, v in attrs.items()}, cls, text))


def _r(v: float | str) -> float | str:
    return round(v, 2) if isinstance(v, float) else v


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values covering [lo, hi]."""
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = span / max(1, n - 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    out = []
    v = first
    while v <= hi + 1e-9 * step:
        out.append(0.0 if abs(v) < step * 1e-9 else v)
        v += step
    return out


class _Scale:
    def __init__(self, lo: float, hi: float, a: float, b: float) -> None:
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        self.lo, self.hi, self.a, self.b = lo, hi, a, b

    def __call__(self, v: float) -> float:
        return self.a + (v - self.lo) / (self.hi - self.lo) * (self.b - self.a)


def _y_axis(chart: Chart, y: _Scale, fmt: str) -> None:
    for t in _ticks(y.lo, y.hi):
        yy = y(t)
        chart.add("line", "grid", x1=_LEFT, x2=chart.width - _RIGHT, y1=yy, y2=yy)
        chart.add("text", "tick tick-y", format(t, fmt), x=_LEFT - 6, y=yy + 4)


def quality_chart(points: Sequence[QualityPoint]) -> Chart | None:
    """The quality difference per decision with its confidence bounds.

    Args:
        points: The decisions' quality numbers, oldest first.

    Returns:
        None without points. Otherwise x is decision time, y the difference in mean
        score (canary minus incumbent); the band spans the lower and upper bound the
        decision used; the dashed line is where the lower bound must rise above to
        advance, the red line where the upper bound falling below rolls back.
    """
    pts = list(points)
    if not pts:
        return None
    chart = Chart("Quality difference (canary - incumbent) per decision, with its bounds")
    ys: list[float] = [0.0]
    for p in pts:
        ys += [v for v in (p.estimate, p.lower, p.upper, p.margin, p.rollback_at) if v is not None]
    lo, hi = min(ys), max(ys)
    pad = (hi - lo) * 0.08 or 0.05
    y = _Scale(lo - pad, hi + pad, _H - _BOTTOM, _TOP)
    times = [p.at.timestamp() for p in pts]
    t0, t1 = min(times), max(times)
    x = _Scale(t0, t1, _LEFT + 12, _W - _RIGHT - 12)
    xs = [x(t) if t1 > t0 else (_LEFT + _W - _RIGHT) / 2 for t in times]
    _y_axis(chart, y, "+.3f")
    # the band between the bounds (upper may be missing: the band then ends at the estimate)
    upper = [p.upper if p.upper is not None else p.estimate for p in pts]
    lower = [p.lower if p.lower is not None else p.estimate for p in pts]
    if len(pts) > 1:
        top = " L ".join(f"{xx:.1f} {y(u):.1f}" for xx, u in zip(xs, upper, strict=True))
        bottom = " L ".join(
            f"{xx:.1f} {y(v):.1f}" for xx, v in reversed(list(zip(xs, lower, strict=True)))
        )
        chart.add("path", "band", d=f"M {top} L {bottom} Z")
    else:
        chart.add("rect", "band", x=xs[0] - 6, y=y(upper[0]), width=12,
                  height=max(1.0, y(lower[0]) - y(upper[0])))  # fmt: skip
    chart.add("line", "zero", x1=_LEFT, x2=_W - _RIGHT, y1=y(0.0), y2=y(0.0))
    for value, cls, label in (
        (_last(p.margin for p in pts), "margin", "advance above"),
        (_last(p.rollback_at for p in pts), "rollback", "roll back below"),
    ):
        if value is None:
            continue
        chart.add("line", cls, x1=_LEFT, x2=_W - _RIGHT, y1=y(value), y2=y(value))
        below = cls == "margin"  # the two labels sit on opposite sides of their lines
        chart.add("text", f"tick label-{cls}", f"{label} {value:+.3f}", x=_W - _RIGHT - 4,
                  y=y(value) + (14 if below else -5), anchor="end")  # fmt: skip
    if len(pts) > 1:
        line = " L ".join(f"{xx:.1f} {y(p.estimate):.1f}" for xx, p in zip(xs, pts, strict=True))
        chart.add("path", "estimate", d=f"M {line}")
    for xx, p in zip(xs, pts, strict=True):
        title = (
            f"{p.at:%Y-%m-%d %H:%M:%S} {p.action}: difference {p.estimate:+.4f}"
            + (f", lower {p.lower:+.4f}" if p.lower is not None else "")
            + (f", upper {p.upper:+.4f}" if p.upper is not None else "")
        )
        chart.add("circle", f"point action-{p.action}", title, cx=xx, cy=y(p.estimate), r=4)
    first, last = pts[0].at, pts[-1].at
    first_anchor = "start" if len(pts) > 1 else "middle"
    chart.add("text", "tick", f"{first:%m-%d %H:%M}", x=xs[0], y=_H - _BOTTOM + 18,
              anchor=first_anchor)  # fmt: skip
    if len(pts) > 1:
        chart.add("text", "tick", f"{last:%m-%d %H:%M}", x=xs[-1], y=_H - _BOTTOM + 18,
                  anchor="end")  # fmt: skip
    chart.legend = [("estimate", "estimate"), ("band", "confidence bounds"),
                    ("margin", "lower bound must rise above (advance)"),
                    ("rollback", "upper bound below rolls back")]  # fmt: skip
    return chart


def share_chart(points: Sequence[tuple[datetime, float]]) -> Chart | None:
    """The canary's share of traffic over time, as steps (each change holds until the
    next). None with fewer than two points."""
    if len(points) < 2:
        return None
    h = 200
    chart = Chart("Canary share of traffic over time", height=h)
    y = _Scale(0.0, max(0.25, max(v for _, v in points)) * 1.05, h - _BOTTOM, _TOP)
    t0, t1 = points[0][0].timestamp(), points[-1][0].timestamp()
    x = _Scale(t0, t1, _LEFT, _W - _RIGHT)
    _y_axis(chart, y, ".0%")
    d = f"M {x(t0):.1f} {y(points[0][1]):.1f}"
    for (_, prev), (at, v) in itertools.pairwise(points):
        xx = x(at.timestamp())
        d += f" L {xx:.1f} {y(prev):.1f} L {xx:.1f} {y(v):.1f}"
    area = d + f" L {x(t1):.1f} {y(0.0):.1f} L {x(t0):.1f} {y(0.0):.1f} Z"
    chart.add("path", "share-area", d=area)
    chart.add("path", "share-line", d=d)
    for at, v in points[:-1]:
        chart.add("circle", "share-point", f"{at:%Y-%m-%d %H:%M:%S}: {v:.1%}",
                  cx=x(at.timestamp()), cy=y(v), r=3)  # fmt: skip
    chart.add("text", "tick", f"{points[0][0]:%m-%d %H:%M}", x=x(t0), y=h - _BOTTOM + 18,
              anchor="start")  # fmt: skip
    chart.add("text", "tick", f"{points[-1][0]:%m-%d %H:%M}", x=x(t1), y=h - _BOTTOM + 18,
              anchor="end")  # fmt: skip
    return chart


def _last(values: Iterable[float | None]) -> float | None:
    found = [v for v in values if v is not None]
    return found[-1] if found else None


def _bins(histograms: Mapping[str, Mapping[int, int]], n: int) -> list[tuple[float, float]]:
    values = [bucket_value(b) for h in histograms.values() for b, k in h.items() if k]
    positive = [v for v in values if v > 0]
    if not positive:
        return [(0.0, 1.0)]
    lo, hi = min(positive), max(positive)
    if hi <= lo * 1.05:
        return [(lo * 0.95, hi * 1.05)]
    ratio = (hi / lo) ** (1 / n)
    edges = [lo * ratio**i for i in range(n + 1)]
    edges[0], edges[-1] = 0.0, math.inf
    return list(itertools.pairwise(edges))


def latency_histogram(histograms: Mapping[str, Mapping[int, int]], *, n: int = 16) -> Chart | None:
    """Latency distribution per arm, as shares of each arm's requests, on log-spaced bins.

    Args:
        histograms: ``{arm: {bucket index: count}}`` (see :class:`ArmStats.latency`).
        n: Number of bins.

    Returns:
        None when no arm has a latency.
    """
    totals = {arm: sum(h.values()) for arm, h in histograms.items()}
    arms = [a for a in histograms if totals[a] > 0]
    if not arms:
        return None
    bins = _bins({a: histograms[a] for a in arms}, n)
    shares: dict[str, list[float]] = {}
    for arm in arms:
        counts = [0] * len(bins)
        for b, k in histograms[arm].items():
            v = bucket_value(b)
            i = next((j for j, (lo, hi) in enumerate(bins) if lo <= v < hi), len(bins) - 1)
            counts[i] += k
        shares[arm] = [c / totals[arm] for c in counts]
    chart = Chart("Latency distribution (share of each arm's requests per latency bin)")
    top = max(max(s) for s in shares.values())
    y = _Scale(0.0, top * 1.1, _H - _BOTTOM, _TOP)
    _y_axis(chart, y, ".0%")
    slot = (_W - _LEFT - _RIGHT) / len(bins)
    bar = (slot - 4) / len(arms)
    for i, (lo, hi) in enumerate(bins):
        x0 = _LEFT + i * slot + 2
        for j, arm in enumerate(arms):
            s = shares[arm][i]
            label = f"{arm}: {s:.1%} of requests between {_ms(lo)} and {_ms(hi)}"
            chart.add("rect", f"bar arm-{arm}", label, x=x0 + j * bar, y=y(s),
                      width=max(1.0, bar - 1), height=y(0.0) - y(s))  # fmt: skip
        if i % 2 == 0 or len(bins) <= 8:
            chart.add("text", "tick", _ms(hi if i == 0 else lo), x=x0 + slot / 2,
                      y=_H - _BOTTOM + 16, anchor="middle")  # fmt: skip
    chart.add("text", "tick", "latency (ms, bin start; first bin: up to)", x=_W / 2,
              y=_H - 6, anchor="middle")  # fmt: skip
    chart.legend = [(f"arm-{a}", a) for a in arms]
    return chart


def _ms(v: float) -> str:
    if math.isinf(v):
        return "inf"
    if v >= 10_000:
        return f"{v / 1000:.0f}s"
    if v >= 1000:
        return f"{v / 1000:.1f}s"
    return f"{v:.0f}"

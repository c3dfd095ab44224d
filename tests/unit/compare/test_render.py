"""Markdown and terminal rendering of a comparison."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from releasegate.config import GateConfig
from releasegate.evals.comparison import compare_reports
from releasegate.reports.comparison import (
    render_comparison_markdown,
    render_comparison_terminal,
)
from tests.unit.compare._reports import Row, make_report


def _comparison(gate: GateConfig | None = None):  # type: ignore[no-untyped-def]
    base = make_report(
        [Row(f"ok{i}", 1.0, tags=["chat"], cost=0.01, latency=200) for i in range(8)]
        + [Row("billing|1", 1.0, tags=["billing"], checks={"contains": 1.0})]
        + [Row("fixed", 0.0, tags=["chat"])]
    )
    head = make_report(
        [Row(f"ok{i}", 1.0, tags=["chat"], cost=0.02, latency=220) for i in range(8)]
        + [
            Row(
                "billing|1",
                0.0,
                tags=["billing"],
                checks={"contains": 0.0},
                reason="missing <refund> | @team `x`",
            )
        ]
        + [Row("fixed", 1.0, tags=["chat"])]
    )
    return compare_reports(base, head, gate=gate)


def test_markdown_has_verdict_deltas_tags_and_failing_cases() -> None:
    md = render_comparison_markdown(_comparison(GateConfig(max_regression=0.5)))
    assert md.startswith("#### ✅ Versus baseline: **no regression**")
    assert "delta +0.000 (95% CI [" in md
    assert "| mean score | 0.900 | 0.900 | +0.000 |" in md
    assert "| cost / case | $0.00800 | $0.0160 | +100% |" in md
    assert "**Per tag**" in md and "| billing ⚠️" not in md
    assert "**Newly failing (1)**" in md
    assert "**Newly passing (1):** `fixed`" in md
    assert "`max_regression` | ✅ pass" in md


def test_markdown_escapes_untrusted_text_in_tables() -> None:
    md = render_comparison_markdown(_comparison())
    line = next(ln for ln in md.splitlines() if ln.startswith("| `billing\u00a61`"))
    # The reason's pipe, angle brackets, mention and backticks must not break the row.
    assert "<refund>" not in line
    assert "&lt;refund&gt;" in line
    assert "@team" not in line
    # Columns: case, base -> head, why => 4 unescaped pipes outside the code span.
    outside = line.replace("\\|", "")
    assert outside.count("|") == 4


def test_markdown_without_gate_has_no_verdict_table() -> None:
    md = render_comparison_markdown(_comparison())
    assert "compared" in md.splitlines()[0]
    assert "| rule |" not in md


def test_failed_gate_is_marked() -> None:
    base = make_report([Row(f"c{i}", 1.0) for i in range(30)])
    head = make_report([Row(f"c{i}", 0.0 if i < 20 else 1.0) for i in range(30)])
    cmp = compare_reports(base, head, gate=GateConfig(max_regression=0.05))
    md = render_comparison_markdown(cmp)
    assert md.startswith("#### ❌ Versus baseline: **regression**")
    assert "`max_regression` | ❌ fail" in md
    assert "| … | 10 more | |" in md


def test_terminal_renderer_prints_the_essentials() -> None:
    buf = io.StringIO()
    console = Console(file=buf, width=120, color_system=None)
    render_comparison_terminal(_comparison(GateConfig(max_regression=0.5)), console)
    text = buf.getvalue()
    assert "versus baseline: no regression" in text
    assert "PASS max_regression" in text
    assert "newly failing billing|1" in text
    assert "per tag" in text


@pytest.mark.parametrize("render", ["markdown", "terminal"])
def test_regression_rule_value_is_labelled_as_a_bound(render: str) -> None:
    base = make_report([Row(f"c{i}", 1.0) for i in range(30)])
    head = make_report([Row(f"c{i}", 0.0 if i < 6 else 1.0) for i in range(30)])
    cmp = compare_reports(base, head, gate=GateConfig(max_regression=0.05))
    bound = cmp.overall.bootstrap.high
    if render == "markdown":
        text = render_comparison_markdown(cmp)
        assert "| rule | result | measured |" in text
        assert f"| CI upper bound {bound:+.3f} |" in text
    else:
        buf = io.StringIO()
        render_comparison_terminal(cmp, Console(file=buf, width=200, color_system=None))
        text = buf.getvalue()
        assert f"CI upper bound {bound:+.3f}" in text


def test_slice_tables_are_capped() -> None:
    rows = [Row(f"c{i}", 1.0, tags=[f"tag{i}"]) for i in range(60)]
    cmp = compare_reports(make_report(rows), make_report(rows))
    md = render_comparison_markdown(cmp)
    assert sum(1 for ln in md.splitlines() if ln.startswith("| tag")) == 25
    assert "35 more not shown" in md

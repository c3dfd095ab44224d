"""The rich terminal summary, captured as a CI log would see it (no TTY, 80 columns)."""

from __future__ import annotations

import io

from rich.console import Console

from releasegate.reports.terminal import render_terminal
from releasegate.results.report import EvalReport


def _render(report: EvalReport, *, width: int = 80, **kw: int) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=False, color_system=None)
    render_terminal(report, console, **kw)
    return buf.getvalue()


def _flat(text: str) -> str:
    """Text with line wrapping and box drawing undone, for substring checks."""
    return " ".join(text.replace("│", " ").split())


def test_every_fixture_fits_80_columns(all_reports: dict[str, EvalReport]) -> None:
    for name, report in all_reports.items():
        out = _render(report)
        assert out, name
        assert max(len(line) for line in out.splitlines()) <= 80, name
        assert "\x1b" not in out, name  # no colour codes without a terminal


def test_mixed_report(mixed: EvalReport) -> None:
    out = _render(mixed)
    flat = _flat(out)
    assert out.splitlines()[0].startswith("╭─  FAIL   pr")
    assert "2 of 3 gate rules failed." in flat
    assert "prompt support-answer@1.4.0 (4f2a9c0d)" in flat
    assert "model gpt-4o-mini-2024-07-18" in flat and "releasegate 0.1.0" in flat
    assert "Mean score 0.533 ± 0.123" in flat
    assert "p10 / p50 / p90 0.200 / 0.450 / 0.950" in flat
    assert "Pass rate 20.0% (1 passed, 4 failed)" in flat
    assert "Latency mean 120 ms, p95 120 ms" in flat
    assert "Judge 350 tokens, $0.00210" in flat
    assert "✗ FAIL min_score 0.62 0.8 mean score 0.620 < 0.8" in flat
    assert "billing 2 0.300 0.0% 1" in flat
    assert "Worst failing cases (3 of 3)" in flat
    assert "contains 0.000 (< 0.5): missing 'within 30 days'" in flat
    assert "output: You can get a refund within 90 days" in flat
    assert "error: ProviderError: read timeout after 30s" in flat
    assert flat.index("refund-wrong") < flat.index("✗ timeout")


def test_max_failures_limits_the_list(mixed: EvalReport) -> None:
    flat = _flat(_render(mixed, max_failures=1))
    assert "Worst failing cases (1 of 3)" in flat
    assert "✗ timeout" not in flat


def test_status_banners(stopped: EvalReport, empty: EvalReport, all_passed: EvalReport) -> None:
    assert "STOPPED" in _render(stopped).splitlines()[0]
    assert "budget of $1.00 reached after 2 of 40 cases" in _flat(_render(stopped))
    assert "RUN FAILED" in _render(empty).splitlines()[0]
    out = _render(all_passed)
    assert "PASS" in out.splitlines()[0]
    assert "Worst failing cases" not in out


def test_repeats_are_labelled(repeated: EvalReport) -> None:
    assert "✗ flaky [repeat 1]" in _render(repeated)


def test_hostile_text_is_inert(hostile: EvalReport) -> None:
    buf = io.StringIO()
    # Even on a colour terminal, user text must not inject markup or escape sequences.
    console = Console(file=buf, width=100, force_terminal=True, color_system="standard")
    render_terminal(hostile, console)
    out = buf.getvalue()
    assert "\x1b[2J" not in out and "\x00" not in out and "\r" not in out
    assert "\u202e" not in out
    plain = _flat(_render(hostile, width=200))
    assert "[bold]markup[/bold]" in plain  # shown literally, not parsed as rich markup
    assert "\\x1b[2J" in plain
    assert "more characters]" in plain  # the huge output was truncated
    assert len(plain) < 20_000


def test_narrow_console_still_renders(mixed: EvalReport) -> None:
    out = _render(mixed, width=40)
    assert max(len(line) for line in out.splitlines()) <= 40
    assert "refund-wrong" in out

"""A scripted or replayed run says so in every report header; a real model's run does not."""

from __future__ import annotations

import html
import io
import json

import pytest
from rich.console import Console

from releasegate.reports.html import render_html
from releasegate.reports.junit import render_junit
from releasegate.reports.markdown import render_markdown
from releasegate.reports.terminal import render_terminal
from releasegate.results.report import SIMULATED_TARGETS, EvalReport
from tests.unit.reports.conftest import build_report, case, check


def _report(provider: str | None) -> EvalReport:
    cases = [case("a", 1.0, checks=[check()]), case("b", 0.2, checks=[check(value=0.2)])]
    return build_report(cases, identity={"provider": provider, "model": "gpt-4o-2024-11-20"})


def _terminal(report: EvalReport) -> str:
    buf = io.StringIO()
    render_terminal(report, Console(file=buf, width=80, color_system=None))
    return " ".join(buf.getvalue().split())


def _renders(report: EvalReport) -> dict[str, str]:
    return {
        "terminal": _terminal(report),
        "markdown": render_markdown(report),
        "html": html.unescape(render_html(report)),
        "junit": render_junit(report),
        "json": json.dumps(json.loads(report.to_json())["identity"]),
    }


@pytest.mark.parametrize("provider", sorted(SIMULATED_TARGETS))
def test_a_simulated_run_says_so_in_every_format(provider: str) -> None:
    report = _report(provider)
    said = SIMULATED_TARGETS[provider]
    assert report.identity.target == said
    for fmt, text in _renders(report).items():
        assert said in text, fmt
    assert "cost and latency" in said


@pytest.mark.parametrize("provider", ["openai", "anthropic", "local", "http", "python", None])
def test_a_real_target_is_not_called_simulated(provider: str | None) -> None:
    report = _report(provider)
    assert report.identity.target is None
    for fmt, text in _renders(report).items():
        assert "canned answers" not in text and "replayed (" not in text, fmt


@pytest.mark.parametrize("provider", sorted(SIMULATED_TARGETS))
def test_the_target_survives_a_json_round_trip(provider: str) -> None:
    report = _report(provider)
    again = EvalReport.from_json(report.to_json())
    assert again.identity.target == report.identity.target

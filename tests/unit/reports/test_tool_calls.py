"""Tool calls in every report format: names and arguments shown, hostile text escaped."""

from __future__ import annotations

import io
from typing import Any
from xml.etree import ElementTree

import pytest
from rich.console import Console

from releasegate.reports._common import tool_call_lines
from releasegate.reports.html import render_html
from releasegate.reports.junit import render_junit
from releasegate.reports.markdown import render_markdown
from releasegate.reports.terminal import render_terminal
from releasegate.results.report import EvalReport
from tests.unit.reports.conftest import HOSTILE, build_report, case, check
from tests.unit.reports.test_html import _assert_safe

GOOD = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
}
HOSTILE_CALL = {
    "id": "call_2",
    "type": "function",
    "function": {"name": "lookup", "arguments": HOSTILE},
}


def report_with(calls: list[Any], output: str | None = "") -> EvalReport:
    failing = case(
        "tools-1", 0.0, output=output, checks=[check("valid-tool-call", 0.0, reason="bad")]
    )
    failing = failing.model_copy(update={"tool_calls": calls})
    return build_report([failing])


@pytest.mark.parametrize(
    ("calls", "lines"),
    [
        (None, []),
        ([], []),
        ([GOOD], ['get_weather({"city": "Paris"})']),
        ([{"id": "x", "type": "function"}], ['tool_calls[0]: {"id":"x","type":"function"}']),
        ([{"function": {"name": "f", "arguments": {"a": 1}}}], ['f({"a":1})']),
        ([{"function": {"name": ""}}], ['tool_calls[0]: {"function":{"name":""}}']),
        (["text", None, 3], ['tool_calls[0]: "text"', "tool_calls[1]: null", "tool_calls[2]: 3"]),
    ],
)
def test_tool_call_lines(calls: list[Any] | None, lines: list[str]) -> None:
    assert tool_call_lines(calls) == lines


def test_markdown_shows_tool_calls_in_a_fence() -> None:
    text = render_markdown(report_with([GOOD, {"id": "x"}]))
    assert "tool calls:" in text
    assert 'get_weather({"city": "Paris"})' in text
    assert 'tool_calls[1]: {"id":"x"}' in text


def test_html_shows_tool_calls_escaped() -> None:
    html = render_html(report_with([GOOD, HOSTILE_CALL]))
    _assert_safe(html)
    assert "get_weather({&#34;city&#34;: &#34;Paris&#34;})" in html
    assert '<script>alert("x")</script>' not in html
    assert "tool calls" in html


def test_html_without_tool_calls_has_no_section() -> None:
    html = render_html(build_report([case("plain", 1.0)]))
    assert "tool calls" not in html


def test_markdown_hostile_arguments_stay_in_the_fence() -> None:
    text = render_markdown(report_with([HOSTILE_CALL]))
    assert "<script>" not in text.split("tool calls:")[0]
    assert "\x00" not in text and "\x1b" not in text


def test_junit_puts_tool_calls_in_system_out() -> None:
    xml = render_junit(report_with([GOOD, HOSTILE_CALL], output="Checking"))
    root = ElementTree.fromstring(xml)
    out = root.findtext(".//testcase[@name='tools-1']/system-out")
    assert out is not None and out.startswith("Checking\ntool call: get_weather(")
    assert "tool call: lookup(" in out


def test_terminal_shows_tool_calls() -> None:
    console = Console(file=io.StringIO(), width=200, color_system=None)
    render_terminal(report_with([GOOD]), console)
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert 'tool call: get_weather({"city": "Paris"})' in shown

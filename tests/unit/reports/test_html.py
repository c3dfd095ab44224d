"""Standalone HTML: parsed with html.parser to check structure, escaping and self-containment."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from releasegate.reports.html import render_html
from releasegate.results.report import EvalReport
from tests.unit.reports.conftest import build_report, case, check


class _Page(HTMLParser):
    """Collects what matters: elements, script bodies, attributes that load things, text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.scripts: list[str] = []
        self.loads: list[str] = []
        self.handlers: list[str] = []
        self.meta: dict[str, str] = {}
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "action", "srcset"):
                self.loads.append(value or "")
            if name.startswith("on"):
                self.handlers.append(name)
        if tag == "meta":
            d = dict(attrs)
            if d.get("http-equiv"):
                self.meta[str(d["http-equiv"])] = d.get("content") or ""
        self._in_script = tag == "script"
        if tag == "script":
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data
        else:
            self.text.append(data)


def _page(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


def _assert_safe(html: str) -> _Page:
    page = _page(html)
    assert page.tags.count("script") == 1, "only the page's own filter script"
    assert page.loads == [], "a standalone page loads nothing"
    assert page.handlers == []
    assert not {"img", "iframe", "object", "embed", "link"} & set(page.tags)
    digest = base64.b64encode(hashlib.sha256(page.scripts[0].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in page.meta["Content-Security-Policy"]
    assert "default-src 'none'" in page.meta["Content-Security-Policy"]
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]", html)
    return page


def test_every_fixture_renders_safely(all_reports: dict[str, EvalReport]) -> None:
    for report in all_reports.values():
        html = render_html(report)
        assert html.startswith("<!DOCTYPE html>")
        _assert_safe(html)


def test_content(mixed: EvalReport) -> None:
    page = _assert_safe(render_html(mixed))
    text = " ".join(" ".join(page.text).split())
    assert "FAIL" in text and "2 of 3 gate rules failed." in text
    assert "support-answer@1.4.0 (4f2a9c0d)" in text
    assert "min_tag_scores[billing]" in text and "tag billing 0.300 < 0.7" in text
    assert "Worst failing cases (3 of 3)" in text
    assert "The answer invents a 90-day refund window." in text
    assert "judge timed out" in text  # the skipped case's reason is in the full table
    assert (
        "All cases (5: passed 1, failed 2, errors 1, unmeasured 1, not applicable 0, "
        "informational 0)" in text
    )
    assert "$0.00210" in text  # judge cost


def test_every_case_is_listed(repeated: EvalReport) -> None:
    html = render_html(repeated)
    assert html.count('<tr class="case"') == len(repeated.cases)
    for r in range(3):
        assert f"flaky [repeat {r}]" in html


def test_hostile_outputs_are_text(hostile: EvalReport, mixed: EvalReport) -> None:
    html = render_html(hostile)
    page = _assert_safe(html)
    text = "".join(page.text)
    assert '<script>alert("x")</script>' in text  # shown to the reader, as text
    assert "<img src=x onerror=alert(1)>" in text
    assert "night|ly <b>" in text and "日本語の答え" in text
    assert "\\x1b[2J" in text and "\\u202eevil" in text
    # The "<b>" in the suite name and case ids did not become elements: the page has
    # exactly the elements of a benign report with the same identity fields.
    assert page.tags.count("b") == _page(render_html(mixed)).tags.count("b")


def test_size_of_huge_outputs_is_bounded(hostile: EvalReport) -> None:
    # The 280,000-character output is cut in each place it appears.
    assert len(render_html(hostile)) < 200_000


@settings(max_examples=40, deadline=None)
@given(
    ident=st.text(st.characters(exclude_categories=()), max_size=40),
    output=st.text(st.characters(exclude_categories=()), max_size=80),
)
def test_any_text_stays_text(ident: str, output: str) -> None:
    report = build_report(
        [case(ident or "x", 0.1, output=output, checks=[check("regex", 0.0, reason=output)])],
        suite=ident or "s",
        identity={"model": output},
    )
    page = _assert_safe(render_html(report))
    assert page.tags.count("pre") >= 2  # output and input blocks survived intact


def test_failing_checks_are_listed_first() -> None:
    report = build_report(
        [
            case(
                "c",
                0.3,
                checks=[
                    check("max_words", 1.0, reason="short enough"),
                    check("llm_judge", None, status="unmeasured", reason="judge timed out"),
                    check("contains", 0.0, reason="missing X"),
                ],
            )
        ]
    )
    html = render_html(report)
    card = html[html.index('<article class="failure">') :]
    assert card.index("missing X") < card.index("judge timed out") < card.index("short enough")

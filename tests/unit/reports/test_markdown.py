"""Markdown for PR comments: structure, escaping of untrusted text, and the size limit."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from releasegate.reports.markdown import (
    GITHUB_COMMENT_LIMIT,
    escape_inline,
    render_markdown,
)
from releasegate.results.report import EvalReport, GateResult, RuleResult
from tests.unit.reports.conftest import build_report, case, check


def _cells(row: str) -> list[str]:
    """Split a GFM table row on the pipes that are not backslash-escaped."""
    inner = row.strip()[1:-1]
    return re.split(r"(?<!\\)\|", inner)


def _tables(md: str) -> list[list[str]]:
    """Every table in ``md`` as its list of row lines (header, delimiter, body rows)."""
    tables: list[list[str]] = []
    current: list[str] = []
    for line in md.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


def _assert_tables_intact(md: str) -> None:
    tables = _tables(md)
    assert tables, "no table rendered"
    for rows in tables:
        width = len(_cells(rows[0]))
        assert re.fullmatch(r"\|(:?-+:?\|)+", rows[1].replace(" ", "")), rows[1]
        for row in rows:
            assert row.rstrip().endswith("|"), row
            assert len(_cells(row)) == width, row


def _outside_code(md: str) -> str:
    """``md`` without code blocks and code spans (where anything is literal text)."""
    out: list[str] = []
    fence: str | None = None
    for line in md.splitlines():
        m = re.match(r"^(`{3,})", line)
        if fence is None and m:
            fence = m.group(1)
            continue
        if fence is not None:
            if line.strip() == fence:
                fence = None
            continue
        out.append(line)
    assert fence is None, "unclosed code fence"
    return re.sub(r"`[^`\n]*`", "", "\n".join(out))


def test_marker_and_verdict(mixed: EvalReport, all_passed: EvalReport) -> None:
    md = render_markdown(mixed)
    assert md.splitlines()[0] == "<!-- releasegate-report suite=pr -->"
    assert "❌" in md.splitlines()[1] and "**FAIL**" in md.splitlines()[1]
    ok = render_markdown(all_passed)
    assert "✅" in ok.splitlines()[1] and "**PASS**" in ok.splitlines()[1]


def test_content(mixed: EvalReport) -> None:
    md = render_markdown(mixed)
    _assert_tables_intact(md)
    assert "| 5 | 0.533 ± 0.123 |" in md
    assert "| ❌ | min\\_score | 0.62 | 0.8 |" in md
    assert "| billing | 2 | 0.300 | 0.0% | 1 |" in md
    assert "`support-answer@1.4.0 (4f2a9c0d)`" in md
    assert "<summary>Worst failing cases (3 of 3)</summary>" in md
    assert "The answer invents a 90\\-day refund window\\." in md
    assert "read timeout after 30s" in md
    assert "You can get a refund within 90 days, no questions asked." in md
    assert md.index("refund\\-wrong") < md.index("**timeout**")
    assert "judge $0.00210 (350 tokens)" in md


def test_no_gate_no_tags(empty: EvalReport, stopped: EvalReport) -> None:
    md = render_markdown(empty)
    assert "RUN FAILED" in md
    assert "#### Gate" not in md and "#### Per tag" not in md and "<details>" not in md
    _assert_tables_intact(md)
    assert "budget of $1\\.00 reached" in render_markdown(stopped)


def test_max_failures(mixed: EvalReport) -> None:
    md = render_markdown(mixed, max_failures=1)
    assert "Worst failing cases (1 of 3)" in md
    assert "_2 more failing cases not shown; see the report._" in md
    assert "<details>" not in render_markdown(mixed, max_failures=0)


def test_hostile_text_cannot_break_out(hostile: EvalReport) -> None:
    md = render_markdown(hostile)
    _assert_tables_intact(md)
    prose = _outside_code(md)
    assert "<script" not in prose and "<img" not in prose
    assert "</details>" not in prose.replace("\n</details>\n", "")
    assert "@octocat" not in prose
    assert "\x00" not in md and "\x1b" not in md and "\u202e" not in md
    assert md.splitlines()[0] == "<!-- releasegate-report suite=night_ly__b_ -->"
    # The output is shown verbatim inside a fence longer than its own ``` run.
    assert "\n````text\n</testcase></testsuite>]]>" in md


def test_size_limit(many_failures: EvalReport) -> None:
    md = render_markdown(many_failures, max_failures=2000)
    assert len(md) <= GITHUB_COMMENT_LIMIT
    assert "(comment size limit); see the report._" in md
    assert md.rstrip().endswith("</sub>")
    assert md.count("<details>") == md.count("</details>") == 1
    _outside_code(md)
    assert "_95 more not shown (lowest mean first); see the report._" in md  # 120 tags, 25 shown


def test_hard_cut_when_even_the_skeleton_is_too_long() -> None:
    rules = [
        RuleResult(rule=f"rule-{i}", passed=False, actual=0.1, threshold=0.9, message="x" * 250)
        for i in range(400)
    ]
    report = build_report([case("a", 0.0)], gate=GateResult(passed=False, rules=rules))
    md = render_markdown(report)
    assert len(md) <= GITHUB_COMMENT_LIMIT
    assert "_360 more rules not shown (360 of them failed); see the report._" in md
    small = render_markdown(report, max_chars=5_000)
    assert len(small) <= 5_000
    assert small.endswith(
        "_Report truncated to fit the comment size limit; see the full report._\n"
    )


def test_escape_inline() -> None:
    assert escape_inline("a|b") == "a\\|b"
    assert escape_inline("<b>&") == "&lt;b&gt;&amp;"
    assert escape_inline("line\nbreak") == "line break"
    assert escape_inline("`x` *y* [z](u)") == "\\`x\\` \\*y\\* \\[z\\]\\(u\\)"
    assert escape_inline("hi @team") == "hi @\u2060team"
    assert escape_inline("x" * 50, 10).startswith("x" * 10 + "…")


@settings(max_examples=60, deadline=None)
@given(
    ident=st.text(st.characters(exclude_categories=()), max_size=40),
    tag=st.text(st.characters(exclude_categories=()), max_size=20),
    reason=st.text(st.characters(exclude_categories=()), max_size=60),
    output=st.text(st.characters(exclude_categories=()), max_size=60),
)
def test_any_text_keeps_tables_and_fences(ident: str, tag: str, reason: str, output: str) -> None:
    from releasegate.results.report import SliceStats

    report = build_report(
        [case(ident or "x", 0.1, output=output, checks=[check("regex", 0.0, reason=reason)])],
        gate=GateResult(
            passed=False, rules=[RuleResult(rule=tag or "r", passed=False, message=reason)]
        ),
        by_tag={tag or "t": SliceStats(n=1, mean_score=0.1, pass_rate=0.0)},
        identity={"model": reason, "prompt_name": tag},
    )
    md = render_markdown(report)
    _assert_tables_intact(md)
    prose = _outside_code(md)
    assert "<" not in prose.replace("<!-- releasegate-report", "").replace("<details>", "").replace(
        "</details>", ""
    ).replace("<summary>", "").replace("</summary>", "").replace("<sub>", "").replace("</sub>", "")

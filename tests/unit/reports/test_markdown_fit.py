"""The Markdown report fits GitHub's comment limit without ever cutting a table row."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releasegate.reports.markdown import (
    GITHUB_COMMENT_LIMIT,
    TRUNCATION_NOTE,
    fit_markdown,
    render_markdown,
)
from releasegate.results.report import (
    CaseResult,
    CheckResult,
    EvalReport,
    GateResult,
    Identity,
    RuleResult,
)
from releasegate.results.summary import summarize

_SEPARATOR = re.compile(r"^\|(\s*:?-+:?\s*\|)+\s*$")


def _pipes(line: str) -> int:
    """Cell borders of a table row: ``|`` not escaped by a backslash."""
    n = 0
    i = 0
    while i < len(line):
        if line[i] == "\\":
            i += 2
            continue
        n += line[i] == "|"
        i += 1
    return n


def _assert_tables_whole(text: str) -> None:
    """Every table row has as many cells as its header, and every header has rows."""
    lines = text.split("\n")
    header: int | None = None
    for i, line in enumerate(lines):
        if not line.startswith("|"):
            header = None
            continue
        if header is None:
            header = _pipes(line)
            assert i + 2 < len(lines) + 1
            assert _SEPARATOR.match(lines[i + 1]), (line, lines[i + 1])
            assert lines[i + 2].startswith("|"), f"table without rows: {line}"
            continue
        assert _pipes(line) == header, f"row cut or malformed: {line!r}"


def _report(n_rules: int, rule_chars: int, n_tags: int, tag_chars: int, suite: str) -> EvalReport:
    cases = [
        CaseResult(
            id=f"case-{i}",
            input="q",
            output="x" * 50,
            score=(i % 3) / 2,
            passed=i % 3 == 2,
            tags=[f"tag-{j}-" + "t" * tag_chars for j in range(i % max(n_tags, 1), n_tags)][:50],
            checks=[
                CheckResult(type="contains", status="measured", value=(i % 3) / 2, passed=False)
            ],
        )
        for i in range(max(n_tags, 3))
    ]
    rules = [
        RuleResult(
            rule=f"min_tag_score[t{i}]",
            passed=i % 2 == 0,
            actual=0.5,
            threshold=0.9,
            message=f"rule {i} | " + "m|`*" * (rule_chars // 4),
        )
        for i in range(n_rules)
    ]
    return EvalReport(
        run_id="r",
        started_at="2025-01-01T00:00:00+00:00",
        finished_at="2025-01-01T00:00:01+00:00",
        duration_s=1.0,
        identity=Identity(suite=suite, tool_version="0"),
        summary=summarize(cases),
        gate=GateResult(passed=False, rules=rules),
        cases=cases,
    )


@settings(max_examples=40, deadline=None)
@given(
    n_rules=st.integers(0, 3000),
    rule_chars=st.integers(0, 2000),
    n_tags=st.integers(0, 60),
    tag_chars=st.integers(0, 400),
    suite=st.text(min_size=1, max_size=30),
    max_chars=st.sampled_from([2_000, 8_000, GITHUB_COMMENT_LIMIT]),
)
def test_markdown_fits_and_never_cuts_a_row(
    n_rules: int, rule_chars: int, n_tags: int, tag_chars: int, suite: str, max_chars: int
) -> None:
    report = _report(n_rules, rule_chars, n_tags, tag_chars, suite)
    md = render_markdown(report, max_chars=max_chars)
    assert len(md) <= max_chars
    _assert_tables_whole(md)
    assert md.count("<details>") == md.count("</details>")
    full = render_markdown(report, max_chars=10**9)
    if len(full) > max_chars:
        # dropped failing cases say so, and anything else cut says so too
        assert TRUNCATION_NOTE in md or "(comment size limit)" in md


@pytest.mark.parametrize("n_rules", [41, 500, 5000])
def test_gate_table_is_capped_with_failing_rules_first(n_rules: int) -> None:
    report = _report(n_rules, 40, 0, 0, "pr")
    md = render_markdown(report)
    gate = md.split("#### Gate", 1)[1].split("####", 1)[0]
    rows = [line for line in gate.split("\n") if line.startswith("| ") and "Rule" not in line]
    assert len(rows) == 40
    n_failed = sum(1 for r in report.gate.rules if not r.passed)  # type: ignore[union-attr]
    assert all("❌" in r for r in rows[: min(40, n_failed)])
    assert f"{n_rules - 40} more rules" in gate
    assert len(md) <= GITHUB_COMMENT_LIMIT


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.text(alphabet="ab|\\ -`", max_size=300), max_size=80),
    prose=st.lists(st.text(alphabet="ab <>", max_size=500), max_size=10),
    limit=st.integers(0, 6000),
)
def test_fit_markdown_cuts_between_rows(rows: list[str], prose: list[str], limit: int) -> None:
    table = ["| a | b |", "|---|---|"] + [f"| {r.replace('|', '¦')} | x |" for r in rows]
    lines = ["# title", *prose, "", *table, "", "<details>", "```text", *prose, "```"]
    lines += ["</details>"]
    out = fit_markdown(lines, limit)
    assert len(out) <= max(limit, 0)
    if out == "\n".join(lines):
        return
    assert TRUNCATION_NOTE in out or out == TRUNCATION_NOTE[: max(0, limit)]
    if TRUNCATION_NOTE in out:
        _assert_tables_whole(out)
        assert out.count("<details>") == out.count("</details>")
        assert out.count("```") % 2 == 0

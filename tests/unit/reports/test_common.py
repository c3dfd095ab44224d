"""Shared report helpers: escaping, truncation, verdicts, outcomes and ordering."""

from __future__ import annotations

import pytest

from releasegate.reports._common import (
    case_label,
    case_outcome,
    failure_summary,
    fmt_cost,
    fmt_ms,
    fmt_num,
    fmt_pct,
    fmt_score,
    identity_parts,
    printable,
    short_hash,
    truncate,
    verdict,
    worst_failures,
)
from releasegate.results.report import EvalReport, GateResult
from tests.unit.reports.conftest import build_report, case, check


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain text\twith tab\nand newline", "plain text\twith tab\nand newline"),
        ("nul\x00", "nul\\x00"),
        ("\x1b[2Jclear", "\\x1b[2Jclear"),
        ("over\rwrite", "over\\x0dwrite"),
        ("del\x7f c1\x85", "del\\x7f c1\\x85"),
        ("lone \ud800 surrogate", "lone \\ud800 surrogate"),
        ("bidi \u202eevil\u202c", "bidi \\u202eevil\\u202c"),
        ("ünï 日本 🚀", "ünï 日本 🚀"),
    ],
)
def test_printable_escapes_only_unprintable_characters(raw: str, shown: str) -> None:
    assert printable(raw) == shown


def test_truncate_says_how_much_was_cut() -> None:
    assert truncate("abc", 3) == "abc"
    cut = truncate("x" * 1500, 1000)
    assert cut.startswith("x" * 1000)
    assert cut.endswith("… [500 more characters]")


def test_verdict_follows_status_then_gate(mixed: EvalReport, all_passed: EvalReport) -> None:
    assert verdict(all_passed).label == "PASS"
    assert verdict(mixed).label == "FAIL"
    assert "2 of 3" in verdict(mixed).detail
    no_gate = build_report([case("a", 1.0)])
    assert verdict(no_gate).label == "PASS"
    assert "no gate" in verdict(no_gate).detail
    for status, label in [
        ("stopped", "STOPPED"),
        ("interrupted", "INTERRUPTED"),
        ("failed", "RUN FAILED"),
    ]:
        rep = build_report([case("a", 1.0)], status=status, gate=GateResult(passed=True))
        assert verdict(rep).label == label


def test_case_outcomes() -> None:
    assert case_outcome(case("a", 0.9)) == "passed"
    assert case_outcome(case("a", 0.1)) == "failed"
    assert case_outcome(case("a", None, error="boom")) == "error"
    only_unmeasured = case(
        "a",
        None,
        checks=[
            check("llm_judge", None, status="unmeasured"),
            check("faithfulness", None, status="not_applicable"),
        ],
        passed=False,
    )
    assert case_outcome(only_unmeasured) == "unmeasured"
    only_na = case(
        "a", None, checks=[check("faithfulness", None, status="not_applicable")], passed=False
    )
    assert case_outcome(only_na) == "not_applicable"
    assert case_outcome(case("a", None, checks=[], passed=False)) == "not_applicable"
    partly = case(
        "a", 0.0, checks=[check("contains", 0.0), check("llm_judge", None, status="unmeasured")]
    )
    assert case_outcome(partly) == "failed"


def test_failure_summary_names_checks_and_reasons() -> None:
    c = case(
        "a",
        0.2,
        checks=[check("llm_judge", 0.4, reason="vague"), check("contains", 0.0, reason="no X")],
    )
    # Lowest value first: the check that failed hardest leads.
    assert failure_summary(c) == "contains 0.000: no X; llm_judge 0.400: vague"
    assert failure_summary(case("b", None, error="timeout")) == "error: timeout"
    assert "below the case threshold" in failure_summary(case("c", 0.4, checks=[]))


def test_worst_failures_order(mixed: EvalReport) -> None:
    ids = [c.id for c in worst_failures(mixed)]
    # Scored failures by ascending score, then errors; skipped and passed cases excluded.
    assert ids == ["refund-wrong", "low-no-checks-fail", "timeout"]


def test_case_label_only_names_repeats_when_there_are_some() -> None:
    c = case("x", 1.0, repeat=2)
    assert case_label(c, True) == "x [repeat 2]"
    assert case_label(c, False) == "x"


def test_identity_parts(mixed: EvalReport) -> None:
    parts = dict(identity_parts(mixed.identity))
    assert parts["prompt"] == "support-answer@1.4.0 (4f2a9c0d)"
    assert parts["model"] == "gpt-4o-mini-2024-07-18"
    assert parts["dataset"] == "9e8d7c6b"
    assert parts["releasegate"] == "0.1.0"
    assert short_hash(None) is None


def test_number_formats() -> None:
    assert fmt_score(None) == "—"
    assert fmt_score(0.12345) == "0.123"
    assert fmt_pct(0.875) == "87.5%"
    assert fmt_ms(1234.4) == "1234 ms"
    assert fmt_ms(12_345) == "12.3 s"
    assert fmt_cost(0) == "$0"
    assert fmt_cost(0.000123) == "$0.00012"
    assert fmt_cost(1.5) == "$1.5000"
    assert fmt_cost(1234.5) == "$1,234.50"
    assert fmt_num(3.0) == "3"
    assert fmt_num(0.8) == "0.8"
    assert fmt_num(None) == "—"

"""A standalone HTML report: one file, inline CSS, no external assets, readable offline.

The page is rendered by a Jinja2 template with autoescaping on, so model outputs are text,
never markup. As a second line of defence the page carries a Content-Security-Policy that
allows only its own inline style and the one small filter script (pinned by its SHA-256),
so even a missed escape could not run an injected ``<script>``. The script is optional:
without it every case is still listed; with it the case table can be filtered.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import jinja2

from releasegate.reports._common import (
    OUTCOME_LABELS,
    Outcome,
    case_label,
    case_outcome,
    check_name,
    conversation_lines,
    failure_summary,
    fmt_cost,
    fmt_int,
    fmt_ms,
    fmt_num,
    fmt_pct,
    fmt_score,
    has_repeats,
    identity_parts,
    input_text,
    outcome_counts,
    printable,
    rule_actual,
    tool_call_lines,
    truncate,
    verdict,
    worst_failures,
)
from releasegate.results.report import CaseResult, CheckResult, EvalReport, SliceStats

__all__ = ["render_html"]

_OUTPUT_CHARS = 20_000
_SUMMARY_CHARS = 200

# Filters the case table by free text and by outcome; pinned in the CSP by its hash.
_FILTER_SCRIPT = """
(function () {
  var q = document.getElementById("case-filter");
  var s = document.getElementById("case-outcome");
  var rows = document.querySelectorAll("#cases tbody tr.case");
  var shown = document.getElementById("case-count");
  function apply() {
    var text = q.value.toLowerCase(), want = s.value, n = 0;
    rows.forEach(function (r) {
      var ok = (!want || r.dataset.outcome === want) &&
               (!text || r.dataset.search.indexOf(text) !== -1);
      r.hidden = !ok;
      if (ok) { n += 1; }
    });
    shown.textContent = n + " shown";
  }
  q.addEventListener("input", apply);
  s.addEventListener("change", apply);
  document.getElementById("filters").hidden = false;
})();
"""


@dataclass(frozen=True, slots=True)
class _CaseView:
    label: str
    outcome: Outcome
    outcome_label: str
    score: str
    latency: str
    tokens: str
    cost: str
    tags: list[str]
    summary: str
    input: str
    output: str | None
    error: str | None
    checks: list[dict[str, Any]]
    tool_calls: str | None
    conversation: str | None
    search: str


def _check_order(check: CheckResult) -> int:
    # What went wrong first: failed, then unmeasured, then not applicable, then passed.
    if check.status == "measured":
        return 0 if check.passed is False else 3
    return 1 if check.status == "unmeasured" else 2


def _case_view(case: CaseResult, repeats: bool) -> _CaseView:
    outcome = case_outcome(case)
    label = printable(case_label(case, repeats))
    summary = "" if outcome == "passed" else printable(failure_summary(case))
    checks = [
        {
            "type": printable(check_name(c)),
            "status": c.status,
            "value": fmt_score(c.value),
            "passed": "" if c.passed is None else ("pass" if c.passed else "fail"),
            "threshold": fmt_num(c.threshold),
            "reason": printable(c.reason),
            "informational": c.weight <= 0,
        }
        for c in sorted(case.checks, key=_check_order)
    ]
    tags = [printable(t) for t in case.tags]
    return _CaseView(
        label=label,
        outcome=outcome,
        outcome_label=OUTCOME_LABELS[outcome],
        score=fmt_score(case.score),
        latency=fmt_ms(case.latency_ms),
        tokens=fmt_int(case.prompt_tokens + case.completion_tokens),
        cost=fmt_cost(case.cost_usd),
        tags=tags,
        summary=truncate(summary, _SUMMARY_CHARS),
        input=printable(truncate(input_text(case), _OUTPUT_CHARS)),
        output=None if case.output is None else printable(truncate(case.output, _OUTPUT_CHARS)),
        error=None if case.error is None else printable(case.error),
        checks=checks,
        tool_calls=_tool_calls(case),
        conversation=_conversation(case),
        search=" ".join([label, OUTCOME_LABELS[outcome], *tags, summary]).lower(),
    )


def _conversation(case: CaseResult) -> str | None:
    lines = conversation_lines(case.messages)
    return printable(truncate("\n".join(lines), _OUTPUT_CHARS)) if lines else None


def _tool_calls(case: CaseResult) -> str | None:
    lines = tool_call_lines(case.tool_calls)
    return printable(truncate("\n".join(lines), _OUTPUT_CHARS)) if lines else None


def _slice_rows(slices: dict[str, SliceStats]) -> list[dict[str, str]]:
    ordered = sorted(
        slices.items(), key=lambda kv: (kv[1].mean_score is not None, kv[1].mean_score or 0, kv[0])
    )
    return [
        {
            "name": printable(name),
            "n": fmt_int(st.n),
            "mean": fmt_score(st.mean_score),
            "pass_rate": fmt_pct(st.pass_rate),
            "unmeasured": fmt_int(st.n_unmeasured),
            "bar": f"{(st.mean_score or 0.0) * 100:.0f}",
        }
        for name, st in ordered
    ]


def _headline(report: EvalReport) -> list[tuple[str, str, str]]:
    s = report.summary
    counts = outcome_counts(report)
    std = f"± {s.std:.3f}" if s.std is not None else ""
    return [
        ("Mean score", fmt_score(s.mean_score), std),
        ("Pass rate", fmt_pct(s.pass_rate), f"{s.n_passed} passed · {s.n_failed} failed"),
        ("Cases", fmt_int(s.n_cases), f"{fmt_int(s.n_results)} results"),
        ("p10 · p50 · p90", f"{fmt_score(s.p10)} · {fmt_score(s.p50)} · {fmt_score(s.p90)}", ""),
        ("Unmeasured", fmt_int(s.n_unmeasured), f"{fmt_int(s.n_not_applicable)} not applicable"),
        ("Errors", fmt_int(s.n_errors), ""),
        (
            "Not gated",
            fmt_int(counts["unmeasured"] + counts["not_applicable"] + counts["informational"]),
            f"{counts['unmeasured']} unmeasured · {counts['not_applicable']} not applicable · "
            f"{counts['informational']} informational",
        ),
        ("Latency", fmt_ms(s.latency_mean_ms), f"p95 {fmt_ms(s.latency_p95_ms)}"),
        (
            "Tokens",
            fmt_int(s.tokens.total),
            f"{fmt_int(s.tokens.prompt)} in · {fmt_int(s.tokens.completion)} out",
        ),
        ("Cost", fmt_cost(s.cost_usd), f"{s.n_cached} cached results"),
        ("Judge", fmt_cost(s.judge_cost_usd), f"{fmt_int(s.judge_tokens)} tokens"),
    ]


@cache
def _environment() -> jinja2.Environment:
    # autoescape=True for every template: the file suffix (.html.j2) would not match
    # select_autoescape's defaults, and there is no template here that should not escape.
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(_load_template),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _load_template(name: str) -> str:
    # importlib.resources works from a wheel, a zip or an editable install alike.
    return files("releasegate.reports").joinpath("templates", name).read_text(encoding="utf-8")


def _context(report: EvalReport, max_failures: int) -> dict[str, Any]:
    repeats = has_repeats(report)
    worst = worst_failures(report)
    script_hash = base64.b64encode(hashlib.sha256(_FILTER_SCRIPT.encode()).digest()).decode()
    gate_rules = []
    if report.gate is not None:
        gate_rules = [
            {
                "passed": r.passed,
                "rule": printable(r.rule),
                "actual": rule_actual(r),
                "threshold": fmt_num(r.threshold),
                "message": printable(r.message),
            }
            for r in report.gate.rules
        ]
    return {
        "report": report,
        "verdict": verdict(report),
        "suite": printable(report.identity.suite),
        "identity": [(k, printable(v)) for k, v in identity_parts(report.identity)],
        "datasets": [printable(d) for d in report.identity.datasets],
        "stop_reason": printable(report.stop_reason or ""),
        "warnings": [printable(w) for w in (report.gate.warnings if report.gate else [])],
        "headline": _headline(report),
        "gate_rules": gate_rules,
        "by_tag": _slice_rows(report.summary.by_tag),
        "by_check": _slice_rows(report.summary.by_check),
        "failures": [_case_view(c, repeats) for c in worst[:max_failures]],
        "n_failures": len(worst),
        "cases": [_case_view(c, repeats) for c in report.cases],
        "counts": outcome_counts(report),
        "script": _FILTER_SCRIPT,
        "csp": (
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
            f"script-src 'sha256-{script_hash}'; base-uri 'none'; form-action 'none'"
        ),
    }


def render_html(report: EvalReport, *, max_failures: int = 10) -> str:
    """The report as one standalone HTML page.

    Args:
        report: the evaluation report.
        max_failures: how many of the worst failing cases get a detailed card at the top;
            every case is listed in the full table regardless.
    """
    template = _environment().get_template("report.html.j2")
    return template.render(_context(report, max_failures))

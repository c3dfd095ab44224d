"""JUnit XML, the format every CI system shows as a test list.

Layout (understood by GitHub test-reporter actions, GitLab, Jenkins and Azure DevOps)::

    <testsuites name="releasegate" ...>
      <testsuite name="SUITE" tests=.. failures=.. errors=.. skipped=.. time=..>
        <properties> identity of the run </properties>
        <testcase name="CASE_ID [repeat N]" classname="SUITE" time="latency s">
          <failure message="failing checks"> details </failure>   (failed)
          <error message="..."> error </error>                     (target call errored)
          <skipped message="..."/>        (unmeasured, not applicable, or informational)
          <system-out> model output </system-out>
        </testcase>
      </testsuite>
      <testsuite name="SUITE gate"> one testcase per gate rule </testsuite>
    </testsuites>

The gate rules get their own suite so that a CI view turns red when the gate fails even
if every single case passed (a cost or latency rule, for example). A result's element
follows its verdict (:mod:`releasegate.results.verdicts`): an informational result (weight
0) is a ``<skipped>`` whose message says so, never a ``<failure>``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from releasegate.reports._common import (
    case_label,
    case_outcome,
    check_name,
    failing_checks,
    failure_summary,
    fmt_num,
    fmt_score,
    has_repeats,
    input_text,
    printable,
    rule_actual,
    tool_call_lines,
    truncate,
)
from releasegate.results.report import CaseResult, EvalReport, GateResult, Identity

__all__ = ["render_junit"]

# Outputs can be megabytes; CI viewers choke on huge system-out blocks and the full text
# is in the JSON report anyway.
_OUTPUT_CHARS = 20_000
_MESSAGE_CHARS = 1_000


def _x(text: str) -> str:
    """Text safe for XML 1.0: forbidden characters become visible escapes.

    ElementTree escapes ``<``, ``>``, ``&`` and quotes, but happily writes NUL, ESC or a
    lone surrogate, which makes the whole file unparseable.
    """
    return printable(text)


def _properties(parent: ET.Element, identity: Identity, report: EvalReport) -> None:
    props = ET.SubElement(parent, "properties")
    values: list[tuple[str, str | None]] = [
        ("releasegate.run_id", report.run_id),
        ("releasegate.status", report.status),
        ("releasegate.tool_version", identity.tool_version),
        ("releasegate.prompt_name", identity.prompt_name),
        ("releasegate.prompt_version", identity.prompt_version),
        ("releasegate.prompt_hash", identity.prompt_hash),
        ("releasegate.model", identity.model),
        ("releasegate.provider", identity.provider),
        ("releasegate.target", identity.target),
        ("releasegate.base_url", identity.base_url),
        ("releasegate.dataset_hash", identity.dataset_hash),
        ("releasegate.datasets", ", ".join(identity.datasets) or None),
        ("releasegate.judge_model", identity.judge_model),
        ("releasegate.repeat", str(identity.repeat)),
        ("releasegate.mean_score", fmt_score(report.summary.mean_score)),
        ("releasegate.cost_usd", f"{report.summary.cost_usd:.6f}"),
    ]
    values.extend((f"releasegate.param.{k}", str(v)) for k, v in sorted(identity.params.items()))
    for name, value in values:
        if value is not None:
            ET.SubElement(props, "property", name=name, value=_x(value))


def _details(case: CaseResult) -> str:
    lines = [f"score: {fmt_score(case.score)}"]
    for check in case.checks:
        line = f"- {check_name(check)}: {check.status}"
        if check.weight <= 0:
            line += " (informational, weight 0)"
        if check.value is not None:
            line += f" {fmt_score(check.value)}"
        if check.passed is not None:
            line += " pass" if check.passed else " FAIL"
        if check.reason:
            line += f" — {check.reason}"
        lines.append(line)
    lines.append(f"input: {truncate(input_text(case), 2_000)}")
    return _x("\n".join(lines))


def _testcase(parent: ET.Element, case: CaseResult, suite: str, repeats: bool) -> str:
    seconds = (case.latency_ms or 0.0) / 1000
    tc = ET.SubElement(
        parent,
        "testcase",
        name=_x(case_label(case, repeats)),
        classname=_x(suite),
        time=f"{seconds:.3f}",
    )
    outcome = case_outcome(case)
    if outcome == "error":
        el = ET.SubElement(
            tc, "error", message=_x(truncate(case.error or "", _MESSAGE_CHARS)), type="error"
        )
        el.text = _x(case.error or "")
    elif outcome == "failed":
        checks = failing_checks(case)
        kind = ",".join(c.type for c in checks) or "case_threshold"
        el = ET.SubElement(
            tc,
            "failure",
            message=_x(truncate(failure_summary(case), _MESSAGE_CHARS)),
            type=_x(kind),
        )
        el.text = _details(case)
    elif outcome != "passed":  # unmeasured, not applicable, informational: no verdict
        el = ET.SubElement(
            tc, "skipped", message=_x(truncate(failure_summary(case), _MESSAGE_CHARS))
        )
        el.text = _details(case)
    calls = tool_call_lines(case.tool_calls)
    if case.output is not None or calls:
        shown = "\n".join([case.output or "", *(f"tool call: {c}" for c in calls)]).strip("\n")
        ET.SubElement(tc, "system-out").text = _x(truncate(shown, _OUTPUT_CHARS))
    return outcome


def _suite_attrs(el: ET.Element, tests: int, failures: int, errors: int, skipped: int) -> None:
    el.set("tests", str(tests))
    el.set("failures", str(failures))
    el.set("errors", str(errors))
    el.set("skipped", str(skipped))


def _gate_suite(root: ET.Element, report: EvalReport, gate: GateResult) -> tuple[int, int]:
    name = _x(f"{report.identity.suite} gate")
    ts = ET.SubElement(root, "testsuite", name=name, timestamp=_x(report.finished_at), time="0")
    failures = 0
    for rule in gate.rules:
        tc = ET.SubElement(ts, "testcase", name=_x(rule.rule), classname=name, time="0")
        if not rule.passed:
            failures += 1
            msg = rule.message or (
                f"{rule.rule}: {rule_actual(rule)}, threshold {fmt_num(rule.threshold)}"
            )
            el = ET.SubElement(tc, "failure", message=_x(msg), type="gate")
            el.text = _x(f"measured: {rule_actual(rule)}\nthreshold: {fmt_num(rule.threshold)}")
    _suite_attrs(ts, len(gate.rules), failures, 0, 0)
    return len(gate.rules), failures


def render_junit(report: EvalReport, *, include_gate: bool = True) -> str:
    """The report as JUnit XML text (UTF-8, with an XML declaration).

    Args:
        report: the evaluation report.
        include_gate: also emit a ``"<suite> gate"`` test suite with one test case per
            gate rule, so a failed gate shows as a failed test.
    """
    suite = report.identity.suite
    root = ET.Element("testsuites", name="releasegate")
    ts = ET.SubElement(
        root,
        "testsuite",
        name=_x(suite),
        timestamp=_x(report.started_at),
        time=f"{report.duration_s:.3f}",
    )
    _properties(ts, report.identity, report)
    repeats = has_repeats(report)
    counts = {"passed": 0, "failed": 0, "error": 0, "skipped": 0}
    for case in report.cases:
        outcome = _testcase(ts, case, suite, repeats)
        counts[outcome if outcome in ("passed", "failed", "error") else "skipped"] += 1
    if report.stop_reason:
        ET.SubElement(ts, "system-err").text = _x(f"{report.status}: {report.stop_reason}")
    _suite_attrs(ts, len(report.cases), counts["failed"], counts["error"], counts["skipped"])
    tests, failures = len(report.cases), counts["failed"]
    if include_gate and report.gate is not None and report.gate.rules:
        gate_tests, gate_failures = _gate_suite(root, report, report.gate)
        tests += gate_tests
        failures += gate_failures
    _suite_attrs(root, tests, failures, counts["error"], counts["skipped"])
    root.set("time", f"{report.duration_s:.3f}")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"

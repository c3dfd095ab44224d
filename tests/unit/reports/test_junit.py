"""JUnit XML: parsed back with ElementTree and with junitparser, as a CI system would."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from junitparser import Error, Failure, JUnitXml, Skipped

from releasegate.reports.junit import render_junit
from releasegate.results.report import EvalReport
from tests.unit.reports.conftest import build_report, case, check

# Characters XML 1.0 does not allow anywhere in a document.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _parse(xml: str, tmp_path: Path) -> tuple[ET.Element, JUnitXml]:
    assert not _FORBIDDEN.search(xml)
    root = ET.fromstring(xml.encode("utf-8"))
    path = tmp_path / "junit.xml"
    path.write_text(xml, encoding="utf-8")
    parsed = JUnitXml.fromfile(str(path))
    assert isinstance(parsed, JUnitXml)
    return root, parsed


def _cases_by_name(parsed: JUnitXml, suite: str) -> dict[str, object]:
    for ts in parsed:
        if ts.name == suite:
            return {tc.name: tc for tc in ts}
    raise AssertionError(f"no testsuite {suite!r}")


def test_every_fixture_parses(all_reports: dict[str, EvalReport], tmp_path: Path) -> None:
    for name, report in all_reports.items():
        root, parsed = _parse(render_junit(report), tmp_path)
        suites = root.findall("testsuite")
        assert suites[0].get("name") == report.identity.suite, name
        assert len(suites[0].findall("testcase")) == len(report.cases), name
        assert sum(1 for _ in parsed) == len(suites), name


def test_outcomes_map_to_junit_elements(mixed: EvalReport, tmp_path: Path) -> None:
    root, parsed = _parse(render_junit(mixed), tmp_path)
    suite = root.find("testsuite")
    assert suite is not None
    assert (
        suite.get("tests"),
        suite.get("failures"),
        suite.get("errors"),
        suite.get("skipped"),
    ) == (
        "5",
        "2",
        "1",
        "1",
    )
    cases = _cases_by_name(parsed, "pr")
    assert cases["ok-1"].is_passed  # type: ignore[attr-defined]

    wrong = cases["refund-wrong"].result  # type: ignore[attr-defined]
    assert len(wrong) == 1 and isinstance(wrong[0], Failure)
    assert "contains 0.000: missing 'within 30 days'" in wrong[0].message
    assert "invents a 90-day refund window" in wrong[0].message
    assert "max_words: measured 1.000 pass" in wrong[0].text

    timeout = cases["timeout"].result  # type: ignore[attr-defined]
    assert isinstance(timeout[0], Error)
    assert "read timeout" in timeout[0].message

    skipped = cases["judge-down"].result  # type: ignore[attr-defined]
    assert isinstance(skipped[0], Skipped)
    assert "judge timed out" in skipped[0].message

    below = cases["low-no-checks-fail"].result  # type: ignore[attr-defined]
    assert isinstance(below[0], Failure)
    assert "below the case threshold" in below[0].message


def test_testcase_attributes_and_properties(mixed: EvalReport, tmp_path: Path) -> None:
    root, _ = _parse(render_junit(mixed), tmp_path)
    tc = root.find("testsuite/testcase[@name='refund-wrong']")
    assert tc is not None
    assert tc.get("classname") == "pr"
    assert tc.get("time") == "0.120"
    assert tc.findtext("system-out") == "You can get a refund within 90 days, no questions asked."
    props = {p.get("name"): p.get("value") for p in root.iterfind("testsuite/properties/property")}
    assert props["releasegate.prompt_name"] == "support-answer"
    assert props["releasegate.prompt_version"] == "1.4.0"
    assert props["releasegate.model"] == "gpt-4o-mini-2024-07-18"
    assert props["releasegate.dataset_hash"] == mixed.identity.dataset_hash
    assert props["releasegate.tool_version"] == "0.1.0"
    assert props["releasegate.param.temperature"] == "0.0"


def test_gate_rules_are_their_own_suite(mixed: EvalReport, tmp_path: Path) -> None:
    _, parsed = _parse(render_junit(mixed), tmp_path)
    gate = _cases_by_name(parsed, "pr gate")
    assert set(gate) == {"min_score", "max_error_rate", "min_tag_scores[billing]"}
    assert gate["max_error_rate"].is_passed  # type: ignore[attr-defined]
    failure = gate["min_score"].result[0]  # type: ignore[attr-defined]
    assert failure.message == "mean score 0.620 < 0.8"

    root = ET.fromstring(render_junit(mixed, include_gate=False))
    assert [s.get("name") for s in root.findall("testsuite")] == ["pr"]


def test_all_passing_report_has_no_failures(all_passed: EvalReport, tmp_path: Path) -> None:
    root, _ = _parse(render_junit(all_passed), tmp_path)
    assert root.get("failures") == "0"
    assert root.get("errors") == "0"
    assert root.find(".//failure") is None


def test_repeats_are_named(repeated: EvalReport, tmp_path: Path) -> None:
    root, _ = _parse(render_junit(repeated), tmp_path)
    names = [tc.get("name") for tc in root.iterfind("testsuite/testcase")][:6]
    assert names[:3] == ["flaky [repeat 0]", "flaky [repeat 1]", "flaky [repeat 2]"]
    failed = root.findall("testsuite/testcase/failure/..")
    assert [tc.get("name") for tc in failed] == ["flaky [repeat 1]"]


def test_hostile_text_survives_as_text(hostile: EvalReport, tmp_path: Path) -> None:
    xml = render_junit(hostile)
    root, parsed = _parse(xml, tmp_path)
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("name") == "night|ly <b>"
    names = [tc.get("name") for tc in suite.iterfind("testcase")]
    assert "evil0</testcase>|`x`<b>" in names
    assert "err\\x00or" in names  # NUL made visible, not dropped silently
    out = suite.findtext("testcase[@name='unicode']/system-out")
    assert out is not None and "日本語の答え" in out and "🚀" in out
    evil = suite.find("testcase[@name='evil0</testcase>|`x`<b>']/system-out")
    assert evil is not None and evil.text is not None
    assert "</testcase></testsuite>]]>" in evil.text
    assert "\\x1b[2J" in evil.text
    huge = suite.findtext("testcase[@name='huge-output']/system-out")
    assert huge is not None and len(huge) < 21_000 and "more characters]" in huge
    assert len(_cases_by_name(parsed, "night|ly <b>")) == len(hostile.cases)


# Every code point, lone surrogates and C0 controls included: outputs are arbitrary.
_TEXT = st.text(st.characters(exclude_categories=()), max_size=60)


@settings(max_examples=60, deadline=None)
@given(ident=_TEXT, output=_TEXT, reason=_TEXT, error=_TEXT)
def test_any_text_yields_well_formed_xml(ident: str, output: str, reason: str, error: str) -> None:
    report = build_report(
        [
            case(ident or "x", 0.1, output=output, checks=[check("regex", 0.0, reason=reason)]),
            case("e", None, error=error),
        ],
        suite=ident or "s",
    )
    xml = render_junit(report)
    assert not _FORBIDDEN.search(xml)
    root = ET.fromstring(xml.encode("utf-8"))
    assert len(root.findall("testsuite/testcase")) == 2
    assert root.find("testsuite/testcase/failure") is not None

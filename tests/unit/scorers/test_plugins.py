"""Scorer plugins come from the ``releasegate.scorers`` entry-point group; the scan runs
only when a check type is not built in, and built-in names cannot be taken over."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from releasegate.errors import ConfigError
from releasegate.scorers import base
from releasegate.scorers.base import Sample, Score, ScorerContext, available_scorers, build_scorer
from releasegate.scorers.spec import AssertSpec


class Shouty:
    name = "shouty"
    requires: frozenset[str] = frozenset()
    default_threshold = 1.0

    async def score(self, sample: Sample) -> Score:
        return Score.passed(sample.output.isupper())


class FakeEntryPoint:
    def __init__(self, name: str) -> None:
        self.name = name

    def load(self) -> Any:
        return lambda spec, ctx: Shouty()


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    scans: list[str] = []

    def fake_entry_points(*, group: str) -> list[FakeEntryPoint]:
        scans.append(group)
        return [FakeEntryPoint("shouty"), FakeEntryPoint("contains")]

    monkeypatch.setattr(base, "entry_points", fake_entry_points)
    monkeypatch.setattr(base, "_ENTRY_POINTS_LOADED", False)
    yield scans
    base._REGISTRY.pop("shouty", None)


def test_built_in_checks_do_not_scan_for_plugins(plugins: list[str]) -> None:
    build_scorer(AssertSpec(type="contains", value="x"), ScorerContext())
    assert plugins == []


def test_unknown_name_finds_the_plugin_once(plugins: list[str]) -> None:
    assert isinstance(build_scorer(AssertSpec(type="shouty"), ScorerContext()), Shouty)
    build_scorer(AssertSpec(type="shouty"), ScorerContext())
    assert plugins == ["releasegate.scorers"]
    # a plugin named like a built-in does not replace it
    assert not isinstance(build_scorer(AssertSpec(type="contains", value="x")), Shouty)
    assert "shouty" in available_scorers()


def test_unknown_everywhere_is_a_config_error(plugins: list[str]) -> None:
    with pytest.raises(ConfigError, match="unknown check type 'nope'"):
        build_scorer(AssertSpec(type="nope"), ScorerContext())


def test_a_plugin_factory_that_crashes_is_reported_not_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from releasegate.datasets.case import Case
    from releasegate.evals._scoring import CaseScorer

    def broken(spec: AssertSpec, ctx: ScorerContext) -> Any:
        raise RuntimeError("model file missing")

    monkeypatch.setitem(base._REGISTRY, "broken-plugin", broken)
    case = Case.model_validate({"id": "c1", "input": "x", "assert": [{"type": "broken-plugin"}]})
    [issue] = CaseScorer().prepare([case], file="data.yaml")
    assert (issue.file, issue.case_id, issue.field) == ("data.yaml", "c1", "assert[0]")
    assert "RuntimeError: model file missing" in issue.message


def test_checks_with_values_json_cannot_carry_are_still_built_or_reported() -> None:
    from releasegate.datasets.case import Case
    from releasegate.evals._scoring import CaseScorer

    case = Case.model_validate(
        {"id": "c1", "input": "x", "assert": [{"type": "equals", "value": b"\xff\xfe"}]}
    )
    issues = CaseScorer().prepare([case, case], file="data.yaml")
    assert len(issues) == 2
    assert all(i.case_id == "c1" and i.field == "assert[0]" for i in issues)
    assert "bytes" in issues[0].message

"""A pytest plugin: ``pytest --releasegate-suite pr`` runs a suite as test items.

Registered through the ``pytest11`` entry point. Each case becomes one test item named
``releasegate[SUITE]::CASE_ID`` whose failure message is the case's failed checks and
reasons, plus one ``gate`` item that fails when the suite's gate fails. The whole suite
runs once (concurrently, through the engine and its cache) when the first item runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from releasegate.results.report import EvalReport

__all__ = ["CaseItem", "GateItem", "SuiteCollector"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("releasegate")
    group.addoption(
        "--releasegate-suite",
        action="append",
        default=[],
        metavar="SUITE",
        help="Run this releasegate suite as tests (repeatable)",
    )
    group.addoption(
        "--releasegate-config",
        default=None,
        metavar="PATH",
        help="releasegate.yaml to use [./releasegate.yaml]",
    )
    group.addoption("--releasegate-repeat", type=int, default=None, help="Run each case K times")


class CaseFailed(Exception):
    """A case failed; the message lists its failed checks."""


class SuiteCollector(pytest.Collector):
    """The cases of one suite; runs the suite once and hands results to its items."""

    def __init__(self, *, suite: str, config_path: str | None, **kw: Any) -> None:
        super().__init__(**kw)
        self.suite = suite
        self.config_path = config_path
        self._report: EvalReport | None = None

    def collect(self) -> list[pytest.Item]:
        from releasegate.project import load_project

        project = load_project(self.config_path)
        ids: list[str] = []
        for dataset in project.datasets(self.suite):
            ids.extend(case.id for case in dataset.cases)
        items: list[pytest.Item] = [CaseItem.from_parent(self, name=cid) for cid in ids]
        items.append(GateItem.from_parent(self, name="gate"))
        return items

    def report(self) -> EvalReport:
        if self._report is None:
            from releasegate.bootstrap import run_eval
            from releasegate.evals.runner import EvalOptions

            repeat = self.config.getoption("--releasegate-repeat")
            self._report = run_eval(self.config_path, self.suite, EvalOptions(repeat=repeat))
        return self._report


class CaseItem(pytest.Item):
    """One dataset case; passes when every repeat of the case passed."""

    def runtest(self) -> None:
        parent = self.parent
        assert isinstance(parent, SuiteCollector)
        from releasegate.results.verdicts import case_verdict

        rows = [c for c in parent.report().cases if c.id == self.name]
        if not rows:
            raise CaseFailed(f"case {self.name!r} was not run (the run stopped early?)")
        lines: list[str] = []
        for row in rows:
            if case_verdict(row) not in ("failed", "error"):
                continue  # passed, or no verdict (unmeasured, not applicable, weight 0)
            head = (
                f"repeat {row.repeat}: score {row.score}"
                if len(rows) > 1
                else (f"score {row.score}")
            )
            lines.append(head)
            if row.error:
                lines.append(f"  error: {row.error}")
            for ch in row.checks:
                if ch.passed is False or ch.status == "unmeasured":
                    lines.append(f"  {ch.type}: {ch.status} {ch.value} {ch.reason}".rstrip())
            if row.output is not None:
                lines.append(f"  output: {row.output[:500]}")
        if lines:
            raise CaseFailed("\n".join(lines))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CaseFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path | str, int | None, str]:
        parent = self.parent
        assert isinstance(parent, SuiteCollector)
        return self.path, None, f"releasegate[{parent.suite}]::{self.name}"


class GateItem(CaseItem):
    """The suite's gate verdict."""

    def runtest(self) -> None:
        parent = self.parent
        assert isinstance(parent, SuiteCollector)
        report = parent.report()
        if report.status != "complete":
            raise CaseFailed(f"run {report.status}: {report.stop_reason or ''}".strip())
        if report.gate is not None and not report.gate.passed:
            failed = [f"{r.rule}: {r.message}" for r in report.gate.rules if not r.passed]
            raise CaseFailed("gate failed\n" + "\n".join(failed))


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    suites: list[str] = config.getoption("--releasegate-suite")
    if not suites:
        return
    config_path = config.getoption("--releasegate-config")
    for suite in suites:
        collector = SuiteCollector.from_parent(
            session, name=f"releasegate[{suite}]", suite=suite, config_path=config_path
        )
        items.extend(collector.collect())

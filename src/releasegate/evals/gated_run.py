"""A suite run with its baseline: the service behind ``releasegate eval``.

Runs the head (and, for ``--baseline-ref``, the base through the same cache), compares
them case by case under the suite's regression rules (or, when the suite has none that
can fail, the default: a statistically evident drop fails), and merges them into the
head report's gate (:func:`releasegate.evals.gate.merge_gate`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from releasegate.errors import ConfigError, RunFailed
from releasegate.evals.changes import arun_baseline_ref, check_separation
from releasegate.evals.gate import choose_rules, merge_gate
from releasegate.evals.runner import EvalOptions, arun_eval
from releasegate.evals.wiring import EvalAdapters
from releasegate.project import Project
from releasegate.results.comparison import Comparison
from releasegate.results.report import EvalReport

__all__ = ["GatedRun", "arun_gated"]


@dataclass
class GatedRun:
    """The head report (gate includes regression rules) and the comparison, if any."""

    report: EvalReport
    comparison: Comparison | None = None


async def arun_gated(
    project: Project,
    suite: str,
    options: EvalOptions,
    *,
    adapters: EvalAdapters[Any],
    baseline: EvalReport | None = None,
    baseline_ref: str | None = None,
    allow_mixed_change: bool = False,
) -> GatedRun:
    """Evaluate ``suite``; with a baseline, gate on the paired comparison too.

    Both runs build their cache and providers through ``adapters`` (see
    :func:`~releasegate.evals.runner.arun_eval`).

    Raises:
        ConfigError: ``baseline_ref`` given and a prompt changed text and model/params in
            one step (unless ``allow_mixed_change``).
        RunFailed: the baseline run did not complete.
    """
    overrides: list[str] = []
    if baseline_ref is not None:
        problems = [i for i in check_separation(project, baseline_ref) if i.severity == "error"]
        if problems and not allow_mixed_change:
            raise ConfigError(problems)
        overrides += [f"allow-mixed-change: {p.message}" for p in problems]
        base_opts = dataclasses.replace(options, handle_sigint=False)
        baseline = await arun_baseline_ref(
            project, suite, baseline_ref, base_opts, adapters=adapters
        )
        if baseline.status != "complete":
            raise RunFailed(
                f"the baseline run at {baseline_ref!r} did not complete "
                f"({baseline.status}: {baseline.stop_reason})"
            )
    head = await arun_eval(project, suite, options, adapters=adapters)
    if baseline is None or head.status != "complete":
        return GatedRun(head.model_copy(update={"overrides": overrides}))
    # The paired statistics bring numpy and scipy (about 1 s of imports): only with a
    # baseline.
    from releasegate.evals.comparison import compare_reports

    rules = choose_rules(head=head, suite=(suite, project.suite(suite).gate))
    comparison = rules.stamp(compare_reports(baseline, head, gate=rules.gate))
    head = head.model_copy(
        update={
            "gate": merge_gate(head, comparison, project.suite(suite).gate),
            "comparison": comparison.model_dump(mode="json"),
            "overrides": overrides,
        }
    )
    return GatedRun(head, comparison)

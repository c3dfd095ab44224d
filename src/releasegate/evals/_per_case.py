"""A report's results reduced to one row per case: the repeats of a case become one row.

A case run several times (``--repeat K``) is reduced to the mean of its scored repeats'
scores (an errored repeat counts as 0, a repeat without a measured weighted check is left
out) and the share of repeats that passed; a case "passes" when at least half its
repeats passed. Read by the comparison (paired statistics) and by the repeat gate rules
(pass^k, flaky cases).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from releasegate.results.report import EvalReport
from releasegate.results.verdicts import SCORED, case_verdict, gating_check_values, result_score

__all__ = ["CaseRow", "case_rows"]


@dataclass
class CaseRow:
    """One case of one report, its repeats reduced to one row.

    ``score`` is ``None`` when no repeat was scored; ``cost`` in USD and ``latency`` in
    milliseconds are means over the repeats.
    """

    id: str
    score: float | None
    pass_share: float
    n_repeats: int
    n_passed: int
    weight: float
    tags: list[str]
    cost: float
    latency: float | None
    #: check type -> (mean value over the repeats, values per scored repeat)
    checks: dict[str, tuple[float, float]] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    output: str | None = None
    #: the shown result's conversation and tool calls (see ``output``)
    messages: list[Any] | None = None
    tool_calls: list[Any] | None = None
    informational: bool = False

    @property
    def passed(self) -> bool:
        """Whether at least half the repeats passed."""
        return self.pass_share >= 0.5


def case_rows(report: EvalReport) -> dict[str, CaseRow]:
    """One :class:`CaseRow` per case id of ``report``, in the order of first appearance."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(report.cases):
        groups[c.id].append(i)
    out: dict[str, CaseRow] = {}
    for cid, idxs in groups.items():
        rows = [report.cases[i] for i in idxs]
        verdicts = [case_verdict(r) for r in rows]
        scored = [r for r, v in zip(rows, verdicts, strict=True) if v in SCORED]
        lat = [r.latency_ms for r in rows if r.latency_ms is not None]
        checks: dict[str, list[float]] = defaultdict(list)
        reasons: list[str] = []
        for r in rows:
            for ctype, values in gating_check_values(r).items():
                checks[ctype].extend(values)
            for ch in r.checks:
                text = f"{ch.type}: {ch.reason}"
                if ch.passed is False and ch.weight > 0 and ch.reason and text not in reasons:
                    reasons.append(text)
            if r.error and f"error: {r.error}" not in reasons:
                reasons.append(f"error: {r.error}")
        failing = [r for r, v in zip(rows, verdicts, strict=True) if v in ("failed", "error")]
        shown = failing[0] if failing else rows[0]
        n_passed = sum(1 for v in verdicts if v == "passed")
        out[cid] = CaseRow(
            id=cid,
            score=float(np.mean([result_score(r) for r in scored])) if scored else None,
            pass_share=n_passed / len(rows),
            n_repeats=len(rows),
            n_passed=n_passed,
            weight=rows[0].weight,
            tags=list(rows[0].tags),
            cost=float(np.mean([r.cost_usd for r in rows])),
            latency=float(np.mean(lat)) if lat else None,
            checks={
                k: (float(np.mean(v)), len(v) / max(len(scored), 1)) for k, v in checks.items()
            },
            reasons=reasons,
            output=shown.output,
            messages=shown.messages,
            tool_calls=shown.tool_calls,
            informational=all(v == "informational" for v in verdicts),
        )
    return out

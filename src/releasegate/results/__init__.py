"""What an eval run produced: the report schema, case verdicts and run summaries.

Pure data and pure functions: the renderers (:mod:`releasegate.reports`), the control
plane's eval evidence and the comparison all read these without running anything.

* :mod:`~releasegate.results.report` — :class:`EvalReport`, the versioned JSON report;
* :mod:`~releasegate.results.comparison` — :class:`Comparison`, the versioned result of a
  baseline comparison;
* :mod:`~releasegate.results.verdicts` — which results count, pass and gate;
* :mod:`~releasegate.results.summary` — :func:`summarize`, a run's summary.
"""

from __future__ import annotations

from releasegate.results.comparison import Comparison
from releasegate.results.report import (
    CaseResult,
    CheckResult,
    EvalReport,
    GateResult,
    RuleResult,
    Summary,
)
from releasegate.results.summary import summarize

__all__ = [
    "CaseResult",
    "CheckResult",
    "Comparison",
    "EvalReport",
    "GateResult",
    "RuleResult",
    "Summary",
    "summarize",
]

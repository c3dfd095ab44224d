"""What an eval run produced: the report schema, case verdicts and run summaries.

Pure data and pure functions: the renderers (:mod:`releasegate.reports`), the control
plane's eval evidence and the comparison all read these without running anything.
"""

from __future__ import annotations

from releasegate.results.report import CaseResult, CheckResult, EvalReport, Summary

__all__ = ["CaseResult", "CheckResult", "EvalReport", "Summary"]

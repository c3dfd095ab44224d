"""Offline evaluation: run a suite, gate it, compare it with a baseline.

The public modules, each one concept:

* :mod:`~releasegate.evals.runner` — the async engine (:func:`arun_eval`, :func:`run_eval`);
* :mod:`~releasegate.evals.wiring` — what the engine is handed from above
  (:class:`EvalAdapters`: the response cache and a suite's providers);
* :mod:`~releasegate.evals.gated_run` — a run with its baseline (:func:`arun_gated`);
* :mod:`~releasegate.evals.gate` — every gate rule and their merge;
* :mod:`~releasegate.evals.comparison` — the baseline comparison (:func:`compare_reports`);
* :mod:`~releasegate.evals.changes` — prompt changes versus a git ref;
* :mod:`~releasegate.evals.validate` — ``releasegate validate``;
* :mod:`~releasegate.evals.calibrate` — judge calibration against human labels.

The engine builds no adapter itself: ``releasegate.run_eval`` / ``releasegate.arun_eval``
(:mod:`releasegate.bootstrap`) build them from the project config and call the engine.
Modules whose names start with ``_`` are private. Names are imported on first use, so
that importing this package stays cheap (the comparison brings numpy and scipy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from releasegate._lazy import lazy_exports as _lazy_exports

if TYPE_CHECKING:
    from releasegate.evals.comparison import Comparison, compare_reports
    from releasegate.evals.gated_run import GatedRun, arun_gated
    from releasegate.evals.runner import EvalOptions, arun_eval, run_eval
    from releasegate.evals.validate import validate_project
    from releasegate.evals.wiring import EvalAdapters, SuiteProviders

__all__ = [
    "Comparison",
    "EvalAdapters",
    "EvalOptions",
    "GatedRun",
    "SuiteProviders",
    "arun_eval",
    "arun_gated",
    "compare_reports",
    "run_eval",
    "validate_project",
]

_WHERE: dict[str, str] = {
    "Comparison": "releasegate.results.comparison",
    "EvalAdapters": "releasegate.evals.wiring",
    "EvalOptions": "releasegate.evals.runner",
    "GatedRun": "releasegate.evals.gated_run",
    "SuiteProviders": "releasegate.evals.wiring",
    "arun_eval": "releasegate.evals.runner",
    "arun_gated": "releasegate.evals.gated_run",
    "compare_reports": "releasegate.evals.comparison",
    "run_eval": "releasegate.evals.runner",
    "validate_project": "releasegate.evals.validate",
}

__getattr__, __dir__ = _lazy_exports(__name__, _WHERE, __all__)

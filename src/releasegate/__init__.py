"""releasegate: make changes to LLM applications safe to ship.

The public Python API is deliberately small; everything else is reachable through the
subpackages (``releasegate.evals``, ``releasegate.scorers``, ``releasegate.providers``,
``releasegate.deploy`` ...). Names are imported on first use, so that ``import
releasegate`` (and every CLI start) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from releasegate._lazy import lazy_exports as _lazy_exports

if TYPE_CHECKING:
    from releasegate.bootstrap import arun_eval, run_eval
    from releasegate.canary import CanaryPolicy, Decision, Observation, analyze_canary
    from releasegate.control import Router
    from releasegate.datasets.case import Case
    from releasegate.datasets.dataset import Dataset, load_dataset
    from releasegate.deploy import bucket
    from releasegate.errors import ReleasegateError
    from releasegate.evals.runner import EvalOptions
    from releasegate.online.client import feedback, record
    from releasegate.project import Project, load_project
    from releasegate.results.report import EvalReport
    from releasegate.scorers.spec import AssertSpec

from releasegate._version import __version__

__all__ = [
    "AssertSpec",
    "CanaryPolicy",
    "Case",
    "Dataset",
    "Decision",
    "EvalOptions",
    "EvalReport",
    "Observation",
    "Project",
    "ReleasegateError",
    "Router",
    "__version__",
    "analyze_canary",
    "arun_eval",
    "bucket",
    "feedback",
    "load_dataset",
    "load_project",
    "record",
    "run_eval",
]

_WHERE: dict[str, str] = {
    "AssertSpec": "releasegate.scorers.spec",
    "CanaryPolicy": "releasegate.canary",
    "Decision": "releasegate.canary",
    "Observation": "releasegate.canary",
    "analyze_canary": "releasegate.canary",
    "Case": "releasegate.datasets",
    "Dataset": "releasegate.datasets",
    "EvalOptions": "releasegate.evals.runner",
    "EvalReport": "releasegate.results.report",
    "Project": "releasegate.project",
    "ReleasegateError": "releasegate.errors",
    "Router": "releasegate.control",
    "arun_eval": "releasegate.bootstrap",
    "bucket": "releasegate.deploy",
    "feedback": "releasegate.online.client",
    "record": "releasegate.online.client",
    "load_dataset": "releasegate.datasets",
    "load_project": "releasegate.project",
    "run_eval": "releasegate.bootstrap",
}

__getattr__, __dir__ = _lazy_exports(__name__, _WHERE, __all__)

"""releasegate: make changes to LLM applications safe to ship.

The public Python API is deliberately small; everything else is reachable through the
subpackages (``releasegate.evals``, ``releasegate.scorers``, ``releasegate.providers``,
``releasegate.deploy`` ...). Names are imported on first use, so that ``import
releasegate`` (and every CLI start) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from releasegate.deploy import Router, bucket
    from releasegate.errors import ReleasegateError
    from releasegate.evals.dataset import Dataset, load_dataset
    from releasegate.evals.models import AssertSpec, Case
    from releasegate.evals.report import EvalReport
    from releasegate.evals.runner import EvalOptions, arun_eval, run_eval
    from releasegate.online import CanaryPolicy, Decision, Observation, analyze_canary
    from releasegate.project import Project, load_project

__version__ = "0.1.0"

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
    "load_dataset",
    "load_project",
    "run_eval",
]

_WHERE: dict[str, str] = {
    "AssertSpec": "releasegate.evals.models",
    "CanaryPolicy": "releasegate.online",
    "Decision": "releasegate.online",
    "Observation": "releasegate.online",
    "analyze_canary": "releasegate.online",
    "Case": "releasegate.evals.models",
    "Dataset": "releasegate.evals.dataset",
    "EvalOptions": "releasegate.evals.runner",
    "EvalReport": "releasegate.evals.report",
    "Project": "releasegate.project",
    "ReleasegateError": "releasegate.errors",
    "Router": "releasegate.deploy",
    "arun_eval": "releasegate.evals.runner",
    "bucket": "releasegate.deploy",
    "load_dataset": "releasegate.evals.dataset",
    "load_project": "releasegate.project",
    "run_eval": "releasegate.evals.runner",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'releasegate' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

"""releasegate: make changes to LLM applications safe to ship.

The public Python API is deliberately small; everything else is reachable through the
subpackages (``releasegate.evals``, ``releasegate.scorers``, ``releasegate.providers``,
``releasegate.deploy`` ...).
"""

from __future__ import annotations

from releasegate.deploy import Router, bucket
from releasegate.errors import ReleasegateError
from releasegate.evals.dataset import Dataset, load_dataset
from releasegate.evals.models import AssertSpec, Case
from releasegate.evals.report import EvalReport
from releasegate.evals.runner import EvalOptions, arun_eval, run_eval
from releasegate.project import Project, load_project

__version__ = "0.1.0"

__all__ = [
    "AssertSpec",
    "Case",
    "Dataset",
    "EvalOptions",
    "EvalReport",
    "Project",
    "ReleasegateError",
    "Router",
    "__version__",
    "arun_eval",
    "bucket",
    "load_dataset",
    "load_project",
    "run_eval",
]

"""Automated canary analysis, pure: observations or running statistics in, a decision out.

Names load on first use: the analysis needs numpy and scipy, which the modules that only
store or read statistics (:mod:`releasegate.ports`, the CLI's deploy commands) must not
pay for at import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from releasegate.canary.analysis import Decision, analyze_canary
    from releasegate.canary.observations import ArmStats, Observation
    from releasegate.canary.policy import CanaryPolicy
    from releasegate.canary.records import StoredDecision

__all__ = [
    "ArmStats",
    "CanaryPolicy",
    "Decision",
    "Observation",
    "StoredDecision",
    "analyze_canary",
]

_WHERE = {
    "ArmStats": "releasegate.canary.observations",
    "CanaryPolicy": "releasegate.canary.policy",
    "Decision": "releasegate.canary.analysis",
    "Observation": "releasegate.canary.observations",
    "StoredDecision": "releasegate.canary.records",
    "analyze_canary": "releasegate.canary.analysis",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'releasegate.canary' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

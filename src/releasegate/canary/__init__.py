"""Automated canary analysis, pure: observations or running statistics in, a decision out.

Names load on first use: the analysis needs numpy and scipy, which the modules that only
store or read statistics (:mod:`releasegate.ports`, the CLI's deploy commands) must not
pay for at import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from releasegate._lazy import lazy_exports as _lazy_exports

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

__getattr__, __dir__ = _lazy_exports(__name__, _WHERE, __all__)

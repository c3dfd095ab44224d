"""releasegate.canary: online evaluation and automated canary analysis."""

from __future__ import annotations

from releasegate.canary.analysis import Decision, analyze_canary
from releasegate.canary.observations import ArmStats, Observation
from releasegate.canary.policy import CanaryPolicy

__all__ = ["ArmStats", "CanaryPolicy", "Decision", "Observation", "analyze_canary"]

"""releasegate.online: online evaluation and automated canary analysis."""

from __future__ import annotations

from releasegate.online.canary import Decision, analyze_canary
from releasegate.online.observations import ArmStats, Observation
from releasegate.online.policy import CanaryPolicy

__all__ = ["ArmStats", "CanaryPolicy", "Decision", "Observation", "analyze_canary"]

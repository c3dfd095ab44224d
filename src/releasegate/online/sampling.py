"""Which recorded interactions are scored: filters, then a sampling rate per arm.

The decision is made once, when an interaction is recorded, from its request id: the
first 8 bytes of SHA-256(request id) as a number in [0, 1) are compared with the arm's
rate. A retried record therefore decides the same, and raising a rate keeps every
interaction that was sampled before.

Sampling the canary at a higher rate than the incumbent gives the comparison more
power where traffic is scarce. Within an arm every interaction has the same chance, so
each arm's mean score is an unbiased estimate of that arm's mean quality; the analysis
compares the two arms' means, so different rates per arm need no weighting. (A mean
pooled over both arms would need inverse-rate weights; nothing here pools them.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from releasegate.config import FeatureScoring
from releasegate.ports import Interaction

__all__ = ["ScoringPlan", "sample_unit"]

_SCALE = float(2**64)


def sample_unit(request_id: str) -> float:
    """A number in [0, 1) fixed by ``request_id`` (uniform over request ids)."""
    digest = hashlib.sha256(request_id.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


class ScoringPlan:
    """Decides whether a new interaction is scored (``sampler`` of the recording service).

    Args:
        features: ``online.features`` of the project config; features not named there
            are never scored.
    """

    def __init__(self, features: Mapping[str, FeatureScoring]) -> None:
        self.features = dict(features)

    def rate(self, feature: str, arm: str) -> float:
        """The sampling rate of ``arm`` of ``feature`` (0 when not configured)."""
        cfg = self.features.get(feature)
        if cfg is None:
            return 0.0
        rates: dict[str, float] = {str(k): v for k, v in cfg.sample.items()}
        if arm == "fallback" and "fallback" not in rates:
            arm = "incumbent"
        return float(rates.get(arm, 0.0))

    def __call__(self, interaction: Interaction) -> bool:
        """Whether ``interaction`` is due a score (see the module docstring)."""
        cfg = self.features.get(interaction.feature)
        if cfg is None:
            return False
        meta = interaction.metadata or {}
        wanted = cfg.filters.metadata
        if any(k not in meta or meta[k] != v for k, v in wanted.items()):
            return False
        if interaction.error is not None and cfg.filters.errors != "sampled":
            return cfg.filters.errors == "always"
        return sample_unit(interaction.request_id) < self.rate(interaction.feature, interaction.arm)

"""What the canary analysis reads: observations, or running sufficient statistics.

An :class:`ArmStats` holds everything the analysis needs about one arm (counts, sums,
sums of squares, a latency histogram), so a service can keep it incrementally with
:meth:`ArmStats.merge` and never rescan interactions. Analysing raw observations is the
same computation: they are folded into an :class:`ArmStats` first.

Analysis is by *assigned* arm: a request served by a fallback counts for the arm its
unit was assigned to (its error or fallback is that arm's evidence). Grouping by arm is
the caller's job.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from releasegate.errors import UsageError

__all__ = ["LATENCY_GAMMA", "ArmStats", "Observation", "latency_bucket"]

#: Latency histogram buckets grow by this ratio (relative error of a quantile <= 1%).
LATENCY_GAMMA = 1.02
_LOG_GAMMA = math.log(LATENCY_GAMMA)


def latency_bucket(ms: float) -> int:
    """Index of the histogram bucket ``(gamma^(i-1), gamma^i]`` holding ``ms`` (> 0)."""
    if ms <= 0.0:
        return -2000  # one bucket for zero latencies
    return math.ceil(math.log(ms) / _LOG_GAMMA)


def bucket_value(index: int) -> float:
    """Representative value of a bucket (within 1% of every value it holds)."""
    if index == -2000:
        return 0.0
    return 2.0 * LATENCY_GAMMA**index / (LATENCY_GAMMA + 1.0)


@dataclass(frozen=True, slots=True)
class Observation:
    """One request of one arm.

    Attributes:
        score: online quality score in [0, 1], or None when unscored / unmeasured.
        error: the request failed (including a failed fallback chain).
        latency_ms: end-to-end latency in milliseconds.
        cost_usd: cost of the request in US dollars.
        feedback: user feedback (thumbs: -1/0/1; or a 1-5 rating).
    """

    score: float | None
    error: bool = False
    latency_ms: float | None = None
    cost_usd: float | None = None
    feedback: int | None = None


def _bad(arm: str, i: int, what: str) -> UsageError:
    return UsageError(f"{arm} observation {i}: {what}")


@dataclass(frozen=True, slots=True)
class ArmStats:
    """Running sufficient statistics of one arm.

    Attributes:
        count: observations (requests) seen.
        errors: of which failed.
        scored: observations with a score; ``score_sum`` / ``score_sumsq`` their sums.
        passes: scores >= ``pass_score``.
        cost_n, cost_sum, cost_sumsq: requests with a cost and the sums (USD).
        feedback_n: feedback received; ``feedback_negative`` of which <=
            ``negative_feedback_max``.
        latency: sparse histogram ``{bucket index: count}`` (see :func:`latency_bucket`).
        pass_score, negative_feedback_max: the definitions the counts were made with
            (must match the policy).
    """

    count: int = 0
    errors: int = 0
    scored: int = 0
    score_sum: float = 0.0
    score_sumsq: float = 0.0
    passes: int = 0
    cost_n: int = 0
    cost_sum: float = 0.0
    cost_sumsq: float = 0.0
    feedback_n: int = 0
    feedback_negative: int = 0
    latency: Mapping[int, int] = field(default_factory=dict)
    pass_score: float = 0.5
    negative_feedback_max: int = 0

    @classmethod
    def from_observations(
        cls,
        observations: Iterable[Observation],
        *,
        pass_score: float = 0.5,
        negative_feedback_max: int = 0,
        arm: str = "arm",
    ) -> ArmStats:
        """Fold observations into statistics.

        Raises:
            UsageError: an observation has a score outside [0, 1], a negative or
                non-finite latency or cost, or a non-integer feedback (says which).
        """
        n = err = scored = passes = cost_n = fb_n = fb_neg = 0
        s = ss = c = cc = 0.0
        lat: dict[int, int] = {}
        for i, o in enumerate(observations):
            if not isinstance(o, Observation):
                raise _bad(arm, i, f"expected an Observation, got {type(o).__name__}")
            n += 1
            err += bool(o.error)
            if o.score is not None:
                x = float(o.score)
                if not (0.0 <= x <= 1.0):
                    raise _bad(arm, i, f"score {o.score!r} is outside [0, 1]")
                scored += 1
                s += x
                ss += x * x
                passes += x >= pass_score
            if o.cost_usd is not None:
                y = float(o.cost_usd)
                if not (math.isfinite(y) and y >= 0.0):
                    raise _bad(arm, i, f"cost_usd {o.cost_usd!r} must be finite and >= 0")
                cost_n += 1
                c += y
                cc += y * y
            if o.latency_ms is not None:
                ms = float(o.latency_ms)
                if not (math.isfinite(ms) and ms >= 0.0):
                    raise _bad(arm, i, f"latency_ms {o.latency_ms!r} must be finite and >= 0")
                b = latency_bucket(ms)
                lat[b] = lat.get(b, 0) + 1
            if o.feedback is not None:
                if isinstance(o.feedback, bool) or not isinstance(o.feedback, int):
                    raise _bad(arm, i, f"feedback {o.feedback!r} must be an integer")
                fb_n += 1
                fb_neg += o.feedback <= negative_feedback_max
        return cls(
            n, err, scored, s, ss, passes, cost_n, c, cc, fb_n, fb_neg, lat,
            pass_score, negative_feedback_max,
        )  # fmt: skip

    def merge(self, other: ArmStats) -> ArmStats:
        """Statistics of both sets of observations (associative and commutative).

        Raises:
            UsageError: the two were counted with different pass or feedback definitions.
        """
        if (self.pass_score, self.negative_feedback_max) != (
            other.pass_score,
            other.negative_feedback_max,
        ):
            raise UsageError("cannot merge arm statistics counted with different definitions")
        lat = dict(self.latency)
        for b, k in other.latency.items():
            lat[b] = lat.get(b, 0) + k
        return replace(
            self,
            count=self.count + other.count,
            errors=self.errors + other.errors,
            scored=self.scored + other.scored,
            score_sum=self.score_sum + other.score_sum,
            score_sumsq=self.score_sumsq + other.score_sumsq,
            passes=self.passes + other.passes,
            cost_n=self.cost_n + other.cost_n,
            cost_sum=self.cost_sum + other.cost_sum,
            cost_sumsq=self.cost_sumsq + other.cost_sumsq,
            feedback_n=self.feedback_n + other.feedback_n,
            feedback_negative=self.feedback_negative + other.feedback_negative,
            latency=lat,
        )

    @property
    def latency_n(self) -> int:
        """Observations with a latency."""
        return sum(self.latency.values())

    def latency_quantile(self, q: float) -> float | None:
        """The ``q`` quantile of latency in ms (within 1%), or None without latencies."""
        total = self.latency_n
        if total == 0:
            return None
        rank = q * (total - 1)
        seen = 0
        for b in sorted(self.latency):
            seen += self.latency[b]
            if seen > rank:
                return bucket_value(b)
        return bucket_value(max(self.latency))  # pragma: no cover - rank < total

    def latency_above(self, ms: float) -> int:
        """Observations whose latency bucket lies wholly above ``ms``."""
        cut = latency_bucket(ms)
        return sum(k for b, k in self.latency.items() if b > cut)

    def validate(self, arm: str) -> None:
        """Check the counts are consistent.

        Raises:
            UsageError: a negative count or a count larger than its total (says which).
        """
        checks = [
            ("count", self.count >= 0),
            ("errors", 0 <= self.errors <= self.count),
            ("scored", 0 <= self.scored <= self.count),
            ("passes", 0 <= self.passes <= self.scored),
            ("cost_n", 0 <= self.cost_n <= self.count),
            ("feedback_negative", 0 <= self.feedback_negative <= self.feedback_n),
            ("latency", all(k >= 0 for k in self.latency.values())),
            ("score_sum", math.isfinite(self.score_sum) and math.isfinite(self.score_sumsq)),
            ("cost_sum", math.isfinite(self.cost_sum) and math.isfinite(self.cost_sumsq)),
        ]
        for name, ok in checks:
            if not ok:
                raise UsageError(f"{arm} statistics: {name} is inconsistent")

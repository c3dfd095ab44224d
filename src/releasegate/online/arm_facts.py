"""The one rule for what a canary's arm statistics learn from recording, feedback and
scoring.

Analysis is by *assigned* arm: a request counts for the arm its unit was assigned to
(``incumbent`` or ``canary``), even when a fallback served it. Each fact is added once,
in the transaction that stores what it comes from:

- a request (when its interaction is recorded): one request, its error, latency and
  cost, under the check ``""``;
- a rating (when feedback is joined to a counted interaction): one feedback, negative
  for thumbs down or 1-2 of 5, under ``""``;
- a score (when the worker that stores an interaction's overall score first): one
  scored value under ``"overall"``, and one per check under the check's key (shown per
  check; the analysis reads ``""`` and ``"overall"``).

The interaction keeps the canary and stage its request was counted under
(:attr:`~releasegate.ports.Interaction.canary_id`), so its feedback and scores go to the
same rows, and an interaction recorded without a running canary adds nothing later.

A transaction that adds facts for many interactions (a recorded batch) sums them first
in a :class:`FactsBatch` and writes one increment per row, in one fixed order of rows:
two such transactions running at once (two gateways' record writers) then wait for each
other's rows in the same order and never deadlock, whatever the order of their records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from releasegate.canary.observations import ArmStats, Observation
from releasegate.canary.records import REQUESTS
from releasegate.deploy.model import Deployment
from releasegate.deploy.status import Status
from releasegate.ports import ArmKey, FeedbackEntry, Interaction, UnitOfWork

__all__ = [
    "ARMS",
    "FactsBatch",
    "add_facts",
    "count_request",
    "counting_canary",
    "feedback_facts",
    "request_facts",
    "request_part",
    "score_facts",
    "score_part",
]

ARMS = ("incumbent", "canary")


def is_canary(dep: Deployment) -> bool:
    """Whether ``dep`` is a canary, running or paused."""
    return dep.status is Status.CANARY or (
        dep.status is Status.PAUSED and dep.paused_from is Status.CANARY
    )


def counting_canary(deployments: Iterable[Deployment]) -> Deployment | None:
    """The feature's canary (running or paused) whose statistics requests feed, if any."""
    return next((d for d in deployments if is_canary(d) and d.id is not None), None)


def request_part(delta: ArmStats) -> ArmStats:
    """What a request row keeps of ``delta``: everything but the scores."""
    return replace(delta, scored=0, score_sum=0.0, score_sumsq=0.0, passes=0)


def score_part(delta: ArmStats) -> ArmStats:
    """What a score row keeps of ``delta``: only the scores."""
    return ArmStats(
        scored=delta.scored,
        score_sum=delta.score_sum,
        score_sumsq=delta.score_sumsq,
        passes=delta.passes,
        pass_score=delta.pass_score,
        negative_feedback_max=delta.negative_feedback_max,
    )


def request_facts(interaction: Interaction) -> ArmStats:
    """One request's facts: counted, its error, latency and cost."""
    obs = Observation(
        score=None,
        error=interaction.error is not None,
        latency_ms=interaction.latency_ms,
        cost_usd=interaction.cost_usd,
    )
    return request_part(ArmStats.from_observations([obs]))


def feedback_facts(entry: FeedbackEntry) -> ArmStats:
    """One rating: ``feedback_n`` 1, ``feedback_negative`` 1 when it is negative."""
    return ArmStats(feedback_n=1, feedback_negative=int(entry.negative))


def score_facts(value: float, *, pass_score: float = 0.5) -> ArmStats:
    """One scored value in [0, 1] (a pass at or above ``pass_score``)."""
    return score_part(ArmStats.from_observations([Observation(score=value)], pass_score=pass_score))


def _arm(interaction: Interaction, canary: Deployment) -> str | None:
    if interaction.arm == "canary":
        same = interaction.deployment_id == canary.id or interaction.version == canary.version
        return "canary" if same or interaction.version is None else None
    if interaction.arm == "incumbent" and interaction.version != canary.version:
        return "incumbent"
    return None  # "fallback" (no deployment), or a label that contradicts the canary


class FactsBatch:
    """Arm statistics increments summed in memory, written by :meth:`write` one row at a
    time in sorted order (see the module docstring)."""

    def __init__(self) -> None:
        self._rows: dict[tuple[int, ArmKey], ArmStats] = {}

    def add(self, interaction: Interaction, delta: ArmStats, *, check: str = REQUESTS) -> bool:
        """Like :func:`add_facts`, into this batch. Returns whether anything was added."""
        if interaction.canary_id is None or interaction.arm not in ARMS:
            return False
        key = (interaction.canary_id, (interaction.canary_stage or 0, interaction.arm, check))
        old = self._rows.get(key)
        self._rows[key] = delta if old is None else old.merge(delta)
        return True

    def write(self, uow: UnitOfWork) -> int:
        """Merge the sums into the store (sorted by canary, stage, arm, check) and empty
        the batch. Returns the number of rows merged."""
        rows, self._rows = sorted(self._rows.items()), {}
        for (canary_id, key), delta in rows:
            uow.arm_stats.merge(canary_id, key, delta)
        return len(rows)


def count_request(
    uow: UnitOfWork,
    interaction: Interaction,
    canary: Deployment | None,
    batch: FactsBatch | None = None,
) -> bool:
    """Add a new interaction's request facts to ``canary``'s statistics for its arm (to
    ``batch`` when given, written later by :meth:`FactsBatch.write`), and note on the
    interaction where they went. Call before the interaction is inserted, in the same
    transaction.

    Returns:
        Whether it was counted (False: no canary, or an arm outside the comparison).
    """
    if canary is None or canary.id is None:
        return False
    arm = _arm(interaction, canary)
    if arm is None:
        return False
    interaction.canary_id = canary.id
    interaction.canary_stage = canary.stage or 0
    if batch is not None:
        batch.add(interaction, request_facts(interaction))
    else:
        add_facts(uow, interaction, request_facts(interaction))
    return True


def add_facts(
    uow: UnitOfWork, interaction: Interaction, delta: ArmStats, *, check: str = REQUESTS
) -> bool:
    """Add ``delta`` to the arm statistics ``interaction``'s request was counted under
    (nothing when it was not counted). Returns whether anything was added."""
    if interaction.canary_id is None or interaction.arm not in ARMS:
        return False
    key = (interaction.canary_stage or 0, interaction.arm, check)
    uow.arm_stats.merge(interaction.canary_id, key, delta)
    return True

"""Scoring recorded interactions with the feature's online checks, exactly once.

A job names an interaction id. :meth:`ScoringService.score` reads the interaction,
builds a :class:`~releasegate.scorers.Sample` from it (input: the last user message;
output: the response text; the answer's tool calls and the tools the request offered;
context, metadata, latency, cost, error), runs every check of the
feature's ``online.features.<name>.checks`` through
:func:`~releasegate.scorers.score_sample` (a check whose inputs are missing is *not
applicable*, one that fails is *unmeasured*, none blocks the others), and stores one
score row per check and an ``overall`` row: the weighted mean of the measured checks of
weight > 0, the rule of an eval case (0 when the request failed; none when nothing was
measured).

Rows are unique per (interaction, check) and written in one transaction. Only the
worker whose transaction inserted the ``overall`` row adds the scores to the canary's
arm statistics (:mod:`releasegate.online.arm_facts`), so a redelivered or concurrent
job adds nothing twice.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from releasegate.canary.records import OVERALL
from releasegate.deploy.model import utcnow
from releasegate.online.arm_facts import add_facts, score_facts
from releasegate.ports import Interaction, StoredScore, UnitOfWork
from releasegate.scorers import AssertSpec, Sample, Score, Scorer, ScoreStatus, score_sample

__all__ = [
    "FeatureChecks",
    "Outcome",
    "ScoringService",
    "check_keys",
    "interaction_sample",
    "overall_score",
]

Outcome = Literal["scored", "already scored", "not found", "not configured"]


@dataclass(frozen=True)
class FeatureChecks:
    """A feature's built online checks.

    Attributes:
        specs: The specs as configured, in order.
        checks: The built checks, one per spec.
        close: Releases what the checks hold (a judge's HTTP client), or None.
    """

    specs: Sequence[AssertSpec]
    checks: Sequence[Scorer]
    close: Callable[[], Any] | None = None


def check_keys(specs: Sequence[AssertSpec]) -> list[str]:
    """The score row key of each check: its type, ``type#2`` for the second of a type."""
    seen: dict[str, int] = {}
    keys = []
    for spec in specs:
        seen[spec.type] = seen.get(spec.type, 0) + 1
        keys.append(spec.type if seen[spec.type] == 1 else f"{spec.type}#{seen[spec.type]}")
    return keys


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: keep the text ones
        return "\n".join(
            str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("text")
        )
    return ""


def _legacy_calls(response: str | None) -> list[Any] | None:
    # Before interactions had a tool_calls column, the gateway stored an answer without
    # text as the JSON text {"tool_calls": [...]} in the response.
    if not response or not response.startswith('{"tool_calls"'):
        return None
    try:
        data = json.loads(response)
    except ValueError:
        return None
    if isinstance(data, dict) and set(data) == {"tool_calls"}:
        calls = data["tool_calls"]
        if isinstance(calls, list):
            return [_nested(c) for c in calls]
    return None


def _nested(call: Any) -> Any:
    # A streamed answer's calls were stored flat ({id, type, name, arguments}): nest
    # them as a plain answer's ({id, type, function: {name, arguments}}).
    if isinstance(call, dict) and "function" not in call and {"name", "arguments"} <= set(call):
        function = {"name": call["name"], "arguments": call["arguments"]}
        return {"id": call.get("id"), "type": call.get("type", "function"), "function": function}
    return call


def interaction_sample(interaction: Interaction) -> Sample:
    """The scorer input of a recorded interaction.

    ``input`` is the text of its last user message, ``output`` its response text
    (``""`` for none), ``tool_calls`` the calls the answer made and ``tools`` the
    function tools the request offered, as stored (so the tool-call checks grade them as
    they grade an eval's answer). A row recorded before tool calls had their own field,
    whose response is exactly the JSON text ``{"tool_calls": [...]}``, is read as those
    calls (a streamed answer's flat ``{id, type, name, arguments}`` entries nested as a
    plain answer's) and no text.
    """
    user = [m for m in interaction.prompt or [] if m.get("role") == "user"]
    output = interaction.response or ""
    tool_calls = interaction.tool_calls
    if tool_calls is None and (legacy := _legacy_calls(interaction.response)) is not None:
        output, tool_calls = "", legacy
    return Sample(
        output,
        input=_text(user[-1].get("content")) if user else "",
        context=tuple(interaction.context or ()),
        metadata=dict(interaction.metadata or {}),
        id=interaction.request_id,
        latency_ms=interaction.latency_ms,
        cost_usd=interaction.cost_usd,
        error=interaction.error,
        tool_calls=tuple(tool_calls or ()),
        tools=tuple(interaction.tools or ()),
    )


def overall_score(
    specs: Sequence[AssertSpec], scores: Sequence[Score], *, failed: bool = False
) -> float | None:
    """Weighted mean of the measured checks of weight > 0 (an eval case's score): 0 when
    the request failed, None when no weighted check was measured."""
    if failed:
        return 0.0
    pairs = [
        (spec.weight, s.value)
        for spec, s in zip(specs, scores, strict=True)
        if spec.weight > 0 and s.status is ScoreStatus.MEASURED and s.value is not None
    ]
    if not pairs:
        return None
    top = max(w for w, _ in pairs)
    den = math.fsum(w / top for w, _ in pairs)
    return math.fsum(w / top * v for w, v in pairs) / den


class ScoringService:
    """Scores interactions (one job: one interaction).

    Args:
        uow_factory: A new unit of work (one per transaction; thread-safe to call).
        build_checks: The built checks of a feature, or None when it has no online
            checks. Called once per feature and thread: each worker thread has its own
            event loop, and its own judge client on it.
        clock: Current UTC time.
        pass_score: A score at or above it is a pass in the arm statistics (the canary
            policy's ``pass_score``).
    """

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        build_checks: Callable[[str], FeatureChecks | None],
        *,
        clock: Callable[[], datetime] = utcnow,
        pass_score: float = 0.5,
    ) -> None:
        self.uow_factory = uow_factory
        self.build_checks = build_checks
        self.clock = clock
        self.pass_score = pass_score
        self._local = threading.local()
        self._opened: list[tuple[asyncio.Runner, dict[str, FeatureChecks | None]]] = []
        self._lock = threading.Lock()

    def _thread_state(self) -> tuple[asyncio.Runner, dict[str, FeatureChecks | None]]:
        state = getattr(self._local, "state", None)
        if state is None:
            state = (asyncio.Runner(), {})
            self._local.state = state
            with self._lock:
                self._opened.append(state)
        return state

    def score(self, interaction_id: int) -> Outcome:
        """Score one interaction unless it already has its overall score.

        Returns:
            ``scored`` (this call stored it), ``already scored`` (nothing written),
            ``not found`` (purged or never stored) or ``not configured`` (its feature
            has no online checks now: nothing written, it stays in the backlog).
        """
        uow = self.uow_factory()
        with uow:
            found = uow.interactions.by_ids([interaction_id]).get(interaction_id)
            done = found is not None and any(
                s.check == OVERALL for s in uow.scores.for_interaction(interaction_id)
            )
        if found is None:
            return "not found"
        if done:
            return "already scored"
        runner, built = self._thread_state()
        if found.feature not in built:
            built[found.feature] = self.build_checks(found.feature)
        feature = built[found.feature]
        if feature is None:
            return "not configured"
        scores = runner.run(score_sample(interaction_sample(found), list(feature.checks)))
        return self._store(found, feature, scores)

    def _store(self, i: Interaction, feature: FeatureChecks, scores: Sequence[Score]) -> Outcome:
        now = self.clock()
        iid = i.id or 0
        value = overall_score(feature.specs, scores, failed=i.error is not None)
        rows = [
            StoredScore(iid, key, s.value, ScoreStatus(s.status).value, now, s.reason,
                        s.cost_usd or 0.0)
            for key, s in zip(check_keys(feature.specs), scores, strict=True)
        ]  # fmt: skip
        status = "measured" if value is not None else _overall_status(scores)
        overall = StoredScore(
            iid, OVERALL, value, status, now, "", math.fsum(r.cost_usd for r in rows)
        )
        uow = self.uow_factory()
        with uow:
            fresh = [r for r in rows if uow.scores.add(r)]
            if not uow.scores.add(overall):
                return "already scored"  # another worker's transaction was first
            if value is not None:
                add_facts(uow, i, score_facts(value, pass_score=self.pass_score), check=OVERALL)
            for r in fresh:
                if r.value is not None:
                    facts = score_facts(r.value, pass_score=self.pass_score)
                    add_facts(uow, i, facts, check=r.check)
            uow.commit()
        return "scored"

    def close(self) -> None:
        """Close every thread's event loop and checks."""
        with self._lock:
            opened, self._opened = self._opened, []
        for runner, built in opened:
            for feature in built.values():
                if feature is not None and feature.close is not None:
                    result = feature.close()
                    if asyncio.iscoroutine(result):
                        runner.run(result)
            runner.close()


def _overall_status(scores: Sequence[Score]) -> str:
    tried = any(s.status is ScoreStatus.UNMEASURED for s in scores)
    return "unmeasured" if tried else "not_applicable"

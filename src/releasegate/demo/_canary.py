"""Watching the canary: the store is read every second and shown until the rollout ends.

Nothing here decides: the worker's canary analysis advances, promotes or rolls back;
this only reads what it stored (the deployment, both arms' numbers, the decisions) and
what the simulated users saw.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from releasegate.bootstrap import ControlPlaneParts
from releasegate.demo._narrator import Narrator
from releasegate.demo._traffic import Users, UserStats
from releasegate.deploy.status import Status
from releasegate.online.canary_service import CanaryStatus

__all__ = ["Watch", "watch_canary"]

_RUNNING = frozenset({Status.CANARY, Status.PAUSED})


@dataclass
class Watch:
    """How the watch ended.

    Attributes:
        status: The canary version's status at the end (``active`` when promoted,
            ``rolled_back``, or still ``canary`` when the time ran out).
        seconds: How long the canary ran while watched.
        users: What the simulated users saw.
    """

    status: Status
    seconds: float
    users: UserStats


def _fmt(x: float | None, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def _view(state: CanaryStatus, users: UserStats, elapsed: float) -> tuple[RenderableType, str, str]:
    """The live panel, a line for what the analysis decided, a line of counts."""
    c = state.canary
    stage = "-" if c is None else str(c.stage or 0)  # 0-based, as the decisions say
    share = "-" if c is None else f"{c.share:.0%}"
    status = "-" if c is None else c.status.value
    head = Text.assemble(
        ("canary ", "bold"),
        (f"{c.version if c else '?'}", "bold magenta"),
        f"  status {status}  stage {stage}  share {share}  ",
        (f"{elapsed:.0f} s", "dim"),
        f"   users sent {users.sent} (failed {users.failed})",
    )
    table = Table(box=None, pad_edge=False)
    for col in ("arm", "requests", "scored", "mean online score", "p95 ms"):
        table.add_column(col, justify="right" if col != "arm" else "left")
    counts = []
    for arm in ("incumbent", "canary"):
        s = state.arms.get(arm)
        if s is None:
            continue
        mean = s.score_sum / s.scored if s.scored else None
        table.add_row(
            arm,
            str(s.count),
            str(s.scored),
            _fmt(mean, ".3f"),
            _fmt(s.latency_quantile(0.95), ".0f"),
        )
        counts.append(f"{arm} {s.count} req/{s.scored} scored")
    last = state.decisions[0] if state.decisions else None
    why = "waiting for the first analysis"
    if last is not None:
        reason = last.reasons[0] if last.reasons else ""
        why = f"last decision: {last.action} ({last.applied or 'nothing to apply'}): {reason}"
    state_line = f"{status}, stage {stage} at {share}; {why}"
    numbers = f"users sent {users.sent} (failed {users.failed}); " + "; ".join(counts)
    return Group(head, table, Text(why, style="dim")), state_line, numbers


def watch_canary(
    narrator: Narrator,
    parts: ControlPlaneParts,
    feature: str,
    version: str,
    users: Users,
    *,
    timeout_s: float,
    check_alive: Callable[[], None],
    poll_s: float = 1.0,
) -> Watch:
    """Show the canary of ``feature`` until ``version`` leaves it, or ``timeout_s``.

    Raises:
        RunFailed: a child process (gateway, worker, model server) died.
    """
    start = time.monotonic()
    status = Status.CANARY
    with narrator.panel() as show:
        while True:
            check_alive()
            elapsed = time.monotonic() - start
            service = parts.canary()
            state = service.status(feature, limit=1)
            snap = users.snapshot()
            renderable, state_line, numbers = _view(state, snap, elapsed)
            # plain output: the state when the stage or the decision's action changes,
            # and the counts every 15 s
            c, last = state.canary, state.decisions[0] if state.decisions else None
            moved = (c.status if c else None, c.stage if c else None, last and last.action)
            tick = int(elapsed // 15)
            show(
                renderable,
                f"{moved}|{tick}",
                [f"{elapsed:3.0f} s  {state_line}", f"       {numbers}"],
            )
            current = parts.deployments().get(feature, version).status
            if current not in _RUNNING:
                status = current
                break
            if elapsed > timeout_s:
                status = current
                break
            time.sleep(poll_s)
    return Watch(status=status, seconds=time.monotonic() - start, users=users.snapshot())


def arm_rows(state: CanaryStatus) -> Sequence[Sequence[str]]:
    """Both arms' numbers since the canary started, as table rows."""
    rows = []
    for arm in ("incumbent", "canary"):
        s = state.arms.get(arm)
        if s is None:
            continue
        rows.append(
            [
                arm,
                str(s.count),
                str(s.errors),
                str(s.scored),
                _fmt(s.score_sum / s.scored if s.scored else None, ".3f"),
                _fmt(s.latency_quantile(0.95), ".0f"),
            ]
        )
    return rows

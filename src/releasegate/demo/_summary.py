"""The end of the story, read back from the store: every version and its status, every
canary decision that moved something (with its reason), both arms' numbers, and one
sentence on why it ended the way it did."""

from __future__ import annotations

import re

from releasegate.bootstrap import ControlPlaneParts
from releasegate.canary.records import StoredDecision
from releasegate.demo._canary import Watch, arm_rows
from releasegate.demo._narrator import Narrator
from releasegate.deploy.model import utcnow
from releasegate.deploy.status import Status

__all__ = ["summarize"]


# a signal's reason when one arm had no data yet (see releasegate.canary.signals)
_NO_DATA = re.compile(r"^Waiting for (.+?) data: one arm has none yet\.$")


def _pct(x: object) -> str:
    return f"{x:.0%}" if isinstance(x, int | float) else "-"


def _decisions(parts: ControlPlaneParts, deployment_id: int) -> list[StoredDecision]:
    with parts.read_uow_factory() as uow:
        return list(reversed(uow.decisions.for_deployment(deployment_id, limit=1000)))


def summarize(
    narrator: Narrator,
    parts: ControlPlaneParts,
    feature: str,
    version: str,
    watch: Watch,
    *,
    dashboard_url: str,
) -> str:
    """Print the summary; returns the outcome: ``promoted``, ``rolled back`` or
    ``still in canary``."""
    n = narrator
    state = parts.deployments().status(feature)
    rows = []
    for dep in sorted(state.deployments, key=lambda d: d.version):
        ev = dep.eval_summary or {}
        passed = ev.get("gate_passed")
        gate = "-" if passed is None else ("passed" if passed else "failed")
        rows.append([dep.version, dep.prompt, dep.status.value, _pct(ev.get("pass_rate")), gate])
    n.table(["version", "prompt", "status", "eval pass rate", "gate"], rows,
            title=f"Versions of {feature}")  # fmt: skip

    canary = parts.deployments().get(feature, version)
    decisions = _decisions(parts, canary.id) if canary.id is not None else []
    starts = [
        e.at
        for e in parts.deployments().history(feature)
        if e.version == version and e.action == "canary"
    ]
    started = starts[-1] if starts else (decisions[0].decided_at if decisions else None)
    moved = [d for d in decisions if d.action not in ("continue",)]
    quiet = len(decisions) - len(moved)
    drows = []
    for d in moved:
        at = f"+{(d.decided_at - started).total_seconds():.0f} s" if started else ""
        drows.append(
            [
                at,
                str(d.stage or 0),
                d.action,
                d.applied or "-",
                d.reasons[0] if d.reasons else "",
            ]
        )
    title = (
        f"Canary decisions of {version} that moved something ({len(decisions)} analyses; "
        f"{quiet} said 'continue': more evidence needed)"
    )
    if drows:
        n.table(["after", "stage", "decision", "applied", "reason"], drows, title=title)
    else:
        n.say(f"{len(decisions)} canary analyses ran; none moved the rollout")
    status = parts.canary().status(feature, limit=1)
    n.table(
        ["arm", "requests", "errors", "scored", "mean online score", "p95 latency ms"],
        arm_rows(status),
        title="Both arms since the canary started (v1 = incumbent)",
    )
    with parts.read_uow_factory() as uow:
        counts = uow.scores.counts(utcnow())
    users = watch.users
    n.note(
        f"simulated users sent {users.sent} requests ({users.failed} failed); the worker "
        f"scored {counts.scored_total} recorded interactions ({counts.backlog} still waiting)"
    )

    last = moved[-1] if moved else (decisions[-1] if decisions else None)
    reasons = list(last.reasons) if last is not None else []
    why = reasons[0] if reasons else "no analysis ran"
    if canary.status is Status.ACTIVE:
        outcome = "promoted"
        n.ok(
            f"v3 was promoted by the canary analysis after {watch.seconds:.0f} s: it is now "
            "the only active version. Why: " + why
        )
    elif canary.status is Status.ROLLED_BACK:
        outcome = "rolled back"
        n.bad(f"v3 was rolled back after {watch.seconds:.0f} s; v1 serves everyone. Why: {why}")
    else:
        outcome = "still in canary"
        n.say(
            ("… ", "bold yellow"),
            f"after {watch.seconds:.0f} s v3 is still {canary.status.value} at "
            f"{canary.share:.0%}: the evidence did not decide yet. Last decision: {why}",
        )
    no_data: list[str] = []
    for reason in reasons[1:]:
        waiting = _NO_DATA.match(reason)
        if waiting and canary.status is not Status.CANARY:
            no_data.append(waiting.group(1))  # decided: "waiting" would read as unfinished
        else:
            n.note(reason)
    if no_data:
        n.note(f"not counted in the decision (one arm had no data): {', '.join(no_data)}")
    n.say(
        "v2 never reached a user: its eval gate failed, so its approval was refused and "
        "it was rejected."
    )
    n.say(("dashboard: ", "bold"), f"{dashboard_url}/features/{feature}")
    return outcome

"""What a refused status change says: the commands that do lead on from where a deployment is.

The status machine (:mod:`releasegate.deploy.status`) knows statuses; a user knows
commands. Some statuses are never asked for by a command of their own (``evaluating`` is
passed through by ``approve`` and ``reject``; ``superseded`` follows from promoting another
version), so a refusal lists the ``releasegate deploy ...`` commands that are legal from the
deployment's current status, each with what it does, and says which one to run first when
the operation asked for needs an earlier step.
"""

from __future__ import annotations

from releasegate.deploy.model import Deployment
from releasegate.deploy.status import Status, is_allowed
from releasegate.errors import IllegalTransition

__all__ = ["VERBS", "check_move", "command", "next_steps"]

#: What asking for each target status is called in a message ("cannot promote chat@v2").
VERBS: dict[Status, str] = {
    Status.EVALUATING: "evaluate",
    Status.APPROVED: "approve",
    Status.REJECTED: "reject",
    Status.CANARY: "start a canary for",
    Status.ACTIVE: "promote",
    Status.SUPERSEDED: "supersede",
    Status.ROLLED_BACK: "roll back",
    Status.PAUSED: "pause",
}


def command(name: str, *args: str) -> str:
    """A ``releasegate deploy`` command line, quoted for a message.

    Args:
        name: The ``deploy`` subcommand (``"approve"``).
        args: Its arguments and options, already formatted.

    Returns:
        The command in backticks, e.g. ``"`releasegate deploy approve chat v2`"``.
    """
    return "`" + " ".join(("releasegate", "deploy", name, *args)) + "`"


def _approve(dep: Deployment) -> str:
    report = ("--report", "REPORT.json") if dep.min_score is not None else ()
    return command("approve", dep.feature, dep.version, *report)


def next_steps(dep: Deployment) -> list[str]:
    """The commands legal from ``dep``'s status, each as ``"what: `command`"``.

    A final status (rejected, rolled back) has one step: register a new version.
    """
    f, v = dep.feature, dep.version
    rollback = command("rollback", f, "--reason", "TEXT")
    share = command("canary", f, v, "--share", "PERCENT")
    pause = f"pause it: {command('pause', f, v)}"
    status = dep.status
    if status is Status.PAUSED:
        origin = dep.paused_from
        steps = [
            f"resume it: {command('resume', f, v)}"
            + (f" (returns it to {origin.value})" if origin else "")
        ]
        if origin is Status.CANARY:
            steps.append(f"roll the canary back: {rollback}")
        if origin is Status.EVALUATING:
            steps.append(f"reject it: {command('reject', f, v)}")
        return steps
    if status in (Status.PENDING, Status.EVALUATING):
        return [
            f"approve it: {_approve(dep)}",
            f"reject it: {command('reject', f, v)}",
            pause,
        ]
    if status is Status.APPROVED:
        return [
            f"start a canary: {share}",
            f"promote it directly: {command('promote', f, v)}",
            pause,
        ]
    if status is Status.CANARY:
        return [
            f"change its share: {share}",
            f"promote it: {command('promote', f, v)}",
            f"roll it back: {rollback}",
            pause,
        ]
    if status is Status.ACTIVE:
        return [
            f"roll it back (restores the previous version): {rollback}",
            "replace it: register, approve and promote a new version",
        ]
    if status is Status.SUPERSEDED:
        return [
            f"restore it: {command('rollback', f, '--to', v, '--reason', 'TEXT')}",
        ]
    new = command("register", f, "NEW_VERSION", "--prompt", "NAME@VERSION", "--model", "MODEL")
    return [f"register a new version: {new}"]


def _first(dep: Deployment, target: Status) -> str | None:
    """The step to take before ``target`` can be reached, when there is one."""
    f, v = dep.feature, dep.version
    if dep.status is Status.PAUSED and target is not dep.paused_from:
        origin = dep.paused_from.value if dep.paused_from else "where it was"
        return f"resume it first ({command('resume', f, v)} returns it to {origin})"
    if dep.status in (Status.PENDING, Status.EVALUATING) and target in (
        Status.CANARY,
        Status.ACTIVE,
    ):
        return f"approve it first: {_approve(dep)}"
    return None


def check_move(dep: Deployment, target: Status) -> None:
    """Raise :class:`IllegalTransition` unless ``dep`` may move to ``target``.

    The message names the deployment, its status and the operation refused, then the
    command to run first (when one leads towards ``target``) and every command that is
    legal from the current status.

    Raises:
        IllegalTransition: when the status machine does not allow the move.
    """
    if is_allowed(dep.status, target, paused_from=dep.paused_from):
        return
    now = dep.status.value
    if dep.status is Status.PAUSED and dep.paused_from is not None:
        now += f" from {dep.paused_from.value}"
    final = dep.status in (Status.REJECTED, Status.ROLLED_BACK)
    head = (
        f"cannot {VERBS[target]} {dep.ref}: it is {now}"
        + (", which is final" if final else "")
        + f" ({dep.status.value} -> {target.value} is not allowed)"
    )
    first = _first(dep, target)
    steps = next_steps(dep)
    if first is not None:
        rest = [s for s in steps if not s.startswith(("resume it:", "approve it:"))]
        text = f"{head}; {first}" + (f"; other steps: {'; '.join(rest)}" if rest else "")
    else:
        text = f"{head}; next: {'; '.join(steps)}"
    raise IllegalTransition(text)

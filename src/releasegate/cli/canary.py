"""``releasegate canary status`` and ``releasegate canary analyze``.

``status`` shows a feature's canary: both arms' numbers since it started and its latest
decisions with their reasons. ``analyze`` runs the canary analysis once, now, for one
feature or every running canary, and acts on it (``--dry-run``: records only). The
worker runs the same analysis periodically; ``analyze`` is for a person or a cron job.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from releasegate.cli._app import app
from releasegate.cli._common import out_console, plain, print_table
from releasegate.cli._control import AsJson, Db, open_db, store_errors

if TYPE_CHECKING:
    from releasegate.canary.records import StoredDecision
    from releasegate.online.canary_service import CanaryStatus

__all__ = ["canary_app"]

canary_app = typer.Typer(help="Watch and run the automated canary analysis.")
app.add_typer(canary_app, name="canary", no_args_is_help=True)

FeatureArg = Annotated[str, typer.Argument(help="Feature name.")]
Webhook = Annotated[
    list[str] | None,
    typer.Option(
        "--webhook",
        help="Send rollback, hold and alert decisions to this URL (repeatable; "
        "Slack-compatible JSON).",
    ),
]


def _num(value: Any, fmt: str = "{:.3f}") -> str:
    return "-" if value is None else fmt.format(value)


def _arm_rows(status: CanaryStatus) -> list[list[str]]:
    data = status.to_json()["arms"]
    rows = []
    for arm in ("incumbent", "canary"):
        a = data.get(arm)
        if a is None:
            continue
        rows.append(
            [
                arm,
                str(a["requests"]),
                str(a["errors"]),
                str(a["scored"]),
                _num(a["mean_score"]),
                _num(a["pass_rate"], "{:.1%}"),
                _num(a["latency_p95_ms"], "{:.0f}"),
                _num(a["cost_per_request_usd"], "{:.5f}"),
                f"{a['feedback']} ({a['negative_feedback']})",
            ]
        )
    return rows


def _decision_lines(d: StoredDecision) -> list[str]:
    when = d.decided_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    done = f" [{d.applied}]" if d.applied else ""
    stage = f", stage {d.stage}" if d.stage is not None else ""
    return [f"{when}: {d.action}{stage}{done}", *(f"  - {r}" for r in d.reasons)]


def _print_status(status: CanaryStatus) -> None:
    c = status.canary
    if c is None:
        out_console.print(plain(f"{status.feature}: no canary has run"), soft_wrap=True)
        return
    plan = (c.plan or {}).get("name")
    where = f"stage {c.stage} of plan {plan}, " if plan is not None and c.stage is not None else ""
    head = (
        f"{status.feature}: canary {c.version} ({c.status.value}, {where}"
        f"{c.share * 100:g}%) vs incumbent {status.incumbent or 'none'}"
    )
    out_console.print(plain(head), soft_wrap=True)
    print_table(
        out_console,
        (
            "arm",
            "requests",
            "errors",
            "scored",
            "mean",
            "pass",
            "p95 ms",
            "$/req",
            "feedback (neg)",
        ),
        _arm_rows(status),
    )
    if not status.decisions:
        out_console.print("no decision yet", soft_wrap=True)
        return
    out_console.print("decisions, newest first:", soft_wrap=True)
    for d in status.decisions:
        for line in _decision_lines(d):
            out_console.print(plain(line), soft_wrap=True)


@canary_app.command("status")
def status(
    feature: FeatureArg,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="Decisions shown.")] = 5,
    db: Db = None,
    as_json: AsJson = False,
) -> None:
    """Show FEATURE's canary: both arms since it started and its latest decisions."""
    from releasegate.bootstrap import ControlPlaneParts

    database = open_db(db)
    try:
        with store_errors():
            result = ControlPlaneParts.on_database(database).canary().status(feature, limit=limit)
    finally:
        database.close()
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), indent=2) + "\n")
    else:
        _print_status(result)


@canary_app.command("analyze")
def analyze(
    feature: Annotated[
        str | None, typer.Argument(help="Feature name (default: every running canary).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Record the decisions without acting.")
    ] = False,
    webhook: Webhook = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Config file whose online.canary policy applies [./releasegate.yaml]",
        ),
    ] = None,
    db: Db = None,
    as_json: AsJson = False,
) -> None:
    """Run the canary analysis now, store each decision and act on it.

    The analysis policy is the project's online.canary section when a config file is
    given or in the current folder, else the built-in defaults.
    """
    from releasegate.bootstrap import ControlPlaneParts, project_online
    from releasegate.bootstrap.online import canary_policy_for

    policy_for = canary_policy_for(project_online(config))
    database = open_db(db)
    try:
        with store_errors():
            service = ControlPlaneParts.on_database(database).canary(
                webhooks=webhook or (), apply=not dry_run, policy_for=policy_for
            )
            try:
                found = [service.analyze(feature)] if feature else service.analyze_all()
            finally:
                if service.alerts is not None:
                    service.alerts.close()
    finally:
        database.close()
    decisions: Sequence[StoredDecision] = [d for d in found if d is not None]
    if as_json:
        sys.stdout.write(json.dumps([d.to_json() for d in decisions], indent=2) + "\n")
        return
    if not decisions:
        what = f"{feature} has no running canary" if feature else "no canary is running"
        out_console.print(plain(what), soft_wrap=True)
        return
    for d in decisions:
        for line in _decision_lines(d):
            out_console.print(plain(line), soft_wrap=True)

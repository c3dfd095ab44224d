"""``releasegate online status``: the scoring backlog, throughput and judge cost."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from releasegate.cli._app import app
from releasegate.cli._common import out_console, plain, print_table
from releasegate.cli._control import AsJson, Db, open_db, store_errors

if TYPE_CHECKING:
    from releasegate.ports import ScoringCounts

__all__ = ["online_app", "status_command"]

online_app = typer.Typer(help="Online evaluation: scoring of recorded interactions.")
app.add_typer(online_app, name="online", no_args_is_help=True)


def status_json(counts: ScoringCounts, *, pending_jobs: int | None, now: Any) -> dict[str, Any]:
    """The JSON that ``online status --json`` prints."""
    oldest = counts.oldest_unscored_at
    return {
        "backlog": counts.backlog,
        "oldest_unscored_at": oldest.isoformat() if oldest else None,
        "oldest_unscored_age_s": (now - oldest).total_seconds() if oldest else None,
        "scored_last_minute": counts.scored_last_minute,
        "scored_last_hour": counts.scored_last_hour,
        "scored_total": counts.scored_total,
        "throughput_per_s_last_minute": counts.scored_last_minute / 60.0,
        "judge_cost_usd": counts.judge_cost_usd,
        "judge_cost_last_hour_usd": counts.judge_cost_last_hour_usd,
        "queued_jobs": pending_jobs,
    }


@online_app.command("status")
def status_command(
    as_json: AsJson = False,
    queue: Annotated[
        str | None,
        typer.Option("--queue", help="Also count the jobs waiting in this queue."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="Config file (for online.queue) [./releasegate.yaml if present]"
        ),
    ] = None,
    db: Db = None,
) -> None:
    """Backlog (interactions due a score), oldest unscored age, scoring throughput and
    judge cost."""
    from releasegate.deploy.model import utcnow

    database = open_db(db)
    try:
        with store_errors():
            uow = database.uow(write=False)
            now = utcnow()
            with uow:
                counts = uow.scores.counts(now)
        from releasegate.bootstrap import project_online
        from releasegate.bootstrap.online import queue_location

        location = queue
        online = project_online(config)  # --config, else ./releasegate.yaml if present
        if online is not None:
            location = queue_location(online, database.url, queue)
        pending = None
        if location is not None:
            from releasegate.bootstrap.online import open_jobs

            pending = open_jobs(location, online=online).pending()
    finally:
        database.close()
    body = status_json(counts, pending_jobs=pending, now=now)
    if as_json:
        out_console.print_json(json.dumps(body))
        return
    age = body["oldest_unscored_age_s"]
    rows = [
        ["backlog (due a score)", str(counts.backlog)],
        ["oldest unscored", "none" if age is None else f"{age:.0f} s ago"],
        [
            "scored, last minute",
            f"{counts.scored_last_minute} ({counts.scored_last_minute / 60:.2f}/s)",
        ],
        ["scored, last hour", str(counts.scored_last_hour)],
        ["scored, kept in total", str(counts.scored_total)],
        ["judge cost, last hour", f"${counts.judge_cost_last_hour_usd:.4f}"],
        ["judge cost, kept in total", f"${counts.judge_cost_usd:.4f}"],
    ]
    if pending is not None:
        rows.append(["jobs waiting in the queue", str(pending)])
    print_table(out_console, ("online scoring", "value"), rows)
    if counts.backlog and not counts.scored_last_minute:
        out_console.print(
            plain("note: nothing was scored in the last minute; is `releasegate worker` running?")
        )
    if online is not None and not online.features:
        out_console.print(
            plain(
                "note: no feature has online checks (online.features in releasegate.yaml): "
                "nothing recorded is scored"
            )
        )
    elif online is None and not counts.scored_total:
        out_console.print(
            plain(
                "note: no releasegate.yaml here (or --config): which features are scored is unknown"
            )
        )

"""``releasegate worker``: run the online jobs (scoring, canary analysis, retention)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from releasegate.cli._app import app
from releasegate.cli._common import err_console
from releasegate.cli._control import Db, open_db

__all__ = ["worker_command"]

Config = Annotated[
    Path | None, typer.Option("--config", "-c", help="Config file [./releasegate.yaml]")
]


if TYPE_CHECKING:
    from releasegate.store.database import Database


@app.command("worker")
def worker_command(
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=1, max=64, help="Jobs run at once (threads).")
    ] = 2,
    queue: Annotated[
        str | None,
        typer.Option(
            "--queue",
            help="redis:// URL or SQLite file of the queue (default: online.queue in the "
            "config, else a file next to a SQLite database).",
        ),
    ] = None,
    alert_webhook: Annotated[
        list[str] | None,
        typer.Option(
            "--alert-webhook",
            help="URL that rollback, hold and alert decisions are posted to (repeatable).",
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every job.")] = False,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port",
            min=1,
            max=65535,
            help="Serve Prometheus metrics (backlog, oldest unscored age, throughput, judge "
            "cost) on this port of 127.0.0.1.",
        ),
    ] = None,
    config: Config = None,
    db: Db = None,
) -> None:
    """Score sampled interactions and run the canary analysis and retention purge.

    Runs until Ctrl-C (finishes the jobs in progress) or SIGTERM. Any number of workers
    may run against one queue and database: a score is stored once, each periodic job
    runs once per period.
    """
    from releasegate.bootstrap.online import (
        canary_policy_for,
        open_jobs,
        purge_expired,
        queue_location,
        worker_parts,
    )
    from releasegate.control.deployments import DeploymentService
    from releasegate.deploy.model import utcnow
    from releasegate.online.alerts import WebhookAlerts
    from releasegate.online.canary_service import CanaryService
    from releasegate.project import load_project
    from releasegate.queue import Handlers

    project = load_project(config)
    online = project.config.online
    database = open_db(db)
    location = queue_location(online, database.url, queue)
    parts = worker_parts(project, database.uow)
    alerts = WebhookAlerts(alert_webhook) if alert_webhook else None
    policy_for = canary_policy_for(online)

    def analyze() -> object:
        service = CanaryService(
            database.uow(),
            DeploymentService(database.uow()),
            policy_for=policy_for,
            alerts=alerts,
        )
        return [f"{d.deployment_id}: {d.action}" for d in service.analyze_all()]

    def sweep() -> list[int]:
        from datetime import timedelta

        uow = database.uow(write=False)
        with uow:
            before = utcnow() - timedelta(seconds=online.sweep_after_s)
            return uow.scores.unscored(before=before, limit=1000)

    handlers = Handlers(
        score=parts.scoring.score,
        analyze=analyze,
        purge=lambda: purge_expired(database.uow, online),
        sweep=sweep,
    )
    jobs = open_jobs(location, handlers=handlers, online=online)
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not verbose:
        logging.getLogger("huey").setLevel(logging.WARNING)
    err_console.print(
        f"releasegate worker: {workers} thread(s); queue {_safe(location)}; "
        f"database {database.safe_url}; features scored: "
        f"{', '.join(sorted(online.features)) or 'none'}",
        markup=False,
        highlight=False,
    )
    if metrics_port is not None:
        _serve_metrics(database, metrics_port)
    try:
        jobs.run(workers=workers)
    finally:
        parts.close()
        if alerts is not None:
            alerts.close()
        database.close()


def _safe(location: str) -> str:
    from releasegate.store.engine import redact

    return redact(location) if "://" in location else location


def _serve_metrics(database: Database, port: int) -> None:
    """Expose the scoring counts on ``/metrics`` (read at each scrape, from the store)."""
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    from releasegate.deploy.model import utcnow

    class Scoring:
        def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
            now = utcnow()
            with database.uow(write=False) as uow:
                c = uow.scores.counts(now)
            age = (now - c.oldest_unscored_at).total_seconds() if c.oldest_unscored_at else 0.0
            yield GaugeMetricFamily(
                "releasegate_scoring_backlog", "Interactions due a score, not scored yet", c.backlog
            )
            yield GaugeMetricFamily(
                "releasegate_scoring_oldest_unscored_age_seconds",
                "Age of the oldest interaction still waiting for its score",
                age,
            )
            yield GaugeMetricFamily(
                "releasegate_scored_last_minute",
                "Interactions scored in the last minute",
                c.scored_last_minute,
            )
            yield CounterMetricFamily("releasegate_scored", "Interactions scored", c.scored_total)
            yield CounterMetricFamily(
                "releasegate_judge_cost_usd",
                "Money model-graded checks spent (US dollars)",
                c.judge_cost_usd,
            )

    registry = CollectorRegistry()
    registry.register(Scoring())
    start_http_server(port, addr="127.0.0.1", registry=registry)

"""Redis stopped under traffic, then started again, with gateways and a worker running."""

from __future__ import annotations

import uuid

import httpx

from tests.e2e.scale._stack import (
    Scale,
    ask,
    backlog,
    gateway_process,
    score_rows_per_interaction,
    stored_request_ids,
    wait_for,
)
from tests.integration.online._worker import worker

ONLINE = {
    "features": {
        "chat": {
            "checks": [{"type": "max-words", "value": 50}],
            "sample": {"canary": 1.0, "incumbent": 1.0},
        }
    }
}


def test_redis_down_budgets_fail_closed_recording_goes_on_and_all_recover(scale: Scale) -> None:
    """While Redis is down: a gateway with token budgets refuses with 503
    ``budget_store_unavailable`` (fails closed, the default); a gateway without budgets
    keeps answering and its records keep reaching PostgreSQL, though their scoring jobs
    cannot be queued; the worker keeps running. Once Redis is back, without restarting
    anything: budgets admit again, and the worker's sweep queues the interactions left
    unscored, so every interaction is scored, each exactly once."""
    budgeted = scale.config(
        "budgeted",
        gateway={
            "redis_url": scale.redis.url,
            "budgets": {
                "tokens_per_window": 1_000_000,
                "key_prefix": f"rg-scale:{uuid.uuid4().hex}:",
                "store_timeout_s": 0.5,
            },
        },
        online=ONLINE,
    )
    plain = scale.config("plain", online=ONLINE)
    stack = scale.stack(plain)
    log = scale.root / "worker.log"
    with (
        gateway_process(scale, budgeted, "budgeted") as gb,
        gateway_process(scale, plain, "plain") as gp,
        worker(stack) as proc,
        httpx.Client() as client,
    ):
        before = [ask(client, g.url, f"u{i}") for i in range(5) for g in (gb, gp)]
        assert {a.status for a in before} == {200}
        wait_for("the first records to be scored", lambda: len(stored_request_ids(scale)) == 10
                 and backlog(scale) == 0, log=log)  # fmt: skip

        scale.redis.stop()
        refused = [ask(client, gb.url, f"u{i}") for i in range(5)]
        assert {a.status for a in refused} == {503}
        assert all("budget_store_unavailable" in a.text for a in refused)
        served = [ask(client, gp.url, f"u{i}") for i in range(10)]
        assert {a.status for a in served} == {200}
        ids = {a.request_id for a in served}
        wait_for("the records made while Redis is down to be stored",
                 lambda: ids <= stored_request_ids(scale), log=gp.log)  # fmt: skip
        assert backlog(scale) >= len(ids)  # recorded, not scored: no job could be queued
        assert proc.poll() is None

        scale.redis.start()  # empty: whatever was queued before is gone too
        after = [ask(client, gb.url, f"u{i}") for i in range(5)]
        assert {a.status for a in after} == {200}
        assert gb.proc.poll() is None and gp.proc.poll() is None and proc.poll() is None
        wait_for("the worker's sweep to score what was recorded meanwhile",
                 lambda: backlog(scale) == 0, log=log)  # fmt: skip
    rows = score_rows_per_interaction(scale)
    assert len(rows) == len(stored_request_ids(scale)) == 30
    assert set(rows.values()) == {2}  # overall + max-words, once each

"""Records sent to the API are scored by the worker: ``api serve --config`` samples and
enqueues them with the project's scoring plan, as the Python client and the gateway
expect; the redaction of the project applies on the way in."""

from __future__ import annotations

from pathlib import Path

import httpx

from releasegate.bootstrap import ControlPlaneParts
from releasegate.deploy.model import utcnow
from releasegate.deploy.tokens import Scope
from tests.e2e.deploy._cli import serve_api
from tests.integration.online._worker import flushed, make_stack, wait_for, worker


def test_records_posted_to_the_api_are_scored_by_a_worker(
    database_url: str, tmp_path: Path
) -> None:
    stack = make_stack(database_url, tmp_path)
    database = stack.database()
    token = (
        ControlPlaneParts.on_database(database).tokens().create("recorder", Scope.INGEST, actor="t")
    )
    records = [
        {
            "feature": "chat",
            "request_id": f"api-{i}",
            "prompt": [{"role": "user", "content": "mail me at jo@example.com"}],
            "response": "your refund is on its way" if i % 2 else "no idea",
        }
        for i in range(40)
    ]
    with (
        flushed(stack),
        serve_api(stack.db_url, tmp_path, extra=("--config", str(stack.config))) as url,
    ):
        r = httpx.post(
            url + "/v1/interactions",
            json={"records": records},
            headers={"Authorization": f"Bearer {token.secret}"},
            timeout=30,
        )
        assert r.status_code == 200, r.text
        with worker(stack):

            def scored() -> bool:
                with database.uow(write=False) as uow:
                    return uow.scores.counts(utcnow()).scored_total == 40

            wait_for("the API's records to be scored", scored, log=stack.root / "worker.log")
    with database.uow(write=False) as uow:
        stored = uow.interactions.by_request_ids([r["request_id"] for r in records])
        values = {
            rid: next(
                s.value for s in uow.scores.for_interaction(i.id or 0) if s.check == "overall"
            )
            for rid, i in stored.items()
        }
    assert all("jo@example.com" not in str(i.prompt) for i in stored.values())  # redacted
    assert values["api-1"] == 1.0 and values["api-0"] == 0.5  # contains fails, max-words passes
    database.close()

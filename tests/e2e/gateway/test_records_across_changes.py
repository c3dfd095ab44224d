"""Requests in == records out while the canary is promoted and rolled back under load:
two real gateway processes (``releasegate serve --gateway``) on one store (SQLite,
PostgreSQL), each with its record writer process, concurrent requests with their own
request ids, and the deployments changed while they run."""

from __future__ import annotations

import asyncio
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import yaml

from releasegate.control.deployments import DeploymentService
from releasegate.store.database import open_database
from releasegate.store.schema import interactions
from tests.e2e.gateway._process import PROMPT, PROMPT2, Served, serve
from tests.integration.store._db import _new_pg_database
from tests.support.gateway_upstream import GatewayUpstream

VERSIONS = ("v1", "v2", "v3", "v4", "v5")
COUNTERS = ("submitted", "written", "dropped", "rejected", "queued")
FAILURES = "releasegate_gateway_record_write_failures"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated store: ``chat`` with v1 active, v2 a 50 % canary, v3..v5 approved."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'rg.sqlite'}"
        else:
            url = stack.enter_context(_new_pg_database("releasegate_e2e"))
        db = open_database(url, create=True, auto_upgrade=True)
        svc = DeploymentService(db.uow())
        for i, v in enumerate(VERSIONS):
            prompt = "chat@1.0.0" if i % 2 == 0 else "chat2@1.0.0"
            svc.register("chat", v, prompt=prompt, model=f"m-{i % 2 + 1}", actor="t")
            svc.approve("chat", v, actor="t")
        svc.promote("chat", "v1", actor="t")
        svc.canary("chat", "v2", actor="t", share=0.5)
        db.close()
        yield url


def counters(g: Served) -> dict[str, int]:
    text = g.metrics()
    out = {}
    for name in COUNTERS:
        match = re.search(rf"^releasegate_gateway_records_{name} (\S+)$", text, re.M)
        assert match, f"releasegate_gateway_records_{name} not in /metrics"
        out[name] = int(float(match.group(1)))
    match = re.search(rf"^{FAILURES} (\S+)$", text, re.M)
    assert match, f"{FAILURES} not in /metrics"
    out["failed_attempts"] = int(float(match.group(1)))
    return out


def changes(db_url: str, seen: set[tuple[int, str, str]], gateways: int, done: list[str]) -> None:
    """Promote v2, start and abort the canary v3, start v4, promote it and roll it back
    (v2 restored), start v5 and promote it. After each change with a (version, arm)
    never served before, wait until every gateway has served it (its routing reads the
    store every few seconds), so each change lands in the middle of the traffic."""
    db = open_database(db_url)
    svc = DeploymentService(db.uow())
    steps: list[tuple[str, Callable[[], object], tuple[str, str] | None]] = [
        ("promote v2", lambda: svc.promote("chat", "v2", actor="t"), ("v2", "incumbent")),
        ("canary v3", lambda: svc.canary("chat", "v3", actor="t", share=0.5), ("v3", "canary")),
        ("abort v3", lambda: svc.rollback("chat", actor="t", reason="abort"), None),
        ("canary v4", lambda: svc.canary("chat", "v4", actor="t", share=0.5), ("v4", "canary")),
        ("promote v4", lambda: svc.promote("chat", "v4", actor="t"), ("v4", "incumbent")),
        ("roll back v4", lambda: svc.rollback("chat", actor="t", reason="worse"), None),
        ("canary v5", lambda: svc.canary("chat", "v5", actor="t", share=0.5), ("v5", "canary")),
        ("promote v5", lambda: svc.promote("chat", "v5", actor="t"), ("v5", "incumbent")),
    ]
    try:
        for name, step, expect in steps:
            time.sleep(0.3)
            step()
            done.append(name)
            deadline = time.monotonic() + 60
            while expect is not None and time.monotonic() < deadline:
                if all((g, *expect) in seen for g in range(gateways)):
                    break
                time.sleep(0.05)
            else:
                if expect is not None:
                    done.append(f"{expect} never served after {name}")
                    return
    finally:
        db.close()


def test_requests_in_equal_records_out_across_promotions_and_rollbacks(
    tmp_path: Path, db_url: str
) -> None:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "chat.yaml").write_text(yaml.safe_dump(PROMPT))
    (tmp_path / "prompts" / "chat2.yaml").write_text(yaml.safe_dump(PROMPT2))
    with GatewayUpstream.run_in_thread() as up, ExitStack() as stack:
        config = {
            "version": 1,
            "prompts": "prompts/",
            "providers": {"main": {"type": "openai", "base_url": up.base_url, "model": "m-1"}},
            "gateway": {"default_provider": "main"},
        }
        (tmp_path / "releasegate.yaml").write_text(yaml.safe_dump(config))
        gateways = [
            stack.enter_context(serve(tmp_path, db_url, name=f"gateway-{i}")) for i in range(2)
        ]
        sent: list[tuple[str, int]] = []
        seen: set[tuple[int, str, str]] = set()
        stop = threading.Event()
        done: list[str] = []
        changer = threading.Thread(target=changes, args=(db_url, seen, len(gateways), done))

        async def client(http: httpx.AsyncClient, index: int) -> None:
            while not stop.is_set():
                rid = uuid.uuid4().hex
                reply = await http.post(
                    gateways[index].url + "/v1/chat/completions",
                    headers={"X-Request-Id": rid, "X-Releasegate-Unit": rid},
                    json={"model": "chat", "messages": [{"role": "user", "content": rid}]},
                )
                sent.append((rid, reply.status_code))
                h = reply.headers
                seen.add((index, h["x-releasegate-version"], h["x-releasegate-arm"]))

        async def load() -> None:
            async with httpx.AsyncClient(timeout=30) as http:
                tasks = [
                    asyncio.create_task(client(http, i))
                    for i in range(len(gateways))
                    for _ in range(6)
                ]
                await asyncio.to_thread(changer.join)
                await asyncio.sleep(0.5)  # a little traffic after the last change
                stop.set()
                await asyncio.gather(*tasks)

        changer.start()
        try:
            asyncio.run(load())
        finally:
            stop.set()
            changer.join()
        assert len(done) == 8 and "never" not in done[-1], done  # all ran under load
        assert {s for _, s in sent} == {200}
        # Wait until each gateway has accounted for every record it was handed.
        for _ in range(600):
            now = [counters(g) for g in gateways]
            if all(
                c["queued"] == 0 and c["submitted"] == c["written"] + c["dropped"] + c["rejected"]
                for c in now
            ):
                break
            time.sleep(0.1)
        totals = {k: sum(c[k] for c in now) for k in (*COUNTERS, "failed_attempts")}
        assert totals == {
            "submitted": len(sent),
            "written": len(sent),
            "dropped": 0,
            "rejected": 0,
            "queued": 0,
            # no batch was refused for a lock conflict with a change or the other writer
            "failed_attempts": 0,
        }
        engine = sa.create_engine(db_url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    sa.select(interactions.c.request_id, interactions.c.version)
                ).all()
        finally:
            engine.dispose()
    ids = [r for r, _ in rows]
    assert len(ids) == len(set(ids))  # never twice
    assert sorted(ids) == sorted(r for r, _ in sent)  # and never missing
    # every version served (and was recorded) in turn
    assert {v for _, v in rows} == set(VERSIONS)

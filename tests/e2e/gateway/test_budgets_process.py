"""Token budgets in real gateway processes (``releasegate serve --gateway``) in front of
a real mock upstream: concurrent requests never overshoot a tenant's budget, in one
process and in two processes sharing Redis; per-request caps; Redis down -> 503."""

from __future__ import annotations

import asyncio
import math
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import yaml

from releasegate.control.deployments import DeploymentService
from releasegate.store.database import open_database
from tests.e2e.deploy._cli import free_port
from tests.e2e.gateway._process import serve
from tests.support.gateway_upstream import GatewayUpstream

PROMPT = {
    "name": "chat",
    "version": "1.0.0",
    "model": "m-1",
    "system": "You are v1.",
    "template": "Q: {{ input }}",
}
MAX_TOKENS = 100  # what each race request asks for; the upstream answers exactly that
NEED = 5 + MAX_TOKENS  # the prompt ("You are v1." + "Q: hello") is 5 tokens at 4 chars each
BUDGET = 10 * NEED + NEED // 2  # room for ten requests, not eleven


@dataclass
class Project:
    root: Path
    db_url: str
    upstream: GatewayUpstream


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    root = tmp_path_factory.mktemp("budgets")
    # A slow upstream keeps the admitted requests in flight while the rest arrive, and its
    # answer uses exactly the tokens reserved, so settling frees nothing mid-race.
    with GatewayUpstream.run_in_thread(reply="y" * 4 * MAX_TOKENS, delay_ms=300) as up:
        (root / "prompts").mkdir()
        (root / "prompts" / "chat.yaml").write_text(yaml.safe_dump(PROMPT))
        db_url = f"sqlite:///{root / 'rg.sqlite'}"
        db = open_database(db_url, create=True)
        db.upgrade()
        svc = DeploymentService(db.uow())
        svc.register("chat", "v1", prompt="chat@1.0.0", model="m-1", actor="t")
        svc.approve("chat", "v1", actor="t")
        svc.promote("chat", "v1", actor="t")
        db.close()
        yield Project(root, db_url, up)


@contextmanager
def gateway(project: Project, name: str, gateway_config: dict[str, Any]) -> Iterator[str]:
    """A gateway process for ``project`` with this ``gateway:`` section; yields its URL."""
    config = {
        "version": 1,
        "providers": {
            "main": {"type": "openai", "base_url": project.upstream.base_url, "model": "m-1"}
        },
        "prompts": "prompts/",
        "gateway": {"default_provider": "main", **gateway_config},
    }
    path = project.root / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    with serve(project.root, project.db_url, name=name, config=path) as served:
        yield served.url


def rejections(url: str, reason: str) -> float:
    text = httpx.get(url + "/metrics").text
    pattern = (
        r"^releasegate_gateway_budget_rejections_total\{"
        rf'feature="chat",reason="{reason}",version="v1"\}} (\S+)$'
    )
    match = re.search(pattern, text, re.M)
    return float(match.group(1)) if match else 0.0


async def race(urls: list[str], tenant: str, n: int = 50) -> list[httpx.Response]:
    """``n`` requests at once, spread over ``urls`` in turn."""
    limits = httpx.Limits(max_connections=n)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def one(i: int) -> httpx.Response:
            return await client.post(
                urls[i % len(urls)] + "/v1/chat/completions",
                json={
                    "model": "chat",
                    "messages": [{"role": "user", "content": "hello"}],
                    "max_tokens": MAX_TOKENS,
                },
                headers={"X-Releasegate-Tenant": tenant, "X-Releasegate-Unit": f"u{i}"},
            )

        return list(await asyncio.gather(*(one(i) for i in range(n))))


def check_race(responses: list[httpx.Response]) -> None:
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 10 + [429] * 40, statuses
    for r in responses:
        if r.status_code == 429:
            error = r.json()["error"]
            assert error["code"] == "token_budget_exceeded"
            assert error["type"] == "rate_limit_error"
            assert 1 <= int(r.headers["retry-after"]) <= 60
            assert r.headers["x-releasegate-version"] == "v1"


BUDGETS = {"tokens_per_window": BUDGET, "window_s": 60, "max_tokens": 200}


def test_one_process_admits_exactly_the_budget(project: Project) -> None:
    with gateway(project, "one", {"budgets": {**BUDGETS, "on_exceed": "reject"}}) as url:
        responses = asyncio.run(race([url], "race-one"))
        check_race(responses)
        assert rejections(url, "tenant_budget") == 40
        # Another tenant has its own budget ...
        with openai.OpenAI(base_url=url + "/v1", api_key="x", max_retries=0) as sdk:
            sdk.chat.completions.create(
                model="chat",
                messages=[{"role": "user", "content": "hello"}],
                max_tokens=10,
                extra_headers={"X-Releasegate-Tenant": "someone-else"},
            )
            # ... and a request above the per-request cap is refused, naming it.
            with pytest.raises(openai.BadRequestError) as info:
                sdk.chat.completions.create(
                    model="chat", messages=[{"role": "user", "content": "hello"}], max_tokens=201
                )
        error = info.value.response.json()["error"]
        assert error["code"] == "max_tokens_over_limit" and error["param"] == "max_tokens"
        assert "201" in error["message"] and "200" in error["message"]
        assert rejections(url, "max_tokens") == 1


def test_two_processes_sharing_redis_admit_exactly_the_budget(
    project: Project, redis_url: str
) -> None:
    shared = {
        "redis_url": redis_url,
        "budgets": {
            **BUDGETS,
            "on_exceed": "truncate",
            "key_prefix": f"rg-test:{uuid.uuid4().hex}:",
        },
    }
    with ExitStack() as stack:
        urls = [stack.enter_context(gateway(project, f"shared{i}", shared)) for i in (1, 2)]
        responses = asyncio.run(race(urls, "race-shared"))
        check_race(responses)
        assert sum(rejections(u, "tenant_budget") for u in urls) == 40
        assert all(rejections(u, "tenant_budget") > 0 for u in urls)  # both took part
        # With on_exceed: truncate, a request above the cap goes out lowered to it.
        project.upstream.reset()
        reply = httpx.post(
            urls[0] + "/v1/chat/completions",
            json={"model": "chat", "messages": [{"role": "user", "content": "hi"}]}
            | {"max_tokens": 5000},
            headers={"X-Releasegate-Tenant": "truncated"},
            timeout=30,
        )
        assert reply.status_code == 200, reply.text
        assert project.upstream.requests[-1].body["max_tokens"] == 200


def test_redis_unreachable_fails_closed(project: Project) -> None:
    port = free_port()  # nothing listens there
    config = {"redis_url": f"redis://127.0.0.1:{port}/0", "budgets": BUDGETS}
    with gateway(project, "down", config) as url:
        reply = httpx.post(
            url + "/v1/chat/completions",
            json={"model": "chat", "messages": [{"role": "user", "content": "hi"}]},
            timeout=30,
        )
        assert reply.status_code == 503, reply.text
        error = reply.json()["error"]
        assert error["code"] == "budget_store_unavailable"
        assert "budget store is unreachable" in error["message"]
        assert rejections(url, "store_unavailable") == 1
        assert httpx.get(url + "/readyz").status_code == 200


@pytest.mark.parametrize("store", ["local", "redis"])
def test_a_client_gone_mid_stream_gives_its_reservation_back(
    project: Project, store: str, request: pytest.FixtureRequest
) -> None:
    budgets: dict[str, Any] = {"tokens_per_window": 1000, "window_s": 60}
    # No stall timeout to end the stream for it: only the caller's leaving can.
    config: dict[str, Any] = {"budgets": budgets, "stall_timeout_s": 600}
    if store == "redis":
        config["redis_url"] = request.getfixturevalue("redis_url")
        budgets["key_prefix"] = f"rg-test:{uuid.uuid4().hex}:"
    tenant, rid = f"gone-{uuid.uuid4().hex[:8]}", f"gone-{uuid.uuid4().hex[:8]}"
    body = {"model": "chat", "messages": [{"role": "user", "content": "hello"}]}
    headers = {"X-Releasegate-Tenant": tenant, "X-Releasegate-Unit": "u1"}
    with gateway(project, f"gone-{store}", config) as url:
        project.upstream.stall_stream_after(2, 600.0)  # two chunks, then nothing for long
        with (
            httpx.Client(timeout=30) as client,
            client.stream(
                "POST",
                url + "/v1/chat/completions",
                json={**body, "stream": True, "max_tokens": 900},  # holds 905 of 1000
                headers={**headers, "X-Request-Id": rid},
            ) as resp,
        ):
            assert resp.status_code == 200
            seen = 0
            for line in resp.iter_lines():
                seen += line.startswith("data: ")
                if seen == 2:
                    break  # leaving the block closes the connection mid-stream

        def second() -> httpx.Response:
            return httpx.post(
                url + "/v1/chat/completions",
                json={**body, "max_tokens": 900},
                headers=headers,
                timeout=30,
            )

        # The gateway notices the caller gone, stops reading the upstream and settles
        # what was relayed (at most a few 429s while it does).
        for _ in range(120):
            answer = second()
            if answer.status_code == 200:
                break
            assert answer.status_code == 429
            time.sleep(0.5)
        assert answer.status_code == 200, "the reservation of the gone client was kept"
        db = open_database(project.db_url)
        try:
            for _ in range(300):
                with db.uow(write=False) as uow:
                    found = uow.interactions.by_request_ids([rid])
                if found:
                    break
                time.sleep(0.1)
        finally:
            db.close()
        gone = found[rid]
        assert gone.metadata is not None and gone.metadata["error_stage"] == "client"
        assert gone.metadata["usage_estimated"] is True
        assert gone.response is not None and gone.response.startswith("piece0")
        if store == "redis":
            from releasegate.gateway.budget_redis import RedisBudgetStore

            async def read() -> int:
                counts = RedisBudgetStore(config["redis_url"], 60, prefix=budgets["key_prefix"])
                try:
                    return await counts.used(tenant)
                finally:
                    await counts.close()

            settled = math.ceil(len("You are v1.Q: hello") / 4) + math.ceil(len(gone.response) / 4)
            used = asyncio.run(read())
            assert used == settled + answer.json()["usage"]["total_tokens"]

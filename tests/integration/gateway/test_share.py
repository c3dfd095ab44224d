"""The canary share over 10,000 units, measured through the gateway's own routing."""

from __future__ import annotations

import httpx
import pytest

from releasegate.control.deployments import DeploymentService
from releasegate.control.router import Router
from releasegate.gateway import FallbackChain, MemoryRecorder, create_gateway
from releasegate.store.memory import InMemoryUnitOfWork, MemoryData
from tests.integration.gateway.conftest import PROMPTS, ship


@pytest.mark.slow
async def test_share_within_tolerance_over_10000_units_and_sticky() -> None:
    data = MemoryData()
    svc = DeploymentService(InMemoryUnitOfWork(data))
    ship(svc, "v1", "chat@1.0.0", "m-1")
    svc.promote("chat", "v1", actor="t")
    ship(svc, "v2", "chat@2.0.0", "m-2")
    svc.canary("chat", "v2", actor="t", share=0.3)
    recorder = MemoryRecorder(capacity=20_000)
    # No upstream at all: every request gets the fixed answer, so this measures routing.
    gateway = create_gateway(
        router=Router(lambda: InMemoryUnitOfWork(data)),
        upstreams={},
        prompts=PROMPTS,
        recorder=recorder,
        fallbacks={"*": FallbackChain(answer="ok")},
    )
    transport = httpx.ASGITransport(app=gateway)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        body = {"model": "chat", "messages": [{"role": "user", "content": "x"}]}
        first: dict[str, str] = {}
        for i in range(10_000):
            resp = await client.post("/v1/chat/completions", json={**body, "user": f"u{i}"})
            first[f"u{i}"] = resp.headers["x-releasegate-version"]
        for i in range(0, 10_000, 10):  # again: the same version for the same unit
            resp = await client.post("/v1/chat/completions", json={**body, "user": f"u{i}"})
            assert resp.headers["x-releasegate-version"] == first[f"u{i}"]
    share = sum(v == "v2" for v in first.values()) / len(first)
    assert abs(share - 0.3) < 0.02, share  # > 4 standard deviations
    assert recorder.submitted == 11_000 and recorder.dropped == 0

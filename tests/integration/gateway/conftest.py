"""A gateway in process (httpx ASGITransport) in front of a real mock upstream."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from releasegate.control.deployments import DeploymentService
from releasegate.control.router import Router
from releasegate.deploy.plans import preset
from releasegate.gateway import (
    BreakerPolicy,
    Breakers,
    FallbackChain,
    Gateway,
    LocalBreaker,
    MemoryRecorder,
    ShadowPolicy,
    Upstream,
    create_gateway,
)
from releasegate.gateway.tracing import Tracing
from releasegate.prompts import Prompt
from releasegate.store.memory import InMemoryUnitOfWork, MemoryData
from tests.support.gateway_upstream import GatewayUpstream

PROMPTS = {
    ("chat", "1.0.0"): Prompt(
        name="chat", version="1.0.0", model="m-1", system="You are v1.", template="Q: {{ input }}"
    ),
    ("chat", "2.0.0"): Prompt(
        name="chat", version="2.0.0", model="m-2", system="You are v2.", template="{{ input }}!"
    ),
}


class Clock:
    """A settable monotonic clock for breakers."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Rig:
    gateway: Gateway
    client: httpx.AsyncClient
    recorder: MemoryRecorder
    primary: GatewayUpstream
    backup: GatewayUpstream
    service: DeploymentService
    router: Router
    clock: Clock

    async def chat(self, content: str = "hello", **kwargs: Any) -> httpx.Response:
        headers = kwargs.pop("headers", {"X-Releasegate-Unit": "u1"})
        body = {"model": "chat", "messages": [{"role": "user", "content": content}], **kwargs}
        return await self.client.post("/v1/chat/completions", json=body, headers=headers)


def ship(svc: DeploymentService, version: str, prompt: str, model: str, **params: Any) -> None:
    svc.register("chat", version, prompt=prompt, model=model, params=params, actor="t")
    svc.approve("chat", version, actor="t")


@pytest.fixture
async def make_rig() -> AsyncIterator[Callable[..., Any]]:
    made: list[Rig] = []

    async def build(
        *,
        fallbacks: dict[str, FallbackChain] | None = None,
        policy: BreakerPolicy | None = None,
        stall_timeout_s: float = 30.0,
        read_timeout_s: float = 5.0,
        canary_share: float | None = None,
        shadow_candidate: bool = False,
        shadow: ShadowPolicy | None = None,
        tracing: Callable[[Callable[[str], Upstream | None]], Tracing] | None = None,
        primary_usage: str = "honour",
        primary_stream_usage: bool = True,
    ) -> Rig:
        primary = GatewayUpstream(stream_usage=primary_usage)
        backup = GatewayUpstream()
        await primary.start()
        await backup.start()
        data = MemoryData()
        svc = DeploymentService(InMemoryUnitOfWork(data))
        ship(svc, "v1", "chat@1.0.0", "m-1", temperature=0)
        svc.promote("chat", "v1", actor="t")
        if canary_share is not None:
            ship(svc, "v2", "chat@2.0.0", "m-2")
            svc.canary("chat", "v2", actor="t", share=canary_share)
        if shadow_candidate:  # v2 in a shadow stage: it answers too, never served
            ship(svc, "v2", "chat@2.0.0", "m-2")
            svc.canary("chat", "v2", actor="t", plan=preset("regulated"))
        router = Router(lambda: InMemoryUnitOfWork(data), ttl_s=0)
        clock = Clock()
        first = Upstream(
            "primary",
            primary.base_url,
            read_timeout_s=read_timeout_s,
            stream_usage=primary_stream_usage,
        )
        upstreams = {
            "m-1": first,
            "m-2": first,
            "m-backup": Upstream("backup", backup.base_url, read_timeout_s=read_timeout_s),
        }
        recorder = MemoryRecorder()
        gateway = create_gateway(
            router=router,
            upstreams=upstreams,
            prompts=PROMPTS,
            recorder=recorder,
            fallbacks=fallbacks,
            breakers=Breakers(lambda _n: LocalBreaker(policy, clock=clock)),
            stall_timeout_s=stall_timeout_s,
            embeddings=upstreams["m-1"],
            shadow=shadow,
            tracing=tracing(upstreams.get) if tracing is not None else None,
        )
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=gateway), base_url="http://gateway"
        )
        rig = Rig(gateway, client, recorder, primary, backup, svc, router, clock)
        made.append(rig)
        return rig

    yield build
    for rig in made:
        await rig.client.aclose()
        await rig.gateway.deps.pool.close()
        await rig.primary.stop()
        await rig.backup.stop()

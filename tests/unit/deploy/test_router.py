from __future__ import annotations

import logging

import pytest

from releasegate.control.deployments import DeploymentService
from releasegate.control.router import Router
from releasegate.deploy.bucketing import bucket
from releasegate.errors import NotFound
from releasegate.store.memory import InMemoryUnitOfWork, MemoryData


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def data() -> MemoryData:
    return MemoryData()


def service(data: MemoryData) -> DeploymentService:
    return DeploymentService(InMemoryUnitOfWork(data))


def ship(svc: DeploymentService, version: str, model: str = "m-1") -> None:
    svc.register("chat", version, prompt=f"chat@{version}", model=model, actor="t")
    svc.approve("chat", version, actor="t")


def test_routes_by_bucket_and_caches_until_invalidated(data: MemoryData) -> None:
    svc, clock = service(data), Clock()
    ship(svc, "v1")
    svc.promote("chat", "v1", actor="t")
    ship(svc, "v2", model="m-2")
    salt = svc.canary("chat", "v2", actor="t", share=0.3).salt
    assert salt is not None
    router = Router(lambda: InMemoryUnitOfWork(data), ttl_s=10.0, clock=clock)
    for i in range(500):
        r = router.route("chat", f"u{i}")
        expected = "v2" if bucket(salt, f"u{i}") < 0.3 else "v1"
        assert r.version == expected and r.arm == ("canary" if expected == "v2" else "incumbent")
    assert router.loads == 1
    svc.promote("chat", "v2", actor="t")
    assert router.route("chat", "u-any").version in ("v1", "v2")  # stale until ttl/invalidate
    router.invalidate("chat")
    assert router.route("chat", "u-any").version == "v2"
    assert router.loads == 2
    clock.now = 11.0
    router.route("chat", "u-any")
    assert router.loads == 3


def test_falls_back_with_a_warning(data: MemoryData, caplog: pytest.LogCaptureFixture) -> None:
    router = Router(lambda: InMemoryUnitOfWork(data), fallback_model="small-1")
    with caplog.at_level(logging.WARNING, logger="releasegate.router"):
        r = router.route("chat", "u1")
        router.route("chat", "u2")
    assert r.arm == "fallback" and r.model == "small-1" and r.version is None
    assert sum("no active version" in m for m in caplog.messages) == 1  # once per load


def test_no_fallback_raises(data: MemoryData) -> None:
    with pytest.raises(NotFound, match="no fallback model"):
        Router(lambda: InMemoryUnitOfWork(data)).route("chat", "u1")


def test_shadow_canary_is_attached_not_served(data: MemoryData) -> None:
    from releasegate.deploy.plans import preset

    svc = service(data)
    ship(svc, "v1")
    svc.promote("chat", "v1", actor="t")
    ship(svc, "v2")
    svc.canary("chat", "v2", actor="t", plan=preset("regulated"))
    r = Router(lambda: InMemoryUnitOfWork(data)).route("chat", "u1")
    assert r.version == "v1" and r.shadow is not None and r.shadow.version == "v2"


def test_sticky_across_share_increase(data: MemoryData) -> None:
    svc = service(data)
    ship(svc, "v1")
    svc.promote("chat", "v1", actor="t")
    ship(svc, "v2")
    svc.canary("chat", "v2", actor="t", share=0.05)
    router = Router(lambda: InMemoryUnitOfWork(data), ttl_s=0.0)
    before = {k: router.route("chat", f"k{k}").version for k in range(2000)}
    svc.canary("chat", "v2", actor="t", share=0.5)
    after = {k: router.route("chat", f"k{k}").version for k in range(2000)}
    assert all(after[k] == "v2" for k, v in before.items() if v == "v2")
    assert sum(v == "v2" for v in after.values()) > sum(v == "v2" for v in before.values())


# Keys that are not valid Unicode (lone surrogates, Python's surrogateescape of a
# non-UTF-8 byte), the empty key, and valid keys next to their replacement form.
ODD_KEYS = ["", "caf\udce9", "caf\ud800", "\udce2\udc82\udcac", "\ud83d\ude42", "\ude42", "ü"]


@pytest.mark.parametrize("share", [0.3, 0.5, 1.0])
def test_router_hashes_any_key_like_bucket(data: MemoryData, share: float) -> None:
    from releasegate.deploy.bucketing import scalar_text

    svc = service(data)
    ship(svc, "v1")
    svc.promote("chat", "v1", actor="t")
    ship(svc, "v2")
    salt = svc.canary("chat", "v2", actor="t", share=share).salt
    assert salt is not None
    router = Router(lambda: InMemoryUnitOfWork(data), ttl_s=60.0)
    keys = ODD_KEYS + [f"{k}{i}" for k in ODD_KEYS for i in range(40)]
    for key in keys:
        routed = router.route("chat", key)
        expected = "canary" if bucket(salt, key) < share else "incumbent"
        assert routed.arm == expected, key
        assert router.route("chat", scalar_text(key)).arm == expected
    if share == 1.0:
        assert router.route("chat", "").version == "v2"


def test_an_unreachable_store_keeps_the_last_known_routing(
    data: MemoryData, caplog: pytest.LogCaptureFixture
) -> None:
    """The store going away keeps every unit on the version it had; the store is tried
    again every ``stale_retry_s``; a feature never read still fails."""
    svc, clock = service(data), Clock()
    ship(svc, "v1")
    svc.promote("chat", "v1", actor="t")
    ship(svc, "v2", model="m-2")
    svc.canary("chat", "v2", actor="t", share=0.5)
    down = False

    def uow() -> InMemoryUnitOfWork:
        if down:
            raise ConnectionRefusedError("database down")
        return InMemoryUnitOfWork(data)

    router = Router(uow, ttl_s=5.0, stale_retry_s=1.0, clock=clock)
    before = {f"u{i}": router.route("chat", f"u{i}").version for i in range(100)}
    assert set(before.values()) == {"v1", "v2"}
    down, clock.now = True, 6.0
    with caplog.at_level(logging.WARNING, logger="releasegate.router"):
        assert {k: router.route("chat", k).version for k in before} == before
        clock.now = 6.5  # within stale_retry_s: not tried again
        router.route("chat", "u1")
        clock.now = 7.5
        router.route("chat", "u1")
    assert router.stale_serves == 2
    assert sum("last known routing" in m for m in caplog.messages) == 2
    with pytest.raises(ConnectionRefusedError):
        router.route("other", "u1")
    down, clock.now = False, 9.0
    svc.promote("chat", "v2", actor="t")
    assert router.route("chat", "u1").version == "v2"  # read again once the store is back

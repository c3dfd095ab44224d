"""Soak: 100,000 requests through a real gateway process (``releasegate serve
--gateway``) recording to the store, in front of the lean mock upstream.

The load is steady traffic (paced at :data:`RATE` requests/s, below what this machine
serves, so the record writer keeps up as it would in production; saturation is the
benchmark's job). The memory of the gateway process and of its record writer is sampled
every 2 s while the load runs; after a warm-up neither may trend upwards. At the end
every request has exactly one stored interaction (one in a hundred is malformed: stored
under the reserved ``_gateway`` pseudo-feature) and nothing was dropped. Nothing here
asserts a duration.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import httpx
import numpy as np
import pytest
import yaml

from releasegate.control.deployments import DeploymentService
from releasegate.deploy.names import GATEWAY_FEATURE
from releasegate.store.database import Database, open_database
from tests.e2e.deploy._cli import CLI, free_port

REQUESTS = 100_000
CONCURRENCY = 50
RATE = 600.0
MALFORMED_EVERY = 100
SAMPLE_EVERY_S = 2.0
BODY = (
    b'{"model":"chat","user":"unit-%d","messages":'
    b'[{"role":"user","content":"hello %d, how are you today?"}]}'
)


@dataclass
class Soak:
    url: str
    pid: int
    db_url: str


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(600):
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            pytest.fail(f"gateway exited: {log.read_text()}")
        time.sleep(0.1)
    pytest.fail("gateway did not become ready")


@pytest.fixture(scope="module")
def soak(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Soak]:
    root = tmp_path_factory.mktemp("soak")
    up_port, port = free_port(), free_port()
    upstream = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.lean_openai_server",
            "--port",
            str(up_port),
            "--delay-ms",
            "5",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    (root / "prompts").mkdir()
    prompt = {"name": "chat", "version": "1.0.0", "model": "m-1", "template": "{{ input }}"}
    (root / "prompts" / "chat.yaml").write_text(yaml.safe_dump(prompt))
    config = {
        "version": 1,
        "prompts": "prompts/",
        "providers": {
            "up": {"type": "openai", "base_url": f"http://127.0.0.1:{up_port}/v1", "model": "m-1"}
        },
    }
    (root / "releasegate.yaml").write_text(yaml.safe_dump(config))
    db_url = f"sqlite:///{root / 'rg.sqlite'}"
    db = open_database(db_url, create=True)
    db.upgrade()
    svc = DeploymentService(db.uow())
    svc.register("chat", "v1", prompt="chat@1.0.0", model="m-1", actor="t")
    svc.approve("chat", "v1", actor="t")
    svc.promote("chat", "v1", actor="t")
    db.close()
    log = root / "gateway.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [
                *CLI,
                "serve",
                "--gateway",
                "--port",
                str(port),
                "--db",
                db_url,
                "--config",
                str(root / "releasegate.yaml"),
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=root,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc, log)
        yield Soak(url, proc.pid, db_url)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        upstream.terminate()
        upstream.wait(timeout=30)


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MB (0 when it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    found = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(found.group(1)) / 1024 if found else 0.0


def writer_pid(pid: int) -> int:
    kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return int(kids.split()[0]) if kids.split() else 0


def assert_flat(name: str, samples: list[tuple[int, float]]) -> None:
    """After a warm-up (the first fifth), the last quarter's peak stays within a margin of
    the first quarter's, and a straight line through the second half grows by less than
    10 MB per 100,000 requests."""
    shown = [(n, round(r)) for n, r in samples]
    steady = samples[len(samples) // 5 :]
    quarter = max(1, len(steady) // 4)
    first = max(r for _, r in steady[:quarter])
    last = max(r for _, r in steady[-quarter:])
    print(f"{name}: RSS peak {first:.0f} MB early, {last:.0f} MB late; samples {shown}")
    assert last <= first * 1.10 + 5, (name, shown)
    half = steady[len(steady) // 2 :]
    x = np.array([n for n, _ in half], dtype=float)
    y = np.array([r for _, r in half], dtype=float)
    if np.ptp(x) > 0:
        slope = float(np.polyfit(x, y, 1)[0]) * 100_000
        assert slope < 10, (name, slope, shown)


async def load(url: str, done: list[int]) -> dict[int, int]:
    statuses: dict[int, int] = {}
    next_i = iter(range(REQUESTS))
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        loop = asyncio.get_running_loop()
        start = loop.time()

        async def worker() -> None:
            for i in next_i:
                await asyncio.sleep(start + i / RATE - loop.time())
                body = b"not json" if i % MALFORMED_EVERY == 0 else BODY % (i % 1000, i)
                async with session.post(
                    url + "/v1/chat/completions",
                    data=body,
                    headers={"Content-Type": "application/json"},
                ) as resp:
                    await resp.read()
                    statuses[resp.status] = statuses.get(resp.status, 0) + 1
                done[0] += 1

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return statuses


def stored(db: Database, feature: str) -> int:
    with db.uow(write=False) as uow:
        return len(uow.interactions.for_feature(feature, limit=REQUESTS * 2))


def metric(url: str, name: str) -> float:
    text = httpx.get(url + "/metrics").text
    found = re.search(rf"^{name} ([0-9.e+]+)$", text, re.M)
    assert found, f"{name} not in metrics"
    return float(found.group(1))


def test_memory_stays_flat_and_every_request_is_recorded(soak: Soak) -> None:
    done = [0]
    gateway: list[tuple[int, float]] = []
    writer: list[tuple[int, float]] = []
    stop = threading.Event()

    def sampler() -> None:
        while not stop.wait(SAMPLE_EVERY_S):
            gateway.append((done[0], rss_mb(soak.pid)))
            writer.append((done[0], rss_mb(writer_pid(soak.pid))))

    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    try:
        statuses = asyncio.run(load(soak.url, done))
    finally:
        stop.set()
        thread.join()
    malformed = REQUESTS // MALFORMED_EVERY
    assert statuses == {200: REQUESTS - malformed, 400: malformed}

    assert len(gateway) >= 12, gateway
    assert_flat("gateway", gateway)
    assert_flat("record writer", writer)

    # Requests in == records out.
    db = open_database(soak.db_url)
    try:
        for _ in range(1200):
            ok, refused = stored(db, "chat"), stored(db, GATEWAY_FEATURE)
            if ok + refused >= REQUESTS:
                break
            time.sleep(0.25)
    finally:
        db.close()
    assert (ok, refused) == (REQUESTS - malformed, malformed)
    assert metric(soak.url, "releasegate_gateway_records_submitted") == REQUESTS
    assert metric(soak.url, "releasegate_gateway_records_written") == REQUESTS
    assert metric(soak.url, "releasegate_gateway_records_dropped") == 0

"""The load generator of the scale benchmark: wrk, one process per gateway, or a small
Python client when wrk is missing.

Each request has its own unit (``user``), so both arms of a canary get traffic. With
several gateways the total concurrency is split evenly over them; the rates are summed,
the p50 is the request-weighted mean of the runs' and the p99 the worst run's (wrk
reports percentiles, not the samples).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

LUA = """
counter = 0
request = function()
   counter = counter + 1
   local body = '{"model":"chat","user":"u-' .. math.random(1, 1000000) .. '",' ..
      '"messages":[{"role":"user","content":"hello there, how are you today?"}]}'
   return wrk.format("POST", "/v1/chat/completions",
      {["Content-Type"] = "application/json", ["Authorization"] = "Bearer sk-bench"}, body)
end
"""


@dataclass
class LoadResult:
    """What the load generator saw (summed or combined over the gateways)."""

    requests: int
    rps: float
    p50: float
    p99: float
    non2xx: int = 0
    timeouts: int = 0


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    assert m, text
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def _wrk_one(url: str, conns: int, seconds: float, lua: Path) -> subprocess.Popen[str]:
    cmd = ["wrk", f"-t{min(2, conns)}", f"-c{conns}", f"-d{max(1, round(seconds))}s"]
    cmd += ["--latency", "-s", str(lua), url + "/v1/chat/completions"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)


def _wrk_parse(out: str) -> LoadResult:
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    timeouts = re.search(r"timeout (\d+)", out)
    assert p50 and p99 and rps and total, out
    return LoadResult(
        requests=int(total.group(1)),
        rps=float(rps.group(1)),
        p50=_ms(p50.group(1)),
        p99=_ms(p99.group(1)),
        non2xx=int(errors.group(1)) if errors else 0,
        timeouts=int(timeouts.group(1)) if timeouts else 0,
    )


def _combine(parts: list[LoadResult]) -> LoadResult:
    """Sum the rates; the p50 is the request-weighted mean of the parts', the p99 the
    worst part's (wrk reports percentiles, not the samples)."""
    n = sum(p.requests for p in parts) or 1
    return LoadResult(
        requests=sum(p.requests for p in parts),
        rps=sum(p.rps for p in parts),
        p50=sum(p.p50 * p.requests for p in parts) / n,
        p99=max(p.p99 for p in parts),
        non2xx=sum(p.non2xx for p in parts),
        timeouts=sum(p.timeouts for p in parts),
    )


async def _py_load(urls: list[str], conns: int, seconds: float) -> LoadResult:
    """A small closed-loop client: ``conns`` tasks spread over ``urls`` for ``seconds``."""
    latencies: list[float] = []
    bad = 0
    stop = time.monotonic() + seconds
    counter = 0

    async def loop(client: httpx.AsyncClient, url: str) -> None:
        nonlocal bad, counter
        while time.monotonic() < stop:
            counter += 1
            body = {
                "model": "chat",
                "user": f"u-{os.getpid()}-{counter}",
                "messages": [{"role": "user", "content": "hello there, how are you today?"}],
            }
            t = time.perf_counter()
            r = await client.post(url + "/v1/chat/completions", json=body)
            latencies.append((time.perf_counter() - t) * 1000)
            bad += r.status_code >= 300

    t0 = time.monotonic()
    async with httpx.AsyncClient(timeout=30) as client:
        await asyncio.gather(*(loop(client, urls[i % len(urls)]) for i in range(conns)))
    elapsed = time.monotonic() - t0
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return LoadResult(len(latencies), len(latencies) / elapsed, q[49], q[98], bad, 0)


def load(urls: list[str], conns: int, seconds: float, lua: Path, loader: str) -> LoadResult:
    """Run the load on ``urls`` (``conns`` split evenly over them) for ``seconds``."""
    if loader == "python":
        return asyncio.run(_py_load(urls, conns, seconds))
    share = [conns // len(urls) + (i < conns % len(urls)) for i in range(len(urls))]
    procs = [_wrk_one(u, c, seconds, lua) for u, c in zip(urls, share, strict=True)]
    outs = [p.communicate()[0] for p in procs]
    return _combine([_wrk_parse(o) for o in outs])


def have_wrk() -> bool:
    return shutil.which("wrk") is not None

"""Wall time of N chat calls at concurrency C through different OpenAI client stacks.

Starts ``tests/support/openai_server.py`` in a child process (answering after a fixed
delay), then runs the same load through each client variant, side by side in one run,
and prints the median wall time as a ratio to the ideal ``ceil(N / C) * delay`` and to
the first variant (a bare aiohttp session), plus this process's CPU time per call.

    .venv/bin/python benchmarks/provider_clients/bench.py --calls 2000 --concurrency 32

Variants: ``aiohttp-raw`` (a bare aiohttp session, the floor), ``sdk-httpx`` /
``sdk-aiohttp`` (``chat.completions.create`` on the SDK's default httpx client / on
``DefaultAioHttpClient``), ``sdk-aiohttp-post`` / ``sdk-httpx-post`` (the SDK's generic
``post`` with a dict body), ``provider`` (releasegate's ``openai`` provider, default
client; ``provider:httpx`` forces httpx) and ``http-provider`` (releasegate's ``http``
provider on the same endpoint).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import openai

from releasegate.config import ProviderConfig
from releasegate.providers import ChatRequest, PriceTable, build_provider

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = [
    {"role": "system", "content": "You are a terse assistant."},
    {"role": "user", "content": "What is the capital of France? Answer in one word."},
]
Call = Callable[[], Awaitable[str]]


def start_server(delay_ms: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.openai_server", "--delay-ms", str(delay_ms)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"http://\S+", line)
    if not match:
        proc.kill()
        raise SystemExit(f"server did not start: {line!r}")
    return proc, match.group(0) + "/v1"


async def drive(call: Call, calls: int, concurrency: int) -> float:
    sem = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with sem:
            await call()

    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(calls)))
    return time.perf_counter() - start


async def variant(name: str, base_url: str, calls: int, concurrency: int) -> tuple[float, float]:
    """Returns (wall seconds, CPU seconds of this process)."""
    closers: list[Callable[[], Awaitable[None]]] = []
    if name == "aiohttp-raw":
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency))
        closers.append(session.close)

        async def call() -> str:
            payload = {"model": "fake-model-2025-01-01", "messages": MESSAGES}
            async with session.post(base_url + "/chat/completions", json=payload) as resp:
                data = await resp.json()
            return str(data["choices"][0]["message"]["content"])

    elif name in ("sdk-httpx-post", "sdk-aiohttp-post"):
        # The SDK's generic ``post``: same client, auth, headers and error classes, but it
        # skips the typed request transform and the pydantic response model.
        http_client = (
            openai.DefaultAioHttpClient()
            if name == "sdk-aiohttp-post"
            else openai.DefaultAsyncHttpxClient()
        )
        client = openai.AsyncOpenAI(
            base_url=base_url, api_key="x", max_retries=0, http_client=http_client
        )
        closers.append(client.close)

        async def call() -> str:
            payload = {"model": "fake-model-2025-01-01", "messages": MESSAGES}
            data = await client.post("/chat/completions", body=payload, cast_to=dict)
            return str(data["choices"][0]["message"]["content"])

    elif name in ("sdk-httpx", "sdk-aiohttp"):
        http_client = (
            openai.DefaultAioHttpClient()
            if name == "sdk-aiohttp"
            else openai.DefaultAsyncHttpxClient()
        )
        client = openai.AsyncOpenAI(
            base_url=base_url, api_key="x", max_retries=0, http_client=http_client
        )
        closers.append(client.close)

        async def call() -> str:
            resp = await client.chat.completions.create(
                model="fake-model-2025-01-01",
                messages=MESSAGES,  # type: ignore[arg-type]
            )
            return resp.choices[0].message.content or ""

    elif name == "http-provider":
        # releasegate's generic ``http`` provider pointed at the same endpoint: one shared
        # aiohttp session, no SDK in the way.
        cfg = ProviderConfig.model_validate(
            {
                "type": "http",
                "url": base_url + "/chat/completions",
                "model": "fake-model-2025-01-01",
                "body": {"model": "{{ model }}", "messages": "{{ messages }}"},
                "json_path": "choices.0.message.content",
                "usage_path": "usage",
                "concurrency": concurrency,
            }
        )
        provider = build_provider("bench", cfg, pricing=PriceTable(), root=ROOT)
        closers.append(provider.aclose)
        request = ChatRequest(messages=tuple(MESSAGES), model="fake-model-2025-01-01")

        async def call() -> str:
            return (await provider.complete(request)).text

    else:
        client_kind = name.split(":", 1)[1] if ":" in name else None
        options = {"client": client_kind} if client_kind else {}
        cfg = ProviderConfig(
            type="openai",
            model="fake-model-2025-01-01",
            base_url=base_url,
            concurrency=concurrency,
            **options,
        )
        provider = build_provider("bench", cfg, pricing=PriceTable(), root=ROOT)
        closers.append(provider.aclose)
        request = ChatRequest(messages=tuple(MESSAGES), model="fake-model-2025-01-01")

        async def call() -> str:
            return (await provider.complete(request)).text

    try:
        await drive(call, min(200, calls), concurrency)  # warm up connections
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        wall = await drive(call, calls, concurrency)
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    finally:
        for close in closers:
            await close()
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--delay-ms", type=float, default=50.0)
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="run every variant this many times, interleaved; medians are reported",
    )
    parser.add_argument(
        "--variants",
        default="aiohttp-raw,sdk-httpx,sdk-aiohttp,sdk-aiohttp-post,provider,provider:httpx,"
        "provider:direct,http-provider",
        help="comma-separated; provider:httpx / provider:direct force the provider's client",
    )
    args = parser.parse_args()
    names = args.variants.split(",")
    proc, base_url = start_server(args.delay_ms)
    ideal = math.ceil(args.calls / args.concurrency) * args.delay_ms / 1000
    print(f"{args.calls} calls, concurrency {args.concurrency}, server delay {args.delay_ms} ms")
    print(f"ideal wall time {ideal:.2f} s; cpus {os.cpu_count()}; python {sys.version.split()[0]}")
    print(f"load average before: {os.getloadavg()[0]:.2f}; {args.rounds} interleaved rounds")
    walls: dict[str, list[float]] = {n: [] for n in names}
    cpus: dict[str, list[float]] = {n: [] for n in names}
    try:
        # Interleaving spreads the machine's background noise over every variant alike.
        for _ in range(args.rounds):
            for name in names:
                wall, cpu = asyncio.run(variant(name, base_url, args.calls, args.concurrency))
                walls[name].append(wall)
                cpus[name].append(cpu)
    finally:
        proc.terminate()
        proc.wait()
    floor = statistics.median(walls[names[0]])
    print(f"{'variant':<18}{'wall s':>8}{'/ideal':>8}{'/' + names[0]:>14}{'cpu ms/call':>13}")
    for name in names:
        wall = statistics.median(walls[name])
        cpu_ms = statistics.median(cpus[name]) * 1000 / args.calls
        print(f"{name:<18}{wall:>8.2f}{wall / ideal:>8.2f}{wall / floor:>14.2f}{cpu_ms:>13.3f}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

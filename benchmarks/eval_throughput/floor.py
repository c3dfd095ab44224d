"""The floor: a bare aiohttp loop sending the benchmark's 2,000 requests at concurrency 32.

No prompt rendering, no checks, no report: what the client library alone costs. Prints
one JSON line: ``{"loop_s": ..., "ok": ...}`` (the loop's own time; the caller measures
the whole process).

    python benchmarks/eval_throughput/floor.py BASE_URL [--cases 2000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import aiohttp


async def run(base_url: str, n: int, concurrency: int) -> dict[str, float]:
    url = base_url.rstrip("/") + "/chat/completions"
    jobs = iter(range(n))
    ok = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal ok
        for i in jobs:
            body = {
                "model": "gpt-4o-2024-11-20",
                "temperature": 0,
                "messages": [
                    {
                        "role": "user",
                        "content": f"Summarise ticket {i}: the kettle number {i} stopped heating.",
                    }
                ],
            }
            async with session.post(url, json=body) as resp:
                data = json.loads(await resp.read())
            ok += f"kettle number {i}" in data["choices"][0]["message"]["content"]

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        loop_s = time.perf_counter() - t0
    return {"loop_s": loop_s, "ok": ok}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("base_url")
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=32)
    args = ap.parse_args()
    print(json.dumps(asyncio.run(run(args.base_url, args.cases, args.concurrency))))


if __name__ == "__main__":
    main()

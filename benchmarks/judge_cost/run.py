"""Judge cost per RAG metric: calls and tokens per case, and wall time with the local
SmolLM2 judge at concurrency 1 and 4. See README.md.

    python benchmarks/judge_cost/run.py --cases 50 --out benchmarks/judge_cost/results.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import time
from typing import Any

from releasegate.datasets.case import Case
from releasegate.evals._scoring import case_sample
from releasegate.llm import ChatProvider, ChatRequest, ChatResponse
from releasegate.providers.embeddings import LocalEmbedder
from releasegate.providers.local import LocalProvider
from releasegate.scorers import ScorerContext, ScoreStatus, build_scorer
from releasegate.scorers.spec import AssertSpec

METRICS = ["llm-judge", "faithfulness", "answer-relevancy", "context-precision", "context-recall"]
CITIES = ["Paris", "Berlin", "Madrid", "Rome", "Lisbon", "Vienna", "Warsaw", "Prague", "Dublin",
          "Athens"]  # fmt: skip
COUNTRIES = ["France", "Germany", "Spain", "Italy", "Portugal", "Austria", "Poland", "Czechia",
             "Ireland", "Greece"]  # fmt: skip


def suite(n: int) -> list[tuple[Case, str]]:
    """A deterministic synthetic RAG suite: 3 retrieved chunks per case, one distractor."""
    out = []
    for i in range(n):
        city, country = CITIES[i % 10], COUNTRIES[i % 10]
        other = COUNTRIES[(i + 3) % 10]
        chunks = [
            f"{city} is the capital and largest city of {country}.",
            f"{other} has a population of several million people.",
            f"{country} is a member of the European Union.",
        ]
        if i % 2:
            chunks.reverse()
        case = Case(
            id=f"case-{i}",
            input=f"What is the capital of {country}?",
            context=chunks,
            reference=f"The capital of {country} is {city}.",
            expected_behavior=f"Names {city} as the capital of {country}.",
        )
        answer = (
            f"The capital of {country} is {city}." if i % 3 else f"It is {CITIES[(i + 1) % 10]}."
        )
        out.append((case, answer))
    return out


class Bounded(ChatProvider):
    """Counts calls and bounds concurrency, like the engine's managed provider."""

    def __init__(self, inner: ChatProvider, concurrency: int) -> None:
        self.inner, self.sem, self.calls = inner, asyncio.Semaphore(concurrency), 0
        self.type = inner.type

    @property
    def model(self) -> str | None:
        return self.inner.model

    async def complete(self, request: ChatRequest) -> ChatResponse:
        async with self.sem:
            self.calls += 1
            return await self.inner.complete(request)


async def measure(metric: str, cases: list[tuple[Case, str]], judge: Bounded,
                  embedder: LocalEmbedder) -> dict[str, Any]:  # fmt: skip
    scorer = build_scorer(AssertSpec(type=metric), ScorerContext(judge=judge, embedder=embedder))
    before = judge.calls
    start = time.perf_counter()
    scores = await asyncio.gather(*(scorer.score(case_sample(c, o)) for c, o in cases))
    wall = time.perf_counter() - start
    n = len(cases)
    prompt = sum(s.usage.prompt_tokens for s in scores if s.usage)
    completion = sum(s.usage.completion_tokens for s in scores if s.usage)
    return {
        "metric": metric,
        "calls_per_case": (judge.calls - before) / n,
        "prompt_tokens_per_case": prompt / n,
        "completion_tokens_per_case": completion / n,
        "measured": sum(s.status is ScoreStatus.MEASURED for s in scores),
        "unmeasured": sum(s.status is ScoreStatus.UNMEASURED for s in scores),
        "not_applicable": sum(s.status is ScoreStatus.NOT_APPLICABLE for s in scores),
        "wall_s": round(wall, 2),
    }


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=50)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    cases = suite(args.cases)
    embedder = LocalEmbedder()
    await embedder.embed(["warm-up"])
    local = LocalProvider(params={"max_tokens": args.max_tokens})
    results: dict[str, Any] = {
        "cases": args.cases,
        "judge": local.model,
        "machine": f"{platform.machine()}, {platform.system()}, python {platform.python_version()}",
        "runs": {},
    }
    try:
        for conc in args.concurrency:
            judge = Bounded(local, conc)
            rows = [await measure(m, cases, judge, embedder) for m in METRICS]
            results["runs"][str(conc)] = rows
            for r in rows:
                print(conc, json.dumps(r))
    finally:
        await local.aclose()
    if args.out:
        write(args.out, results)


def write(path: str, results: dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(results, fh, indent=2)
        fh.write("\n")


if __name__ == "__main__":
    asyncio.run(main())

"""Dataset load + check build per case, for every dataset format.

The same 2,000 cases x 3 checks as run.py, written as block YAML, flow YAML, JSON in a
``.yaml`` file (what ``json.dumps`` writes), JSONL and CSV. Each is timed as ``releasegate
eval`` does it before the first call: ``load_dataset`` (parse, validate every case) then
building every check (``CaseScorer.prepare``). Rounds alternate formats; the figure is
the median of the rounds (after one warm-up round that pays the imports).

Usage (from the repository root):
    .venv/bin/python benchmarks/eval_throughput/load.py [--cases 2000] [--rounds 7]
Prints one JSON object: per format, the median wall milliseconds, milliseconds per case,
and the median CPU time of the process per case (less disturbed by other work on a shared
machine than wall time, though not immune to it).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from releasegate.datasets.dataset import load_dataset
from releasegate.evals._scoring import CaseScorer

TARGET_MS_PER_CASE = 0.25


def cases(n: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"c{i}",
            "input": f"Summarise ticket {i}: the kettle number {i} stopped heating.",
            "assert": [
                {"type": "contains", "value": f"kettle number {i}"},
                {"type": "not-contains", "value": "As an AI"},
                {"type": "regex", "value": r"ticket \d+"},
            ],
        }
        for i in range(n)
    ]


def write_all(root: Path, n: int) -> dict[str, Path]:
    data = cases(n)
    paths = {
        "yaml-block": root / "block.yaml",
        "yaml-flow": root / "flow.yaml",
        "json-in-yaml": root / "json.yaml",
        "jsonl": root / "cases.jsonl",
        "csv": root / "cases.csv",
    }
    paths["yaml-block"].write_text(yaml.safe_dump({"cases": data}, sort_keys=False))
    paths["yaml-flow"].write_text(
        yaml.safe_dump({"cases": data}, sort_keys=False, default_flow_style=True, width=10**9)
    )
    paths["json-in-yaml"].write_text(json.dumps({"cases": data}))
    paths["jsonl"].write_text("".join(json.dumps(c) + "\n" for c in data))
    with paths["csv"].open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "input", "assert:contains", "assert:not-contains", "assert:regex"])
        for c in data:
            writer.writerow([c["id"], c["input"], *(a["value"] for a in c["assert"])])
    return paths


def load_and_build(path: Path) -> int:
    dataset = load_dataset(path)
    scorer = CaseScorer()
    issues = scorer.prepare(dataset.cases)
    assert not issues, issues
    return sum(len(c.asserts) for c in dataset.cases)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_all(Path(tmp), args.cases)
        for path in paths.values():  # warm-up: imports, scorer registry
            assert load_and_build(path) == 3 * args.cases, path
        times: dict[str, list[float]] = {name: [] for name in paths}
        cpu: dict[str, list[float]] = {name: [] for name in paths}
        for _ in range(args.rounds):
            for name, path in paths.items():
                t0, c0 = time.perf_counter(), time.process_time()
                load_and_build(path)
                times[name].append(time.perf_counter() - t0)
                cpu[name].append(time.process_time() - c0)
    out: dict[str, Any] = {
        "cases": args.cases,
        "target_ms_per_case": TARGET_MS_PER_CASE,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    for name, samples in times.items():
        ms = statistics.median(samples) * 1000
        cpu_ms = statistics.median(cpu[name]) * 1000
        out[name] = {
            "ms": round(ms, 1),
            "min_ms": round(min(samples) * 1000, 1),
            "ms_per_case": round(ms / args.cases, 4),
            "cpu_ms_per_case": round(cpu_ms / args.cases, 4),
        }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

"""Eval throughput: releasegate vs promptfoo on the same local OpenAI-protocol server.

2,000 cases x 3 deterministic checks, concurrency 32, against a server on 127.0.0.1
that answers after a fixed delay. Both tools run in the same session, one after the
other, against the same server process, with their caches off. See README.md.

releasegate runs four times per round: with the `openai` provider's default client and
with `client: direct` on a YAML dataset (the cases written by `json.dumps` into
`cases.yaml`, as scripts write them), and with `client: sdk` (the official SDK on its
aiohttp transport) and `client: direct` on a JSONL dataset. A bare aiohttp loop
(floor.py) sends the same requests, as the floor. With `--pin`, the floor and the
default-client YAML row also run against a second server pinned to core 0 with
`taskset`, the tool pinned to core 1.

Usage (from the repository root):
    .venv/bin/python benchmarks/eval_throughput/run.py [--cases 2000] [--delay-ms 50]
        [--concurrency 32] [--rounds 3] [--skip-promptfoo] [--server lean|aiohttp]
        [--skip-zero] [--pin]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
OUT = HERE / "out"
CHECKS = 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SERVERS = {
    # a bare asyncio server: its own CPU per request stays small next to the clients'
    "lean": "tests.support.lean_openai_server",
    # the aiohttp web server of the test suite (about 0.3 ms of CPU per request)
    "aiohttp": "tests.support.openai_server",
}


def pinned(core: int | None, cmd: list[str]) -> list[str]:
    """``cmd`` run on one CPU core with ``taskset`` (unchanged when ``core`` is None)."""
    if core is None:
        return cmd
    return ["taskset", "-c", str(core), *cmd]


def start_server(
    delay_ms: float, kind: str, core: int | None = None
) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    proc = subprocess.Popen(
        pinned(
            core,
            [
                sys.executable,
                "-m",
                SERVERS[kind],
                "--port",
                str(port),
                "--delay-ms",
                str(delay_ms),
            ],
        ),
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening" not in line:
        raise RuntimeError(f"server did not start: {line!r}")
    return proc, f"http://127.0.0.1:{port}/v1"


def questions(n: int) -> list[str]:
    return [f"Summarise ticket {i}: the kettle number {i} stopped heating." for i in range(n)]


def write_releasegate_project(
    root: Path,
    base_url: str,
    n: int,
    concurrency: int,
    client: str | None = None,
    dataset: str = "jsonl",
) -> None:
    """A project whose suite ``bench`` runs the cases; ``client`` None: the default client.

    ``dataset``: ``jsonl`` (one object per line) or ``yaml`` (the list written by
    ``json.dumps`` into ``cases.yaml``, as scripts write YAML datasets).
    """
    (root / "prompts").mkdir(parents=True, exist_ok=True)
    prompt = {
        "name": "bench",
        "version": "1.0.0",
        "model": "gpt-4o-2024-11-20",
        "params": {"temperature": 0},
        "template": "{{ input }}",
    }
    (root / "prompts" / "bench.yaml").write_text(yaml.safe_dump(prompt))
    cases = [
        {
            "id": f"c{i}",
            "input": q,
            "assert": [
                {"type": "contains", "value": f"kettle number {i}"},
                {"type": "not-contains", "value": "As an AI"},
                {"type": "regex", "value": r"ticket \d+"},
            ],
        }
        for i, q in enumerate(questions(n))
    ]
    if dataset == "yaml":
        (root / "cases.yaml").write_text(json.dumps(cases))
    else:
        with (root / "cases.jsonl").open("w") as fh:
            for c in cases:
                fh.write(json.dumps(c) + "\n")
    target: dict[str, Any] = {
        "type": "openai",
        "base_url": base_url,
        "model": "gpt-4o-2024-11-20",
        "api_key_env": "BENCH_KEY",
        "concurrency": concurrency,
        "max_retries": 0,
    }
    if client is not None:
        target["client"] = client
    config = {
        "version": 1,
        "providers": {"target": target},
        "prompts": "prompts/",
        "suites": {
            "bench": {
                "dataset": f"cases.{dataset}",
                "prompt": "bench",
                "gate": {"min_pass_rate": 0.99},
            }
        },
        "cache": {"enabled": False},
    }
    (root / "releasegate.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def write_promptfoo_project(root: Path, base_url: str, n: int) -> None:
    root.mkdir(parents=True, exist_ok=True)
    tests = [
        {
            "vars": {"input": q},
            "assert": [
                {"type": "contains", "value": f"kettle number {i}"},
                {"type": "not-contains", "value": "As an AI"},
                {"type": "regex", "value": r"ticket \d+"},
            ],
        }
        for i, q in enumerate(questions(n))
    ]
    (root / "tests.yaml").write_text(yaml.safe_dump(tests))
    config = {
        "description": "throughput benchmark",
        "prompts": ["{{input}}"],
        "providers": [
            {
                "id": "openai:chat:gpt-4o-2024-11-20",
                "config": {
                    "apiBaseUrl": base_url,
                    "apiKey": "bench",
                    "temperature": 0,
                    "maxRetries": 0,
                },
            }
        ],
        "tests": "file://tests.yaml",
    }
    (root / "promptfooconfig.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int, int, str, str]:
    """Wall seconds, peak RSS (KiB, via GNU time), exit code, stderr tail, stdout."""
    time_bin = shutil.which("time") or "/usr/bin/time"
    full = [time_bin, "-f", "MAXRSS=%M", *cmd]
    t0 = time.perf_counter()
    proc = subprocess.run(full, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    m = re.search(r"MAXRSS=(\d+)", proc.stderr)
    rss = int(m.group(1)) if m else -1
    return wall, rss, proc.returncode, proc.stderr[-2000:], proc.stdout


def run_releasegate(root: Path, env: dict[str, str], core: int | None = None) -> dict[str, float]:
    exe = str(Path(sys.executable).with_name("releasegate"))
    wall, rss, code, err, _ = timed(
        pinned(core, [exe, "eval", "--suite", "bench", "--quiet", "-o", "report.json"]),
        root,
        env,
    )
    if code != 0:
        raise RuntimeError(f"releasegate exited {code}: {err}")
    report = json.loads((root / "report.json").read_text())
    assert report["summary"]["n_cases"] > 0 and report["summary"]["pass_rate"] == 1.0
    return {
        "wall_s": wall,
        "engine_s": report["duration_s"],
        "setup_s": report["timings"].get("setup_s", 0.0),
        "cases_s": report["timings"]["cases_s"],
        "rss_mb": rss / 1024,
    }


def run_floor(
    base_url: str, n: int, concurrency: int, env: dict[str, str], core: int | None = None
) -> dict[str, float]:
    cmd = [sys.executable, str(HERE / "floor.py"), base_url, "--cases", str(n)]
    cmd = pinned(core, [*cmd, "--concurrency", str(concurrency)])
    wall, rss, code, err, out = timed(cmd, REPO, env)
    if code != 0:
        raise RuntimeError(f"floor.py exited {code}: {err}")
    data = json.loads(out.strip().splitlines()[-1])
    assert data["ok"] == n, data
    return {"wall_s": wall, "loop_s": data["loop_s"], "rss_mb": rss / 1024}


def run_promptfoo(root: Path, env: dict[str, str], concurrency: int) -> dict[str, float]:
    bin_dir = HERE / "node_modules" / ".bin"
    # promptfoo needs Node.js >= 22; package.json brings that runtime as the `node` package.
    env = dict(env, PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}")
    wall, rss, code, err, _ = timed(
        [
            str(bin_dir / "node"),
            str(bin_dir / "promptfoo"),
            "eval",
            "-c",
            "promptfooconfig.yaml",
            "-j",
            str(concurrency),
            "--no-cache",
            "--no-progress-bar",
            "--no-table",
            "-o",
            "results.json",
        ],
        root,
        env,
    )
    if code not in (0, 100):  # 100: promptfoo's "some tests failed"
        raise RuntimeError(f"promptfoo exited {code}: {err}")
    data = json.loads((root / "results.json").read_text())
    stats = data.get("results", {}).get("stats", {})
    assert stats.get("successes", 0) > 0, stats
    return {"wall_s": wall, "rss_mb": rss / 1024, "successes": stats.get("successes", 0)}


def ensure_promptfoo() -> bool:
    if (HERE / "node_modules" / ".bin" / "promptfoo").exists():
        return True
    if shutil.which("npm") is None:
        return False
    subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=HERE, check=True)
    return True


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--delay-ms", type=float, default=50.0)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--skip-promptfoo", action="store_true")
    ap.add_argument("--server", choices=sorted(SERVERS), default="lean")
    ap.add_argument("--skip-zero", action="store_true", help="skip the 0 ms server rounds")
    ap.add_argument(
        "--pin",
        action="store_true",
        help="also run the default-client YAML row and the floor against a second server "
        "pinned with taskset to core 0, the tools pinned to core 1",
    )
    args = ap.parse_args()

    OUT.mkdir(exist_ok=True)
    env = dict(
        os.environ,
        BENCH_KEY="bench",
        PROMPTFOO_DISABLE_TELEMETRY="1",
        PROMPTFOO_DISABLE_UPDATE="1",
        PROMPTFOO_CONFIG_DIR=str(OUT / "promptfoo-home"),
        OPENAI_API_KEY="bench",
    )
    with_pf = not args.skip_promptfoo and ensure_promptfoo()
    rows = []
    pin = args.pin and shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2
    for delay in (args.delay_ms, 0.0) if not args.skip_zero else (args.delay_ms,):
        server, base_url = start_server(delay, args.server)
        # the same workload against a second server pinned to core 0, tools on core 1
        pinned_server, pinned_url = start_server(delay, args.server, core=0) if pin else (None, "")
        try:
            projects: dict[str, Path] = {}
            for name, client, dataset, url in (
                ("releasegate_default_yaml", None, "yaml", base_url),
                ("releasegate_direct_yaml", "direct", "yaml", base_url),
                ("releasegate_sdk_jsonl", "sdk", "jsonl", base_url),
                ("releasegate_direct_jsonl", "direct", "jsonl", base_url),
                ("pinned_releasegate_default_yaml", None, "yaml", pinned_url),
            ):
                if url:
                    projects[name] = OUT / f"{name}-{int(delay)}"
                    write_releasegate_project(
                        projects[name], url, args.cases, args.concurrency, client, dataset
                    )
            pf_root = OUT / f"pf-{int(delay)}"
            write_promptfoo_project(pf_root, base_url, args.cases)
            ideal = args.cases * delay / 1000 / args.concurrency
            for r in range(args.rounds):
                row: dict[str, Any] = {
                    "delay_ms": delay,
                    "round": r,
                    "ideal_s": ideal,
                    "load_avg_1m": os.getloadavg()[0],
                    "floor": run_floor(base_url, args.cases, args.concurrency, env),
                }
                for name, root in projects.items():
                    if not name.startswith("pinned_"):
                        row[name] = run_releasegate(root, env)
                if with_pf:
                    row["promptfoo"] = run_promptfoo(pf_root, env, args.concurrency)
                if pin:
                    row["pinned_floor"] = run_floor(
                        pinned_url, args.cases, args.concurrency, env, core=1
                    )
                    row["pinned_releasegate_default_yaml"] = run_releasegate(
                        projects["pinned_releasegate_default_yaml"], env, core=1
                    )
                rows.append(row)
                print(json.dumps(row), flush=True)
        finally:
            for proc in (server, pinned_server):
                if proc is not None:
                    proc.terminate()
                    proc.wait()
    result: dict[str, Any] = {
        "server": args.server,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "cases": args.cases,
        "checks_per_case": CHECKS,
        "concurrency": args.concurrency,
        "rows": rows,
    }
    result["medians"] = medians(rows)
    (OUT / "results.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result["medians"], indent=2))
    print("\nwritten", OUT / "results.json")


def medians(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of every figure per (delay, tool), with the ratios to the ideal."""
    out: dict[str, Any] = {}
    for delay in sorted({r["delay_ms"] for r in rows}, reverse=True):
        these = [r for r in rows if r["delay_ms"] == delay]
        ideal = these[0]["ideal_s"]
        per_tool: dict[str, Any] = {}
        tools = [k for k, v in these[0].items() if isinstance(v, dict)]
        for tool in tools:
            figures: dict[str, float] = {}
            for key in these[0][tool]:
                if isinstance(these[0][tool][key], int | float):
                    figures[key] = round(statistics.median(r[tool][key] for r in these), 4)
                    if ideal and key.endswith("_s"):
                        figures[key.replace("_s", "_x_ideal")] = round(figures[key] / ideal, 3)
            per_tool[tool] = figures
        load = round(statistics.median(r.get("load_avg_1m", 0.0) for r in these), 2)
        out[f"{delay:g}ms"] = {"ideal_s": ideal, "load_avg_1m": load, **per_tool}
    return out


if __name__ == "__main__":
    main()

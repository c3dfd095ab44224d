"""The gateway record writer's cost: CPU per record and memory, without a load test.

Feeds gateway records (the shape the gateway builds, :data:`RECORD_FIELDS`) through the
real path -- :class:`~releasegate.gateway._spool.ProcessRecorder` pickling them down a
pipe to its writer process, which builds, validates, redacts and writes them to a
SQLite store -- and reads the writer process's own counters from ``/proc``:

- CPU per record: the writer's user + system time over ``--records`` records, after a
  warm-up of ``--warmup`` records (so the start-up imports are not counted), divided by
  the records; also the start-up CPU (imports, opening the store, the warm-up);
- the writer's peak RSS (``VmHWM``) and its RSS at the end.

    python -m benchmarks.gateway_overhead.writer_cost [--records 20000] [--warmup 500] \
        [--canary] [--scoring] [--rounds 3] [--profile]

``--canary`` runs a canary on the feature (10%), so that every record also adds to the
canary's arm statistics; ``--scoring`` configures online checks on the feature (every
record passes through the scoring sampler, at a rate of 10%; the scoring jobs go to a
queue file next to the database). ``--profile`` samples the writer process with py-spy
(when installed) and prints where its time goes (own time per function, and the
share of samples under the writer's main steps).

Nothing here asserts timings; the numbers are for benchmarks/gateway_overhead/README.md.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from releasegate.gateway._spool import ProcessRecorder  # noqa: E402
from releasegate.gateway.recorder import RECORD_FIELDS  # noqa: E402

_TICK = os.sysconf("SC_CLK_TCK")
ANSWER = (
    "I'm doing well, thank you for asking! How can I help you today? If you have a "
    "question about your order, your account or anything else, just tell me."
)


def project(tmp: Path, *, canary: bool) -> str:
    """A SQLite store with feature ``chat``: ``v1`` active, ``v2`` a 10% canary."""
    from releasegate.control.deployments import DeploymentService
    from releasegate.store.database import open_database

    db_url = f"sqlite:///{tmp / 'rg.sqlite'}"
    db = open_database(db_url, create=True)
    db.upgrade()
    svc = DeploymentService(db.uow())
    svc.register("chat", "v1", prompt="chat@1.0.0", model="bench-model", actor="bench")
    svc.approve("chat", "v1", actor="bench")
    svc.promote("chat", "v1", actor="bench")
    if canary:
        svc.register("chat", "v2", prompt="chat@1.0.1", model="bench-model", actor="bench")
        svc.approve("chat", "v2", actor="bench")
        svc.canary("chat", "v2", actor="bench", share=0.1, first_release=True)
    db.close()
    return db_url


def deployment_ids(db_url: str) -> dict[str, int]:
    from releasegate.store.database import open_database

    db = open_database(db_url, create=False)
    try:
        with db.uow() as uow:
            return {d.version: d.id or 0 for d in uow.deployments.for_feature("chat")}
    finally:
        db.close()


def record(i: int, ids: dict[str, int], *, canary: bool, stream: bool = False) -> dict[str, Any]:
    """One gateway record as the gateway builds it (``Call.record``) for a chat request
    served by ``chat``: 1 in 10 on the canary when there is one, 1 in 50 an upstream
    error, 1 in 5 streamed."""
    on_canary = canary and i % 10 == 3
    version = "v2" if on_canary else "v1"
    failed = i % 50 == 7
    out = {
        "feature": "chat",
        "assigned_version": version,
        "served_version": None if failed else version,
        "served_model": None if failed else "bench-model",
        "arm": "canary" if on_canary else "incumbent",
        "deployment_id": ids.get(version),
        "unit_key": f"unit-{i % 997}",
        "unit_key_random": False,
        "session_id": None,
        "request_id": f"{i:08x}{os.getpid():08x}c0ffee00deadbeef",
        "stream": stream or i % 5 == 0,
        "messages": [
            {"role": "system", "content": "You are a helpful assistant for ACME's customers."},
            {"role": "user", "content": f"hello there, how are you today? (request {i})"},
        ],
        "response": None
        if failed
        else {"role": "assistant", "content": ANSWER, "tool_calls": None, "finish_reason": "stop"},
        "tools": None,
        "latency_ms": 21.5 + (i % 13) * 0.37,
        "ttft_ms": 20.9 if i % 5 == 0 else None,
        "overhead_ms": 0.8123 + (i % 7) * 0.01,
        "prompt_tokens": 0 if failed else 31,
        "completion_tokens": 0 if failed else 37,
        "cost_usd": 0.0 if failed else 0.000091,
        "status": 502 if failed else 200,
        "error": "upstream 'up' answered 500: internal error" if failed else None,
        "error_stage": "upstream" if failed else None,
        "fallback_depth": None if failed else 0,
        "shadow": False,
        "shadow_of": None,
        "time": time.time(),
        "usage_estimated": False,
    }
    assert tuple(out) == RECORD_FIELDS
    return out


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of ``pid`` (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def memory_mb(pid: int) -> tuple[float, float]:
    """(peak RSS, RSS) of ``pid`` in MiB."""
    text = Path(f"/proc/{pid}/status").read_text()
    hwm = re.search(r"VmHWM:\s+(\d+) kB", text)
    rss = re.search(r"VmRSS:\s+(\d+) kB", text)
    return (int(hwm.group(1)) / 1024 if hwm else 0.0, int(rss.group(1)) / 1024 if rss else 0.0)


def one_run(args: argparse.Namespace, tmp: Path, profile: Path | None) -> dict[str, float]:
    db_url = project(tmp, canary=args.canary)
    ids = deployment_ids(db_url)
    online: dict[str, Any] = {}
    if args.scoring:
        online = {
            "queue": str(tmp / "queue.db"),
            "features": {
                "chat": {
                    "sample": {"incumbent": 0.1, "canary": 0.1},
                    "checks": [{"type": "contains", "value": "help"}],
                }
            },
        }
    total = args.warmup + args.records
    recorder = ProcessRecorder(db_url, online, pending_records=total + 1)
    try:
        for i in range(args.warmup):
            recorder.submit(record(i, ids, canary=args.canary))
        if not recorder.flush(120):
            raise SystemExit("the warm-up records were not written in 120 s")
        child = recorder._child  # the benchmark reads the writer process itself
        assert child is not None
        pid = child.proc.pid
        start_cpu = cpu_s(pid)
        spy = None
        if profile is not None:
            spy = subprocess.Popen(
                [
                    *("py-spy", "record", "--pid", str(pid), "--rate", "250"),
                    *("--format", "raw", "--threads", "--nonblocking", "--output", str(profile)),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1.0)
        rows = [record(i, ids, canary=args.canary) for i in range(args.warmup, total)]
        t0 = time.perf_counter()
        step = max(1, round(args.rate / 100))  # paced: one slice every 10 ms
        for k in range(0, len(rows), step):
            for r in rows[k : k + step]:
                recorder.submit(r)
            lag = t0 + (k + step) / args.rate - time.perf_counter()
            if lag > 0:
                time.sleep(lag)
        if not recorder.flush(600):
            raise SystemExit("the records were not written in 600 s")
        wall = time.perf_counter() - t0
        cpu = cpu_s(pid) - start_cpu
        peak, rss = memory_mb(pid)
        if spy is not None:
            spy.send_signal(2)
            spy.wait(30)
        stats = recorder.stats()
    finally:
        recorder.close()
    if stats.written != total or stats.dropped or stats.rejected:
        raise SystemExit(f"not every record was written: {stats}")
    return {
        "cpu_us": cpu / args.records * 1e6,
        "start_cpu_s": start_cpu,
        "rate": args.records / wall,  # the offered rate, unless the writer fell behind
        "peak_mb": peak,
        "rss_mb": rss,
    }


def report_profile(path: Path, top: int = 25) -> None:
    """Own samples per function, and the share of samples under the writer's steps."""
    own: collections.Counter[str] = collections.Counter()
    under: collections.Counter[str] = collections.Counter()
    total = 0
    steps = (
        "pickle",
        "to_interaction",
        "parse_records",
        "_prepare",
        "_store",
        "add_many",
        "by_request_ids",
        "count_request",
        "merge",
        "_join_pending",
        "commit",
        "Redactor.value",
        "dump_records",
        "_HASH_JSON",
    )
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if any("wait (threading.py" in f or f.startswith("read_frame") for f in frames[-2:]):
            continue  # an idle thread
        n = int(count)
        total += n
        own[frames[-1]] += n
        for step in steps:
            if any(step in f for f in frames):
                under[step] += n
    if not total:
        print("no samples (is py-spy allowed to read the process?)")
        return
    print(f"\n{total} busy samples of the writer process\n\nunder each step:")
    for step in steps:
        print(f"  {under[step] / total:6.1%}  {step}")
    print("\nown time:")
    for name, n in own.most_common(top):
        print(f"  {n / total:6.1%}  {name}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--warmup", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rate", type=float, default=2000.0, help="records offered per second")
    ap.add_argument("--canary", action="store_true", help="a 10%% canary: arm statistics")
    ap.add_argument("--scoring", action="store_true", help="online checks: the sampler")
    ap.add_argument("--profile", action="store_true", help="sample the writer with py-spy")
    args = ap.parse_args()
    if args.profile and shutil.which("py-spy") is None:
        raise SystemExit("--profile needs py-spy on PATH")
    runs = []
    for n in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="rg-writer-cost-") as name:
            tmp = Path(name)
            prof = tmp / "profile.txt" if args.profile and n == 0 else None
            result = one_run(args, tmp, prof)
            runs.append(result)
            print(
                f"round {n + 1}: {result['cpu_us']:.0f} us CPU/record, "
                f"{result['rate']:.0f} records/s, start-up {result['start_cpu_s']:.2f} s CPU, "
                f"peak RSS {result['peak_mb']:.1f} MB, RSS {result['rss_mb']:.1f} MB",
                flush=True,
            )
            if prof is not None and prof.exists():
                report_profile(prof)
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    what = ", ".join(x for x, on in (("a canary", args.canary), ("scoring", args.scoring)) if on)
    print(
        f"\nmedian of {len(runs)} ({args.records} records{', ' + what if what else ''}): "
        f"{med['cpu_us']:.0f} us CPU per record, {med['rate']:.0f} records/s, "
        f"start-up {med['start_cpu_s']:.2f} s CPU, writer peak RSS {med['peak_mb']:.1f} MB, "
        f"RSS {med['rss_mb']:.1f} MB"
    )


if __name__ == "__main__":
    main()

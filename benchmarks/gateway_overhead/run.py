"""Gateway overhead benchmark: direct vs bare proxy vs releasegate gateway (vs LiteLLM).

Starts a lean mock upstream answering in a fixed 20 ms, then at 2 and 50 connections and
at saturation (256) runs wrk against each target in turn (one worker process each; the
targets are interleaved at each load, and with ``--rounds N`` each cell is the median of
N runs, so a noisy machine shifts every target alike), and prints a Markdown table:
requests/s, p50/p99 latency, added p50/p99 against calling the upstream directly at the
same load, the target's RSS after the load (its record writer process included), and
each gateway arm's throughput against the gateway without recording.

    python -m benchmarks.gateway_overhead.run [--seconds 10] [--conns 2,50,256] \
        [--recorders store,thread,memory,none] [--rounds 1] [--litellm /path/to/venv]

Gateway arms (``--recorders``): ``store`` records to the store as ``releasegate serve
--gateway`` does (a writer process of its own), ``thread`` from a thread of the serving
process (the design it replaced), ``memory`` into a bounded in-memory buffer, ``none``
drops every record.

Needs ``wrk`` (installed with apt-get on first run when running as root on Debian).
``--litellm VENV`` names a virtualenv with ``litellm[proxy]`` installed (kept apart from
the project's environment); ``--litellm auto`` creates one on first run under
``benchmarks/gateway_overhead/out/`` (pip, a minute or two) and reuses it after.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
ARMS = {
    "store": "releasegate, recording to the store",
    "thread": "releasegate, recording from a thread",
    "memory": "releasegate, recording in memory",
    "none": "releasegate, recording off",
}
PY = sys.executable
BODY = {
    "model": "chat",
    "user": "unit-1",
    "messages": [{"role": "user", "content": "hello there, how are you today?"}],
}
LUA = f"""
wrk.method = "POST"
wrk.body   = '{json.dumps(BODY, separators=(",", ":"))}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench"
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"process exited early: {proc.args}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"port {port} never opened: {proc.args}")


def rss_mb(pid: int) -> float:
    total = 0
    for p in [pid, *children(pid)]:
        try:
            text = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        m = re.search(r"VmRSS:\s+(\d+) kB", text)
        total += int(m.group(1)) if m else 0
    return total / 1024


@contextlib.contextmanager
def paused(pids: list[int]) -> Iterator[None]:
    """SIGSTOP the processes ``pids`` and their children for the block, SIGCONT after."""
    tree = [q for p in pids for q in (p, *children(p))]
    for q in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(q, signal.SIGSTOP)
    try:
        yield
    finally:
        for q in tree:
            with contextlib.suppress(ProcessLookupError):
                os.kill(q, signal.SIGCONT)


def pss_mb(pid: int) -> float:
    """Proportional set size of the process and its children: pages shared between them
    (the interpreter, libraries) counted once in total, not once per process."""
    total = 0
    for p in [pid, *children(pid)]:
        try:
            text = Path(f"/proc/{p}/smaps_rollup").read_text()
        except OSError:
            continue
        m = re.search(r"^Pss:\s+(\d+) kB", text, re.M)
        total += int(m.group(1)) if m else 0
    return total / 1024


def children(pid: int) -> list[int]:
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    except OSError:
        return []
    return [int(x) for x in out.split()]


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    assert m, text
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def wrk(url: str, conns: int, seconds: int, lua: Path) -> dict[str, float]:
    threads = min(2, conns)
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency", "-s", str(lua), url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    timeouts = re.search(r"timeout (\d+)", out)
    assert p50 and p99 and rps, out
    return {
        "rps": float(rps.group(1)),
        "p50": _ms(p50.group(1)),
        "p99": _ms(p99.group(1)),
        "non2xx": float(errors.group(1)) if errors else 0.0,
        "timeouts": float(timeouts.group(1)) if timeouts else 0.0,
    }


def project(tmp: Path, upstream: str) -> tuple[str, str]:
    (tmp / "prompts").mkdir()
    (tmp / "prompts" / "chat.yaml").write_text(
        yaml.safe_dump(
            {"name": "chat", "version": "1.0.0", "model": "bench-model", "template": "{{ input }}"}
        )
    )
    (tmp / "releasegate.yaml").write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "prompts": "prompts/",
                "providers": {
                    "up": {"type": "openai", "base_url": upstream, "model": "bench-model"}
                },
            }
        )
    )
    db_url = f"sqlite:///{tmp / 'rg.sqlite'}"
    sys.path.insert(0, str(ROOT / "src"))
    from releasegate.control.deployments import DeploymentService
    from releasegate.store.database import open_database

    db = open_database(db_url, create=True)
    db.upgrade()
    svc = DeploymentService(db.uow())
    svc.register("chat", "v1", prompt="chat@1.0.0", model="bench-model", actor="bench")
    svc.approve("chat", "v1", actor="bench")
    svc.promote("chat", "v1", actor="bench")
    db.close()
    return str(tmp / "releasegate.yaml"), db_url


def _ensure_wrk() -> None:
    if shutil.which("wrk") is not None:
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing wrk (apt-get)", file=sys.stderr, flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian/Ubuntu: sudo apt-get install wrk)")


def _litellm_venv() -> Path:
    venv = Path(__file__).resolve().parent / "out" / "litellm-venv"
    if not (venv / "bin" / "litellm").exists():
        print("installing litellm[proxy] in its own virtualenv", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, "litellm[proxy]"], check=True)
    return venv


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--conns", default="2,50,256")
    ap.add_argument("--recorders", default="store,memory,none", help="gateway arms to run")
    ap.add_argument("--rounds", type=int, default=1, help="runs per cell (the median is shown)")
    ap.add_argument(
        "--litellm",
        default=None,
        help="virtualenv with litellm[proxy], or auto (created on first run)",
    )
    args = ap.parse_args()
    arms = [a for a in args.recorders.split(",") if a]
    unknown = set(arms) - set(ARMS)
    if unknown:
        raise SystemExit(f"unknown recorder(s): {', '.join(sorted(unknown))}")
    _ensure_wrk()
    if args.litellm == "auto":
        args.litellm = str(_litellm_venv())
    conns = [int(c) for c in args.conns.split(",")]
    path = [str(ROOT), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path if p)}
    procs: list[subprocess.Popen[bytes]] = []

    def start(cmd: list[str], port: int, extra_env: dict[str, str] | None = None) -> int:
        proc = subprocess.Popen(
            cmd,
            env={**env, **(extra_env or {})},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(proc)
        wait_port(port, proc)
        return proc.pid

    with tempfile.TemporaryDirectory() as tmpdir:
        try:
            tmp = Path(tmpdir)
            lua = tmp / "req.lua"
            lua.write_text(LUA)
            up_port = free_port()
            start(
                [
                    PY,
                    "-m",
                    "tests.support.lean_openai_server",
                    "--port",
                    str(up_port),
                    "--delay-ms",
                    "20",
                ],
                up_port,
            )
            upstream = f"http://127.0.0.1:{up_port}/v1"
            config, db_url = project(tmp, upstream)
            targets: list[tuple[str, str, int | None]] = [
                ("direct (upstream)", f"http://127.0.0.1:{up_port}/v1/chat/completions", None)
            ]
            port = free_port()
            pid = start(
                [
                    PY,
                    "-m",
                    "uvicorn",
                    "benchmarks.gateway_overhead.bare_proxy:app",
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                ],
                port,
                {"BARE_UPSTREAM": f"http://127.0.0.1:{up_port}"},
            )
            targets.append(("bare proxy", f"http://127.0.0.1:{port}/v1/chat/completions", pid))
            for arm in arms:
                port = free_port()
                pid = start(
                    [
                        PY,
                        "-m",
                        "benchmarks.gateway_overhead.serve_gateway",
                        "--config",
                        config,
                        "--db",
                        db_url,
                        "--port",
                        str(port),
                        "--recorder",
                        arm,
                    ],
                    port,
                )
                targets.append((ARMS[arm], f"http://127.0.0.1:{port}/v1/chat/completions", pid))
            if args.litellm:
                port = free_port()
                cfg = tmp / "litellm.yaml"
                cfg.write_text(
                    yaml.safe_dump(
                        {
                            "model_list": [
                                {
                                    "model_name": "chat",
                                    "litellm_params": {
                                        "model": "openai/bench-model",
                                        "api_base": upstream,
                                        "api_key": "sk-x",
                                    },
                                }
                            ],
                            # wrk sends "Authorization: Bearer sk-bench".
                            "general_settings": {
                                "master_key": "sk-bench",
                                "dangerously_permit_weak_or_unset_master_key": True,
                            },
                            "litellm_settings": {"telemetry": False},
                        }
                    )
                )
                pid = start(
                    [
                        str(Path(args.litellm) / "bin" / "litellm"),
                        "--config",
                        str(cfg),
                        "--port",
                        str(port),
                        "--num_workers",
                        "1",
                    ],
                    port,
                )
                time.sleep(3)
                targets.append(
                    ("LiteLLM proxy", f"http://127.0.0.1:{port}/v1/chat/completions", pid)
                )
            results: dict[tuple[str, int], dict[str, float]] = {}
            rounds: dict[tuple[str, int], list[dict[str, float]]] = {}
            for _label, url, _pid in targets:
                wrk(url, 8, 2, lua)  # warm-up: pools, caches, the record writer
            for c in conns:
                runs: dict[str, list[dict[str, float]]] = {label: [] for label, _, _ in targets}
                for _ in range(args.rounds):
                    for label, url, pid in targets:
                        # the other proxies are paused meanwhile: an idle one still
                        # spends CPU (LiteLLM about a fifth of a core) on shared cores
                        others = [p for _, _, p in targets if p and p != pid]
                        with paused(others):
                            r = wrk(url, c, args.seconds, lua)
                        r["rss"] = rss_mb(pid) if pid else float("nan")
                        r["pss"] = pss_mb(pid) if pid else float("nan")
                        runs[label].append(r)
                        print(f"{label:30s} c={c:<4d} {r}", file=sys.stderr, flush=True)
                for label, got in runs.items():
                    rounds[(label, c)] = got
                    results[(label, c)] = {k: statistics.median(r[k] for r in got) for k in got[0]}
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        print(
            "| target | conns | req/s | vs bare proxy | vs no recording | p50 ms | p99 ms "
            "| added p50 ms | added p99 ms | p99 vs bare proxy ms | non-2xx | timeouts "
            "| RSS MB | PSS MB |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        base = ARMS["none"]

        def paired(
            label: str,
            other: str,
            c: int,
            of: Callable[[dict[str, float], dict[str, float]], float],
        ) -> float:
            """The median over rounds of ``of(label's run, other's run)`` in the same
            round: targets measured minutes apart share each round's machine state."""
            mine, theirs = rounds[(label, c)], rounds[(other, c)]
            return statistics.median(of(a, b) for a, b in zip(mine, theirs, strict=True))

        def rps_ratio(a: dict[str, float], b: dict[str, float]) -> float:
            return a["rps"] / b["rps"]

        def p99_gap(a: dict[str, float], b: dict[str, float]) -> float:
            return a["p99"] - b["p99"]

        for label, _url, _pid in targets:
            for c in conns:
                r, d = results[(label, c)], results[("direct (upstream)", c)]
                proxy = label != "direct (upstream)"
                ratio = (
                    f"{paired(label, base, c, rps_ratio):.0%}"
                    if (base, c) in rounds and label in ARMS.values()
                    else "—"
                )
                vs_bare = f"{paired(label, 'bare proxy', c, rps_ratio):.0%}" if proxy else "—"
                gap = f"{paired(label, 'bare proxy', c, p99_gap):+.2f}" if proxy else "—"
                rss = f"{r['rss']:.0f}" if proxy else "—"  # the upstream is not measured
                pss = f"{r['pss']:.0f}" if proxy else "—"
                print(
                    f"| {label} | {c} | {r['rps']:.0f} | {vs_bare} | {ratio} | {r['p50']:.2f} "
                    f"| {r['p99']:.2f} | {r['p50'] - d['p50']:+.2f} | {r['p99'] - d['p99']:+.2f} "
                    f"| {gap} | {r['non2xx']:.0f} | {r['timeouts']:.0f} | {rss} | {pss} |"
                )


if __name__ == "__main__":
    main()

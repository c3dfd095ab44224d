"""The whole path under load: gateway -> record -> score -> analysis.

One setup per mode: a migrated store with feature ``chat`` (``v1`` active, ``v2`` on a
50 % canary), every interaction sampled for online scoring by a cheap deterministic
check, ``releasegate serve --gateway`` processes (each its own process on its own
port) and one ``releasegate worker`` (2 threads), all calling a lean mock upstream that
answers in a fixed delay. The load (wrk, or a small Python client when wrk is missing)
is split evenly over the gateways at a fixed total concurrency, each request with its
own unit so both arms get traffic. Halfway through the load the canary is promoted
(``promote``, the default), rolled back (``rollback``) or left alone (``hold``), as an
operator would, so that records in flight cross the change. After the load: how long
until every request is recorded and scored (the drain), the gateways' record counters
(submitted, written, dropped, rejected) against the interactions stored, and the
per-record lag from the interaction's ``created_at`` to its ``overall`` score's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
import yaml

from benchmarks.scale.load import LoadResult, load
from releasegate.control.deployments import DeploymentService
from releasegate.online.canary_service import CanaryService
from releasegate.store.database import open_database
from releasegate.store.schema import interactions, scores

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
CANARY = ("promote", "rollback", "hold")
"""What happens to the canary halfway through each mode's load."""
RECORD_COUNTERS = ("submitted", "written", "dropped", "rejected", "queued")
CLI = [PY, "-c", "from releasegate.cli import main; main()"]


@dataclass
class Mode:
    """One setup: its label, store URL, queue location and number of gateways."""

    label: str
    db_url: str
    queue: str | None
    gateways: int
    redis_url: str | None = None


@dataclass
class PipelineResult:
    """One mode's figures (latencies in ms, times in s)."""

    mode: str
    gateways: int
    conns: int
    load: LoadResult
    direct: LoadResult
    recorded: int = 0
    scored: int = 0
    drain_s: float | None = None
    submitted: int = 0
    written: int = 0
    dropped: int = 0
    rejected: int = 0
    queued: int = 0
    canary: str = "hold"
    changed_at_s: float | None = None
    lag_p50_s: float | None = None
    lag_p99_s: float | None = None
    analysis_ms: float | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        def r(x: float | None, n: int = 2) -> float | None:
            return None if x is None else round(x, n)

        return {
            "mode": self.mode,
            "gateways": self.gateways,
            "conns": self.conns,
            "requests": self.load.requests,
            "rps": r(self.load.rps, 1),
            "p50_ms": r(self.load.p50),
            "p99_ms": r(self.load.p99),
            "added_p50_ms": r(self.load.p50 - self.direct.p50),
            "added_p99_ms": r(self.load.p99 - self.direct.p99),
            "non2xx": self.load.non2xx,
            "timeouts": self.load.timeouts,
            "canary": self.canary,
            "changed_at_s": r(self.changed_at_s),
            "submitted": self.submitted,
            "written": self.written,
            "dropped": self.dropped,
            "rejected": self.rejected,
            "queued": self.queued,
            "recorded": self.recorded,
            # submitted, neither counted dropped or rejected, nor stored: must be 0
            "lost": self.submitted - self.dropped - self.rejected - self.recorded,
            "scored": self.scored,
            "drain_s": r(self.drain_s),
            "lag_p50_s": r(self.lag_p50_s),
            "lag_p99_s": r(self.lag_p99_s),
            "analysis_ms": r(self.analysis_ms),
            "notes": self.notes,
        }


def _env() -> dict[str, str]:
    path = [str(ROOT), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path if p)}


def wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} never became ready: {log.read_text(errors='replace')[-2000:]}")


@contextmanager
def process(cmd: list[str], log: Path, cwd: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``cmd`` running with its output in ``log``; SIGTERM (then SIGKILL) on exit."""
    with log.open("wb") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, cwd=cwd, env=_env())
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def write_project(folder: Path, upstream: str, mode: Mode) -> Path:
    """The project of ``mode`` (prompts and releasegate.yaml); returns the config path."""
    (folder / "prompts").mkdir(exist_ok=True)
    for name, model in (("chat", "m-1"), ("chat2", "m-2")):
        prompt = {"name": name, "version": "1.0.0", "model": model, "template": "{{ input }}"}
        (folder / "prompts" / f"{name}.yaml").write_text(yaml.safe_dump(prompt))
    online: dict[str, Any] = {
        "analysis_interval_s": 5,
        # the analysis runs every 5 s but never acts (it would need more scored samples
        # than a run makes): the change halfway through the load is the benchmark's own
        "canary": {"min_samples": 1_000_000_000},
        "sweep_after_s": 60,
        "features": {
            "chat": {
                "checks": [{"type": "not-contains", "value": "as an AI"}],
                "sample": {"canary": 1.0, "incumbent": 1.0},
            }
        },
    }
    gateway: dict[str, Any] = {"default_provider": "up"}
    if mode.queue is not None:
        online["queue"] = mode.queue
        online["queue_name"] = f"rg-scalebench-{os.getpid()}"
    if mode.redis_url is not None:
        gateway["redis_url"] = mode.redis_url
    doc = {
        "version": 1,
        "prompts": "prompts/",
        "providers": {"up": {"type": "openai", "base_url": upstream, "model": "m-1"}},
        "gateway": gateway,
        "online": online,
    }
    path = folder / "releasegate.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def deploy(db_url: str, folder: Path) -> None:
    """Migrate the store (as an operator would) and deploy ``chat`` with a canary."""
    done = subprocess.run(
        [*CLI, "db", "upgrade", "--db", db_url], cwd=folder, env=_env(), capture_output=True
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.decode(errors="replace"))
    db = open_database(db_url)
    try:
        svc = DeploymentService(db.uow())
        for v, prompt, model in (("v1", "chat@1.0.0", "m-1"), ("v2", "chat2@1.0.0", "m-2")):
            svc.register("chat", v, prompt=prompt, model=model, actor="bench")
            svc.approve("chat", v, actor="bench")
        svc.promote("chat", "v1", actor="bench")
        svc.canary("chat", "v2", actor="bench", share=0.5)
    finally:
        db.close()


def _counts(db_url: str) -> tuple[int, int]:
    """(interactions recorded, of those due a score, the ones not scored yet)."""
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(interactions)).scalar()
            backlog = conn.execute(
                sa.text(
                    "SELECT COUNT(*) FROM interactions i WHERE i.score_due AND NOT EXISTS "
                    "(SELECT 1 FROM scores s WHERE s.interaction_id = i.id "
                    "AND s.check_type = 'overall')"
                )
            ).scalar()
        return int(total or 0), int(backlog or 0)
    finally:
        engine.dispose()


def record_counters(urls: list[str]) -> dict[str, int]:
    """The record counters (:data:`RECORD_COUNTERS`) summed over the gateways'
    ``/metrics``."""
    sums = dict.fromkeys(RECORD_COUNTERS, 0.0)
    for url in urls:
        for line in httpx.get(url + "/metrics", timeout=10).text.splitlines():
            name, _, value = line.partition(" ")
            key = name.removeprefix("releasegate_gateway_records_")
            if key != name and key in sums:
                sums[key] += float(value)
    return {k: int(v) for k, v in sums.items()}


def change_canary(db_url: str, canary: str) -> None:
    """Promote or roll back ``chat``'s canary as an operator would (``hold``: nothing)."""
    if canary == "hold":
        return
    db = open_database(db_url)
    try:
        svc = DeploymentService(db.uow())
        if canary == "promote":
            svc.promote("chat", "v2", actor="bench", reason="mid-load promotion")
        else:
            svc.rollback("chat", actor="bench", reason="mid-load rollback")
    finally:
        db.close()


def _lags(db_url: str) -> list[float]:
    """Seconds from each interaction's ``created_at`` to its ``overall`` score's."""
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(interactions.c.created_at, scores.c.created_at).join(
                    scores,
                    sa.and_(
                        scores.c.interaction_id == interactions.c.id,
                        scores.c.check_type == "overall",
                    ),
                )
            ).all()
        return sorted((s - i).total_seconds() for i, s in rows)
    finally:
        engine.dispose()


def run_mode(
    mode: Mode,
    folder: Path,
    upstream: str,
    *,
    conns: int,
    seconds: float,
    direct: LoadResult,
    lua: Path,
    loader: str,
    canary: str = "promote",
    drain_timeout: float = 300,
) -> PipelineResult:
    """Start the mode's gateways and worker, load them (changing the canary halfway,
    see :data:`CANARY`), wait for the drain, measure."""
    if canary not in CANARY:
        raise ValueError(f"canary must be one of {CANARY}, not {canary!r}")
    folder.mkdir(parents=True)
    config = write_project(folder, upstream, mode)
    deploy(mode.db_url, folder)
    from tests.support.servers import free_port

    with ExitStack() as stack:
        urls = []
        for g in range(mode.gateways):
            port = free_port()
            cmd = [*CLI, "serve", "--gateway", "--port", str(port), "--db", mode.db_url]
            log = folder / f"gateway-{g}.log"
            proc = stack.enter_context(process([*cmd, "--config", str(config)], log, folder))
            url = f"http://127.0.0.1:{port}"
            wait_ready(url + "/readyz", proc, log)
            urls.append(url)
        wlog = folder / "worker.log"
        worker = [*CLI, "worker", "--workers", "2", "--db", mode.db_url, "--config", str(config)]
        stack.enter_context(process(worker, wlog, folder))
        load(urls, min(8, conns), 2, lua, loader)  # warm-up: pools, caches, routing
        failed: list[str] = []

        def change() -> None:
            try:
                change_canary(mode.db_url, canary)
            except Exception as exc:  # reported with the figures, never hidden
                failed.append(f"the {canary} halfway through the load failed: {exc}")

        timer = threading.Timer(seconds / 2, change)
        timer.start()
        try:
            result = load(urls, conns, seconds, lua, loader)
        finally:
            timer.cancel()
            timer.join()
        ended = time.monotonic()
        out = PipelineResult(mode.label, mode.gateways, conns, result, direct, canary=canary)
        out.notes += failed
        if canary != "hold" and not failed:
            out.changed_at_s = seconds / 2
        # Drained: every request the gateways answered is stored and scored. The
        # gateways' own counters are the target (wrk does not count the requests in
        # flight when it stops): everything submitted is written, dropped or rejected,
        # nothing is queued, and what was written is stored.
        last, still = (-1, -1), time.monotonic()
        while time.monotonic() - ended < drain_timeout:
            c = record_counters(urls)
            out.submitted, out.written, out.dropped = c["submitted"], c["written"], c["dropped"]
            out.rejected, out.queued = c["rejected"], c["queued"]
            now = _counts(mode.db_url)
            recorded, backlog = now
            settled = out.queued == 0 and out.submitted == (
                out.written + out.dropped + out.rejected
            )
            if settled and recorded >= out.written and backlog == 0:
                out.drain_s = time.monotonic() - ended
                break
            if now != last:
                last, still = now, time.monotonic()
            elif settled and backlog == 0 and time.monotonic() - still > 20:
                out.notes.append(
                    f"{out.written - recorded} records counted as written, not stored, "
                    "20 s after the rest were"
                )
                break
            time.sleep(0.25)
        else:
            out.notes.append(
                f"not drained after {drain_timeout:.0f} s: {out.queued} records still queued"
            )
        recorded, backlog = _counts(mode.db_url)
        out.recorded = recorded
        lags = _lags(mode.db_url)
        out.scored = len(lags)
        if lags:
            out.lag_p50_s = lags[len(lags) // 2]
            out.lag_p99_s = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
    db = open_database(mode.db_url)
    try:
        svc = CanaryService(db.uow(), DeploymentService(db.uow()), apply=False)
        t = time.perf_counter()
        svc.analyze("chat")
        out.analysis_ms = (time.perf_counter() - t) * 1000
    finally:
        db.close()
    return out


def dump(results: list[PipelineResult]) -> str:
    return json.dumps([r.to_json() for r in results], indent=2)

"""Decision latency of the canary *service* over a database holding 1M recorded scores.

The service reads the running statistics (a few rows per canary), analyses, stores the
decision: this measures that whole round trip on SQLite (a file) and on PostgreSQL, and
the cost of one increment (what recording or scoring a batch adds). Usage:

    python benchmarks/canary_decisions/service.py [--pg URL] [--runs 50]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from releasegate.canary.observations import ArmStats, Observation
from releasegate.control.deployments import DeploymentService
from releasegate.deploy.plans import preset
from releasegate.online.canary_service import CanaryService
from releasegate.store.database import open_database


def _fold(scores: np.ndarray) -> ArmStats:
    obs = [Observation(float(x), latency_ms=100.0 + 50.0 * float(x)) for x in scores]
    return ArmStats.from_observations(obs)


def measure(url: str, runs: int) -> dict[str, float]:
    db = open_database(url, auto_upgrade=True)
    try:
        svc = DeploymentService(db.uow())
        for v in ("v1", "v2"):
            svc.register("chat", v, prompt=f"p@{v}", model="m", actor="bench")
            svc.approve("chat", v, actor="bench")
        svc.promote("chat", "v1", actor="bench")
        dep = svc.canary("chat", "v2", actor="bench", plan=preset("default"))
        cs = CanaryService(db.uow(), svc, apply=False)
        rng = np.random.default_rng(1)
        scores = rng.beta(6, 2, 1_000_000)
        # 1M scores, stored as increments of 10,000 (what 100 batches of recording add)
        for arm, part in (("incumbent", scores[:950_000]), ("canary", scores[950_000:])):
            for chunk in np.array_split(part, max(1, len(part) // 10_000)):
                stats = _fold(chunk)
                cs.observe(dep, arm, stats)
                cs.observe(dep, arm, stats, check="overall")
        one = ArmStats.from_observations([Observation(0.7, latency_ms=120.0)] * 100)
        inc = []
        for _ in range(runs):
            t0 = time.perf_counter()
            # a per-check row: counted like any increment, not part of the decision
            cs.observe(dep, "canary", one, check="relevance")
            inc.append(time.perf_counter() - t0)
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            d = cs.analyze("chat")
            times.append(time.perf_counter() - t0)
        assert d is not None
        status = cs.status("chat").to_json()
        assert status["arms"]["incumbent"]["requests"] == 950_000
        return {
            "increment_median_ms": statistics.median(inc) * 1e3,
            "decision_median_ms": statistics.median(times) * 1e3,
            "decision_p90_ms": sorted(times)[int(0.9 * len(times))] * 1e3,
            "last_action": d.action,  # type: ignore[dict-item]
        }
    finally:
        db.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--runs", type=int, default=50)
    args = ap.parse_args()
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        out["sqlite"] = measure(f"sqlite:///{Path(tmp) / 'bench.db'}", args.runs)
    admin = sa.create_engine(args.pg, isolation_level="AUTOCOMMIT")
    name = f"rg_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        out["postgresql"] = measure(
            sa.make_url(args.pg).set(database=name).render_as_string(hide_password=False),
            args.runs,
        )
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

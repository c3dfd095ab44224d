"""``releasegate canary status`` and ``canary analyze`` on a real SQLite database."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from releasegate.bootstrap import open_control
from releasegate.canary.observations import Observation
from releasegate.deploy.plans import RolloutPlan, Stage
from tests.e2e.deploy._cli import invoke, run


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'rg.db'}"
    with open_control(url, create=True) as parts:
        svc = parts.deployments()
        for v in ("v1", "v2"):
            svc.register("chat", v, prompt=f"chat@{v}", model="m-1", actor="t")
            svc.approve("chat", v, actor="t")
        svc.promote("chat", "v1", actor="t")
        svc.register("other", "v1", prompt="o@v1", model="m-1", actor="t")
    return url


def _start(url: str, canary_mean: float) -> None:
    plan = RolloutPlan(stages=(Stage(share=0.1), Stage(share=1.0)))
    with open_control(url) as parts:
        dep = parts.deployments().canary("chat", "v2", actor="t", plan=plan)
        cs = parts.canary()
        rng = random.Random(5)
        for arm, n, mean in (("incumbent", 9 * 300, 0.8), ("canary", 300, canary_mean)):
            obs = [Observation(min(1.0, max(0.0, rng.gauss(mean, 0.1))), latency_ms=90.0)
                   for _ in range(n)]  # fmt: skip
            cs.observe(dep, arm, obs)
            cs.observe(dep, arm, obs, check="overall")


def test_status_before_and_after_an_analysis(db: str) -> None:
    r = invoke("canary", "status", "chat", "--db", db)
    assert r.returncode == 0 and "no canary has run" in r.stdout
    _start(db, 0.8)
    r = invoke("canary", "status", "chat", "--db", db)
    assert r.returncode == 0, r.stderr
    assert "canary v2 (canary, stage 0 of plan custom, 10%) vs incumbent v1" in r.stdout
    assert "no decision yet" in r.stdout
    r = invoke("canary", "analyze", "chat", "--db", db, "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "[dry-run]" in r.stdout
    out = json.loads(invoke("canary", "status", "chat", "--db", db, "--json").stdout)
    assert out["canary"]["version"] == "v2" and out["incumbent"] == "v1"
    assert out["arms"]["canary"]["requests"] == 300
    assert out["arms"]["incumbent"]["requests"] == 2700
    assert out["last_decision"]["applied"] == "dry-run"


def test_analyze_rolls_a_worse_canary_back_and_says_why(db: str) -> None:
    _start(db, 0.4)
    r = run("canary", "analyze", "--db", db, "--json")  # every running canary
    assert r.returncode == 0, r.stderr
    (decision,) = json.loads(r.stdout)
    assert decision["action"] == "rollback" and decision["applied"] == "applied"
    status = json.loads(run("deploy", "status", "chat", "--db", db, "--json").stdout)
    assert status["canary"] is None and status["active"] == "v1"
    history = run("deploy", "history", "chat", "--db", db).stdout
    assert "releasegate-canary" in history
    r = invoke("canary", "analyze", "--db", db)
    assert r.returncode == 0 and "no canary is running" in r.stdout


def test_unknown_feature_is_a_clear_error(db: str) -> None:
    r = invoke("canary", "status", "nope", "--db", db)
    assert r.returncode != 0 and "nope" in r.stderr and "Traceback" not in r.stderr

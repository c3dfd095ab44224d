"""No configuration turns evident failure green: the real command in a real process.

A suite without a quality rule fails when a case fails and names the default it applied;
``compare`` applies flags, then ``--suite``, then the gate recorded in the head report,
then the default (a statistically evident drop fails), and names the source.
"""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

N = 60
# 12 of 60 cases answer wrongly in head: the mean falls from 1.00 to 0.80
WRONG = [f"c{i:02d}" for i in range(N) if i % 10 in (3, 7)]
DEFAULT_CASE = "every case must pass its case threshold"
DEFAULT_DROP = "fail on a statistically evident drop"


def rg(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "releasegate", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "250", "NO_COLOR": "1"},
    )


def write_project(root: Path, suites: dict[str, dict[str, Any]], n: int = N) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    cases = [
        {
            "id": f"c{i:02d}",
            "input": f"token-{i}",
            "assert": [{"type": "contains", "value": f"token-{i}"}],
        }
        for i in range(n)
    ]
    (root / "cases.yaml").write_text(yaml.safe_dump(cases))
    config = {
        "version": 1,
        "providers": {
            # echoes the input: every case passes
            "good": {"type": "scripted", "model": "m-1"},
            # answers the WRONG cases uselessly
            "bad": {
                "type": "scripted",
                "model": "m-1",
                "responses": dict.fromkeys(WRONG, "no idea"),
            },
        },
        "suites": suites,
        "cache": {"enabled": False},
    }
    (root / "releasegate.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return root


def suite(target: str, gate: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"dataset": "cases.yaml", "target": target}
    if gate is not None:
        out["gate"] = gate
    return out


@pytest.mark.parametrize(
    ("gate", "why"),
    [
        (None, "no gate configured"),
        ({}, "no gate configured"),
        ({"max_cost_usd": 10, "max_latency_p95_ms": 100000}, "no quality rule that can fail"),
        ({"min_score": 0.0, "max_regression": 0.05}, "need a baseline"),
    ],
    ids=["no-gate", "empty-gate", "cost-latency-only", "zero-floor-and-regression-only"],
)
def test_no_quality_rule_fails_on_failing_cases_and_names_the_default(
    tmp_path: Path, gate: dict[str, Any] | None, why: str
) -> None:
    root = write_project(tmp_path / "p", {"s": suite("bad", gate)}, n=20)
    res = rg(
        root, "eval", "-s", "s", "-q", "-o", "r.json", "--markdown", "r.md", "--junit", "r.xml"
    )
    assert res.returncode == 1, res.stdout + res.stderr
    out = " ".join(res.stdout.split())
    assert "FAIL" in out and DEFAULT_CASE in out and why in out
    report = json.loads((root / "r.json").read_text())
    assert report["summary"]["n_failed"] == 4
    assert report["gate"]["passed"] is False
    assert why in report["gate"]["defaults"][0]
    rule = report["gate"]["rules"][0]
    assert rule["rule"] == "all_cases_pass" and rule["default"] is True and not rule["passed"]
    assert report["gate"]["config"]["case_threshold"] == 0.5
    assert DEFAULT_CASE in unescape((root / "r.md").read_text())
    assert DEFAULT_CASE in (root / "r.xml").read_text()


@pytest.mark.parametrize("gate", [None, {}], ids=["no-gate", "empty-gate"])
def test_no_gate_passes_when_every_case_passes(tmp_path: Path, gate: dict[str, Any] | None) -> None:
    root = write_project(tmp_path / "p", {"s": suite("good", gate)}, n=5)
    res = rg(root, "eval", "-s", "s", "-q")
    assert res.returncode == 0, res.stdout + res.stderr
    assert DEFAULT_CASE in " ".join(res.stdout.split())


def test_no_case_after_filters_is_never_a_pass(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"s": suite("good", None)}, n=3)
    res = rg(root, "eval", "-s", "s", "-q", "--tag", "no-such-tag")
    assert res.returncode == 2, res.stdout + res.stderr
    assert "no case has the tag 'no-such-tag'" in " ".join(res.stderr.split())
    assert "Traceback" not in res.stderr


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """base.json (every case passes) and head.json (mean 0.80) run under a suite gate
    with ``max_regression: 0.05``; the config also has suites with other rules."""
    root = write_project(
        tmp_path_factory.mktemp("pair") / "p",
        {
            "base": suite("good", {"max_regression": 0.05}),
            "head": suite("bad", {"max_regression": 0.05}),
            "lenient": suite("bad", {"max_regression": 0.5}),
            "plain": suite("bad", {"min_score": 0.1}),
        },
    )
    assert rg(root, "eval", "-s", "base", "-q", "-o", "base.json").returncode == 0
    rg(root, "eval", "-s", "head", "-q", "-o", "head.json")
    data = json.loads((root / "head.json").read_text())
    assert data["summary"]["mean_score"] == pytest.approx(0.8)
    assert data["gate"]["config"]["max_regression"] == 0.05
    # the same report as an older releasegate wrote it: no recorded gate configuration
    del data["gate"]["config"], data["gate"]["defaults"]
    for rule in data["gate"]["rules"]:
        del rule["default"]
    (root / "old-head.json").write_text(json.dumps(data))
    return root


@pytest.mark.parametrize(
    ("args", "code", "source", "said"),
    [
        (
            ["head.json"],
            1,
            "report",
            "rules from the gate recorded in the head report (suite 'head')",
        ),
        (["head.json", "--max-regression", "0.5"], 0, "flags", "--max-regression 0.5"),
        (["head.json", "-s", "lenient"], 0, "suite", "suite 'lenient' of the config"),
        (
            ["head.json", "-s", "lenient", "--max-regression", "0.01"],
            1,
            "flags",
            "--max-regression 0.01",
        ),
        (["head.json", "-s", "plain"], 1, "suite", DEFAULT_DROP),
        (["old-head.json"], 1, "default", "no rule given"),
        (
            ["base.json"],
            0,
            "report",
            "rules from the gate recorded in the head report (suite 'base')",
        ),
    ],
)
def test_compare_names_and_applies_its_rule_source(
    pair: Path, args: list[str], code: int, source: str, said: str
) -> None:
    res = rg(pair, "compare", "base.json", *args, "--markdown", "cmp.md", "-o", "cmp.json")
    assert res.returncode == code, res.stdout + res.stderr
    assert said in " ".join(res.stdout.split())
    cmp = json.loads((pair / "cmp.json").read_text())
    assert cmp["rule_source"] == source and said in cmp["rules_from"]
    assert said in unescape((pair / "cmp.md").read_text())


def unescape(markdown: str) -> str:
    """Markdown prose as read: entities decoded, backslash escapes dropped."""
    return html.unescape(markdown).replace("\\", "")


def test_compare_default_passes_without_an_evident_drop(pair: Path) -> None:
    data = json.loads((pair / "base.json").read_text())
    del data["gate"]["config"]
    (pair / "old-base.json").write_text(json.dumps(data))
    res = rg(pair, "compare", "base.json", "old-base.json", "--format", "json")
    assert res.returncode == 0, res.stdout + res.stderr
    cmp = json.loads(res.stdout)
    assert cmp["rule_source"] == "default"
    assert [r["rule"] for r in cmp["rules"]] == ["max_regression"] and cmp["rules"][0]["passed"]


def test_eval_baseline_without_regression_rule_applies_the_default(pair: Path) -> None:
    res = rg(pair, "eval", "-s", "plain", "-q", "--baseline", "base.json", "-o", "plain.json")
    assert res.returncode == 1, res.stdout + res.stderr
    report = json.loads((pair / "plain.json").read_text())
    failed = [r for r in report["gate"]["rules"] if not r["passed"]]
    assert [r["rule"] for r in failed] == ["max_regression"] and failed[0]["default"]
    assert any(DEFAULT_DROP in d for d in report["gate"]["defaults"])
    assert report["comparison"]["rule_source"] == "suite"
    assert DEFAULT_DROP in " ".join(res.stdout.split())

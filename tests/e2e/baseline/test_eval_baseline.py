"""`eval --baseline`, `--baseline-ref`, `--changed-only` and the mixed-change rule, in a
real temporary git repository with the real command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

N = 40


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def rg(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "releasegate", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )


def write_prompt(
    root: Path, template: str, model: str = "gpt-4o-2024-11-20", v: str = "1.0.0"
) -> None:
    prompt = {"name": "qa", "version": v, "model": model, "template": template}
    (root / "prompts" / "qa.yaml").write_text(yaml.safe_dump(prompt))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "prompts").mkdir(parents=True)
    write_prompt(root, "Q: {{ input }}")
    cases = [
        {
            "id": f"c{i}",
            "input": f"token-{i}",
            "tags": ["core"],
            "assert": [{"type": "contains", "value": f"token-{i}"}],
        }
        for i in range(N)
    ]
    (root / "cases.yaml").write_text(yaml.safe_dump(cases))
    config = {
        "version": 1,
        # Echoes the prompt, except that a prompt starting "Question:" gets a useless answer:
        # the new template below is a planted regression on every case.
        "providers": {
            "target": {
                "type": "scripted",
                "model": "gpt-4o-2024-11-20",
                "rules": [{"match": "^Question:", "output": "no idea"}],
            }
        },
        "prompts": "prompts/",
        "suites": {
            "pr": {
                "dataset": "cases.yaml",
                "prompt": "qa",
                "gate": {"min_score": 0.0, "max_regression": 0.05, "critical_tags": ["core"]},
            },
            "other": {"dataset": "cases.yaml", "gate": {}},
        },
    }
    (root / "releasegate.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    (root / ".gitignore").write_text(".releasegate/\nout/\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "v1")
    return root


def test_baseline_ref_detects_a_planted_regression(repo: Path) -> None:
    write_prompt(repo, "Question: {{ input }}", v="1.1.0")
    git(repo, "commit", "-qam", "reword the prompt")
    res = rg(
        repo,
        "eval",
        "-s",
        "pr",
        "--baseline-ref",
        "HEAD~1",
        "-o",
        "out/r.json",
        "--markdown",
        "out/r.md",
    )
    assert res.returncode == 1, res.stderr
    report = json.loads((repo / "out/r.json").read_text())
    cmp = report["comparison"]
    assert cmp is not None
    failed = {r["rule"] for r in report["gate"]["rules"] if not r["passed"]}
    assert "max_regression" in failed
    md = (repo / "out/r.md").read_text()
    assert md.startswith("<!-- releasegate-report suite=pr -->")
    assert "max\\_regression" in md or "max_regression" in md


def test_baseline_ref_unchanged_prompt_passes_and_reuses_cache(repo: Path) -> None:
    res = rg(repo, "eval", "-s", "pr", "--baseline-ref", "HEAD", "-o", "out/r.json")
    assert res.returncode == 0, res.stderr
    report = json.loads((repo / "out/r.json").read_text())
    # Base and head render identical requests: the head side is served from the cache.
    assert report["summary"]["n_cached"] == N
    assert all(r["passed"] for r in report["gate"]["rules"])


def test_stored_baseline_file(repo: Path) -> None:
    assert rg(repo, "eval", "-s", "pr", "-o", "out/base.json").returncode == 0
    write_prompt(repo, "Question: {{ input }}", v="1.1.0")
    res = rg(repo, "eval", "-s", "pr", "--baseline", "out/base.json", "-o", "out/head.json")
    assert res.returncode == 1, res.stderr
    bad = repo / "out" / "corrupt.json"
    bad.write_text("{not json")
    res = rg(repo, "eval", "-s", "pr", "--baseline", str(bad))
    assert res.returncode == 2 and "corrupt.json" in res.stderr


def test_mixed_change_refused_unless_overridden(repo: Path) -> None:
    write_prompt(repo, "Answer: {{ input }}", model="gpt-4o-mini-2024-07-18", v="2.0.0")
    res = rg(repo, "validate", "--base", "HEAD")
    assert res.returncode == 2 and "--allow-mixed-change" in res.stderr
    res = rg(repo, "eval", "-s", "pr", "--baseline-ref", "HEAD")
    assert res.returncode == 2 and "--allow-mixed-change" in res.stderr
    res = rg(
        repo,
        "eval",
        "-s",
        "pr",
        "--baseline-ref",
        "HEAD",
        "--allow-mixed-change",
        "-o",
        "out/r.json",
    )
    assert res.returncode in (0, 1), res.stderr
    report = json.loads((repo / "out/r.json").read_text())
    assert report["overrides"] and "allow-mixed-change" in report["overrides"][0]


def test_changed_only_runs_just_the_covering_suites(repo: Path) -> None:
    res = rg(repo, "eval", "--changed-only", "--base", "HEAD")
    assert res.returncode == 0 and "nothing to run" in res.stdout
    write_prompt(repo, "Q:  {{ input }}", v="1.0.1")
    res = rg(repo, "eval", "--changed-only", "--base", "HEAD", "-o", "out/{suite}.json")
    assert res.returncode == 0, res.stderr
    assert (repo / "out/pr.json").exists() and not (repo / "out/other.json").exists()

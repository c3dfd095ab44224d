"""The CI workflows `releasegate init` scaffolds, run for real on small projects.

Each workflow file is parsed, the `run:` steps that invoke `releasegate validate` or
`releasegate eval` are taken as written (GitHub expressions filled in: the target
branch, the matrix suite, empty secrets) and run with bash in a separate process, in
order, in a git checkout of the project — as the CI runner would. A project whose
suites use a judge and an embedder must pass every step; a project with an unknown
provider type must stop at the validate step, naming the config line.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.slow

WORKFLOWS = (".github/workflows/releasegate.yml", ".github/workflows/releasegate-nightly.yml")

JUDGE_ANSWER = '{"score": 0.9, "reason": "states the facts from the context"}'

CONFIG = f"""\
version: 1
providers:
  target:
    type: scripted
    model: scripted-2024-01-01
    rules:
      - match: return
        output: You can return it within 30 days of delivery for a full refund.
    default: "I will escalate this to a colleague."
  judge:
    type: scripted
    model: judge-2024-01-01
    default: '{JUDGE_ANSWER}'
  emb:
    type: local
prompts: prompts/
suites:
  pr:
    dataset: datasets/pr.yaml
    prompt: support-answer
    judge: judge
    embedder: emb
    gate: {{min_score: 0.5}}
  nightly:
    dataset: [datasets/pr.yaml]
    prompt: support-answer
    judge: judge
    embedder: emb
    repeat: 2
    gate: {{min_score: 0.5}}
"""

DATASET = """\
cases:
- id: refund-window
  input: How long do I have to return a kettle?
  context: Kettles can be returned within 30 days of delivery for a full refund.
  reference: You can return it within 30 days of delivery for a full refund.
  expected_behavior: Says the kettle can be returned within 30 days.
  assert:
  - {type: llm-judge}
  - {type: similar, value: Returns are accepted within 30 days of delivery., threshold: 0.3}
- id: crypto
  input: Can I pay with cryptocurrency?
  context: We accept credit cards and PayPal.
  expected_behavior: Escalates instead of inventing an answer.
  assert:
  - {type: llm-judge}
  - {type: icontains, value: escalate}
"""


def _bin_dir() -> str:
    return str(Path(sys.executable).parent)


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def _fill(text: str, matrix: dict[str, str]) -> str:
    """GitHub expressions as the runner fills them for a pull request into main."""

    def one(match: re.Match[str]) -> str:
        expr = match.group(1).strip()
        if expr == "github.base_ref":
            return "main"
        if expr.startswith("matrix."):
            return matrix[expr.removeprefix("matrix.")]
        if expr.startswith("secrets."):
            return ""  # forks and local runs have no secrets
        raise AssertionError(f"the test does not know how to fill ${{{{ {expr} }}}}")

    return re.sub(r"\$\{\{(.*?)\}\}", one, text)


def _releasegate_steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, str], str]]:
    """(job, matrix, step) -> every releasegate validate/eval step, matrix expanded."""
    out = []
    for job in workflow["jobs"].values():
        matrix = job.get("strategy", {}).get("matrix", {})
        combos = [{}] if not matrix else [{"suite": s} for s in matrix["suite"]]
        for combo in combos:
            for step in job["steps"]:
                script = step.get("run", "")
                if re.search(r"\breleasegate (validate|eval)\b", script):
                    env = {k: _fill(str(v), combo) for k, v in (step.get("env") or {}).items()}
                    out.append((_fill(script, combo), env, step.get("name", "")))
    return out


def _run_step(
    project: Path, script: str, env: dict[str, str], tmp: Path
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    output_file = tmp / f"github_output_{os.getpid()}_{abs(hash(script))}"
    output_file.write_text("")
    full_env = {
        **os.environ,
        "PATH": _bin_dir() + os.pathsep + os.environ.get("PATH", ""),
        "GITHUB_OUTPUT": str(output_file),
        "CI": "true",
        **env,
    }
    # GitHub runs `run:` scripts with `bash -e {0}`.
    res = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=project,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    outputs = dict(
        line.split("=", 1) for line in output_file.read_text().splitlines() if "=" in line
    )
    return res, outputs


def _scaffold(tmp_path: Path, config: str) -> Path:
    res = subprocess.run(
        [sys.executable, "-m", "releasegate", "init", "proj"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    project = tmp_path / "proj"
    (project / "releasegate.yaml").write_text(config, encoding="utf-8")
    (project / "datasets" / "pr.yaml").write_text(DATASET, encoding="utf-8")
    _git(project, "init", "-q", "-b", "main")
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "project")
    _git(project, "update-ref", "refs/remotes/origin/main", "HEAD")
    return project


def test_scaffolded_workflows_pass_on_a_project_with_judge_and_similarity_checks(
    tmp_path: Path,
) -> None:
    pytest.importorskip("sentence_transformers")
    project = _scaffold(tmp_path, CONFIG)
    ran = 0
    for rel in WORKFLOWS:
        workflow = yaml.safe_load((project / rel).read_text())
        steps = _releasegate_steps(workflow)
        assert any("releasegate validate" in s for s, _, _ in steps), rel
        assert any("releasegate eval" in s for s, _, _ in steps), rel
        for script, env, name in steps:
            res, outputs = _run_step(project, script, env, tmp_path)
            assert res.returncode == 0, f"{rel}: step {name!r}\n{res.stdout}\n{res.stderr}"
            # The PR workflow records eval's exit code instead of failing the step.
            assert outputs.get("exit_code", "0") == "0", f"{rel}: {name}\n{res.stderr}"
            ran += 1
    assert ran >= 4
    report = json.loads((project / "releasegate-report.json").read_text())
    checks = {c["type"]: c for case in report["cases"] for c in case["checks"]}
    assert checks["llm-judge"]["status"] == "measured"
    assert checks["similar"]["status"] == "measured"
    assert (project / "nightly-nightly.json").is_file()


@pytest.mark.parametrize("provider", ["target", "judge"])
def test_scaffolded_workflow_stops_at_validate_with_the_config_line(
    tmp_path: Path, provider: str
) -> None:
    model = {"target": "scripted-2024-01-01", "judge": "judge-2024-01-01"}[provider]
    config = CONFIG.replace(
        f"    type: scripted\n    model: {model}", f"    type: opnai\n    model: {model}"
    )
    assert "opnai" in config
    key_line = config.splitlines().index(f"  {provider}:") + 1
    project = _scaffold(tmp_path, config)
    workflow = yaml.safe_load((project / WORKFLOWS[0]).read_text())
    script, env, _ = _releasegate_steps(workflow)[0]
    assert "releasegate validate" in script
    res, _ = _run_step(project, script, env, tmp_path)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "unknown provider type 'opnai'" in res.stderr
    assert f"releasegate.yaml:{key_line}:" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr

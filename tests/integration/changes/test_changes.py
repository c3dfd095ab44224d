"""Prompt changes against a real temporary git repository with two commits."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from releasegate.bootstrap import arun_eval, eval_adapters
from releasegate.cli import app
from releasegate.errors import UsageError
from releasegate.evals.changes import (
    arun_baseline_ref,
    changed_prompts,
    changed_suites,
    check_separation,
    prompts_at_ref,
)
from releasegate.evals.comparison import compare_reports
from releasegate.project import load_project

CONFIG = """\
version: 1
providers:
  target:
    type: python
    function: "rg_changes_echo:answer"
    path: "."
prompts: prompts/
suites:
  pr:
    dataset: datasets/pr.yaml
    prompt: support
  other:
    dataset: datasets/pr.yaml
    prompt: faq
"""

APP = """\
def answer(messages):
    # Echo the rendered prompt, so the score depends on the prompt's template.
    return messages[-1]["content"]
"""

DATASET = """\
cases:
- id: a
  input: hello
  assert:
  - type: contains
    value: v2
- id: b
  input: world
  assert:
  - type: contains
    value: v2
- id: c
  input: again
  assert:
  - type: contains
    value: again
"""


def _prompt(
    name: str, text: str, *, model: str = "gpt-4o-2024-11-20", version: str = "1.0.0"
) -> str:
    return (
        f"name: {name}\nversion: {version}\nmodel: {model}\n"
        f"params: {{temperature: 0}}\ntemplate: '{text} {{{{ input }}}}'\n"
    )


def _git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose project lives in `proj/`: commit 1 has prompt text v1,
    commit 2 changes the support prompt's text to v2 (and bumps its version)."""
    _git(tmp_path, "init", "-q", "-b", "main")
    proj = tmp_path / "proj"
    (proj / "prompts").mkdir(parents=True)
    (proj / "datasets").mkdir()
    (proj / "releasegate.yaml").write_text(CONFIG)
    (proj / "rg_changes_echo.py").write_text(APP)
    (proj / "datasets" / "pr.yaml").write_text(DATASET)
    (proj / "prompts" / "support.yaml").write_text(_prompt("support", "v1"))
    (proj / "prompts" / "faq.yaml").write_text(_prompt("faq", "faq"))
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "v1")
    (proj / "prompts" / "support.yaml").write_text(_prompt("support", "v2", version="1.1.0"))
    _git(tmp_path, "commit", "-q", "-am", "v2")
    return proj


def test_prompts_at_ref_reads_the_old_version_without_touching_the_tree(repo: Path) -> None:
    project = load_project(repo / "releasegate.yaml")
    old = prompts_at_ref(project, "HEAD~1")
    assert old["support"].template.startswith("v1")
    assert old["support"].path == "HEAD~1:proj/prompts/support.yaml"
    assert project.prompts()["support"].template.startswith("v2")
    assert _git(repo.parent, "status", "--porcelain") == ""


def test_changed_prompts_between_commits(repo: Path) -> None:
    project = load_project(repo / "releasegate.yaml")
    changes = changed_prompts(project, "HEAD~1")
    assert [(c.name, c.status) for c in changes] == [("support", "modified")]
    change = changes[0]
    assert change.text_changed and not change.config_changed and not change.mixed
    assert (change.base_version, change.head_version) == ("1.0.0", "1.1.0")
    assert change.suites == ["pr"]
    assert changed_suites(project, "HEAD~1") == ["pr"]
    assert changed_prompts(project, "HEAD") == []


def test_added_and_removed_prompts(repo: Path) -> None:
    (repo / "prompts" / "faq.yaml").unlink()
    (repo / "prompts" / "new.yaml").write_text(_prompt("new", "hi"))
    project = load_project(repo / "releasegate.yaml")
    got = {c.name: c.status for c in changed_prompts(project, "HEAD")}
    assert got == {"faq": "removed", "new": "added"}
    assert changed_suites(project, "HEAD") == []  # a removed prompt's suite is not run


def test_mixed_text_and_model_change_is_refused(repo: Path) -> None:
    (repo / "prompts" / "support.yaml").write_text(
        _prompt("support", "v3", model="gpt-4.1-2025-04-14", version="1.1.0")
    )
    project = load_project(repo / "releasegate.yaml")
    issues = check_separation(project, "HEAD")
    errors = [i for i in issues if i.severity == "error"]
    assert len(errors) == 1
    err = errors[0]
    assert err.file.endswith("prompts/support.yaml")
    assert err.line == 3  # the `model:` line
    assert "ship them as two separate changes" in err.message
    assert "--allow-mixed-change" in err.message
    warnings = [i for i in issues if i.severity == "warning"]
    assert len(warnings) == 1 and "version is still 1.1.0" in warnings[0].message


def test_text_only_change_passes_separation(repo: Path) -> None:
    project = load_project(repo / "releasegate.yaml")
    assert check_separation(project, "HEAD~1") == []


def test_unknown_ref_is_a_usage_error(repo: Path) -> None:
    project = load_project(repo / "releasegate.yaml")
    with pytest.raises(UsageError, match="'no-such-branch' not found"):
        changed_prompts(project, "no-such-branch")


def test_ref_before_the_prompt_directory_existed(repo: Path) -> None:
    (repo / "extra.txt").write_text("x")
    _git(repo.parent, "add", ".")
    project = load_project(repo / "releasegate.yaml")
    first = _git(repo.parent, "rev-list", "--max-parents=0", "HEAD").strip()
    # Before the first commit nothing existed; simulate with an orphan commit.
    _git(repo.parent, "checkout", "-q", "--orphan", "empty")
    _git(repo.parent, "rm", "-rq", "--cached", ".")
    _git(repo.parent, "commit", "-q", "--allow-empty", "-m", "empty")
    _git(repo.parent, "checkout", "-q", "-f", "main")
    assert prompts_at_ref(project, "empty") == {}
    assert prompts_at_ref(project, first)["support"].template.startswith("v1")


async def test_baseline_ref_runs_both_sides_and_compares(repo: Path) -> None:
    project = load_project(repo / "releasegate.yaml")
    base = await arun_baseline_ref(project, "pr", "HEAD~1", adapters=eval_adapters())
    head = await arun_eval(project, "pr")
    assert base.identity.prompt_version == "1.0.0"
    assert head.identity.prompt_version == "1.1.0"
    assert {c.id: c.passed for c in base.cases} == {"a": False, "b": False, "c": True}
    assert all(c.passed for c in head.cases)
    cmp = compare_reports(base, head)
    assert cmp.overall.delta == pytest.approx(2 / 3)
    assert [f.id for f in cmp.newly_passing] == ["a", "b"]


async def test_baseline_ref_without_the_prompt_at_ref(repo: Path) -> None:
    project = load_project(repo / "releasegate.yaml")
    _git(repo.parent, "checkout", "-q", "--orphan", "blank")
    _git(repo.parent, "rm", "-rq", "--cached", ".")
    _git(repo.parent, "commit", "-q", "--allow-empty", "-m", "blank")
    _git(repo.parent, "checkout", "-q", "-f", "main")
    with pytest.raises(UsageError, match="did not exist at 'blank'"):
        await arun_baseline_ref(project, "pr", "blank", adapters=eval_adapters())


def test_changed_command(repo: Path) -> None:
    runner = CliRunner()
    cfg = str(repo / "releasegate.yaml")
    res = runner.invoke(app, ["changed", "--base", "HEAD~1", "-c", cfg, "--format", "suites"])
    assert res.exit_code == 0, res.output
    assert res.output.split() == ["pr"]
    res = runner.invoke(app, ["changed", "--base", "HEAD~1", "-c", cfg, "--format", "json"])
    data = json.loads(res.output)
    assert data["changed"][0]["name"] == "support"
    assert data["changed"][0]["text_changed"] is True
    res = runner.invoke(app, ["changed", "--base", "nope", "-c", cfg])
    assert res.exit_code == 2
    assert "'nope' not found" in res.output

"""`releasegate init` end to end: scaffold, validate, and check the CI workflows."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from releasegate.cli import app
from releasegate.scaffold import SCAFFOLD_FILES

pytestmark = pytest.mark.slow

WORKFLOWS = (".github/workflows/releasegate.yml", ".github/workflows/releasegate-nightly.yml")


def _releasegate() -> list[str]:
    exe = shutil.which("releasegate", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "releasegate"]


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_releasegate(), *args], cwd=cwd, capture_output=True, text=True, check=False
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    res = _run(["init", "proj"], tmp_path)
    assert res.returncode == 0, res.stderr
    return tmp_path / "proj"


def test_init_writes_every_file_and_the_project_validates(project: Path) -> None:
    for rel in SCAFFOLD_FILES:
        assert (project / rel).is_file(), rel
    res = _run(["validate"], project)
    assert res.returncode == 0, res.stdout + res.stderr


def test_init_refuses_to_overwrite_without_force(project: Path) -> None:
    (project / "releasegate.yaml").write_text("# mine\n")
    res = _run(["init", "."], project)
    assert res.returncode == 2
    assert "would overwrite releasegate.yaml" in res.stderr
    assert (project / "releasegate.yaml").read_text() == "# mine\n"
    assert _run(["init", ".", "--force"], project).returncode == 0
    assert "version: 1" in (project / "releasegate.yaml").read_text()


def _invocations(workflow: dict[str, Any]) -> list[list[str]]:
    """Every `releasegate ...` command line in the workflow's run steps, as tokens."""
    found = []
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            script = step.get("run", "")
            script = re.sub(r"\\\n\s*", " ", script)  # join continuation lines
            for line in script.splitlines():
                line = line.strip()
                if line.startswith("releasegate "):
                    found.append(shlex.split(line)[1:])
                # Options kept in shell variables, e.g. baseline="--baseline FILE".
                for quoted in re.findall(r'"(--[^"]*)"', line):
                    found.append(["eval", *shlex.split(quoted)])
    return found


@pytest.mark.parametrize("rel", WORKFLOWS)
def test_workflows_parse_and_use_only_existing_commands_and_options(
    project: Path, rel: str
) -> None:
    workflow = yaml.safe_load((project / rel).read_text())
    # PyYAML reads the `on:` key as the boolean True (YAML 1.1).
    assert workflow.get("on", workflow.get(True))
    assert workflow["jobs"]
    group = typer.main.get_command(app)
    commands = group.commands  # type: ignore[attr-defined]
    invocations = _invocations(workflow)
    assert invocations, "the workflow never runs releasegate"
    for tokens in invocations:
        name = tokens[0]
        assert name in commands, f"{rel}: `releasegate {name}` is not a command"
        known = {opt for p in commands[name].params for opt in p.opts}
        for tok in tokens[1:]:
            if tok.startswith("--"):
                flag = tok.split("=", 1)[0]
                assert flag in known, f"{rel}: `releasegate {name} {flag}` is not an option"


def test_pr_workflow_gates_against_the_target_branch_and_comments_once(project: Path) -> None:
    workflow = yaml.safe_load((project / WORKFLOWS[0]).read_text())
    steps = workflow["jobs"]["eval-gate"]["steps"]
    names = [s.get("name", s.get("uses", "")) for s in steps]
    order = [
        next(i for i, n in enumerate(names) if key in n)
        for key in ("Validate", "Eval gate", "Comment", "Upload", "Fail the job")
    ]
    assert order == sorted(order)
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0
    comment = next(s for s in steps if "Comment" in s.get("name", ""))
    # The marker the Markdown report starts with, so the comment is edited in place.
    assert "<!-- releasegate-report suite=pr -->" in comment["with"]["script"]
    assert "updateComment" in comment["with"]["script"]


def test_nightly_workflow_is_scheduled(project: Path) -> None:
    workflow = yaml.safe_load((project / WORKFLOWS[1]).read_text())
    on = workflow.get("on", workflow.get(True))
    assert on["schedule"][0]["cron"]
    assert "workflow_dispatch" in on


@pytest.mark.parametrize("flags", [[], ["--local"]], ids=["hosted", "local"])
def test_scaffolded_project_is_ready_for_a_first_canary(tmp_path: Path, flags: list[str]) -> None:
    """The prompt's feature has online checks, so a canary is not refused for lacking
    them, and every scaffolded check builds."""
    from releasegate.bootstrap import online_checks_of
    from releasegate.project import load_project

    assert _run(["init", "p", *flags], tmp_path).returncode == 0
    ready = online_checks_of(tmp_path / "p")
    prompts = load_project(tmp_path / "p").prompts()
    assert list(prompts) and all(ready(name) for name in prompts)
    assert ready("some-other-feature") is False


@pytest.mark.parametrize("flags", [[], ["--local"]], ids=["hosted", "local"])
@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"input": "Where is my parcel?"}, "Question: Where is my parcel?"),
        ({"input": "Hi", "context": "Parcels ship in 2 days."}, "Context: Parcels ship in"),
    ],
)
def test_scaffolded_prompt_renders_with_a_gateway_request_alone(
    tmp_path: Path, flags: list[str], variables: dict[str, str], expected: str
) -> None:
    """A request through the gateway brings only `input`; dataset cases add `context`."""
    from releasegate.project import load_project

    assert _run(["init", "p", *flags], tmp_path).returncode == 0
    prompt = load_project(tmp_path / "p").prompts()["support-answer"]
    user = prompt.render(variables)[-1]["content"]
    assert user.startswith(expected)
    assert ("Context:" in user) is ("context" in variables)

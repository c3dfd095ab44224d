"""The registry's guard rails from the command line, locally (``--db``) and through the API."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from releasegate.results.report import GateResult, Identity, RuleResult
from tests.e2e.deploy._cli import run
from tests.unit.deploy.test_service import report

pytestmark = pytest.mark.slow


def _project(root: Path) -> Path:
    (root / "prompts").mkdir(parents=True)
    (root / "prompts" / "support-answer.yaml").write_text(
        "name: support-answer\nversion: 1.2.0\nmodel: m-1\nsystem: hi\ntemplate: '{{ input }}'\n"
    )
    (root / "releasegate.yaml").write_text(
        "version: 1\nprompts: prompts/\nproviders:\n  t: {type: scripted, model: m-1}\n"
        "suites:\n  pr: {dataset: pr.yaml, prompt: support-answer, target: t}\n"
    )
    return root


def _failed_report(path: Path, *, prompt: str = "support-answer", version: str = "1.2.0") -> Path:
    ident = Identity(
        suite="pr", model="m-1", prompt_name=prompt, prompt_version=version, tool_version="0.1"
    )
    gate = GateResult(passed=False, rules=[RuleResult(rule="min_score", passed=False)])
    path.write_text(report(0.5).model_copy(update={"identity": ident, "gate": gate}).to_json())
    return path


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("support-answer@1.3.0", "available versions of support-answer: 1.2.0"),
        ("support@1.2.0", "available prompts: support-answer@1.2.0"),
    ],
)
def test_register_inside_a_project_refuses_a_prompt_it_does_not_have(
    tmp_path: Path, database_url: str, ref: str, expected: str
) -> None:
    project = _project(tmp_path / "app")
    args = ("deploy", "register", "chat", "v1", "--prompt", ref, "--model", "m-1")
    refused = run(*args, "--db", database_url, cwd=project)
    assert refused.returncode == 2, refused.stderr
    assert ref in refused.stderr and expected in refused.stderr
    assert "Traceback" not in refused.stderr
    # The same from elsewhere, naming the project with --config.
    elsewhere = run(*args, "--db", database_url, "--config", str(project), cwd=tmp_path)
    assert elsewhere.returncode == 2 and expected in elsewhere.stderr
    ok = ("deploy", "register", "chat", "v1", "--prompt", "support-answer@1.2.0")
    accepted = run(*ok, "--model", "m-1", "--db", database_url, cwd=project)
    assert accepted.returncode == 0, accepted.stderr


def test_register_outside_a_project_warns_that_the_prompt_is_unchecked(
    tmp_path: Path, database_url: str
) -> None:
    r = run(
        *("deploy", "register", "chat", "v1", "--prompt", "nope@9.9.9", "--model", "m-1"),
        *("--db", database_url),
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert "not checked" in r.stderr and "nope@9.9.9" in r.stderr


@pytest.mark.parametrize("prompt_version", ["1.2.0", "1.1.0"])
def test_approve_refuses_a_failed_or_foreign_report_unless_overridden(
    tmp_path: Path, database_url: str, prompt_version: str
) -> None:
    db = ("--db", database_url)
    run(
        "deploy",
        "register",
        "chat",
        "v1",
        "--prompt",
        "support-answer@1.2.0",
        "--model",
        "m-1",
        *db,
    )
    rep = _failed_report(tmp_path / "pr.json", version=prompt_version)
    refused = run("deploy", "approve", "chat", "v1", "--report", str(rep), *db)
    assert refused.returncode == 2
    assert "gate failed" in refused.stderr and "--override-reason" in refused.stderr
    ok = run(
        *("deploy", "approve", "chat", "v1", "--report", str(rep)),
        *("--override-reason", "rule under review", *db),
    )
    assert ok.returncode == 0, ok.stderr
    history = json.loads(run("deploy", "history", "chat", "--json", *db).stdout)
    assert history[-1]["evidence"]["override_reason"] == "rule under review"


def test_approve_through_the_api_applies_the_same_rules(
    server: str, database_url: str, tmp_path: Path
) -> None:
    created = run("token", "create", "ops", "--scope", "operate", "--db", database_url, "--json")
    env = {**os.environ, "RELEASEGATE_API_TOKEN": json.loads(created.stdout)["token"]}
    api = ("--api", server)
    reg = run(
        *("deploy", "register", "chat", "v1", "--prompt", "support-answer@1.2.0"),
        *("--model", "m-1", *api),
        env=env,
        cwd=tmp_path,
    )
    assert reg.returncode == 0, reg.stderr
    rep = _failed_report(tmp_path / "pr.json", prompt="faq")
    refused = run("deploy", "approve", "chat", "v1", "--report", str(rep), *api, env=env)
    assert refused.returncode == 2 and "faq@1.2.0" in refused.stderr
    promote = run("deploy", "promote", "chat", "v1", *api, env=env)
    assert promote.returncode == 2
    assert "approve it first: `releasegate deploy approve chat v1`" in promote.stderr
    ok = run(
        *("deploy", "approve", "chat", "v1", "--report", str(rep)),
        *("--override-reason", "faq suite stands in", "--actor", "dave", *api),
        env=env,
    )
    assert ok.returncode == 0, ok.stderr
    history = json.loads(run("deploy", "history", "chat", "--json", "--db", database_url).stdout)
    assert history[-1]["evidence"]["override_reason"] == "faq suite stands in"
    assert history[-1]["actor"] == "dave (token ops)"

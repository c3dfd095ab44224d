"""The CLI drives a real uvicorn-served API (``--api``), and acts locally (``--db``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.deploy._cli import run

pytestmark = pytest.mark.slow


def test_cli_through_the_api(server: str, database_url: str, tmp_path: Path) -> None:
    created = run("token", "create", "ops", "--scope", "operate", "--db", database_url, "--json")
    assert created.returncode == 0, created.stderr
    secret = json.loads(created.stdout)["token"]
    reader = json.loads(
        run("token", "create", "viewer", "--scope", "read", "--db", database_url, "--json").stdout
    )["token"]
    env = {"RELEASEGATE_API_TOKEN": secret, "RELEASEGATE_ACTOR": "ci-bot"}
    api = ("--api", server)

    steps = [
        ("deploy", "register", "chat", "v1", "--prompt", "chat@1.0.0", "--model", "m-2024"),
        ("deploy", "approve", "chat", "v1", "--reason", "baseline"),
        ("deploy", "promote", "chat", "v1"),
        ("deploy", "register", "chat", "v2", "--prompt", "chat@1.1.0", "--model", "m-2024"),
        ("deploy", "approve", "chat", "v2"),
        (
            "deploy",
            "canary",
            "chat",
            "v2",
            "--share",
            "0.5%",
            "--override-reason",
            "no evidence in this test",
        ),
    ]
    for step in steps:
        r = run(*step, *api, env=env, cwd=tmp_path)
        assert r.returncode == 0, (step, r.stderr)

    status = json.loads(run("deploy", "status", "chat", "--json", *api, env=env).stdout)
    assert status["active"] == "v1" and status["canary"] == "v2"
    assert status["canary_share"] == pytest.approx(0.005)

    routed = json.loads(run("route", "chat", "user-7", "--json", *api, env=env).stdout)
    assert routed["version"] in ("v1", "v2") and routed["model"] == "m-2024"

    # A read token may look but not operate: non-zero exit with the API's message.
    denied = run("deploy", "promote", "chat", "v2", *api, env={"RELEASEGATE_API_TOKEN": reader})
    assert denied.returncode == 2 and "403" in denied.stderr and "operate" in denied.stderr

    r = run("deploy", "rollback", "chat", "--reason", "canary worse", *api, env=env)
    assert r.returncode == 0 and "v1 serves" in r.stdout
    refused = run("deploy", "rollback", "chat", "--reason", "again", *api, env=env)
    assert refused.returncode == 2 and "no previous good version" in refused.stderr

    # The same database, read locally, shows what the API did, attributed to the actor
    # ($RELEASEGATE_ACTOR, as locally) and the token.
    history = json.loads(run("deploy", "history", "chat", "--json", "--db", database_url).stdout)
    assert [h["action"] for h in history][-2:] == ["canary", "rollback"]
    assert history[-1]["actor"] == "ci-bot (token ops)" and history[-1]["reason"] == "canary worse"

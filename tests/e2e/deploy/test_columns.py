"""Every table of the deploy and token commands, in a real process at 80 and 60
columns, with long names: no cell is cut short; share changes show old and new share;
``--share`` takes a percentage with its sign (``10%``) and refuses anything else, echoing it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.deploy._cli import run

pytestmark = pytest.mark.slow

FEATURE = "support-answer-assistant-for-enterprise-customers"
GOOD = "2026.11.30-release-candidate-with-a-long-suffix-7"
BAD = "2026.12.01-experimental-retrieval-augmented-variant"
PROMPT = "support-answer-prompt-with-retrieval@12.3.0-beta.4"
MODEL = "gpt-4o-mini-2024-07-18-ft-acme-support-v3"
ACTOR = "release-manager-with-a-long-name@enterprise.example.com"
TOKEN = "ci-pipeline-token-for-the-nightly-release-train-2026"
REASON = "canary-latency-p95-regressed-beyond-the-agreed-budget-in-eu-west"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, ...]:
    path: Path = tmp_path_factory.mktemp("columns") / "rg.db"
    opts = ("--db", f"sqlite:///{path}", "--actor", ACTOR)
    steps = [
        ("deploy", "register", FEATURE, GOOD, "--prompt", PROMPT, "--model", MODEL),
        ("deploy", "approve", FEATURE, GOOD),
        (
            "deploy",
            "canary",
            FEATURE,
            GOOD,
            "--share",
            "5%",
            "--override-reason",
            "no evidence in this test",
        ),
        ("deploy", "canary", FEATURE, GOOD, "--share", "12.5%"),
        ("deploy", "promote", FEATURE, GOOD),
        ("deploy", "register", FEATURE, BAD, "--prompt", PROMPT, "--model", MODEL),
        ("deploy", "approve", FEATURE, BAD),
        ("deploy", "canary", FEATURE, BAD, "--share", "10%", "--override-reason", "no evidence"),
        ("deploy", "rollback", FEATURE, "--reason", REASON),
        ("token", "create", TOKEN, "--scope", "operate"),
    ]
    for step in steps:
        r = run(*step, *(opts if step[0] == "deploy" else opts[:2]))
        assert r.returncode == 0, (step, r.stderr)
    return opts[:2]


WHOLE = [FEATURE, GOOD, BAD, PROMPT, MODEL, ACTOR, "rolled_back", "superseded", REASON]


@pytest.mark.parametrize("columns", ["80", "60"])
@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (("deploy", "status", FEATURE), [FEATURE, GOOD, BAD, PROMPT, MODEL, ACTOR, "rolled_back"]),
        (("deploy", "history", FEATURE), [FEATURE, GOOD, BAD, ACTOR, "set_share", REASON]),
        (("token", "list"), [TOKEN, "operate"]),
    ],
)
def test_no_cell_is_cut_short(
    db: tuple[str, ...], columns: str, command: tuple[str, ...], expected: list[str]
) -> None:
    r = run(*command, *db, env={"COLUMNS": columns})
    assert r.returncode == 0, r.stderr
    assert "…" not in r.stdout
    for value in expected:
        assert value in r.stdout, (value, r.stdout)


@pytest.mark.parametrize("columns", ["200", "80", "60"])
def test_history_shows_old_and_new_share(db: tuple[str, ...], columns: str) -> None:
    r = run("deploy", "history", FEATURE, *db, env={"COLUMNS": columns})
    assert r.returncode == 0, r.stderr
    assert "approved -> canary at 5%" in r.stdout
    assert "share 5% -> 12.5%" in r.stdout
    assert "approved -> canary at 10%" in r.stdout
    entries = json.loads(run("deploy", "history", FEATURE, *db, "--json").stdout)
    moved = [e["evidence"] for e in entries if e["action"] == "set_share"]
    assert moved == [{"share_from": 0.05, "share_to": 0.125}]


@pytest.mark.parametrize(
    ("given", "share"),
    [("10%", 0.1), ("0.5%", 0.005), ("0.01%", 0.0001), ("12.5%", 0.125), ("100%", 1.0)],
)
def test_share_spellings(tmp_path: Path, given: str, share: float) -> None:
    db = ("--db", f"sqlite:///{tmp_path / 'rg.db'}")
    assert (
        run("deploy", "register", "f", "v1", "--prompt", "p@1", "--model", "m", *db).returncode == 0
    )
    assert run("deploy", "approve", "f", "v1", *db).returncode == 0
    r = run(
        "deploy",
        "canary",
        "f",
        "v1",
        "--share",
        given,
        "--json",
        "--override-reason",
        "no evidence in this test",
        *db,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["share"] == pytest.approx(share)


@pytest.mark.parametrize(
    "given", ["10", "5", "0.1", "0.5", "150%", "-0.1", "ten", "1e-2", "0", "0%", ""]
)
def test_bad_shares_exit_2_echoing_the_value(db: tuple[str, ...], given: str) -> None:
    r = run("deploy", "canary", FEATURE, BAD, "--share", given, *db, env={"COLUMNS": "200"})
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    assert "--share" in r.stderr
    assert repr(given) in r.stderr

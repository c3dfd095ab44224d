"""One matrix: every ``deploy``, ``route`` and ``token`` command, run locally (``--db``)
and through a real uvicorn-served API (``--api``), on SQLite and PostgreSQL.

Each step runs in both modes on features of the same length (so tables line up the
same) and must give the same exit code, stdout and stderr, and leave the same recorded
state, up to the documented differences: through the API the audit log records the
token next to the actor (``dave (token ops)``), and an error carries the HTTP status
(``API 404: ...``).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import httpx
import pytest

from releasegate.deploy.bucketing import bucket
from tests.e2e.deploy._cli import Result, invoke, run

pytestmark = pytest.mark.slow

MODES = ("local", "api")
FEATURE = {"local": "chat-l", "api": "chat-a"}
TOKEN = {"local": "tok-l", "api": "tok-a"}
LATIN1 = os.fsdecode(b"caf\xe9")  # a non-UTF-8 byte from a shell, as Python sees it

# (label, argv with {F} for the feature and {T} for a token name, extra environment,
# expected exit code)
Step = tuple[str, tuple[str, ...], dict[str, str], int]
STEPS: list[Step] = [
    ("register", ("deploy", "register", "{F}", "v1", "--prompt", "chat@1", "--model", "m-1"),
     {"RELEASEGATE_ACTOR": "dave"}, 0),
    ("register twice", ("deploy", "register", "{F}", "v1", "--prompt", "chat@1", "--model", "m"),
     {}, 2),
    ("approve as carol", ("deploy", "approve", "{F}", "v1", "--reason", "ok", "--actor", "carol"),
     {"RELEASEGATE_ACTOR": "dave"}, 0),
    ("promote json", ("deploy", "promote", "{F}", "v1", "--json"), {}, 0),
    ("register params", ("deploy", "register", "{F}", "v2", "--prompt", "chat@2", "--model",
     "m-2", "--params", '{"temperature": 0.2}', "--json"), {}, 0),
    ("register min-score", ("deploy", "register", "{F}", "v3", "--prompt", "chat@3", "--model",
     "m-3", "--min-score", "0.8"), {}, 0),
    ("approve needs report", ("deploy", "approve", "{F}", "v3"), {}, 2),
    ("reject", ("deploy", "reject", "{F}", "v3", "--reason", "no report", "--json"), {}, 0),
    ("approve crlf reason", ("deploy", "approve", "{F}", "v2", "--reason", "one\r\ntwo\tthree"),
     {}, 0),
    ("canary 100%", ("deploy", "canary", "{F}", "v2", "--share", "100%", "--json",
     "--override-reason", "no evidence in this test"), {}, 0),
    ("route empty key", ("route", "{F}", "", "--json"), {}, 0),
    ("route latin-1 key", ("route", "{F}", LATIN1), {}, 0),
    ("route markup key", ("route", "{F}", "[bold]x[/]"), {}, 0),
    ("re-share", ("deploy", "canary", "{F}", "v2", "--share", "5%"), {}, 0),
    ("pause", ("deploy", "pause", "{F}", "v2", "--reason", "[red]hold[/]"), {}, 0),
    ("resume", ("deploy", "resume", "{F}", "v2", "--actor", "José 李"), {}, 0),
    ("status", ("deploy", "status", "{F}"), {}, 0),
    ("status json", ("deploy", "status", "{F}", "--json"), {}, 0),
    ("promote during canary", ("deploy", "promote", "{F}", "v3"), {}, 2),
    ("rollback canary", ("deploy", "rollback", "{F}", "--reason", "worse", "--json"), {}, 0),
    ("rollback nothing left", ("deploy", "rollback", "{F}", "--reason", "again"), {}, 2),
    ("route incumbent", ("route", "{F}", "user-1", "--json"), {}, 0),
    ("unknown version", ("deploy", "approve", "{F}", "v9"), {}, 2),
    ("unknown feature", ("deploy", "status", "ghost"), {}, 2),
    ("route unknown", ("route", "ghost", "u"), {}, 2),
    ("blank --actor", ("deploy", "pause", "{F}", "v1", "--actor", "   "), {}, 2),
    ("blank $ACTOR", ("deploy", "pause", "{F}", "v1"), {"RELEASEGATE_ACTOR": " \t"}, 2),
    ("control actor", ("deploy", "pause", "{F}", "v1", "--actor", "a\x1b[2Jb"), {}, 2),
    ("escape reason", ("deploy", "pause", "{F}", "v1", "--reason", "x\x1b]0;t\x07"), {}, 2),
    ("bad share", ("deploy", "canary", "{F}", "v2", "--share", "0"), {}, 2),
    ("no share", ("deploy", "canary", "{F}", "v2"), {}, 2),
    ("bad params", ("deploy", "register", "{F}", "v4", "--prompt", "p@1", "--model", "m",
     "--params", "[1]"), {}, 2),
    ("bad prompt", ("deploy", "register", "{F}", "v4", "--prompt", "nover", "--model", "m"),
     {}, 2),
    ("history", ("deploy", "history", "{F}"), {}, 0),
    ("history json", ("deploy", "history", "{F}", "--json"), {}, 0),
    ("token create", ("token", "create", "{T}", "--scope", "read", "--actor", "erin"), {}, 0),
    ("token create twice", ("token", "create", "{T}"), {}, 2),
    ("token bad scope", ("token", "create", "{T}x", "--scope", "root"), {}, 2),
    ("token revoke", ("token", "revoke", "{T}"), {}, 0),
    ("token revoke twice", ("token", "revoke", "{T}"), {}, 2),
    ("token revoke unknown", ("token", "revoke", "{T}-none"), {}, 2),
]  # fmt: skip

_BOX = re.compile(r"[━─┃│┏┓┗┛┡┩└┘┌┐╇╈┼┳┻┯┷├┤═]+")
_NORMALIZE = [
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(\+00:00)?"), "TIME"),
    (re.compile(r'"(id|deployment_id)": \d+'), r'"\1": "ID"'),
    (re.compile(r'"salt": "[0-9a-f]{16}"'), '"salt": "SALT"'),
    (re.compile(r"rg_[A-Za-z0-9_-]+"), "SECRET"),
    (re.compile(r" \(token ops\)"), ""),
    (re.compile(r"API \d{3}: "), ""),
    # "not found" names what was read: the database locally, the API remotely.
    (re.compile(r" \((?:database|API) [^ )]+\)"), ""),
]


def normalize(text: str, mode: str) -> str:
    text = text.replace(FEATURE[mode], "FEATURE").replace(TOKEN[mode], "TOKEN")
    for pattern, repl in _NORMALIZE:
        text = pattern.sub(repl, text)
    # Table padding depends on the longest cell ("dave" vs "dave (token ops)").
    return "\n".join(" ".join(_BOX.sub(" ", line).split()) for line in text.splitlines())


def _argv(args: tuple[str, ...], mode: str) -> list[str]:
    return [a.replace("{F}", FEATURE[mode]).replace("{T}", TOKEN[mode]) for a in args]


def test_every_command_behaves_the_same_locally_and_through_the_api(
    server: str, database_url: str
) -> None:
    created = invoke("token", "create", "ops", "--scope", "admin", "--db", database_url, "--json")
    assert created.returncode == 0, created.stderr
    secret = json.loads(created.stdout)["token"]
    target: dict[str, tuple[list[str], dict[str, str]]] = {
        "local": (["--db", database_url], {}),
        "api": (["--api", server], {"RELEASEGATE_API_TOKEN": secret}),
    }

    def one(step: Step, mode: str) -> Result:
        _, args, env, _ = step
        extra, auth = target[mode]
        return invoke(*_argv(args, mode), *extra, env={**env, **auth})

    for step in STEPS:
        label, _, _, code = step
        local, api = one(step, "local"), one(step, "api")
        for mode, r in zip(MODES, (local, api), strict=True):
            assert r.returncode == code, (label, mode, r.stdout, r.stderr)
            assert "Traceback" not in r.stderr, (label, mode, r.stderr)
        assert normalize(local.stdout, "local") == normalize(api.stdout, "api"), label
        assert normalize(local.stderr, "local") == normalize(api.stderr, "api"), label
        if code == 2:  # ours, or click's usage error for a malformed option value
            # A register outside a project warns first that --prompt was not checked.
            shown = "\n".join(
                line for line in local.stderr.splitlines() if not line.startswith("warning:")
            )
            assert shown.startswith(("error:", "Usage:")), (label, local.stderr)

    # The recorded state, read from the store, is the same (the API adds the token).
    def recorded(mode: str, what: str) -> Any:
        r = invoke("deploy", what, FEATURE[mode], "--json", "--db", database_url)
        assert r.returncode == 0, r.stderr
        return json.loads(normalize(r.stdout, mode))

    for what in ("status", "history"):
        assert recorded("local", what) == recorded("api", what), what
    history = json.loads(
        invoke("deploy", "history", "chat-a", "--json", "--db", database_url).stdout
    )
    actors = [(h["action"], h["actor"]) for h in history]
    assert actors[0] == ("register", "dave (token ops)")
    assert ("approve", "carol (token ops)") in actors
    assert ("resume", "José 李 (token ops)") in actors
    local_history = recorded("local", "history")
    assert (local_history[0]["action"], local_history[0]["actor"]) == ("register", "dave")
    assert any(h["reason"] == "one\r\ntwo\tthree" for h in local_history)
    assert any(h["reason"] == "[red]hold[/]" for h in local_history)


def test_route_answers_alike_for_any_key(server: str, database_url: str) -> None:
    """Keys that are empty, not UTF-8, or look like markup: the local CLI, the CLI with
    --api and raw HTTP route them alike, and as docs/bucketing.md computes."""
    created = invoke("token", "create", "ops", "--scope", "read", "--db", database_url, "--json")
    secret = json.loads(created.stdout)["token"]
    db = ("--db", database_url)
    for args in (
        ("deploy", "register", "rt", "v1", "--prompt", "p@1", "--model", "m-1"),
        ("deploy", "approve", "rt", "v1"),
        ("deploy", "promote", "rt", "v1"),
        ("deploy", "register", "rt", "v2", "--prompt", "p@2", "--model", "m-2"),
        ("deploy", "approve", "rt", "v2"),
        (
            "deploy",
            "canary",
            "rt",
            "v2",
            "--share",
            "50%",
            "--override-reason",
            "no evidence in this test",
        ),
    ):
        assert invoke(*args, *db).returncode == 0
    state = json.loads(invoke("deploy", "status", "rt", "--json", *db).stdout)
    salt = state["deployments"][1]["salt"]
    env = {"RELEASEGATE_API_TOKEN": secret}
    # (argument as the shell passes it, the same key as a URL query, the text hashed)
    keys = [
        ("", "", ""),
        (LATIN1, "caf%E9", "caf\ufffd"),
        (os.fsdecode(b"\xe2\x82"), "%E2%82", "\ufffd"),  # a truncated UTF-8 sequence
        (os.fsdecode(b"\xff\xfeab"), "%FF%FEab", "\ufffd\ufffdab"),
        ("caf\u00e9", "caf%C3%A9", "caf\u00e9"),
        ("[bold]x", "%5Bbold%5Dx", "[bold]x"),
    ] + [(f"user-{i}", f"user-{i}", f"user-{i}") for i in range(12)]
    for arg, query, text in keys:
        expected = "v2" if bucket(salt, text) < 0.5 else "v1"
        local = invoke("route", "rt", arg, "--json", *db)
        api = invoke("route", "rt", arg, "--json", "--api", server, env=env)
        raw = httpx.get(
            f"{server}/v1/features/rt/route?unit_key={query}",
            headers={"Authorization": f"Bearer {secret}"},
        )
        assert raw.status_code == 200, raw.text
        answers = [json.loads(local.stdout), json.loads(api.stdout), raw.json()]
        assert [a["version"] for a in answers] == [expected] * 3, (text, answers)
    # From a real shell: the raw byte e9 reaches the command and means U+FFFD there too.
    for mode in (db, ("--api", server)):
        r = run("route", "rt", LATIN1, "--json", *mode, env=env)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["version"] == (
            "v2" if bucket(salt, "caf\ufffd") < 0.5 else "v1"
        )

"""Secrets and header values through the CLI and a real API: a padded token works, a
malformed token, actor or reason is a usage error naming it (exit 2), and no output
ever holds the token or a password."""

from __future__ import annotations

import json

import pytest

from tests.e2e.deploy._cli import free_port
from tests.e2e.deploy._cli import invoke as run

pytestmark = pytest.mark.slow


def _setup(database_url: str) -> str:
    created = run("token", "create", "ops", "--scope", "admin", "--db", database_url, "--json")
    assert created.returncode == 0, created.stderr
    for args in (
        ("deploy", "register", "chat", "v1", "--prompt", "p@1", "--model", "m"),
        ("deploy", "approve", "chat", "v1"),
    ):
        assert run(*args, "--db", database_url).returncode == 0
    return str(json.loads(created.stdout)["token"])


def _no_secret(secret: str, *outputs: str) -> None:
    for out in outputs:
        assert secret[9:] not in out and secret[9:20] not in out


def test_tokens_and_header_values(server: str, database_url: str) -> None:
    secret = _setup(database_url)
    api = ("--api", server)

    # Surrounding whitespace, as $(cat file) leaves it, is trimmed.
    for padded in (secret + "\n", f"  {secret}\r\n", f"\t{secret} "):
        r = run("deploy", "status", "chat", *api, env={"RELEASEGATE_API_TOKEN": padded})
        assert r.returncode == 0, r.stderr

    # Malformed tokens: exit 2 naming the variable, never the value.
    for bad in (
        secret[:12] + "\n" + secret[12:],
        secret + "\r\nX-Injected: 1",
        secret + "é",
        "Bearer " + secret,
        secret[:20] + "\x7f" + secret[20:],
        secret + "\u2603",
    ):
        r = run("deploy", "status", "chat", *api, env={"RELEASEGATE_API_TOKEN": bad})
        assert r.returncode == 2, (bad, r.stderr)
        assert r.stderr.startswith("error: RELEASEGATE_API_TOKEN is malformed"), r.stderr
        assert "Traceback" not in r.stderr
        _no_secret(secret, r.stdout, r.stderr)

    env = {"RELEASEGATE_API_TOKEN": secret + "\n"}
    # Actors: any Unicode name travels (percent-encoded); control characters do not.
    r = run(
        "deploy",
        "canary",
        "chat",
        "v1",
        "--share",
        "5%",
        "--override-reason",
        "no evidence in this test",
        "--actor",
        "李雷 José",
        *api,
        env=env,
    )
    assert r.returncode == 0, r.stderr
    for args, extra, named in [
        (("--actor", "x\r\ny"), {}, "--actor"),
        (("--actor", "a\x1bb"), {}, "--actor"),
        (("--actor", "  "), {}, "--actor"),
        ((), {"RELEASEGATE_ACTOR": "dave\nX-Other: 1"}, "RELEASEGATE_ACTOR"),
        ((), {"RELEASEGATE_ACTOR": "   "}, "RELEASEGATE_ACTOR"),
    ]:
        r = run("deploy", "pause", "chat", "v1", *args, *api, env={**env, **extra})
        assert r.returncode == 2 and named in r.stderr, (args, extra, r.stderr)
        assert "Traceback" not in r.stderr
        _no_secret(secret, r.stdout, r.stderr)
    # A reason travels in the JSON body: line breaks are fine, other controls are not.
    r = run("deploy", "pause", "chat", "v1", "--reason", "one\r\ntwo", *api, env=env)
    assert r.returncode == 0, r.stderr
    r = run("deploy", "resume", "chat", "v1", "--reason", "a\x1b[2Jb", *api, env=env)
    assert r.returncode == 2 and "--reason" in r.stderr
    history = json.loads(run("deploy", "history", "chat", "--json", *api, env=env).stdout)
    assert history[-2]["actor"] == "李雷 José (token ops)"
    assert history[-1]["reason"] == "one\r\ntwo"

    # A raw client sending a blank or malformed actor header gets 422, not a silent default.
    import httpx

    for header in ("%20%20", "%FF", "a%0Ab", "%E2%80"):
        raw = httpx.post(
            f"{server}/v1/features/chat/versions/v1/resume",
            json={},
            headers={"Authorization": f"Bearer {secret}", "X-Releasegate-Actor": header},
        )
        assert raw.status_code == 422 and "X-Releasegate-Actor" in raw.text, raw.text


def test_unreachable_or_wrong_api_never_shows_the_token() -> None:
    secret = "rg_" + "Zx9" * 14 + "q"
    env = {"RELEASEGATE_API_TOKEN": secret + "\n"}
    port = free_port()  # nothing listens there
    for url in (
        f"http://127.0.0.1:{port}",
        f"http://admin:hunter2@127.0.0.1:{port}",
        "ftp://127.0.0.1/",
        "127.0.0.1:8700",
        "http://[::1",
    ):
        r = run("deploy", "status", "chat", "--api", url, env=env)
        assert r.returncode == 2, (url, r.returncode, r.stderr)
        assert r.stderr.startswith("error:") and "Traceback" not in r.stderr, r.stderr
        assert "hunter2" not in r.stderr
        _no_secret(secret, r.stdout, r.stderr)
    r = run("deploy", "status", "chat", "--api", f"http://127.0.0.1:{port}")
    assert r.returncode == 2 and "RELEASEGATE_API_TOKEN" in r.stderr

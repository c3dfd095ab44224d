"""One grammar for feature, version and token names, on every path.

The same names go through the service, raw HTTP, the CLI locally and the CLI with
``--api`` against a real uvicorn: each path accepts exactly the names of the grammar
(exit 0 / 201) and refuses the rest with a clear error (exit 2 / 422); every accepted
name is then reachable through the API.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from typer.testing import CliRunner

from releasegate.cli import app as cli_app
from releasegate.control.deployments import DeploymentService
from releasegate.control.tokens import TokenService
from releasegate.deploy.names import MAX_FEATURE, MAX_VERSION
from releasegate.deploy.tokens import Scope
from releasegate.errors import UsageError
from releasegate.store.database import Database, open_database

pytestmark = pytest.mark.slow

GOOD = ["chat", "team.chat", "support-chat_v2", "A1", "2024.11", "v1.0.0-rc.1"]
BAD = [
    "team/chat",
    "ops%2Fx",
    "2024/11",
    "a@b",
    "with space",
    "trailing ",
    "caf\u00e9",
    "q?x",
    "a#b",
    ".hidden",
    "-flag",
    "..",
    "_tokens",
    "_x",
    "",
]
# (role, name, accepted): the grammar for both roles, and each role's length limit.
CASES = [(role, n, n in GOOD) for n in GOOD + BAD for role in ("feature", "version")] + [
    ("feature", "f" * MAX_FEATURE, True),
    ("feature", "f" * (MAX_FEATURE + 1), False),
    ("version", "9" * MAX_VERSION, True),
    ("version", "9" * (MAX_VERSION + 1), False),
]


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = open_database(database_url)
    yield database
    database.close()


def _service_accepts(db: Database, feature: str, version: str) -> bool:
    try:
        DeploymentService(db.uow()).register(feature, version, prompt="p@1", model="m", actor="t")
    except UsageError:
        return False
    return True


def _cli(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli_app, args, env=env)
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


def _register_args(feature: str, version: str, where: list[str]) -> list[str]:
    # Options first and "--" before the arguments, so "-flag" is a name, not an option.
    return ["deploy", "register", "--prompt", "p@1", "--model", "m", *where, "--", feature, version]


def _pair(name: str, i: int, role: str, path: str) -> tuple[str, str]:
    # The name under test as feature or version; its partner is unique per name and path,
    # so that every path registers a new deployment.
    return (name, f"v{i}{path}") if role == "feature" else (f"f{i}{path}", name)


def test_the_same_names_on_every_path(db: Database, database_url: str, api_server: str) -> None:
    admin = TokenService(db.uow()).create("ops", Scope.ADMIN, actor="t").secret
    env = {"RELEASEGATE_API_TOKEN": admin, "RELEASEGATE_ACTOR": "ann"}
    where = {"cli": ["--db", database_url], "cli --api": ["--api", api_server]}
    wrong: list[str] = []
    http = httpx.Client(
        base_url=api_server, headers={"Authorization": f"Bearer {admin}"}, timeout=30
    )
    try:
        for i, (role, name, good) in enumerate(CASES):
            outcomes = {"service": _service_accepts(db, *_pair(name, i, role, "s"))}
            f, v = _pair(name, i, role, "h")
            r = http.post(
                "/v1/deployments",
                json={"feature": f, "version": v, "prompt": "p@1", "model": "m"},
            )
            outcomes["http"] = r.status_code == 201
            if r.status_code not in (201, 422):
                wrong.append(f"http {f!r}/{v!r}: {r.status_code} {r.text[:200]}")
            for label, opts in where.items():
                f, v = _pair(name, i, role, "c" if label == "cli" else "a")
                code, out = _cli(_register_args(f, v, opts), env)
                outcomes[label] = code == 0
                if code not in (0, 2) or "Traceback" in out:
                    wrong.append(f"{label} {f!r}/{v!r}: exit {code}: {out[-300:]}")
            for path, accepted in outcomes.items():
                if accepted != good:
                    verb = "refused" if good else "accepted"
                    wrong.append(f"{path} {verb} {role} {name!r}")
            if not good:
                continue
            # Every accepted name is reachable through the API (HTTP and CLI --api).
            for path in ("s", "c"):
                f, v = _pair(name, i, role, path)
                r = http.get(f"/v1/features/{quote(f, safe='')}/versions/{quote(v, safe='')}")
                if r.status_code != 200:
                    wrong.append(f"GET {f!r}@{v!r}: {r.status_code}")
                code, out = _cli(["deploy", "approve", *where["cli --api"], "--", f, v], env)
                if code != 0:
                    wrong.append(f"approve {f!r} {v!r} --api: exit {code}: {out[-300:]}")
                code, out = _cli(["deploy", "history", *where["cli --api"], "--", f], env)
                if code != 0:
                    wrong.append(f"history {f!r} --api: exit {code}: {out[-300:]}")
    finally:
        http.close()
    assert wrong == []


@pytest.mark.parametrize("name", ["ops", "team.bot-1", "t" * 100])
def test_token_names_of_the_grammar_are_created_and_revoked_through_the_api(
    db: Database, database_url: str, name: str
) -> None:
    from fastapi.testclient import TestClient

    from releasegate.api.app import create_app

    admin = TokenService(db.uow()).create("root", Scope.ADMIN, actor="t").secret
    with TestClient(create_app(db.uow)) as client:
        h = {"Authorization": f"Bearer {admin}"}
        assert client.post("/v1/tokens", json={"name": name, "scope": "read"}, headers=h).is_success
        r = client.delete(f"/v1/tokens/{quote(name, safe='')}", headers=h)
        assert r.status_code == 200 and r.json()["revoked_at"]


@pytest.mark.parametrize("name", ["team/bot", "ops%2Fx", "_tokens", "a b", "", "t" * 101])
def test_token_names_outside_the_grammar_are_refused_everywhere(
    db: Database, database_url: str, name: str
) -> None:
    from fastapi.testclient import TestClient

    from releasegate.api.app import create_app

    with pytest.raises(UsageError, match=r"token name|needs a name"):
        TokenService(db.uow()).create(name, Scope.READ, actor="t")
    code, out = _cli(["token", "create", "--db", database_url, "--", name])
    assert code == 2 and "Traceback" not in out, out
    admin = TokenService(db.uow()).create("root", Scope.ADMIN, actor="t").secret
    with TestClient(create_app(db.uow)) as client:
        h = {"Authorization": f"Bearer {admin}"}
        r = client.post("/v1/tokens", json={"name": name, "scope": "read"}, headers=h)
        assert r.status_code == 422
    assert [t.name for t in TokenService(db.uow()).list()] == ["root"]

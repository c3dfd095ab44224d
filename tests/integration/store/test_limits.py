"""Every string column written from user input: its limit is declared once, a value at
the limit is stored and one character more is refused with the same clear error, before
the store, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from releasegate.control.deployments import DeploymentService
from releasegate.control.tokens import TokenService
from releasegate.deploy import names
from releasegate.deploy.tokens import Scope
from releasegate.errors import UsageError
from releasegate.store.database import Database, open_database
from releasegate.store.schema import api_tokens, audit_log, deployments

# (table, column) -> the limit it is declared with. Every String column of the control
# plane must appear here or in INTERNAL, so a new user-written column cannot go unnoticed.
USER_COLUMNS: dict[tuple[str, str], int] = {
    ("deployments", "feature"): names.MAX_FEATURE,
    ("deployments", "version"): names.MAX_VERSION,
    ("deployments", "prompt_name"): names.MAX_PROMPT_NAME,
    ("deployments", "prompt_version"): names.MAX_PROMPT_VERSION,
    ("deployments", "model"): names.MAX_MODEL,
    ("deployments", "created_by"): names.MAX_ACTOR,
    ("deployments", "updated_by"): names.MAX_ACTOR,
    ("audit_log", "feature"): names.MAX_FEATURE,
    ("audit_log", "version"): names.MAX_VERSION,
    ("audit_log", "actor"): names.MAX_ACTOR,
    ("api_tokens", "name"): names.MAX_TOKEN_NAME,
    ("api_tokens", "created_by"): names.MAX_ACTOR,
}
INTERNAL = {
    ("deployments", "status"),
    ("deployments", "paused_from"),
    ("deployments", "salt"),
    ("audit_log", "action"),
    ("audit_log", "from_status"),
    ("audit_log", "to_status"),
    ("api_tokens", "token_hash"),
    ("api_tokens", "prefix"),
    ("api_tokens", "scope"),
}


def test_every_string_column_is_classified_and_uses_its_declared_limit() -> None:
    seen: set[tuple[str, str]] = set()
    for table in (deployments, audit_log, api_tokens):
        for col in table.columns:
            if isinstance(col.type, sa.String) and not isinstance(col.type, sa.Text):
                key = (table.name, col.name)
                seen.add(key)
                assert key in USER_COLUMNS or key in INTERNAL, f"unclassified column {key}"
                if key in USER_COLUMNS:
                    assert col.type.length == USER_COLUMNS[key], key
    assert seen == set(USER_COLUMNS) | INTERNAL


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = open_database(database_url)
    yield database
    database.close()


def _register(db: Database, **over: str) -> None:
    args = {"feature": "chat", "version": "v1", "prompt": "p@1", "model": "m", "actor": "t"}
    args |= over
    feature, version = args.pop("feature"), args.pop("version")
    DeploymentService(db.uow()).register(feature, version, **args)


def _approve_as(db: Database, actor: str) -> None:
    _register(db)
    DeploymentService(db.uow()).approve("chat", "v1", actor=actor)


def _token_named(db: Database, name: str) -> None:
    TokenService(db.uow()).create(name, Scope.READ, actor="t")


def _token_by(db: Database, actor: str) -> None:
    TokenService(db.uow()).create("ops", Scope.READ, actor=actor)


def _revoke_by(db: Database, actor: str) -> None:
    TokenService(db.uow()).create("ops", Scope.READ, actor="admin")
    TokenService(db.uow()).revoke("ops", actor=actor)


Write = Callable[[Database, str], None]
WRITES: dict[str, tuple[int, str, Write]] = {
    "feature": (names.MAX_FEATURE, "feature", lambda db, v: _register(db, feature=v)),
    "version": (names.MAX_VERSION, "version", lambda db, v: _register(db, version=v)),
    "prompt name": (
        names.MAX_PROMPT_NAME,
        "prompt name",
        lambda db, v: _register(db, prompt=f"{v}@1"),
    ),
    "prompt version": (
        names.MAX_PROMPT_VERSION,
        "prompt version",
        lambda db, v: _register(db, prompt=f"p@{v}"),
    ),
    "model": (names.MAX_MODEL, "model", lambda db, v: _register(db, model=v)),
    "register actor": (names.MAX_ACTOR, "actor", lambda db, v: _register(db, actor=v)),
    "approve actor": (names.MAX_ACTOR, "actor", _approve_as),
    "token name": (names.MAX_TOKEN_NAME, "token name", lambda db, v: _token_named(db, v)),
    "token creator": (names.MAX_ACTOR, "actor", _token_by),
    "token revoker": (names.MAX_ACTOR, "actor", _revoke_by),
}


@pytest.mark.parametrize("what", list(WRITES))
def test_value_at_the_limit_is_stored(db: Database, what: str) -> None:
    limit, _, write = WRITES[what]
    write(db, "a" * limit)


@pytest.mark.parametrize("what", list(WRITES))
@pytest.mark.parametrize("extra", [1, 20, 1000])
def test_value_over_the_limit_is_refused_before_the_store(
    db: Database, what: str, extra: int
) -> None:
    limit, label, write = WRITES[what]
    with pytest.raises(UsageError) as info:
        write(db, "a" * (limit + extra))
    assert str(info.value) == (f"{label} is {limit + extra} characters long; the limit is {limit}")


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"model": "gpt\x00"}, "model contains a control character"),
        ({"actor": "ann\x00"}, "actor contains a control character"),
        ({"actor": "caf\udce9"}, "is not valid text"),
        ({"model": "caf\udce9"}, "is not valid text"),
    ],
)
def test_text_postgresql_cannot_store_is_refused_on_both(
    db: Database, over: dict[str, str], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        _register(db, **over)
    assert DeploymentService(db.uow()).features() == []


@pytest.mark.parametrize("params", [{"t": float("nan")}, {"t": float("-inf")}])
def test_params_postgresql_cannot_store_are_refused_on_both(
    db: Database, params: dict[str, object]
) -> None:
    with pytest.raises(UsageError, match="params"):
        DeploymentService(db.uow()).register(
            "chat", "v1", prompt="p@1", model="m", params=params, actor="t"
        )


def test_reasons_postgresql_cannot_store_are_refused_on_both(db: Database) -> None:
    _register(db)
    svc = DeploymentService(db.uow())
    with pytest.raises(UsageError, match="reason contains a control character"):
        svc.approve("chat", "v1", actor="t", reason="ok\x00")
    dep = svc.approve("chat", "v1", actor="t", reason="ok\r\nsee ticket\t42 " + "é" * 5000)
    assert dep.status.value == "approved"
    assert svc.history("chat")[-1].reason.endswith("é" * 5000)


@pytest.mark.parametrize(
    "params", [{"s": "a\x00b"}, {"\x00": 1}, {"k": "caf\u00e9 \U0001f600"}, {"n": [1e308, -0.0]}]
)
def test_params_round_trip_the_same_on_both(db: Database, params: dict[str, object]) -> None:
    DeploymentService(db.uow()).register(
        "chat", "v1", prompt="p@1", model="m", params=params, actor="t"
    )
    assert DeploymentService(db.uow()).get("chat", "v1").params == params


@pytest.mark.parametrize("bad", ["a\x00b", "caf\udce9"])
def test_lookups_of_names_no_record_can_have_are_usage_errors_on_both(
    db: Database, bad: str
) -> None:
    _register(db)
    svc, tokens = DeploymentService(db.uow()), TokenService(db.uow())
    calls = [
        lambda: svc.status(bad),
        lambda: svc.history(bad),
        lambda: svc.get("chat", bad),
        lambda: svc.approve("chat", bad, actor="t"),
        lambda: svc.rollback("chat", actor="t", reason="r", to=bad),
        lambda: tokens.revoke(bad, actor="t"),
    ]
    for call in calls:
        with pytest.raises(UsageError, match="is not valid text"):
            call()

"""The CLI's control-plane plumbing: one interface for both backends, header-safe values,
secrets never printed, every command guarded."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import httpx
import pytest

from releasegate.api.client import ApiClient
from releasegate.cli import load_all
from releasegate.cli._common import redact
from releasegate.cli._control import ControlPlane, TokenControl, _LocalTokens
from releasegate.control.deployments import DeploymentService
from releasegate.control.tokens import TokenService
from releasegate.errors import UsageError

SECRET = "rg_AbCdEf0123456789-_xyzXYZ0123456789abcdefgh"
SRC = Path(__file__).resolve().parents[3] / "src" / "releasegate"


def _protocol_methods(proto: type) -> list[str]:
    return [n for n, v in vars(proto).items() if callable(v) and not n.startswith("_")]


@pytest.mark.parametrize(
    ("proto", "local", "remote"),
    [(ControlPlane, DeploymentService, ApiClient), (TokenControl, _LocalTokens, ApiClient)],
)
def test_both_backends_take_every_argument(proto: type, local: type, remote: type) -> None:
    """The API client accepts (and sends) every argument the local service takes."""
    methods = _protocol_methods(proto)
    assert methods
    for name in methods:
        wanted = inspect.signature(getattr(proto, name)).parameters
        for impl in (local, remote):
            params = inspect.signature(getattr(impl, name)).parameters
            missing = [p for p in wanted if p not in params]
            assert not missing, (impl.__name__, name, missing)
    local_tokens = {"create": "create_token", "list": "list_tokens", "revoke": "revoke_token"}
    if proto is TokenControl:
        for svc, ours in local_tokens.items():
            svc_params = set(inspect.signature(getattr(TokenService, svc)).parameters) - {"self"}
            assert svc_params <= set(inspect.signature(getattr(remote, ours)).parameters)


def _sent(monkeypatch: pytest.MonkeyPatch, **kwargs: str) -> list[httpx.Request]:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404, json={"error": {"type": "NotFound", "message": "nope"}})

    monkeypatch.setenv("RELEASEGATE_API_TOKEN", SECRET + "\n")
    client = ApiClient("http://api.test", transport=httpx.MockTransport(answer), **kwargs)
    with pytest.raises(UsageError):
        client.promote("chat", "v1", actor="   ")
    with pytest.raises(Exception, match="nope"):
        client.promote("chat", "v1", actor="José 李")
    with pytest.raises(Exception, match="nope"):
        client.revoke_token("t")
    client.close()
    return seen


def test_each_call_sends_its_actor_percent_encoded(monkeypatch: pytest.MonkeyPatch) -> None:
    sent = _sent(monkeypatch, actor="ci bot")
    assert len(sent) == 2  # the blank actor never left the client
    assert sent[0].headers["authorization"] == f"Bearer {SECRET}"  # newline trimmed
    assert sent[0].headers["x-releasegate-actor"] == "Jos%C3%A9 %E6%9D%8E"
    assert sent[1].headers["x-releasegate-actor"] == "ci bot"  # the client's default


@pytest.mark.parametrize(
    "token",
    [SECRET[:12] + "\n" + SECRET[12:], SECRET + "\r\nX-Evil: 1", SECRET + "é", "a b", "\x01"],
)
def test_malformed_token_is_a_usage_error_naming_it(
    token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELEASEGATE_API_TOKEN", token)
    with pytest.raises(UsageError, match=r"^RELEASEGATE_API_TOKEN is malformed") as info:
        ApiClient("http://api.test")
    assert SECRET[9:20] not in str(info.value)
    with pytest.raises(UsageError, match=r"^the API token is malformed"):
        ApiClient("http://api.test", token=token)


@pytest.mark.parametrize("actor", ["x\r\ny", "a\x1bb", "   ", ""])
def test_malformed_client_actor_is_refused(actor: str) -> None:
    with pytest.raises(UsageError, match="the actor"):
        ApiClient("http://api.test", token=SECRET, actor=actor)


@pytest.mark.parametrize(
    "error",
    [
        httpx.LocalProtocolError(f"Illegal header value b'Bearer {SECRET}\\n'"),
        httpx.ConnectError(f"refused while sending Authorization: Bearer {SECRET}"),
        httpx.ReadTimeout(f"timed out ({SECRET})"),
    ],
)
def test_transport_errors_never_show_the_token(
    error: httpx.HTTPError, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error

    client = ApiClient(
        "http://u:hunter2@api.test", token=f" {SECRET}\n", transport=httpx.MockTransport(fail)
    )
    with pytest.raises(UsageError) as info:
        client.status("chat")
    message = str(info.value)
    assert SECRET not in message and SECRET[9:] not in message and "hunter2" not in message
    assert "rg_AbCdEf" in message or "Bearer" not in message or "***" in message
    client.close()


@pytest.mark.parametrize(
    "text",
    [
        f"Illegal header value b'Bearer {SECRET}\\n'",
        f"token={SECRET}",
        f"Authorization: Bearer {SECRET}",
        "postgresql+psycopg://admin:s3cr3t@db:5432/rg failed",
    ],
)
def test_redact_masks_secrets(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELEASEGATE_API_TOKEN", f"{SECRET}\n")
    masked = redact(text)
    assert SECRET[9:] not in masked and "s3cr3t" not in masked


def test_every_command_is_guarded() -> None:
    app = load_all()

    def callbacks(typer_app: object) -> list[object]:
        found = [c.callback for c in typer_app.registered_commands]  # type: ignore[attr-defined]
        for group in typer_app.registered_groups:  # type: ignore[attr-defined]
            found += callbacks(group.typer_instance)
        return found

    found = callbacks(app)
    assert len(found) >= 20
    assert all(getattr(cb, "_releasegate_guarded", False) for cb in found)


def test_every_console_of_the_cli_ignores_markup() -> None:
    """Consoles are built with markup off, and no print turns markup back on."""
    for path in sorted((SRC / "cli").glob("*.py")):
        text = path.read_text()
        for call in re.findall(r"Console\(([^)]*)\)", text):
            assert "markup=False" in call, (path.name, call)
        assert "markup=True" not in text, path.name
        assert "from_markup" not in text, path.name


@pytest.mark.parametrize(
    "exc",
    [
        RuntimeError(f"boom with {SECRET}"),
        KeyError("[bold]x[/]"),
        ValueError("postgresql://u:s3cr3t@h/db [/]"),
        AssertionError(),
    ],
)
def test_unexpected_exception_is_exit_4_without_traceback(
    exc: Exception, monkeypatch: pytest.MonkeyPatch
) -> None:
    import typer
    from typer.testing import CliRunner

    from releasegate.cli._common import guard_all

    app = typer.Typer()

    @app.command()
    def crash() -> None:
        raise exc

    @app.command()
    def fine() -> None:
        raise typer.Exit(1)

    guard_all(app)
    monkeypatch.setenv("RELEASEGATE_API_TOKEN", SECRET)
    monkeypatch.delenv("RELEASEGATE_DEBUG", raising=False)
    result = CliRunner().invoke(app, ["crash"])
    assert result.exit_code == 4 and not isinstance(result.exception, type(exc))
    assert result.stderr.startswith(f"internal error: {type(exc).__name__}")
    assert "Traceback" not in result.stderr and "RELEASEGATE_DEBUG=1" in result.stderr
    assert SECRET[9:] not in result.stderr and "s3cr3t" not in result.stderr
    assert CliRunner().invoke(app, ["fine"]).exit_code == 1  # a command's own decision
    monkeypatch.setenv("RELEASEGATE_DEBUG", "1")
    assert isinstance(CliRunner().invoke(app, ["crash"]).exception, type(exc))


ACTOR_CALLS = {
    "register": lambda c: c.register("chat", "v2", prompt="p@1", model="m-1", actor="ann b"),
    "approve": lambda c: c.approve("chat", "v2", actor="ann b"),
    "reject": lambda c: c.reject("chat", "v2", actor="ann b"),
    "canary": lambda c: c.canary("chat", "v2", actor="ann b", share=0.1),
    "promote": lambda c: c.promote("chat", "v2", actor="ann b"),
    "pause": lambda c: c.pause("chat", "v2", actor="ann b"),
    "resume": lambda c: c.resume("chat", "v2", actor="ann b"),
    "rollback": lambda c: c.rollback("chat", actor="ann b", reason="bad answers"),
}


def test_every_operation_taking_an_actor_sends_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the API the actor of each call reaches the server (none is dropped),
    and it wins over the client's default actor."""
    methods = [
        n
        for n in _protocol_methods(ControlPlane)
        if "actor" in inspect.signature(getattr(ControlPlane, n)).parameters
    ]
    assert sorted(methods) == sorted(ACTOR_CALLS)
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(409, json={"error": {"type": "DeploymentError", "message": "no"}})

    monkeypatch.setenv("RELEASEGATE_API_TOKEN", SECRET)
    client = ApiClient("http://api.test", transport=httpx.MockTransport(answer), actor="default")
    plane: ControlPlane = client
    try:
        for name, call in ACTOR_CALLS.items():
            before = len(seen)
            with pytest.raises(Exception, match="no"):
                call(plane)
            assert len(seen) == before + 1, name
            assert seen[-1].headers["x-releasegate-actor"] == "ann b", name
    finally:
        client.close()

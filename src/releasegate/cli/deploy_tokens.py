"""``releasegate token ...``: create, list and revoke control-plane API tokens, on the
local store or (``--api URL``, admin token) through the API -- the same either way."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from releasegate.cli._app import app
from releasegate.cli._common import out_console, plain, print_table
from releasegate.cli._control import Actor, Api, AsJson, Db, resolve_actor, token_control
from releasegate.deploy.tokens import Scope

__all__ = ["token_app"]

token_app = typer.Typer(help="Create, list and revoke control-plane API tokens.")
app.add_typer(token_app, name="token", no_args_is_help=True)

TokenName = Annotated[str, typer.Argument(help="Token name.")]


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="A name for the token (unique).")],
    scope: Annotated[str, typer.Option("--scope", help="read, operate, admin or ingest.")] = "read",
    db: Db = None,
    api: Api = None,
    actor: Actor = None,
    as_json: AsJson = False,
) -> None:
    """Create a token; its secret is printed once and stored only hashed."""
    parsed = Scope.parse(scope)
    who = resolve_actor(actor)
    with token_control(db, api, create=True) as tokens:
        token, secret = tokens.create_token(name, parsed, actor=who)
    if as_json:
        sys.stdout.write(json.dumps({**token.to_json(), "token": secret}, indent=2) + "\n")
    else:
        out_console.print(
            plain(f"token {token.name!r} ({token.scope}) created; it is shown only once:")
        )
        sys.stdout.write(secret + "\n")


@token_app.command("list")
def token_list(db: Db = None, api: Api = None, as_json: AsJson = False) -> None:
    """List tokens (names, scopes, prefixes; never secrets)."""
    with token_control(db, api) as control:
        tokens = control.list_tokens()
    if as_json:
        sys.stdout.write(json.dumps([t.to_json() for t in tokens], indent=2) + "\n")
        return
    rows = [
        [
            t.name,
            str(t.scope),
            t.prefix + "...",
            t.created_at.strftime("%F %T"),
            t.revoked_at.strftime("%F %T") if t.revoked_at else "",
        ]
        for t in tokens
    ]
    columns = ("name", "scope", "prefix", "created (UTC)", "revoked (UTC)")
    print_table(out_console, columns, rows)


@token_app.command("revoke")
def token_revoke(name: TokenName, db: Db = None, api: Api = None, actor: Actor = None) -> None:
    """Revoke a token at once."""
    who = resolve_actor(actor)
    with token_control(db, api) as tokens:
        tokens.revoke_token(name, actor=who)
    out_console.print(plain(f"token {name!r} revoked"))

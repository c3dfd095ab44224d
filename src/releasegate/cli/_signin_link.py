"""The dashboard sign-in link ``releasegate serve`` prints on a loopback host.

The link carries a ``read`` token minted for this run through the control plane's
:class:`~releasegate.control.tokens.TokenService` (named ``serve-signin-PORT-XXXXXX``,
audited like any token) and revoked when the server stops, so the token printed to the
terminal dies with the server. A read token can look but never act: the link never
carries an operate or admin token. On any other host no token is minted: a sign-in link
printed there could be read off a shared terminal or log by someone on the network.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass

from releasegate.deploy.tokens import Scope
from releasegate.errors import ReleasegateError

__all__ = ["SigninToken", "is_loopback", "mint", "revoke"]

NAME_PREFIX = "serve-signin-"


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address literal) is this machine only."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class SigninToken:
    """A read token minted for one run: its name and its secret."""

    name: str
    secret: str


def mint(database_url: str | None, port: int, *, actor: str) -> SigninToken:
    """Create a read token for this run on the database at ``database_url``.

    Raises:
        UsageError: the database cannot be reached.
        ConfigError: it does not exist or has no releasegate tables.
    """
    from releasegate.bootstrap import open_control
    from releasegate.cli._control import store_errors

    name = f"{NAME_PREFIX}{port}-{secrets.token_hex(3)}"
    with store_errors(), open_control(database_url) as parts:
        created = parts.tokens().create(name, Scope.READ, actor=actor)
    return SigninToken(name, created.secret)


def revoke(database_url: str | None, token: SigninToken, *, actor: str) -> str | None:
    """Revoke ``token``; returns a one-line problem instead of raising (the server is
    stopping: a failure must not hide why it stopped)."""
    from sqlalchemy.exc import SQLAlchemyError

    from releasegate.bootstrap import open_control

    try:
        with open_control(database_url) as parts:
            parts.tokens().revoke(token.name, actor=actor)
    except (ReleasegateError, SQLAlchemyError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return (
            f"could not revoke the sign-in token {token.name} ({first}); "
            f"revoke it with: releasegate token revoke {token.name}"
        )
    return None

"""Bearer-token authentication with scopes for the control-plane API.

No or unknown token -> 401; a valid token whose scope is too low -> 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from releasegate.deploy.ports import UnitOfWork
from releasegate.deploy.tokens import Scope, TokenService
from releasegate.deploy.values import decode_actor
from releasegate.errors import UsageError

__all__ = ["ACTOR_HEADER", "Caller", "require"]

ACTOR_HEADER = "X-Releasegate-Actor"

_bearer = HTTPBearer(auto_error=False, description="API token (`releasegate token create`)")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the token's name and scope, and the actor recorded in the audit log."""

    token_name: str
    scope: Scope
    actor: str


def require(scope: Scope) -> Callable[..., Caller]:
    """A FastAPI dependency admitting tokens of at least ``scope``."""

    def dependency(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    ) -> Caller:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "missing API token (Authorization: Bearer <token>)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        uow_factory: Callable[[], UnitOfWork] = request.app.state.uow_factory
        token = TokenService(uow_factory()).authenticate(credentials.credentials)
        if token is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "unknown or revoked API token",
                headers={"WWW-Authenticate": "Bearer"},
            )
        granted = Scope.parse(token.scope)
        if granted < scope:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"token {token.name!r} has scope {granted.label}; this needs {scope.label}",
            )
        raw = request.headers.get(ACTOR_HEADER)
        try:  # percent-encoded UTF-8; a blank or malformed actor is refused, not dropped
            who = decode_actor(raw)[:100] if raw is not None else ""
        except UsageError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(exc)) from None
        actor = f"{who} (token {token.name})" if who else f"token:{token.name}"
        return Caller(token_name=token.name, scope=granted, actor=actor)

    return dependency

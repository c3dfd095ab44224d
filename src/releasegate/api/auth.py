"""Bearer-token authentication with scopes for the control-plane API.

No or unknown token -> 401; a valid token whose scope is too low -> 403. Every route
declares what it needs with one dependency, :class:`Require` (a scope) or :data:`PUBLIC`
(no token); :func:`declare_scopes` reads those declarations into the OpenAPI document and
refuses to build an app with a route that declares nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from releasegate.control.tokens import TokenService
from releasegate.deploy.names import MAX_ACTOR
from releasegate.deploy.tokens import Scope
from releasegate.deploy.values import decode_actor
from releasegate.errors import UsageError
from releasegate.ports import UnitOfWork

__all__ = [
    "ACTOR_HEADER",
    "PUBLIC",
    "SCOPE_EXTENSION",
    "Caller",
    "Public",
    "Require",
    "declare_scopes",
    "require",
    "required_scope",
]

ACTOR_HEADER = "X-Releasegate-Actor"
SCOPE_EXTENSION = "x-required-scope"
"""OpenAPI operation field naming the scope a route needs (``none`` for public routes)."""

_bearer = HTTPBearer(auto_error=False, description="API token (`releasegate token create`)")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the token's name and scope, and the actor recorded in the audit log."""

    token_name: str
    scope: Scope
    actor: str


def _actor(who: str, token_name: str) -> str:
    """The actor recorded for a request: ``WHO (token NAME)`` or ``token:NAME``.

    Raises:
        HTTPException: 422 when the recorded actor would exceed its limit or ``who`` holds
            control characters.
    """
    if not who:
        return f"token:{token_name}"
    actor = f"{who} (token {token_name})"
    room = MAX_ACTOR - (len(actor) - len(who))
    if len(who) > room:
        raise HTTPException(
            422,
            f"{ACTOR_HEADER} is {len(who)} characters long; with token {token_name!r} the "
            f"limit is {room} (the recorded actor '{{who}} (token {token_name})' is at most "
            f"{MAX_ACTOR} characters)",
        )
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in who):
        raise HTTPException(422, f"{ACTOR_HEADER} contains a control character")
    return actor


class Require:
    """A FastAPI dependency admitting tokens of at least ``scope``.

    Args:
        scope: The lowest scope admitted.
    """

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def __call__(
        self,
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
        if not granted.grants(self.scope):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"token {token.name!r} has scope {granted.label}; this needs {self.scope.label}",
            )
        raw = request.headers.get(ACTOR_HEADER)
        try:  # percent-encoded UTF-8; a blank or malformed actor is refused, not dropped
            who = decode_actor(raw) if raw is not None else ""
        except UsageError as exc:
            raise HTTPException(422, str(exc)) from None
        return Caller(token_name=token.name, scope=granted, actor=_actor(who, token.name))


class Public:
    """A FastAPI dependency declaring a route that needs no token (it does nothing)."""

    def __call__(self) -> None:
        return None


PUBLIC = Public()


def require(scope: Scope) -> Require:
    """A FastAPI dependency admitting tokens of at least ``scope``."""
    return Require(scope)


def required_scope(route: APIRoute) -> Scope | None:
    """The scope a route declares (None for :data:`PUBLIC`).

    Raises:
        RuntimeError: when the route declares no scope, or more than one.
    """
    found: list[Scope | None] = []
    for dep in route.dependant.dependencies:
        if isinstance(dep.call, Require):
            found.append(dep.call.scope)
        elif isinstance(dep.call, Public):
            found.append(None)
    if len(found) != 1:
        raise RuntimeError(
            f"route {sorted(route.methods or ())} {route.path} must declare exactly one scope "
            f"(Require(scope) or PUBLIC), found {len(found)}"
        )
    return found[0]


def declare_scopes(app: FastAPI) -> None:
    """Write every route's scope into its OpenAPI operation and description.

    Each operation gets ``x-required-scope`` (``none``, ``ingest``, ``read``,
    ``operate`` or ``admin``) and a "Required scope" line in its description.

    Raises:
        RuntimeError: when a route declares no scope (the app must not be served).
    """
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        scope = required_scope(route)
        label = scope.label if scope is not None else "none"
        route.openapi_extra = {**(route.openapi_extra or {}), SCOPE_EXTENSION: label}
        line = (
            f"Required scope: `{label}` (or higher)."
            if scope is not None
            else "Required scope: none (no token)."
        )
        route.description = f"{route.description}\n\n{line}".strip()

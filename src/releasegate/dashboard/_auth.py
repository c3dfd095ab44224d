"""Who is looking: the signed-in token behind a request, and the checks on forms.

A page needs a token of ``read`` scope or higher; an operate button needs ``operate``.
Every POST must carry the CSRF token of its session and, when the browser sends an
``Origin``, come from this dashboard's own origin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.requests import Request

from releasegate.control.tokens import TokenService
from releasegate.dashboard._session import COOKIE, Signer
from releasegate.deploy.model import ApiToken
from releasegate.deploy.tokens import Scope
from releasegate.errors import UsageError
from releasegate.ports import UnitOfWork

__all__ = ["MAX_FORM_BYTES", "Viewer", "read_form", "same_origin", "token_for", "viewer_of"]

MAX_FORM_BYTES = 64 * 1024
MAX_FORM_FIELDS = 50


@dataclass(frozen=True, slots=True)
class Viewer:
    """A signed-in person: the token's name and scope, the session id and CSRF token."""

    token_name: str
    scope: Scope
    sid: str
    csrf: str

    @property
    def can_operate(self) -> bool:
        return self.scope.grants(Scope.OPERATE)

    @property
    def actor(self) -> str:
        """Who the audit log names for a change made here."""
        return f"token:{self.token_name} (dashboard)"


def token_for(uow_factory: Callable[[], UnitOfWork], secret: str) -> ApiToken | None:
    """The live token for ``secret`` if it may see the dashboard (read scope or higher)."""
    secret = secret.strip()
    if not secret or len(secret) > 200:
        return None
    token = TokenService(uow_factory()).authenticate(secret)
    if token is None:
        return None
    try:
        scope = Scope.parse(token.scope)
    except UsageError:
        return None
    return token if scope.grants(Scope.READ) else None


def viewer_of(
    request: Request, signer: Signer, uow_factory: Callable[[], UnitOfWork]
) -> Viewer | None:
    """The viewer signed in on ``request``, or None (no, forged or expired session; the
    token revoked, replaced or no longer of read scope)."""
    session = signer.read_session(request.cookies.get(COOKIE))
    if session is None:
        return None
    with uow_factory() as uow:
        token = uow.tokens.by_name(session.token_name)
    if token is None or token.revoked_at is not None:
        return None
    if signer.fingerprint(token) != session.fingerprint:
        return None
    try:
        scope = Scope.parse(token.scope)
    except UsageError:
        return None
    if not scope.grants(Scope.READ):
        return None
    return Viewer(token.name, scope, session.sid, signer.csrf(session.sid))


async def read_form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body as a dict (last value wins).

    Raises:
        UsageError: another content type, a body over :data:`MAX_FORM_BYTES` or with
            more than :data:`MAX_FORM_FIELDS` fields, or one that is not UTF-8.
    """
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise UsageError("expected a form (application/x-www-form-urlencoded)")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise UsageError(f"the form is larger than {MAX_FORM_BYTES} bytes")
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise UsageError("the form is not UTF-8") from None
    try:
        return dict(parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS))
    except ValueError:
        raise UsageError(f"the form has more than {MAX_FORM_FIELDS} fields") from None


def same_origin(request: Request) -> bool:
    """False when the browser says the request came from another origin (or from an
    opaque one: ``Origin: null``). The dashboard's ``Referrer-Policy: same-origin``
    lets browsers send the origin of its own forms."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    return origin == own

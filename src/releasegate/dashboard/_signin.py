"""Signing in (a form, or a sign-in link ``/login?token=TOKEN``) and out."""

from __future__ import annotations

import secrets

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from releasegate.dashboard._auth import read_form, token_for
from releasegate.dashboard._base import Base, safe_next
from releasegate.dashboard._session import COOKIE, LOGIN_COOKIE, SESSION_TTL_S
from releasegate.errors import ReleasegateError

__all__ = ["SignIn"]


class SignIn(Base):
    """``/login`` and ``/logout``. The sign-in form carries a CSRF token bound to a
    short-lived nonce cookie; a successful sign-in sets the signed session cookie
    (HttpOnly, SameSite=Strict, Secure over HTTPS)."""

    def signed_in(self, request: Request, token_name: str, target: str) -> Response:
        with self.parts.read_uow_factory() as uow:
            token = uow.tokens.by_name(token_name)
        assert token is not None
        response = RedirectResponse(safe_next(target), 303)
        response.set_cookie(
            COOKIE,
            self.signer.new_session(token),
            max_age=SESSION_TTL_S,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        response.delete_cookie(LOGIN_COOKIE)
        return response

    def login_form(
        self,
        request: Request,
        status: int = 200,
        message: str = "",
        nonce: str | None = None,
        target: str | None = None,
    ) -> Response:
        nonce = nonce or secrets.token_urlsafe(16)
        response = self.render(
            request,
            "login.html",
            None,
            status,
            csrf=self.signer.csrf("login:" + nonce),
            next=safe_next(target or request.query_params.get("next")),
            message=message,
        )
        response.set_cookie(LOGIN_COOKIE, nonce, max_age=3600, httponly=True, samesite="strict")
        return response

    async def login(self, request: Request) -> Response:
        if request.method == "GET":
            secret = request.query_params.get("token")
            if secret is None:
                return self.login_form(request)
            token = await run_in_threadpool(token_for, self.parts.read_uow_factory, secret)
            if token is None:
                return self.login_form(
                    request,
                    401,
                    "That sign-in link's token is unknown, revoked, or cannot read the dashboard.",
                )
            return self.signed_in(request, token.name, request.query_params.get("next", "/"))
        try:
            form = await read_form(request)
        except ReleasegateError as exc:
            return self.error(request, None, 400, str(exc))
        nonce = request.cookies.get(LOGIN_COOKIE, "")
        if not nonce or not self.signer.check_csrf("login:" + nonce, form.get("csrf")):
            return self.error(
                request,
                None,
                403,
                "The sign-in form expired or was not sent "
                "by this dashboard; reload the page and try again.",
            )
        token = await run_in_threadpool(
            token_for, self.parts.read_uow_factory, form.get("token", "")
        )
        if token is None:
            return self.login_form(
                request,
                401,
                "Unknown or revoked token, or a token without read scope.",
                nonce,
                form.get("next"),
            )
        return self.signed_in(request, token.name, form.get("next", "/"))

    async def logout(self, request: Request) -> Response:
        viewer = await run_in_threadpool(self.viewer, request)
        try:
            form = await read_form(request)
        except ReleasegateError as exc:
            return self.error(request, viewer, 400, str(exc))
        if viewer is not None and not self.signer.check_csrf(viewer.sid, form.get("csrf")):
            return self.error(request, viewer, 403, "Sign-out refused: bad form token.")
        response = RedirectResponse("/login", 303)
        response.delete_cookie(COOKIE)
        return response

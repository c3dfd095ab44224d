"""The dashboard ASGI application (Starlette, Jinja2 templates, server-side SVG charts).

Pages: ``/`` (overview), ``/features/{feature}``, ``/interactions`` and
``/interactions/{request_id}``; sign-in at ``/login`` (a form, or a sign-in link
``/login?token=TOKEN``). No page runs a script: the Content-Security-Policy allows none,
styles come from the package's own static file, and every text is escaped by the
templates. Operate buttons open a confirmation page whose form is posted with the
session's CSRF token.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from releasegate._version import __version__
from releasegate.bootstrap import ControlPlaneParts
from releasegate.dashboard import _format, actions, explorer, views
from releasegate.dashboard._auth import Viewer, read_form, same_origin, token_for, viewer_of
from releasegate.dashboard._charts import latency_histogram, quality_chart
from releasegate.dashboard._session import COOKIE, LOGIN_COOKIE, SESSION_TTL_S, Signer
from releasegate.errors import DeploymentError, NotFound, ReleasegateError

__all__ = ["CSP", "create_dashboard"]

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class _SecurityHeaders:
    """Adds the CSP and friends to every response (pages, static files, errors)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _status_of(exc: ReleasegateError) -> int:
    if isinstance(exc, NotFound):
        return 404
    return 409 if isinstance(exc, DeploymentError) else 422


def _safe_next(target: str | None) -> str:
    # only a path on this site: never "//host" or "https://..." (no open redirect)
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


class _Dashboard:
    def __init__(self, parts: ControlPlaneParts, signer: Signer, title: str) -> None:
        self.parts, self.signer, self.title = parts, signer, title
        self.env = Environment(
            loader=PackageLoader("releasegate.dashboard", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        _format.install(self.env)

    # -- helpers ----------------------------------------------------------------------

    def render(
        self, request: Request, name: str, viewer: Viewer | None, status: int = 200, **ctx: Any
    ) -> HTMLResponse:
        html = self.env.get_template(name).render(
            request=request, viewer=viewer, title=self.title, rg_version=__version__, **ctx
        )
        return HTMLResponse(html, status, headers={"cache-control": "no-store"})

    def viewer(self, request: Request) -> Viewer | None:
        return viewer_of(request, self.signer, self.parts.read_uow_factory)

    def to_login(self, request: Request) -> Response:
        where = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login?" + urlencode({"next": where}), 303)

    def signed_in(self, request: Request, token_name: str, target: str) -> Response:
        with self.parts.read_uow_factory() as uow:
            token = uow.tokens.by_name(token_name)
        assert token is not None
        response = RedirectResponse(_safe_next(target), 303)
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

    def error(self, request: Request, viewer: Viewer | None, status: int, msg: str) -> Response:
        return self.render(request, "error.html", viewer, status, status_code=status, message=msg)

    # -- sign-in ----------------------------------------------------------------------

    def login_form(
        self, request: Request, status: int = 200, message: str = "", nonce: str | None = None
    ) -> Response:
        nonce = nonce or secrets.token_urlsafe(16)
        response = self.render(
            request,
            "login.html",
            None,
            status,
            csrf=self.signer.csrf("login:" + nonce),
            next=_safe_next(request.query_params.get("next")),
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
                request, 401, "Unknown or revoked token, or a token without read scope.", nonce
            )
        return self.signed_in(request, token.name, form.get("next", "/"))

    async def logout(self, request: Request) -> Response:
        viewer = await run_in_threadpool(self.viewer, request)
        form = await read_form(request)
        if viewer is not None and not self.signer.check_csrf(viewer.sid, form.get("csrf")):
            return self.error(request, viewer, 403, "Sign-out refused: bad form token.")
        response = RedirectResponse("/login", 303)
        response.delete_cookie(COOKIE)
        return response

    # -- pages ------------------------------------------------------------------------

    def overview(self, request: Request) -> Response:
        viewer = self.viewer(request)
        if viewer is None:
            return self.to_login(request)
        return self.render(request, "overview.html", viewer, rows=views.overview(self.parts))

    def feature(self, request: Request) -> Response:
        viewer = self.viewer(request)
        if viewer is None:
            return self.to_login(request)
        name = request.path_params["feature"]
        try:
            page = views.feature_page(self.parts, name)
        except NotFound as exc:
            return self.error(request, viewer, 404, str(exc))
        except ReleasegateError as exc:
            return self.error(request, viewer, 400, str(exc))
        hist = latency_histogram({a.arm: a.stats.latency for a in page.arms})
        return self.render(
            request,
            "feature.html",
            viewer,
            page=page,
            quality=quality_chart(page.quality),
            latency=hist,
            actions=actions.ACTIONS,
            done=request.query_params.get("done"),
        )

    def interactions(self, request: Request) -> Response:
        viewer = self.viewer(request)
        if viewer is None:
            return self.to_login(request)
        q = request.query_params
        filters = explorer.Filters(
            feature=q.get("feature") or None,
            version=q.get("version") or None,
            errors=q.get("errors") == "1",
            fallbacks=q.get("fallbacks") == "1",
        )
        before_raw = q.get("before")
        before = int(before_raw) if before_raw and before_raw.isdigit() else None
        page = explorer.page(self.parts, filters, before=before)
        return self.render(request, "interactions.html", viewer, page=page, before=before)

    def interaction(self, request: Request) -> Response:
        viewer = self.viewer(request)
        if viewer is None:
            return self.to_login(request)
        found = explorer.interaction(self.parts, request.path_params["request_id"])
        if found is None:
            return self.error(request, viewer, 404, "No interaction with that request id.")
        return self.render(request, "interaction.html", viewer, view=found)

    # -- operate ----------------------------------------------------------------------

    def confirm(self, request: Request) -> Response:
        viewer = self.viewer(request)
        if viewer is None:
            return self.to_login(request)
        if not viewer.can_operate:
            return self.error(
                request,
                viewer,
                403,
                "Your token has read scope; operating a rollout needs a token of operate scope.",
            )
        feature, name = request.path_params["feature"], request.path_params["action"]
        action = actions.ACTIONS.get(name)
        if action is None:
            return self.error(request, viewer, 404, f"Unknown action {name!r}.")
        version = request.query_params.get("version", "")
        return self.render(
            request, "confirm.html", viewer, feature=feature, version=version, action=action
        )

    async def act(self, request: Request) -> Response:
        viewer = await run_in_threadpool(self.viewer, request)
        if viewer is None:
            return self.error(request, None, 401, "Sign in first.")
        if not same_origin(request):
            return self.error(request, viewer, 403, "Refused: the form came from another site.")
        try:
            form = await read_form(request)
        except ReleasegateError as exc:
            return self.error(request, viewer, 400, str(exc))
        if not self.signer.check_csrf(viewer.sid, form.get("csrf")):
            return self.error(
                request,
                viewer,
                403,
                "Refused: the form's CSRF token is missing "
                "or wrong. Reload the page and try again.",
            )
        if not viewer.can_operate:
            return self.error(
                request,
                viewer,
                403,
                "Your token has read scope; operating a rollout needs a token of operate scope.",
            )
        feature, name = request.path_params["feature"], request.path_params["action"]
        action = actions.ACTIONS.get(name)
        if action is None:
            return self.error(request, viewer, 404, f"Unknown action {name!r}.")
        version, reason = form.get("version", ""), form.get("reason", "")
        try:
            await run_in_threadpool(
                actions.perform,
                self.parts,
                name,
                feature,
                version,
                actor=viewer.actor,
                reason=reason,
            )
        except ReleasegateError as exc:
            code = _status_of(exc)
            return self.render(
                request,
                "confirm.html",
                viewer,
                code,
                feature=feature,
                version=version,
                action=action,
                message=str(exc),
                reason=reason,
            )
        target = f"/features/{feature}?" + urlencode({"done": action.label})
        return RedirectResponse(target, 303)


def create_dashboard(
    parts: ControlPlaneParts, *, secret_key: bytes | None = None, title: str = "releasegate"
) -> Starlette:
    """The dashboard as an ASGI app on the control-plane ``parts``.

    Args:
        parts: Units of work, clock and salt source (see :mod:`releasegate.bootstrap`).
        secret_key: Signs session cookies and CSRF tokens (>= 32 bytes). Default: a
            random key per process, so restarting the server signs everyone out.
        title: Shown in every page's header.

    Raises:
        ValueError: a ``secret_key`` shorter than 32 bytes.
    """
    d = _Dashboard(parts, Signer(secret_key), title)
    static = Path(__file__).with_name("static")
    app = Starlette(
        routes=[
            Route("/", d.overview),
            Route("/login", d.login, methods=["GET", "POST"]),
            Route("/logout", d.logout, methods=["POST"]),
            Route("/features/{feature}", d.feature),
            Route("/features/{feature}/confirm/{action}", d.confirm),
            Route("/features/{feature}/{action}", d.act, methods=["POST"]),
            Route("/interactions", d.interactions),
            Route("/interactions/{request_id}", d.interaction),
            Mount("/static", StaticFiles(directory=static), name="static"),
        ],
        middleware=[Middleware(_SecurityHeaders)],
    )
    return app

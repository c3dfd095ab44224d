"""The dashboard ASGI application (Starlette, Jinja2 templates, server-side SVG charts).

Pages: ``/`` (overview), ``/features/{feature}``, ``/interactions``,
``/interactions/{request_id}``, ``/evals`` and ``/evals/{run_id}``; sign-in at
``/login`` (a form, or a sign-in link ``/login?token=TOKEN``). No page runs a script:
the Content-Security-Policy allows none,
styles come from the package's own static file, and every text is escaped by the
templates. Operate buttons open a confirmation page whose form is posted with the
session's CSRF token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from releasegate.bootstrap import ControlPlaneParts
from releasegate.dashboard import actions, evals, explorer, views
from releasegate.dashboard._charts import latency_histogram, quality_chart, share_chart
from releasegate.dashboard._operate import Operate
from releasegate.dashboard._session import Signer
from releasegate.dashboard._signin import SignIn
from releasegate.dashboard.health import StoreUpstreamHealth, UpstreamHealthSource
from releasegate.errors import NotFound, ReleasegateError
from releasegate.ports import HALLUCINATION_CHECKS

__all__ = ["CSP", "create_dashboard"]

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
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


_KNOWN_CHECKS = ("overall", *HALLUCINATION_CHECKS, "llm-judge", "answer-relevancy", "contains")


class _Dashboard(SignIn, Operate):
    """The pages; sign-in and the operate buttons come from the two bases."""

    health: UpstreamHealthSource | None = None

    def overview(self, request: Request) -> Response:
        viewer = self.viewer(request)
        if viewer is None:
            return self.to_login(request)
        rows = views.overview(self.parts)
        upstreams = self.health.upstream_health() if self.health is not None else None
        return self.render(request, "overview.html", viewer, rows=rows, upstreams=upstreams)

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
            shares=share_chart(page.shares),
            latency=hist,
            rate_window=views.RATE_WINDOW,
            actions=actions.ACTIONS,
            done=request.query_params.get("done"),
        )

    def interactions(self, request: Request) -> Response:
        viewer = self.viewer(request)
        if viewer is None:
            return self.to_login(request)
        q = request.query_params
        filters, problems = explorer.parse_filters(q)
        before_raw = q.get("before")
        # an id: digits that fit a 64-bit column (anything else starts at the newest)
        ok = before_raw is not None and before_raw.isdigit() and len(before_raw) <= 18
        before = int(before_raw) if ok and before_raw else None
        page = explorer.page(self.parts, filters, before=before)
        return self.render(
            request,
            "interactions.html",
            viewer,
            page=page,
            before=before,
            problems=problems,
            feedback_choices=explorer.FEEDBACK_CHOICES,
            known_checks=_KNOWN_CHECKS,
        )

    def interaction(self, request: Request) -> Response:
        viewer = self.viewer(request)
        if viewer is None:
            return self.to_login(request)
        found = explorer.interaction(self.parts, request.path_params["request_id"])
        if found is None:
            return self.error(request, viewer, 404, "No interaction with that request id.")
        return self.render(request, "interaction.html", viewer, view=found)

    def evals(self, request: Request) -> Response:
        viewer = self.viewer(request)
        if viewer is None:
            return self.to_login(request)
        q = request.query_params
        suite, prompt = q.get("suite") or None, q.get("prompt") or None
        groups = evals.eval_runs(self.parts, suite=suite, prompt=prompt)
        return self.render(request, "evals.html", viewer, groups=groups, suite=suite, prompt=prompt)

    def eval_report(self, request: Request) -> Response:
        viewer = self.viewer(request)
        if viewer is None:
            return self.to_login(request)
        view = evals.report_view(self.parts, request.path_params["run_id"])
        if view is None:
            return self.error(request, viewer, 404, "No stored eval report with that run id.")
        return self.render(request, "eval_report.html", viewer, view=view)


def create_dashboard(
    parts: ControlPlaneParts,
    *,
    secret_key: bytes | None = None,
    title: str = "releasegate",
    health: UpstreamHealthSource | None = None,
) -> Starlette:
    """The dashboard as an ASGI app on the control-plane ``parts``.

    Args:
        parts: Units of work, clock and salt source (see :mod:`releasegate.bootstrap`).
        secret_key: Signs session cookies and CSRF tokens (>= 32 bytes). Default: a
            random key per process, so restarting the server signs everyone out.
        title: Shown in every page's header.
        health: Where the overview reads the gateway's circuit-breaker states
            (default: the store's, see :class:`StoreUpstreamHealth`).

    Raises:
        ValueError: a ``secret_key`` shorter than 32 bytes.
    """
    d = _Dashboard(parts, Signer(secret_key), title)
    d.health = health or StoreUpstreamHealth(parts.read_uow_factory, parts.clock)
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
            Route("/evals", d.evals),
            Route("/evals/{run_id}", d.eval_report),
            Mount("/static", StaticFiles(directory=static), name="static"),
        ],
        middleware=[Middleware(_SecurityHeaders)],
    )
    return app

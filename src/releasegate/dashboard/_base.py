"""The dashboard's request handlers share this: templates, the viewer, errors."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from releasegate._version import __version__
from releasegate.bootstrap import ControlPlaneParts
from releasegate.dashboard import _format
from releasegate.dashboard._auth import Viewer, viewer_of
from releasegate.dashboard._session import Signer
from releasegate.errors import DeploymentError, NotFound, ReleasegateError

__all__ = ["Base", "safe_next", "status_of"]


def status_of(exc: ReleasegateError) -> int:
    """The HTTP status of a refused operation: 404 unknown, 409 refused, 422 bad input."""
    if isinstance(exc, NotFound):
        return 404
    return 409 if isinstance(exc, DeploymentError) else 422


def safe_next(target: str | None) -> str:
    """``target`` when it is a path on this site, else ``/`` (never an open redirect)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


class Base:
    """What every handler uses: the parts, the signer and the templates (autoescaped)."""

    def __init__(self, parts: ControlPlaneParts, signer: Signer, title: str) -> None:
        self.parts, self.signer, self.title = parts, signer, title
        self.env = Environment(
            loader=PackageLoader("releasegate.dashboard", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        _format.install(self.env)

    def render(
        self, request: Request, name: str, viewer: Viewer | None, status: int = 200, **ctx: Any
    ) -> HTMLResponse:
        html = self.env.get_template(name).render(
            request=request,
            viewer=viewer,
            title=self.title,
            rg_version=__version__,
            now=self.parts.clock.now(),
            **ctx,
        )
        return HTMLResponse(html, status, headers={"cache-control": "no-store"})

    def viewer(self, request: Request) -> Viewer | None:
        return viewer_of(request, self.signer, self.parts.read_uow_factory)

    def to_login(self, request: Request) -> Response:
        where = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login?" + urlencode({"next": where}), 303)

    def error(self, request: Request, viewer: Viewer | None, status: int, msg: str) -> Response:
        return self.render(request, "error.html", viewer, status, status_code=status, message=msg)

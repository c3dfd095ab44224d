"""The operate buttons' handlers: a confirmation page, then a CSRF-checked POST that
runs the action through the control-plane services (see :mod:`.actions`)."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from releasegate.dashboard import actions
from releasegate.dashboard._auth import read_form, same_origin
from releasegate.dashboard._base import Base, status_of
from releasegate.errors import ReleasegateError

__all__ = ["Operate"]

_READ_ONLY = "Your token has read scope; operating a rollout needs a token of operate scope."


class Operate(Base):
    """``GET /features/{feature}/confirm/{action}`` and ``POST /features/{feature}/{action}``."""

    def _explain(self, action: actions.Action, feature: str, version: str) -> str:
        try:
            return actions.describe(self.parts, action, feature, version)
        except ReleasegateError:
            return action.explain.format(feature=feature, version=version)

    def confirm(self, request: Request) -> Response:
        viewer = self.viewer(request)
        if viewer is None:
            return self.to_login(request)
        if not viewer.can_operate:
            return self.error(request, viewer, 403, _READ_ONLY)
        feature, name = request.path_params["feature"], request.path_params["action"]
        action = actions.ACTIONS.get(name)
        if action is None:
            return self.error(request, viewer, 404, f"Unknown action {name!r}.")
        version = request.query_params.get("version", "")
        try:
            explain = actions.describe(self.parts, action, feature, version)
        except ReleasegateError as exc:
            return self.error(request, viewer, status_of(exc), str(exc))
        return self.render(
            request,
            "confirm.html",
            viewer,
            feature=feature,
            version=version,
            action=action,
            explain=explain,
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
            return self.error(request, viewer, 403, _READ_ONLY)
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
            return self.render(
                request,
                "confirm.html",
                viewer,
                status_of(exc),
                feature=feature,
                version=version,
                action=action,
                explain=await run_in_threadpool(self._explain, action, feature, version),
                message=str(exc),
                reason=reason,
            )
        target = f"/features/{feature}?" + urlencode({"done": action.label})
        return RedirectResponse(target, 303)

"""A synchronous client of the control-plane API, used by ``releasegate ... --api URL``.

It offers the same operations as :class:`~releasegate.control.deployments.DeploymentService`
and returns the same records, so the CLI is indifferent to where the work happens.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from releasegate import settings as _settings
from releasegate.api.auth import ACTOR_HEADER
from releasegate.control.deployments import FeatureState
from releasegate.control.router import Route
from releasegate.deploy.bucketing import scalar_text
from releasegate.deploy.model import ApiToken, AuditEntry, Deployment
from releasegate.deploy.plans import RolloutPlan, preset
from releasegate.deploy.tokens import Scope
from releasegate.deploy.values import check_reason, clean_actor, clean_token, encode_actor
from releasegate.errors import (
    DeploymentError,
    IllegalTransition,
    NotFound,
    ReleasegateError,
    UsageError,
)
from releasegate.prompts import Prompt
from releasegate.results.report import EvalReport

__all__ = ["TOKEN_ENV", "ApiClient"]

TOKEN_ENV = "RELEASEGATE_API_TOKEN"
_BEARER_RE = re.compile(r"(Bearer\s+)[^\s'\"]+", re.IGNORECASE)
_PASSWORD_RE = re.compile(r"(//[^/@:\s]*):[^@/\s]*@")


def _q(part: str) -> str:
    try:
        return quote(part, safe="")
    except UnicodeEncodeError:
        raise UsageError(
            f"name {scalar_text(part)!r} is not valid Unicode (bytes that are not UTF-8?)"
        ) from None


def _route(data: dict[str, Any]) -> Route:
    prompt = data.get("prompt")
    name, _, version = prompt.rpartition("@") if prompt else (None, "", None)
    return Route(
        feature=data["feature"],
        arm=data["arm"],
        model=data["model"],
        version=data.get("version"),
        prompt_name=name,
        prompt_version=version,
        params=dict(data.get("params") or {}),
        deployment_id=data.get("deployment_id"),
        shadow=_route(data["shadow"]) if data.get("shadow") else None,
    )


def _token(data: dict[str, Any]) -> ApiToken:
    return ApiToken(
        id=data.get("id"),
        name=data["name"],
        scope=data["scope"],
        token_hash="",
        prefix=data["prefix"],
        created_by=data.get("created_by", "unknown"),
        created_at=datetime.fromisoformat(data["created_at"]),
        revoked_at=datetime.fromisoformat(data["revoked_at"]) if data.get("revoked_at") else None,
    )


def _detail(payload: Any, fallback: str) -> tuple[str, str]:
    """(message, error type) of an error answer, in one readable line."""
    if not isinstance(payload, dict):
        return fallback, ""
    err = payload.get("error")
    if isinstance(err, dict):
        return str(err.get("message")), str(err.get("type"))
    detail = payload.get("detail", fallback)
    if isinstance(detail, list):  # FastAPI request validation: [{loc, msg}, ...]
        parts = []
        for item in detail:
            if isinstance(item, dict):
                loc = ".".join(str(x) for x in item.get("loc", ()) if x != "body")
                parts.append(f"{loc}: {item.get('msg')}" if loc else str(item.get("msg")))
        return "; ".join(parts) or fallback, ""
    return str(detail), ""


def _safe_url(url: str) -> str:
    """``url`` without a password (``http://u:***@host``); never raises."""
    return _PASSWORD_RE.sub(r"\1:***@", url)


def _is_preset(plan: RolloutPlan) -> bool:
    try:
        return preset(plan.name) == plan
    except UsageError:
        return False


class ApiClient:
    """Talk to a releasegate API.

    Values that travel in headers are checked before any request: the token is
    stripped of surrounding whitespace and must be printable ASCII, the actor must be
    non-blank text without control characters (it is sent percent-encoded, so any
    Unicode name works). A malformed value raises :class:`UsageError` naming it; no
    message of this client ever contains the token.

    Args:
        base_url: E.g. ``http://127.0.0.1:8700``.
        token: API token; defaults to ``RELEASEGATE_API_TOKEN``.
        actor: Recorded in the audit log next to the token name, for every call that
            does not name its own ``actor``.
        transport: An httpx transport (tests pass an ASGI transport).
        timeout_s: Per-request timeout.

    Raises:
        UsageError: no token, a malformed token or actor, or a URL that is not http(s).
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        actor: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        source = "the API token" if token is not None else TOKEN_ENV
        raw = token if token is not None else _settings.current().api_token
        if raw is None or (token is None and not raw):
            raise UsageError(f"--api needs a token: set {TOKEN_ENV}")
        self._token = clean_token(raw, source=source)
        self._actor = clean_actor(actor, source="the actor") if actor is not None else None
        self.base_url = base_url.rstrip("/")
        shown = _safe_url(self.base_url)
        try:
            scheme = urlsplit(self.base_url).scheme
        except ValueError as exc:
            raise UsageError(f"the API URL {shown!r} is not valid: {exc}") from None
        if scheme not in ("http", "https"):
            raise UsageError(f"the API URL must start with http:// or https://, got {shown!r}")
        try:
            self._http = httpx.Client(
                base_url=self.base_url,
                headers={"Authorization": f"Bearer {self._token}"},
                transport=transport,
                timeout=timeout_s,
            )
        except httpx.InvalidURL as exc:
            raise UsageError(f"the API URL {shown!r} is not valid: {exc}") from None
        self._shown_url = shown

    @property
    def safe_url(self) -> str:
        """The API's base URL with any password masked (for messages)."""
        return self._shown_url

    def close(self) -> None:
        self._http.close()

    def _redact(self, text: str) -> str:
        if len(self._token) >= 8:  # a shorter "token" would mask ordinary words
            text = text.replace(self._token, self._token[:9] + "***")
        return _BEARER_RE.sub(r"\1***", text)

    def _headers(self, actor: str) -> dict[str, str] | None:
        who = clean_actor(actor, source="the actor") if actor else self._actor
        return {ACTOR_HEADER: encode_actor(who)} if who else None

    def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        actor: str = "",
    ) -> Any:
        headers = self._headers(actor)
        try:
            resp = self._http.request(method, path, json=body, params=params, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise UsageError(
                f"cannot reach the releasegate API at {self._shown_url}: {self._redact(str(exc))}"
            ) from None
        except httpx.HTTPError as exc:
            what = self._redact(str(exc)) or type(exc).__name__
            raise UsageError(
                f"request to the releasegate API at {self._shown_url} failed: {what}"
            ) from None
        if resp.is_success:
            try:
                return resp.json()
            except ValueError:
                raise UsageError(
                    f"{self._shown_url} answered {method} {path} with something other than "
                    "JSON: is it a releasegate API?"
                ) from None
        try:
            payload = resp.json()
        except ValueError:
            payload = {}
        message, kind = _detail(payload, resp.text[:200])
        message = f"API {resp.status_code}: {self._redact(message)}"
        if resp.status_code == 404:
            raise NotFound(message)
        if resp.status_code == 409:
            raise (
                IllegalTransition(message)
                if kind == "IllegalTransition"
                else DeploymentError(message)
            )
        if resp.status_code in (400, 401, 403, 422):
            raise UsageError(message)
        raise ReleasegateError(message)

    def _dep(
        self, method: str, path: str, body: dict[str, Any] | None = None, actor: str = ""
    ) -> Deployment:
        return Deployment.from_json(self._call(method, path, body, actor=actor))

    @staticmethod
    def _path(feature: str, version: str, action: str) -> str:
        return f"/v1/features/{_q(feature)}/versions/{_q(version)}/{action}"

    # -- operations: same names, arguments and meaning as DeploymentService ----------
    # ``actor`` is sent with the call (the client's own actor when empty); the API
    # records it next to the token name.

    def register(
        self,
        feature: str,
        version: str,
        *,
        prompt: str,
        model: str,
        params: dict[str, Any] | None = None,
        min_score: float | None = None,
        actor: str = "",
        snapshot: Prompt | None = None,
    ) -> Deployment:
        body = {
            "feature": feature,
            "version": version,
            "prompt": prompt,
            "model": model,
            "params": params or {},
            "min_score": min_score,
        }
        if snapshot is not None:  # an older API that does not know the field refuses it
            body["prompt_snapshot"] = snapshot.model_dump(mode="json")
        return self._dep("POST", "/v1/deployments", body, actor)

    def approve(
        self,
        feature: str,
        version: str,
        *,
        actor: str = "",
        reason: str = "",
        report: EvalReport | None = None,
        override_reason: str | None = None,
    ) -> Deployment:
        return self._verdict("approve", feature, version, actor, reason, report, override_reason)

    def reject(
        self,
        feature: str,
        version: str,
        *,
        actor: str = "",
        reason: str = "",
        report: EvalReport | None = None,
    ) -> Deployment:
        return self._verdict("reject", feature, version, actor, reason, report)

    def _verdict(
        self,
        action: str,
        feature: str,
        version: str,
        actor: str,
        reason: str,
        report: EvalReport | None,
        override_reason: str | None = None,
    ) -> Deployment:
        body: dict[str, Any] = {
            "reason": check_reason(reason, source="the reason"),
            "report": report.model_dump(mode="json") if report else None,
        }
        if override_reason is not None:
            body["override_reason"] = check_reason(override_reason, source="--override-reason")
        return self._dep("POST", self._path(feature, version, action), body, actor)

    def canary(
        self,
        feature: str,
        version: str,
        *,
        actor: str = "",
        share: float | None = None,
        plan: RolloutPlan | str | None = None,
        reason: str = "",
        first_release: bool = False,
        override_reason: str | None = None,
    ) -> Deployment:
        """Start or re-share a canary; ``plan`` is a preset (by name or as returned by
        :func:`~releasegate.deploy.plans.preset`): the API knows presets only. The
        server checks readiness (see :meth:`DeploymentService.canary`)."""
        name = plan if isinstance(plan, str) or plan is None else plan.name
        if isinstance(plan, RolloutPlan) and not _is_preset(plan):
            raise UsageError(f"the API takes preset rollout plans only, not {name!r}")
        body = {
            "share_percent": share * 100.0 if share is not None else None,
            "plan": name,
            "reason": check_reason(reason, source="the reason"),
            "first_release": first_release,
            "override_reason": (
                None
                if override_reason is None
                else check_reason(override_reason, source="the override reason")
            ),
        }
        return self._dep("POST", self._path(feature, version, "canary"), body, actor)

    def promote(
        self, feature: str, version: str, *, actor: str = "", reason: str = ""
    ) -> Deployment:
        return self._simple("promote", feature, version, actor, reason)

    def pause(self, feature: str, version: str, *, actor: str = "", reason: str = "") -> Deployment:
        return self._simple("pause", feature, version, actor, reason)

    def resume(
        self, feature: str, version: str, *, actor: str = "", reason: str = ""
    ) -> Deployment:
        return self._simple("resume", feature, version, actor, reason)

    def _simple(
        self, action: str, feature: str, version: str, actor: str, reason: str
    ) -> Deployment:
        body = {"reason": check_reason(reason, source="the reason")}
        return self._dep("POST", self._path(feature, version, action), body, actor)

    def rollback(
        self, feature: str, *, actor: str = "", reason: str, to: str | None = None
    ) -> Deployment | None:
        body = {"reason": check_reason(reason, source="the reason"), "to": to}
        data = self._call("POST", f"/v1/features/{_q(feature)}/rollback", body, actor=actor)
        return Deployment.from_json(data["serving"]) if data.get("serving") else None

    def get(self, feature: str, version: str) -> Deployment:
        return self._dep("GET", f"/v1/features/{_q(feature)}/versions/{_q(version)}")

    def features(self) -> list[str]:
        return [str(f) for f in self._call("GET", "/v1/features")]

    def status(self, feature: str) -> FeatureState:
        data = self._call("GET", f"/v1/features/{_q(feature)}")
        deps = [Deployment.from_json(d) for d in data["deployments"]]
        by_version = {d.version: d for d in deps}
        return FeatureState(
            feature=data["feature"],
            active=by_version.get(data["active"]) if data.get("active") else None,
            canary=by_version.get(data["canary"]) if data.get("canary") else None,
            deployments=deps,
        )

    def history(self, feature: str) -> list[AuditEntry]:
        return [
            AuditEntry.from_json(e)
            for e in self._call("GET", f"/v1/features/{_q(feature)}/history")
        ]

    def route(self, feature: str, unit_key: str) -> Route:
        """The route for ``unit_key`` (any string; lone surrogates are sent as U+FFFD,
        which is how they are hashed, see ``docs/bucketing.md``)."""
        path = f"/v1/features/{_q(feature)}/route"
        return _route(self._call("GET", path, params={"unit_key": scalar_text(unit_key)}))

    # -- tokens: same arguments as TokenService (create, list, revoke) ---------------

    def create_token(
        self, name: str, scope: Scope | str, *, actor: str = ""
    ) -> tuple[ApiToken, str]:
        label = scope.label if isinstance(scope, Scope) else Scope.parse(scope).label
        data = self._call("POST", "/v1/tokens", {"name": name, "scope": label}, actor=actor)
        return _token(data), str(data["token"])

    def list_tokens(self) -> list[ApiToken]:
        return [_token(t) for t in self._call("GET", "/v1/tokens")]

    def revoke_token(self, name: str, *, actor: str = "") -> ApiToken:
        return _token(self._call("DELETE", f"/v1/tokens/{_q(name)}", actor=actor))

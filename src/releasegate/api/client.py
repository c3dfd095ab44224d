"""A synchronous client of the control-plane API, used by ``releasegate ... --api URL``.

It offers the same operations as :class:`~releasegate.deploy.service.DeploymentService`
and returns the same records, so the CLI is indifferent to where the work happens.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from releasegate.api.auth import ACTOR_HEADER
from releasegate.deploy.model import ApiToken, AuditEntry, Deployment
from releasegate.deploy.router import Route
from releasegate.deploy.service import FeatureState
from releasegate.errors import (
    DeploymentError,
    IllegalTransition,
    NotFound,
    ReleasegateError,
    UsageError,
)
from releasegate.evals.report import EvalReport

__all__ = ["TOKEN_ENV", "ApiClient"]

TOKEN_ENV = "RELEASEGATE_API_TOKEN"


def _q(part: str) -> str:
    return quote(part, safe="")


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


class ApiClient:
    """Talk to a releasegate API.

    Args:
        base_url: E.g. ``http://127.0.0.1:8700``.
        token: API token; defaults to ``RELEASEGATE_API_TOKEN``.
        actor: Recorded in the audit log next to the token name.
        transport: An httpx transport (tests pass an ASGI transport).
        timeout_s: Per-request timeout.
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
        token = token or os.environ.get(TOKEN_ENV)
        if not token:
            raise UsageError(f"--api needs a token: set {TOKEN_ENV}")
        headers = {"Authorization": f"Bearer {token}"}
        if actor:
            headers[ACTOR_HEADER] = actor
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, transport=transport, timeout=timeout_s
        )

    def close(self) -> None:
        self._http.close()

    def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> Any:
        try:
            resp = self._http.request(method, path, json=body, params=params)
        except httpx.HTTPError as exc:
            raise UsageError(f"cannot reach the releasegate API at {self.base_url}: {exc}") from exc
        if resp.is_success:
            return resp.json()
        try:
            payload = resp.json()
        except ValueError:
            payload = {}
        err = payload.get("error") if isinstance(payload, dict) else None
        if isinstance(err, dict):
            message, kind = str(err.get("message")), str(err.get("type"))
        else:
            message, kind = str(payload.get("detail", resp.text)), ""
        message = f"API {resp.status_code}: {message}"
        if resp.status_code == 404:
            raise NotFound(message)
        if resp.status_code == 409:
            raise (
                IllegalTransition(message)
                if kind == "IllegalTransition"
                else DeploymentError(message)
            )
        if resp.status_code in (401, 403, 422):
            raise UsageError(message)
        raise ReleasegateError(message)

    def _dep(self, method: str, path: str, body: dict[str, Any] | None = None) -> Deployment:
        return Deployment.from_json(self._call(method, path, body))

    @staticmethod
    def _path(feature: str, version: str, action: str) -> str:
        return f"/v1/features/{_q(feature)}/versions/{_q(version)}/{action}"

    # -- operations (same names and meaning as DeploymentService) -------------------

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
    ) -> Deployment:
        body = {
            "feature": feature,
            "version": version,
            "prompt": prompt,
            "model": model,
            "params": params or {},
            "min_score": min_score,
        }
        return self._dep("POST", "/v1/deployments", body)

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
        return self._verdict("approve", feature, version, reason, report, override_reason)

    def reject(
        self,
        feature: str,
        version: str,
        *,
        actor: str = "",
        reason: str = "",
        report: EvalReport | None = None,
    ) -> Deployment:
        return self._verdict("reject", feature, version, reason, report)

    def _verdict(
        self,
        action: str,
        feature: str,
        version: str,
        reason: str,
        report: EvalReport | None,
        override_reason: str | None = None,
    ) -> Deployment:
        body: dict[str, Any] = {
            "reason": reason,
            "report": report.model_dump(mode="json") if report else None,
        }
        if override_reason is not None:
            body["override_reason"] = override_reason
        return self._dep("POST", self._path(feature, version, action), body)

    def canary(
        self,
        feature: str,
        version: str,
        *,
        actor: str = "",
        share: float | None = None,
        plan: str | None = None,
        reason: str = "",
    ) -> Deployment:
        body = {
            "share_percent": share * 100.0 if share is not None else None,
            "plan": plan,
            "reason": reason,
        }
        return self._dep("POST", self._path(feature, version, "canary"), body)

    def promote(
        self, feature: str, version: str, *, actor: str = "", reason: str = ""
    ) -> Deployment:
        return self._dep("POST", self._path(feature, version, "promote"), {"reason": reason})

    def pause(self, feature: str, version: str, *, actor: str = "", reason: str = "") -> Deployment:
        return self._dep("POST", self._path(feature, version, "pause"), {"reason": reason})

    def resume(
        self, feature: str, version: str, *, actor: str = "", reason: str = ""
    ) -> Deployment:
        return self._dep("POST", self._path(feature, version, "resume"), {"reason": reason})

    def rollback(
        self, feature: str, *, actor: str = "", reason: str, to: str | None = None
    ) -> Deployment | None:
        data = self._call(
            "POST", f"/v1/features/{_q(feature)}/rollback", {"reason": reason, "to": to}
        )
        return Deployment.from_json(data["serving"]) if data.get("serving") else None

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
        path = f"/v1/features/{_q(feature)}/route"
        return _route(self._call("GET", path, params={"unit_key": unit_key}))

    def create_token(self, name: str, scope: str) -> tuple[ApiToken, str]:
        data = self._call("POST", "/v1/tokens", {"name": name, "scope": scope})
        return _token(data), str(data["token"])

    def list_tokens(self) -> list[ApiToken]:
        return [_token(t) for t in self._call("GET", "/v1/tokens")]

    def revoke_token(self, name: str) -> ApiToken:
        return _token(self._call("DELETE", f"/v1/tokens/{_q(name)}"))

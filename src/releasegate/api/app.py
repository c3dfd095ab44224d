"""The control-plane REST API (FastAPI); OpenAPI at ``/openapi.json``, docs at ``/docs``.

Every operation of ``releasegate deploy`` is here, behind bearer tokens with scopes
(see :mod:`releasegate.api.auth`): each route declares its scope with one dependency, and
the OpenAPI document states it (``x-required-scope``). Handlers are thin: they parse,
call the services and map releasegate errors to HTTP statuses (404 unknown, 409 refused,
422 bad input).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from releasegate._version import __version__
from releasegate.api.auth import PUBLIC, Caller, declare_scopes, require
from releasegate.api.online import add_recording_routes
from releasegate.api.schemas import (
    ApproveBody,
    CanaryBody,
    ReasonBody,
    RegisterBody,
    RollbackBody,
    TokenBody,
)
from releasegate.bootstrap import ControlPlaneParts
from releasegate.control.deployments import DeploymentService
from releasegate.control.readiness import OnlineChecks
from releasegate.control.router import Router
from releasegate.control.tokens import TokenService
from releasegate.deploy.names import check_unreserved
from releasegate.deploy.plans import preset
from releasegate.deploy.tokens import Scope
from releasegate.errors import DeploymentError, NotFound, ReleasegateError, UsageError
from releasegate.ports import Clock, SaltSource, UnitOfWork
from releasegate.prompts import Prompt
from releasegate.results.report import EvalReport

__all__ = ["create_app"]

Json = dict[str, Any]
Reader = Annotated[Caller, Depends(require(Scope.READ))]
Operator = Annotated[Caller, Depends(require(Scope.OPERATE))]
Admin = Annotated[Caller, Depends(require(Scope.ADMIN))]
Anyone = Annotated[None, Depends(PUBLIC)]


def _status_of(exc: ReleasegateError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, DeploymentError):
        return 409
    return 422


def create_api(parts: ControlPlaneParts, *, fallback_model: str | None = None) -> FastAPI:
    """The control-plane REST API on ``parts`` (from :mod:`releasegate.bootstrap`; its
    services share the parts' clock and salt source)."""
    return create_app(
        parts.uow_factory,
        fallback_model=fallback_model,
        clock=parts.clock,
        salts=parts.salts,
        online_checks=parts.online_checks,
    )


def create_app(
    uow_factory: Callable[[], UnitOfWork],
    *,
    fallback_model: str | None = None,
    clock: Clock | None = None,
    salts: SaltSource | None = None,
    online_checks: OnlineChecks | None = None,
) -> FastAPI:
    """Build the API on a unit-of-work factory (one unit of work per request).

    :func:`create_api` builds it on the composition root's control-plane parts.

    Args:
        uow_factory: E.g. ``database.uow``.
        fallback_model: Reported by the ``route`` endpoint for features with no active
            version.
        clock: Timestamps of every change (default: the system's UTC time).
        salts: Rollout salts of new canaries (default: secure random salts).
        online_checks: The project's online-checks lookup; set, starting a canary checks
            readiness (:mod:`releasegate.control.readiness`).
    """
    app = FastAPI(
        title="releasegate control plane",
        version=__version__,
        description="Deployments, canaries, promotion and rollback of LLM app versions.",
    )
    app.state.uow_factory = uow_factory

    @app.exception_handler(ReleasegateError)
    async def _releasegate_error(_request: Request, exc: ReleasegateError) -> JSONResponse:
        body = {"error": {"type": type(exc).__name__, "message": str(exc)}}
        return JSONResponse(body, status_code=_status_of(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's "detail" list, plus the one-line "error" every other refusal carries,
        # naming each field and rule (never echoing the values: one may be a secret).
        errors = exc.errors()
        message = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'request'}: {e.get('msg')}"
            for e in errors
        )
        body = {
            "detail": jsonable_encoder(
                [{k: v for k, v in e.items() if k != "input"} for e in errors]
            ),
            "error": {"type": "RequestValidationError", "message": message},
        }
        return JSONResponse(body, status_code=422)

    def service() -> DeploymentService:
        return DeploymentService(
            uow_factory(), clock=clock, salts=salts, online_checks=online_checks
        )

    def tokens() -> TokenService:
        return TokenService(uow_factory(), clock=clock)

    @app.get("/v1/health", tags=["meta"])
    def health(_: Anyone) -> Json:
        return {"status": "ok", "version": __version__}

    @app.get("/v1/features", tags=["read"])
    def features(_: Reader) -> list[str]:
        return service().features()

    @app.get("/v1/features/{feature}", tags=["read"])
    def feature_status(feature: str, _: Reader) -> Json:
        return service().status(feature).to_json()

    @app.get("/v1/features/{feature}/history", tags=["read"])
    def history(feature: str, _: Reader) -> list[Json]:
        return [e.to_json() for e in service().history(feature)]

    @app.get("/v1/features/{feature}/route", tags=["read"])
    def route(feature: str, _: Reader, unit_key: Annotated[str, Query()]) -> Json:
        # Any key, the empty one included, as Router.route; bytes that are not UTF-8
        # arrive as U+FFFD (docs/bucketing.md).
        # ttl 0: the API answers from the current state, never from a stale cache.
        check_unreserved(feature)
        router = Router(uow_factory, fallback_model=fallback_model, ttl_s=0.0)
        return router.route(feature, unit_key).to_json()

    @app.post("/v1/deployments", status_code=201, tags=["operate"])
    def register(body: RegisterBody, caller: Operator) -> Json:
        dep = service().register(
            body.feature,
            body.version,
            prompt=body.prompt,
            model=body.model,
            params=body.params,
            min_score=body.min_score,
            actor=caller.actor,
            snapshot=_prompt(body.prompt_snapshot),
        )
        return dep.to_json()

    base = "/v1/features/{feature}/versions/{version}"

    @app.get(base, tags=["read"])
    def get_deployment(feature: str, version: str, _: Reader) -> Json:
        return service().get(feature, version).to_json()

    @app.post(base + "/approve", tags=["operate"])
    def approve(feature: str, version: str, body: ApproveBody, caller: Operator) -> Json:
        report = _report(body.report)
        dep = service().approve(
            feature,
            version,
            actor=caller.actor,
            reason=body.reason,
            report=report,
            override_reason=body.override_reason,
        )
        return dep.to_json()

    @app.post(base + "/reject", tags=["operate"])
    def reject(feature: str, version: str, body: ApproveBody, caller: Operator) -> Json:
        report = _report(body.report)
        dep = service().reject(
            feature, version, actor=caller.actor, reason=body.reason, report=report
        )
        return dep.to_json()

    @app.post(base + "/canary", tags=["operate"])
    def canary(feature: str, version: str, body: CanaryBody, caller: Operator) -> Json:
        share = body.share_percent / 100.0 if body.share_percent is not None else None
        plan = preset(body.plan) if body.plan else None
        dep = service().canary(
            feature,
            version,
            actor=caller.actor,
            share=share,
            plan=plan,
            reason=body.reason,
            first_release=body.first_release,
            override_reason=body.override_reason,
        )
        return dep.to_json()

    @app.post(base + "/promote", tags=["operate"])
    def promote(feature: str, version: str, body: ReasonBody, caller: Operator) -> Json:
        return service().promote(feature, version, actor=caller.actor, reason=body.reason).to_json()

    @app.post(base + "/pause", tags=["operate"])
    def pause(feature: str, version: str, body: ReasonBody, caller: Operator) -> Json:
        return service().pause(feature, version, actor=caller.actor, reason=body.reason).to_json()

    @app.post(base + "/resume", tags=["operate"])
    def resume(feature: str, version: str, body: ReasonBody, caller: Operator) -> Json:
        return service().resume(feature, version, actor=caller.actor, reason=body.reason).to_json()

    @app.post("/v1/features/{feature}/rollback", tags=["operate"])
    def rollback(feature: str, body: RollbackBody, caller: Operator) -> Json:
        serving = service().rollback(feature, actor=caller.actor, reason=body.reason, to=body.to)
        return {"serving": serving.to_json() if serving else None}

    @app.get("/v1/tokens", tags=["admin"])
    def list_tokens(_: Admin) -> list[Json]:
        return [t.to_json() for t in tokens().list()]

    @app.get("/v1/tokens/history", tags=["admin"])
    def token_history(_: Admin) -> list[Json]:
        """The token audit trail: every creation and revocation, oldest first."""
        return [e.to_json() for e in tokens().history()]

    @app.post("/v1/tokens", status_code=201, tags=["admin"])
    def create_token(body: TokenBody, caller: Admin) -> Json:
        created = tokens().create(body.name, Scope.parse(body.scope), actor=caller.actor)
        return {**created.token.to_json(), "token": created.secret}

    @app.delete("/v1/tokens/{name}", tags=["admin"])
    def revoke_token(name: str, caller: Admin) -> Json:
        return tokens().revoke(name, actor=caller.actor).to_json()

    add_recording_routes(app)  # recording, ingest scope: api/online.py
    declare_scopes(app)
    return app


def _prompt(data: dict[str, Any] | None) -> Prompt | None:
    # A prompt snapshot sent by ``deploy register``: the prompt model's own checks.
    if data is None:
        return None
    try:
        return Prompt.model_validate(data)
    except ValidationError as exc:
        raise UsageError(f"prompt_snapshot is not a valid prompt: {exc}") from exc


def _report(data: dict[str, Any] | None) -> EvalReport | None:
    # Same checks as a report file: schema version, then the model.
    return None if data is None else EvalReport.from_json(json.dumps(data), source="report")

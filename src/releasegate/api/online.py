"""Recording routes of the control-plane API: ``POST /v1/interactions`` and ``POST
/v1/feedback``, for tokens of the ``ingest`` scope (or ``admin``).

The body is read with a byte limit before it is parsed; a batch over a documented limit
gets 413, an invalid field 422, each naming the field and the reason and writing
nothing. The redactor is taken from ``app.state.redactor`` when the application sets
one (from the project's ``online:`` config), else the defaults; online scoring from
``app.state.score_sampler`` and ``app.state.score_enqueue`` when set (see
:class:`~releasegate.online.recording.RecordingService`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from releasegate.api.auth import Caller, require
from releasegate.deploy.tokens import Scope
from releasegate.online.feedback import FeedbackService
from releasegate.online.limits import MAX_BATCH_RECORDS, MAX_BODY_BYTES
from releasegate.online.recording import RecordingService
from releasegate.online.records import FeedbackIn, Problem, RecordError, RecordIn, TooLarge
from releasegate.online.redaction import Redactor
from releasegate.ports import UnitOfWork

__all__ = ["add_recording_routes"]

Ingester = Annotated[Caller, Depends(require(Scope.INGEST))]


def _body_schema(model: type[RecordIn] | type[FeedbackIn], key: str) -> dict[str, Any]:
    item = model.model_json_schema(ref_template="#/components/schemas/{model}")
    item.pop("$defs", None)
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": [key],
                        "properties": {
                            key: {"type": "array", "maxItems": MAX_BATCH_RECORDS, "items": item}
                        },
                        "additionalProperties": False,
                    }
                }
            },
        }
    }


def _refusal(exc: RecordError) -> JSONResponse:
    body = {
        "error": {"type": type(exc).__name__, "message": str(exc)},
        "detail": [{"field": p.where, "reason": p.message} for p in exc.problems],
    }
    return JSONResponse(body, status_code=exc.status_code)


async def _read_json(request: Request) -> Any:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise TooLarge([Problem("body", f"{declared} bytes; the limit is {MAX_BODY_BYTES}")])
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise TooLarge([Problem("body", f"over {MAX_BODY_BYTES} bytes (the limit)")])
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordError([Problem("body", f"not valid JSON ({exc})")]) from None


def _context(request: Request) -> tuple[Callable[[], UnitOfWork], Redactor]:
    redactor = getattr(request.app.state, "redactor", None)
    return request.app.state.uow_factory, redactor if isinstance(redactor, Redactor) else Redactor()


def add_recording_routes(app: FastAPI) -> None:
    """Declare the recording routes on ``app`` (directly, so that
    :func:`~releasegate.api.auth.declare_scopes` sees them like every other route)."""

    @app.post(
        "/v1/interactions",
        openapi_extra=_body_schema(RecordIn, "records"),
        tags=["ingest"],
        responses={
            413: {"description": "over a documented limit"},
            422: {"description": "invalid"},
        },
    )
    async def record_interactions(request: Request, _: Ingester) -> Any:
        """Record a batch of interactions (idempotent by request id; see online.md).

        Returns ``{created, duplicates, conflicts: [{index, request_id, reason}],
        feedback_joined}``.
        """
        try:
            body = await _read_json(request)
            uow_factory, redactor = _context(request)
            service = RecordingService(
                uow_factory(),
                redactor=redactor,
                sampler=getattr(request.app.state, "score_sampler", None),
                enqueue=getattr(request.app.state, "score_enqueue", None),
            )
            result = await run_in_threadpool(service.record_json, body)
        except RecordError as exc:
            return _refusal(exc)
        return result.to_json()

    @app.post(
        "/v1/feedback",
        openapi_extra=_body_schema(FeedbackIn, "feedback"),
        tags=["ingest"],
        responses={
            413: {"description": "over a documented limit"},
            422: {"description": "invalid"},
        },
    )
    async def give_feedback(request: Request, _: Ingester) -> Any:
        """Record feedback (one object, or ``{"feedback": [...]}``) by request or session id.

        Returns ``{"feedback": [{index, status, served_version}]}``; status is ``joined``,
        ``pending`` (its interaction has not arrived yet) or ``duplicate``.
        """
        try:
            body = await _read_json(request)
            uow_factory, redactor = _context(request)
            service = FeedbackService(uow_factory(), redactor=redactor)
            outcomes = await run_in_threadpool(service.give_json, body)
        except RecordError as exc:
            return _refusal(exc)
        return {"feedback": [o.to_json() for o in outcomes]}

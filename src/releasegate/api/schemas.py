"""Request bodies of the control-plane API (responses use the records' ``to_json``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ApproveBody",
    "CanaryBody",
    "ReasonBody",
    "RegisterBody",
    "RollbackBody",
    "TokenBody",
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterBody(_Body):
    feature: str = Field(min_length=1, max_length=200)
    version: str = Field(min_length=1, max_length=100)
    prompt: str = Field(description="NAME@VERSION of the prompt")
    model: str = Field(min_length=1, max_length=200, description="Pinned model name")
    params: dict[str, Any] = Field(default_factory=dict)
    min_score: float | None = Field(default=None, ge=0, le=1)


class ReasonBody(_Body):
    reason: str = ""


class ApproveBody(_Body):
    reason: str = ""
    report: dict[str, Any] | None = Field(
        default=None, description="An eval report (the JSON written by `releasegate eval`)"
    )


class CanaryBody(_Body):
    share_percent: float | None = Field(default=None, gt=0, le=100)
    plan: str | None = Field(default=None, description="Rollout plan preset name")
    reason: str = ""


class RollbackBody(_Body):
    reason: str = Field(min_length=1)
    to: str | None = None


class TokenBody(_Body):
    name: str = Field(min_length=1, max_length=100)
    scope: str = Field(pattern="^(read|operate|admin)$")

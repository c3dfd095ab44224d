"""Request bodies of the control-plane API (responses use the records' ``to_json``).

Length limits and name grammars come from :mod:`releasegate.deploy.names`, the same
constants the store's columns and the services use; the services check again, so a value
is refused the same way on every path.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from releasegate.deploy.names import (
    MAX_FEATURE,
    MAX_MODEL,
    MAX_PROMPT_REF,
    MAX_TOKEN_NAME,
    MAX_VERSION,
    NAME_PATTERN,
)

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
    feature: str = Field(
        min_length=1,
        max_length=MAX_FEATURE,
        pattern=NAME_PATTERN,
        description="Feature name; names starting with '_' are reserved",
    )
    version: str = Field(min_length=1, max_length=MAX_VERSION, pattern=NAME_PATTERN)
    prompt: str = Field(max_length=MAX_PROMPT_REF, description="NAME@VERSION of the prompt")
    model: str = Field(min_length=1, max_length=MAX_MODEL, description="Pinned model name")
    params: dict[str, Any] = Field(default_factory=dict)
    min_score: float | None = Field(default=None, ge=0, le=1)
    prompt_snapshot: dict[str, Any] | None = Field(
        default=None,
        description="The prompt NAME@VERSION as the project holds it (the prompt's JSON "
        "dump); kept with the deployment and served by the gateway",
    )


class ReasonBody(_Body):
    reason: str = ""


class ApproveBody(_Body):
    reason: str = ""
    report: dict[str, Any] | None = Field(
        default=None, description="An eval report (the JSON written by `releasegate eval`)"
    )
    override_reason: str | None = Field(
        default=None,
        description="Why a report whose gate failed, or of another prompt version or model, "
        "is accepted (approve only; kept in the audit log)",
    )


class CanaryBody(_Body):
    share_percent: float | None = Field(default=None, gt=0, le=100)
    plan: str | None = Field(default=None, description="Rollout plan preset name")
    reason: str = ""
    first_release: bool = Field(
        default=False, description="The feature's first release: nothing to roll back to"
    )
    override_reason: str | None = Field(
        default=None, description="Start the canary although it is not ready (audited)"
    )


class RollbackBody(_Body):
    reason: str = Field(min_length=1)
    to: str | None = None


class TokenBody(_Body):
    name: str = Field(min_length=1, max_length=MAX_TOKEN_NAME, pattern=NAME_PATTERN)
    scope: str = Field(pattern="^(ingest|read|operate|admin)$")

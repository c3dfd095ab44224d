"""The spec of one check as written in a dataset or config: type, value, weight, threshold.

A dataset case carries a tuple of these; the scorer registry builds a check from each."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["AssertSpec", "refuse_bool"]


def refuse_bool(v: Any) -> Any:
    # YAML's ``true`` would otherwise be read as weight 1.0 and ``false`` as 0 (which
    # silently makes a case informational).
    if isinstance(v, bool):
        raise ValueError(f"must be a number, got {str(v).lower()}")
    return v


class AssertSpec(BaseModel):
    """One check asserted on a case's output.

    ``type`` names a scorer in the registry (``contains``, ``regex``, ``llm-judge`` ...).
    ``value`` is the scorer's argument (a string, a list, a number, a JSON schema ...).
    Any further keys (``case_sensitive``, ``schema`` ...) are scorer options and are kept
    in :attr:`options`.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str
    value: Any = None
    #: share of the case score; 0 makes the check informational (reported, never gates)
    weight: float = Field(default=1.0, ge=0.0, allow_inf_nan=False)
    threshold: float | None = Field(default=None, ge=0.0, le=1.0, allow_inf_nan=False)

    @field_validator("weight", mode="before")
    @classmethod
    def _weight_not_bool(cls, v: Any) -> Any:
        return refuse_bool(v)

    @field_validator("type")
    @classmethod
    def _strip_type(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("check type must not be empty")
        return v

    @property
    def options(self) -> dict[str, Any]:
        """Scorer options beyond type/value/weight/threshold."""
        return dict(self.model_extra or {})

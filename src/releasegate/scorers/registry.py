"""Check types by name: the built-in table, registered factories and plugins.

Every check type names a factory ``(AssertSpec, ScorerContext) -> Scorer``. Built-in
types are a table of ``"module:attribute"`` paths whose module is imported the first
time the type is used; a plugin registers a factory the same way, with
:func:`register_scorer` or through the ``releasegate.scorers`` entry-point group
(scanned only for a type that is not built in; a built-in name always wins).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from releasegate._optional import MissingExtra
from releasegate._registry import Registry
from releasegate.errors import ConfigError, Issue
from releasegate.scorers.base import Scorer, ScorerContext, ScorerFactory

if TYPE_CHECKING:
    from releasegate.scorers.spec import AssertSpec

__all__ = [
    "ENTRY_POINT_GROUP",
    "SCORERS",
    "available_scorers",
    "build_scorer",
    "register_scorer",
]

ENTRY_POINT_GROUP = "releasegate.scorers"

_D = "releasegate.scorers.deterministic"
_BUILTINS: dict[str, str] = {
    "equals": f"{_D}:build_equals",
    "not-equals": f"{_D}:build_not_equals",
    "contains": f"{_D}:build_contains",
    "icontains": f"{_D}:build_icontains",
    "contains-all": f"{_D}:build_contains_all",
    "icontains-all": f"{_D}:build_icontains_all",
    "contains-any": f"{_D}:build_contains_any",
    "icontains-any": f"{_D}:build_icontains_any",
    "not-contains": f"{_D}:build_not_contains",
    "not-icontains": f"{_D}:build_not_icontains",
    "regex": f"{_D}:build_regex",
    "not-regex": f"{_D}:build_not_regex",
    "starts-with": f"{_D}:build_starts_with",
    "not-starts-with": f"{_D}:build_not_starts_with",
    "max-words": f"{_D}:build_max_words",
    "min-words": f"{_D}:build_min_words",
    "max-chars": f"{_D}:build_max_chars",
    "min-chars": f"{_D}:build_min_chars",
    "latency": f"{_D}:build_latency",
    "cost": f"{_D}:build_cost",
    "is-json": "releasegate.scorers.json_checks:build_is_json",
    "not-is-json": "releasegate.scorers.json_checks:build_not_is_json",
    "json-schema": "releasegate.scorers.json_checks:build_json_schema",
    "tool-call": "releasegate.scorers.tool_checks:build_tool_call",
    "no-tool-call": "releasegate.scorers.tool_checks:build_no_tool_call",
    "valid-tool-call": "releasegate.scorers.tool_checks:build_valid_tool_call",
    "is-refusal": "releasegate.scorers.refusal:build_is_refusal",
    "not-refusal": "releasegate.scorers.refusal:build_not_refusal",
    "repetition": "releasegate.scorers.repetition:build_repetition",
    "no-repetition": "releasegate.scorers.repetition:build_repetition",
    "loop": "releasegate.scorers.repetition:build_repetition",
    "llm-judge": "releasegate.scorers.judge:build_llm_judge",
    "llm-rubric": "releasegate.scorers.judge:build_llm_judge",
    "similar": "releasegate.scorers.similarity:build_similar",
    "similarity": "releasegate.scorers.similarity:build_similar",
    "faithfulness": "releasegate.scorers.rag:build_faithfulness",
    "context-precision": "releasegate.scorers.rag:build_context_precision",
    "context-recall": "releasegate.scorers.rag:build_context_recall",
    "answer-relevancy": "releasegate.scorers.rag:build_answer_relevancy",
}


def _as_factory(obj: Any) -> ScorerFactory:
    if not callable(obj):
        raise TypeError(f"{obj!r} is not a check factory (spec, ctx) -> Scorer")
    return obj  # type: ignore[no-any-return]


SCORERS: Registry[ScorerFactory] = Registry(
    "check", ENTRY_POINT_GROUP, _BUILTINS, adapt=_as_factory
)
"""Check type -> factory. Prefer :func:`register_scorer` and :func:`build_scorer`."""


def register_scorer(*names: str) -> Callable[[ScorerFactory], ScorerFactory]:
    """Decorator: register a check factory under one or more type names.

    A registered name replaces a built-in one of the same name (tests use this to swap
    a fake in); plugins usually register through the ``releasegate.scorers``
    entry-point group instead.
    """

    def deco(factory: ScorerFactory) -> ScorerFactory:
        for name in names:
            SCORERS.register(name, factory)
        return factory

    return deco


def available_scorers() -> list[str]:
    """Names of every check type, built-in, registered and plugin, sorted."""
    return SCORERS.names()


def build_scorer(
    spec: AssertSpec, ctx: ScorerContext | None = None, *, where: str = "<dataset>"
) -> Scorer:
    """Build the check for one assert spec.

    Args:
        spec: the assert as written.
        ctx: the judge and embedder model-graded checks use.
        where: the file (and line) the spec was read from, for the error.

    Raises:
        ConfigError: unknown type (listing the known ones), bad arguments, or a check
            whose optional extra is not installed (with the install command).
    """

    def error(message: str) -> ConfigError:
        return ConfigError(Issue(file=where, message=message))

    try:
        factory = SCORERS.get(spec.type)
    except MissingExtra as exc:
        raise error(f"check {spec.type!r}: {exc}") from exc
    if factory is None:
        raise error(f"unknown check type {spec.type!r}; known: " + ", ".join(SCORERS.names()))
    try:
        return factory(spec, ctx or ScorerContext())
    except MissingExtra as exc:
        raise error(f"check {spec.type!r}: {exc}") from exc
    except (ValueError, TypeError) as exc:
        raise error(f"check {spec.type!r}: {exc}") from exc

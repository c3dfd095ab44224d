"""Names and length limits of the control plane, declared once.

Every string the control plane stores from user input has its limit here; the store's
column lengths (:mod:`releasegate.store.schema`), the API's request models
(:mod:`releasegate.api.schemas`) and the checks below all use these constants, so a
value is refused with the same clear :class:`~releasegate.errors.UsageError` on SQLite
and PostgreSQL, locally and through the API, before anything reaches the database.

Names (features, deployment versions, API tokens, prompt names) follow one grammar,
:data:`NAME_PATTERN`: letters, digits, ``.``, ``_`` and ``-``, starting with a letter
or digit. Such a name is one URL path segment as is, so every name the CLI accepts is
reachable through the API. Names starting with ``_`` are reserved for the store's own
records (the token audit trail is kept under :data:`TOKENS_AUDIT_FEATURE`, requests the
gateway refused before it knew their feature under :data:`GATEWAY_FEATURE`); they are
refused as feature names on every path, reads included.
"""

from __future__ import annotations

import json
import re
from typing import Any

from releasegate.errors import UsageError

__all__ = [
    "GATEWAY_FEATURE",
    "MAX_ACTION",
    "MAX_ACTOR",
    "MAX_FEATURE",
    "MAX_MODEL",
    "MAX_PROMPT_NAME",
    "MAX_PROMPT_REF",
    "MAX_PROMPT_VERSION",
    "MAX_STATUS",
    "MAX_TOKEN_NAME",
    "MAX_VERSION",
    "NAME_PATTERN",
    "PROMPT_VERSION_PATTERN",
    "RESERVED_PREFIX",
    "TOKENS_AUDIT_FEATURE",
    "check_actor",
    "check_feature",
    "check_lookup",
    "check_name",
    "check_params",
    "check_prompt_ref",
    "check_text",
    "check_unreserved",
    "is_reserved",
]

MAX_FEATURE = 200
"""Characters in a feature name."""
MAX_VERSION = 100
"""Characters in a deployment version."""
MAX_PROMPT_NAME = 200
"""Characters in the name part of a prompt reference ``NAME@VERSION``."""
MAX_PROMPT_VERSION = 100
"""Characters in the version part of a prompt reference."""
MAX_PROMPT_REF = MAX_PROMPT_NAME + 1 + MAX_PROMPT_VERSION
"""Characters in a whole prompt reference."""
MAX_MODEL = 200
"""Characters in a pinned model name."""
MAX_ACTOR = 200
"""Characters in an actor as recorded (through the API: ``WHO (token NAME)``)."""
MAX_TOKEN_NAME = 100
"""Characters in an API token's name."""
MAX_STATUS = 20
"""Characters in a status value (internal, never user input)."""
MAX_ACTION = 40
"""Characters in an audit action (internal, never user input)."""

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
"""Grammar of features, versions, token names and prompt names (plus a length limit)."""
PROMPT_VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9.+_-]*$"
"""Grammar of a prompt's version (semantic versions, including ``+build`` metadata)."""
RESERVED_PREFIX = "_"
"""Feature names starting with this are reserved for the store's own records."""
TOKENS_AUDIT_FEATURE = "_tokens"
"""The reserved pseudo-feature under which token changes are audited."""
GATEWAY_FEATURE = "_gateway"
"""The reserved pseudo-feature of the interactions the gateway records for requests it
refused before it knew their feature (a body that is not JSON, too large, or without a
list of messages)."""

_NAME = re.compile(NAME_PATTERN.rstrip("$"))
_PROMPT_VERSION = re.compile(PROMPT_VERSION_PATTERN.rstrip("$"))
_NAME_RULE = "letters, digits, '.', '_' or '-', starting with a letter or digit"
# C0 and C1 controls (tab, newline, NUL, ...) and DEL: never part of a name or a label.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _check_length(label: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise UsageError(f"{label} is {len(value)} characters long; the limit is {limit}")


def _check_encodable(label: str, value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(
            f"{label} {value!r} is not valid text (it holds undecodable bytes)"
        ) from None


def is_reserved(feature: str) -> bool:
    """Whether ``feature`` is reserved for the store's own records (starts with ``_``)."""
    return feature.startswith(RESERVED_PREFIX)


def check_lookup(label: str, value: str) -> str:
    """Refuse a name no stored record can have before it is looked up.

    PostgreSQL cannot take NUL in a query and no database driver can encode undecodable
    bytes, so such a lookup would crash instead of finding nothing.

    Returns:
        ``value`` unchanged.

    Raises:
        UsageError: when ``value`` holds NUL or undecodable bytes.
    """
    _check_encodable(label, value)
    if "\x00" in value:
        raise UsageError(f"{label} {value!r} is not valid text (it holds a NUL character)")
    return value


def check_unreserved(feature: str) -> str:
    """Refuse a reserved feature name; used by every read and write of a feature.

    Returns:
        ``feature`` unchanged.

    Raises:
        UsageError: when ``feature`` starts with ``_`` or cannot be looked up
            (:func:`check_lookup`).
    """
    check_lookup("feature", feature)
    if is_reserved(feature):
        raise UsageError(
            f"feature names starting with {RESERVED_PREFIX!r} are reserved for releasegate's "
            f"own records; {feature!r} cannot be used"
        )
    return feature


def check_name(label: str, value: str, limit: int) -> str:
    """Check a name against :data:`NAME_PATTERN` and ``limit``.

    Args:
        label: What the value is, for the message (``"feature"``, ``"version"``).
        value: The name.
        limit: Most characters allowed.

    Returns:
        ``value`` unchanged.

    Raises:
        UsageError: naming the value and the rule it breaks.
    """
    if not value:
        raise UsageError(f"{label} must not be empty")
    _check_length(label, value, limit)
    if _NAME.fullmatch(value) is None:
        raise UsageError(f"{label} {value!r} is not a valid name: use {_NAME_RULE}")
    return value


def check_feature(feature: str) -> str:
    """A feature name for registration: the name grammar, its limit, and not reserved."""
    check_unreserved(feature)
    return check_name("feature", feature, MAX_FEATURE)


def check_prompt_ref(ref: str) -> tuple[str, str]:
    """Split and check a prompt reference ``NAME@VERSION``.

    Returns:
        ``(name, version)``.

    Raises:
        UsageError: when the reference is malformed or a part breaks its grammar or limit.
    """
    name, sep, version = ref.rpartition("@")
    if not sep or not name or not version:
        raise UsageError(f"prompt must be NAME@VERSION, got {ref!r}")
    check_name("prompt name", name, MAX_PROMPT_NAME)
    _check_length("prompt version", version, MAX_PROMPT_VERSION)
    if _PROMPT_VERSION.fullmatch(version) is None:
        raise UsageError(
            f"prompt version {version!r} is not valid: use letters, digits, '.', '+', '_' "
            "or '-', starting with a letter or digit"
        )
    return name, version


def check_text(label: str, value: str, limit: int | None = None, *, multiline: bool = False) -> str:
    """Check free text (a model name, an actor, a reason) before it is stored.

    Args:
        label: What the value is, for the message.
        value: The text.
        limit: Most characters allowed, or None for no limit.
        multiline: Allow line breaks and tabs (a reason); other control characters are
            refused everywhere (PostgreSQL cannot store NUL, terminals misprint the rest).

    Returns:
        ``value`` unchanged.

    Raises:
        UsageError: for a value that is too long, holds control characters or
            undecodable bytes.
    """
    if limit is not None:
        _check_length(label, value, limit)
    _check_encodable(label, value)
    probe = value.replace("\n", "").replace("\r", "").replace("\t", "") if multiline else value
    bad = _CONTROL.search(probe)
    if bad is not None:
        raise UsageError(
            f"{label} contains a control character ({bad.group()!r} at position "
            f"{value.index(bad.group())})"
        )
    return value


def check_actor(actor: str) -> str:
    """An actor as recorded: not blank, at most :data:`MAX_ACTOR` characters, one line."""
    if not actor.strip():
        raise UsageError("the actor must not be blank")
    return check_text("actor", actor, MAX_ACTOR)


def check_params(params: dict[str, Any]) -> dict[str, Any]:
    """Generation parameters must be plain JSON that both databases can store.

    Numbers must be finite: PostgreSQL refuses ``NaN`` and ``Infinity`` in JSON.

    Returns:
        ``params`` unchanged.

    Raises:
        UsageError: naming what cannot be stored.
    """
    try:
        json.dumps(params, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"params must be plain JSON (no NaN or Infinity): {exc}") from None
    return params

"""The wire format of recorded interactions and feedback, and its validation.

A batch is validated whole before anything is written; every problem is reported with
where it is (``records[3].latency_ms``) and why, never with the offending value (it may
be personal data). Limits are in :mod:`releasegate.online.limits`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from releasegate.deploy.names import MAX_FEATURE, MAX_MODEL, MAX_VERSION, NAME_PATTERN
from releasegate.errors import UsageError
from releasegate.online import limits as L

__all__ = [
    "FeedbackIn",
    "MessageIn",
    "Problem",
    "RecordError",
    "RecordIn",
    "TooLarge",
    "parse_feedback",
    "parse_records",
]


@dataclass(frozen=True, slots=True)
class Problem:
    """One invalid field: where (``records[3].latency_ms``) and why."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class RecordError(UsageError):
    """A batch was refused whole (HTTP 422); nothing of it was written.

    Attributes:
        problems: Every invalid field found, in order.
    """

    status_code = 422

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        shown = "; ".join(str(p) for p in problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        super().__init__(f"nothing was recorded: {shown}{more}")


class TooLarge(RecordError):
    """The batch or its body is over a documented limit (HTTP 413)."""

    status_code = 413


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _no_nul(value: Any) -> Any:
    # PostgreSQL cannot store NUL in text; refuse it rather than alter the record.
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("contains a NUL character")
    elif isinstance(value, list):
        for v in value:
            _no_nul(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            _no_nul(k)
            _no_nul(v)
    return value


_KEY_PATTERN = r"^[!-~]+$"
Text = Annotated[str, AfterValidator(_no_nul)]
Name = Annotated[str, Field(pattern=NAME_PATTERN)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]


def _meta_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("numbers must be finite")
        return value
    if isinstance(value, str):
        if len(value) > L.MAX_METADATA_VALUE:
            raise ValueError(
                f"is {len(value)} characters long; the limit is {L.MAX_METADATA_VALUE}"
            )
        return _no_nul(value)
    raise ValueError("metadata values must be a string, a number, true/false or null")


def _content(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        size = len(value)
    elif isinstance(value, list):
        size = len(json.dumps(value, ensure_ascii=False))
    else:
        raise ValueError("must be a string, a list of content parts or null")
    if size > L.MAX_TEXT:
        raise ValueError(f"is {size} characters long; the limit is {L.MAX_TEXT}")
    return _no_nul(value)


def _json_within(limit: int) -> AfterValidator:
    def check(value: Any) -> Any:
        size = len(json.dumps(value, ensure_ascii=False))
        if size > limit:
            raise ValueError(f"is {size} characters long as JSON; the limit is {limit}")
        return _no_nul(value)

    return AfterValidator(check)


def _rating(value: Any) -> Any:
    if value in ("up", "down"):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5:
        return value
    raise ValueError("must be 'up', 'down' or a whole number from 1 to 5")


MetaValue = Annotated[Any, AfterValidator(_meta_value)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MessageIn(BaseModel):
    """A prompt message: ``role`` and ``content`` (text or a list of parts); other keys
    (``name``, ``tool_calls`` ...) are kept as sent."""

    model_config = ConfigDict(extra="allow")

    role: Annotated[Text, Field(min_length=1, max_length=L.MAX_ROLE)]
    content: Annotated[Any, AfterValidator(_content)] = None

    @model_validator(mode="after")
    def _bounded(self) -> MessageIn:
        for key, value in (self.model_extra or {}).items():
            _no_nul(key)
            _no_nul(value)
            if len(json.dumps(value, ensure_ascii=False)) > L.MAX_TEXT:
                raise ValueError(f"{key} is longer than {L.MAX_TEXT} characters as JSON")
        return self


_NAME_RE = re.compile(NAME_PATTERN)


class RecordIn(_Strict):
    """One interaction as sent to ``POST /v1/interactions`` (see online.md).

    ``feature`` follows the name grammar; a reserved pseudo-feature is accepted only when
    the validation context lists it under ``"reserved"`` (the gateway's own records)."""

    feature: Annotated[str, Field(min_length=1, max_length=MAX_FEATURE)]
    request_id: Annotated[
        str, Field(min_length=1, max_length=L.MAX_REQUEST_ID, pattern=_KEY_PATTERN)
    ]
    version: Annotated[Name, Field(max_length=MAX_VERSION)] | None = None
    served_version: Annotated[Name, Field(max_length=MAX_VERSION)] | None = None
    model: Annotated[Text, Field(min_length=1, max_length=MAX_MODEL)] | None = None
    arm: Literal["incumbent", "canary", "fallback"] | None = None
    unit_key: Annotated[Text, Field(max_length=L.MAX_UNIT_KEY)] | None = None
    session_id: Annotated[Text, Field(min_length=1, max_length=L.MAX_SESSION_ID)] | None = None
    prompt: Annotated[list[MessageIn], Field(max_length=L.MAX_MESSAGES)] | None = None
    response: Annotated[Text, Field(max_length=L.MAX_TEXT)] | None = None
    # Entries are kept as received (a malformed call is the checks' business), so any
    # JSON value is accepted within the bounds.
    tool_calls: (
        Annotated[list[Any], Field(max_length=L.MAX_TOOL_CALLS), _json_within(L.MAX_TEXT)] | None
    ) = None
    tools: (
        Annotated[
            list[dict[str, Any]], Field(max_length=L.MAX_TOOLS), _json_within(L.MAX_TOOLS_TEXT)
        ]
        | None
    ) = None
    context: (
        Annotated[
            list[Annotated[Text, Field(max_length=L.MAX_CHUNK)]], Field(max_length=L.MAX_CHUNKS)
        ]
        | None
    ) = None
    latency_ms: NonNegative | None = None
    ttft_ms: NonNegative | None = None
    prompt_tokens: Annotated[StrictInt, Field(ge=0)] = 0
    completion_tokens: Annotated[StrictInt, Field(ge=0)] = 0
    cost_usd: NonNegative = 0.0
    error: Annotated[Text, Field(max_length=L.MAX_ERROR)] | None = None
    fallback_depth: Annotated[StrictInt, Field(ge=0, le=L.MAX_FALLBACK_DEPTH)] = 0
    shadow: StrictBool = False
    metadata: Annotated[dict[str, MetaValue], Field(max_length=L.MAX_METADATA_KEYS)] | None = None
    at: AwareDatetime | None = None

    @field_validator("feature")
    @classmethod
    def _feature(cls, v: str, info: ValidationInfo) -> str:
        reserved = (info.context or {}).get("reserved", ())
        if v in reserved or _NAME_RE.match(v):
            return v
        raise ValueError(_PATTERN_RULES[NAME_PATTERN])

    @field_validator("metadata")
    @classmethod
    def _keys(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        for key in v or {}:
            if not key or len(key) > L.MAX_METADATA_KEY:
                raise ValueError(f"keys must be 1 to {L.MAX_METADATA_KEY} characters long")
        return _no_nul(v)  # type: ignore[no-any-return]


class FeedbackIn(_Strict):
    """One rating as sent to ``POST /v1/feedback``: by ``request_id`` or ``session_id``."""

    request_id: (
        Annotated[str, Field(min_length=1, max_length=L.MAX_REQUEST_ID, pattern=_KEY_PATTERN)]
        | None
    ) = None
    session_id: Annotated[Text, Field(min_length=1, max_length=L.MAX_SESSION_ID)] | None = None
    rating: Annotated[Any, AfterValidator(_rating)]
    comment: Annotated[Text, Field(max_length=L.MAX_COMMENT)] | None = None
    key: (
        Annotated[str, Field(min_length=1, max_length=L.MAX_FEEDBACK_KEY, pattern=_KEY_PATTERN)]
        | None
    ) = None
    at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _target(self) -> FeedbackIn:
        if self.request_id is None and self.session_id is None:
            raise ValueError("give request_id or session_id")
        return self


_PATTERN_RULES = {
    NAME_PATTERN: "must be letters, digits, '.', '_' or '-', starting with a letter or digit "
    "(names starting with '_' are reserved)",
    _KEY_PATTERN: "must be visible ASCII characters (no spaces)",
}
_RECORDS = TypeAdapter(list[RecordIn])
_FEEDBACK = TypeAdapter(list[FeedbackIn])


def _items(body: Any, key: str) -> list[Any]:
    if not isinstance(body, dict) or not isinstance(body.get(key), list):
        raise RecordError([Problem(key, f"the body must be a JSON object {{{key!r}: [...]}}")])
    extra = sorted(set(body) - {key})
    if extra:
        raise RecordError([Problem(extra[0], "unknown field")])
    items: list[Any] = body[key]
    if len(items) > L.MAX_BATCH_RECORDS:
        raise TooLarge(
            [Problem(key, f"{len(items)} items; the limit is {L.MAX_BATCH_RECORDS} per request")]
        )
    return items


def _problems(exc: ValidationError, key: str) -> list[Problem]:
    out = []
    for e in exc.errors(include_input=False, include_url=False):
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and "[" in p))
        message = str(e["msg"]).removeprefix("Value error, ")
        if e["type"] == "string_pattern_mismatch":
            pattern = (e.get("ctx") or {}).get("pattern")
            message = _PATTERN_RULES.get(str(pattern), message)
        out.append(Problem(_where((key, *loc)), message))
    return out


def parse_records(body: Any, *, reserved: Collection[str] = ()) -> list[RecordIn]:
    """Validate a decoded ``{"records": [...]}`` body.

    Args:
        body: The decoded body.
        reserved: Reserved pseudo-features (names starting with ``_``) accepted as a
            record's feature; none for records sent by clients.

    Raises:
        TooLarge: more than ``MAX_BATCH_RECORDS`` records.
        RecordError: any invalid field, all of them listed.
    """
    items = _items(body, "records")
    try:
        return _RECORDS.validate_python(items, context={"reserved": reserved})
    except ValidationError as exc:
        raise RecordError(_problems(exc, "records")) from None


def parse_feedback(body: Any) -> list[FeedbackIn]:
    """Validate a decoded ``{"feedback": [...]}`` body, or a single feedback object.

    Raises:
        TooLarge: more than ``MAX_BATCH_RECORDS`` items.
        RecordError: any invalid field, all of them listed.
    """
    if isinstance(body, dict) and "feedback" not in body:
        body = {"feedback": [body]}
    items = _items(body, "feedback")
    try:
        return _FEEDBACK.validate_python(items)
    except ValidationError as exc:
        raise RecordError(_problems(exc, "feedback")) from None

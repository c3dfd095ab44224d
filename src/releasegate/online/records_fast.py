"""The fast path of record validation: plain checks of the common shapes, or no answer.

:func:`~releasegate.online.records.parse_records` validates a batch with the pydantic
models and lists every problem; :func:`dump_records` checks the shapes records usually
have (strings, finite numbers, lists of message objects; every record the gateway
writes) against the same rules and limits, and returns each record directly in the
form the recording service stores: what ``RecordIn.model_dump(mode="json",
exclude_none=True)`` gives, and the record's time. A batch with anything it does not
vouch for -- an invalid field, or a value of a type or shape it does not handle -- gets
None: the caller then runs ``parse_records``, which refuses the batch with every
problem named, or accepts it. So the fast path never accepts what the models refuse,
and never decides an error message; it saves the model validation and the dump.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, TypeAdapter, ValidationError

from releasegate.deploy.names import MAX_FEATURE, MAX_MODEL, MAX_VERSION, NAME_PATTERN
from releasegate.online import limits as L
from releasegate.online.records import RecordIn, _items

__all__ = ["Dumped", "dump_records"]

Dumped = tuple[dict[str, Any], datetime | None]
"""A record's JSON form (as the model dumps it) and its time (None: not given)."""

_FIELDS = frozenset(RecordIn.model_fields)
# Whole-string matches (a Python ``$`` would also accept a final newline).
_NAME = re.compile(NAME_PATTERN.removeprefix("^").removesuffix("$"))
_KEY = re.compile(r"[!-~]+")
_ARMS = frozenset(("incumbent", "canary", "fallback"))
_AT = TypeAdapter(AwareDatetime)
# RFC 3339 times as the gateway and most clients write them; others go to the model.
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)")
_EXACT_INT = 2**53  # integers a float holds exactly


class _Unsure(Exception):
    """Not for the fast path: the models decide."""


def dump_records(body: Any, *, reserved: Collection[str] = ()) -> list[Dumped] | None:
    """Each record of a decoded ``{"records": [...]}`` body in its stored JSON form, or
    None when the models must decide (see the module docstring).

    Raises:
        RecordError: the body is not ``{"records": [...]}`` (as ``parse_records``).
        TooLarge: more records than the documented limit (as ``parse_records``).
    """
    out = []
    try:
        for item in _items(body, "records"):
            out.append(_record(item, reserved))
    except _Unsure:
        return None
    return out


def _text(value: Any, low: int, high: int) -> str:
    if type(value) is not str or not low <= len(value) <= high or "\x00" in value:
        raise _Unsure
    return value


def _number(value: Any) -> float:
    if type(value) is float:
        if not (math.isfinite(value) and value >= 0.0):
            raise _Unsure
        return value
    if type(value) is int and 0 <= value < _EXACT_INT:
        return float(value)
    raise _Unsure


def _count(value: Any, high: int | None = None) -> int:
    if type(value) is not int or value < 0 or (high is not None and value > high):
        raise _Unsure
    return value


def _plain(value: Any) -> None:
    """JSON as the models keep and dump it unchanged: no NUL, finite numbers, string
    keys."""
    kind = type(value)
    if kind is str:
        if "\x00" in value:
            raise _Unsure
    elif kind is float:
        if not math.isfinite(value):
            raise _Unsure
    elif kind is list:
        for v in value:
            _plain(v)
    elif kind is dict:
        for k, v in value.items():
            if type(k) is not str or "\x00" in k:
                raise _Unsure
            _plain(v)
    elif value is not None and kind is not bool and kind is not int:
        raise _Unsure


def _message(message: Any) -> dict[str, Any]:
    if type(message) is not dict:
        raise _Unsure
    out: dict[str, Any] = {"role": _text(message.get("role"), 1, L.MAX_ROLE)}
    content = message.get("content")
    if type(content) is str:
        if len(content) > L.MAX_TEXT or "\x00" in content:
            raise _Unsure
        out["content"] = content
    elif type(content) is list:
        _plain(content)
        if len(json.dumps(content, ensure_ascii=False)) > L.MAX_TEXT:
            raise _Unsure
        out["content"] = content
    elif content is not None:
        raise _Unsure
    for key, value in message.items():
        if key == "role" or key == "content":
            continue
        if type(key) is not str or "\x00" in key:
            raise _Unsure
        if value is None:
            continue  # the dump leaves out extra keys whose value is None
        _plain(value)
        # A string's JSON is at most 6 characters per character (escapes) plus quotes.
        short = type(value) is str and len(value) <= L.MAX_TEXT // 6 - 1
        if not short and len(json.dumps(value, ensure_ascii=False)) > L.MAX_TEXT:
            raise _Unsure
        out[key] = value
    return out


def _metadata(value: Any) -> dict[str, Any]:
    if type(value) is not dict or len(value) > L.MAX_METADATA_KEYS:
        raise _Unsure
    for k, v in value.items():
        _text(k, 1, L.MAX_METADATA_KEY)
        kind = type(v)
        if kind is str:
            if len(v) > L.MAX_METADATA_VALUE or "\x00" in v:
                raise _Unsure
        elif kind is float:
            if not math.isfinite(v):
                raise _Unsure
        elif v is not None and kind is not bool and kind is not int:
            raise _Unsure
    return dict(value)


def _record(item: Any, reserved: Collection[str]) -> Dumped:
    if type(item) is not dict or not _FIELDS.issuperset(item):
        raise _Unsure
    if item.get("tool_calls") is not None or item.get("tools") is not None:
        raise _Unsure  # tool calls and tools offered: the models check and keep them
    get = item.get
    feature = _text(get("feature"), 1, MAX_FEATURE)
    if feature not in reserved and not _NAME.fullmatch(feature):
        raise _Unsure
    request_id = get("request_id")
    if type(request_id) is not str or len(request_id) > L.MAX_REQUEST_ID:
        raise _Unsure
    if not _KEY.fullmatch(request_id):
        raise _Unsure
    data: dict[str, Any] = {"feature": feature, "request_id": request_id}
    for name in ("version", "served_version"):
        value = get(name)
        if value is not None:
            if type(value) is not str or len(value) > MAX_VERSION or not _NAME.fullmatch(value):
                raise _Unsure
            data[name] = value
    value = get("model")
    if value is not None:
        data["model"] = _text(value, 1, MAX_MODEL)
    value = get("arm")
    if value is not None:
        if type(value) is not str or value not in _ARMS:
            raise _Unsure
        data["arm"] = value
    value = get("unit_key")
    if value is not None:
        data["unit_key"] = _text(value, 0, L.MAX_UNIT_KEY)
    value = get("session_id")
    if value is not None:
        data["session_id"] = _text(value, 1, L.MAX_SESSION_ID)
    value = get("prompt")
    if value is not None:
        if type(value) is not list or len(value) > L.MAX_MESSAGES:
            raise _Unsure
        data["prompt"] = [_message(m) for m in value]
    value = get("response")
    if value is not None:
        data["response"] = _text(value, 0, L.MAX_TEXT)
    value = get("context")
    if value is not None:
        if type(value) is not list or len(value) > L.MAX_CHUNKS:
            raise _Unsure
        data["context"] = [_text(chunk, 0, L.MAX_CHUNK) for chunk in value]
    for name in ("latency_ms", "ttft_ms"):
        value = get(name)
        if value is not None:
            data[name] = _number(value)
    data["prompt_tokens"] = _count(get("prompt_tokens", 0))
    data["completion_tokens"] = _count(get("completion_tokens", 0))
    data["cost_usd"] = _number(get("cost_usd", 0.0))
    value = get("error")
    if value is not None:
        data["error"] = _text(value, 0, L.MAX_ERROR)
    data["fallback_depth"] = _count(get("fallback_depth", 0), L.MAX_FALLBACK_DEPTH)
    value = get("shadow", False)
    if type(value) is not bool:
        raise _Unsure
    data["shadow"] = value
    value = get("metadata")
    if value is not None:
        data["metadata"] = _metadata(value)
    at = None
    value = get("at")
    if value is not None:
        at, data["at"] = _time(value)
    return data, at


def _time(value: Any) -> tuple[datetime, str]:
    """An aware time and its JSON form, as the model parses and dumps it."""
    if type(value) is str and _RFC3339.fullmatch(value) and not value.endswith("-00:00"):
        try:
            at = datetime.fromisoformat(value)
        except ValueError:  # a day or an hour out of range: the model says which
            raise _Unsure from None
        text = at.isoformat()
        return at, text[:-6] + "Z" if text.endswith("+00:00") else text
    try:
        at = _AT.validate_python(value)
    except ValidationError:
        raise _Unsure from None
    return at, _AT.dump_python(at, mode="json")

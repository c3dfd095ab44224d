"""JSON checks: ``is-json`` (the output parses as JSON) and ``json-schema`` (it also
conforms to a JSON Schema, validated with the ``jsonschema`` library).

Parsing is strict JSON: Python's ``json`` module also accepts ``NaN`` and ``Infinity``,
which other parsers reject, so they are refused here. With ``allow_fenced: true`` an
output that is exactly one Markdown code block (```` ```json ... ``` ````) is accepted and
its body parsed; prose around the block still fails, because an application that
expects JSON could not parse it either.

Numbers of any size are valid JSON: an integer of 5,000 digits, ``1e400`` or ``1e-400``
is read exactly (as a :class:`~releasegate.scorers._json_numbers.BigNumber`) instead of
failing or becoming infinity or 0, and ``json-schema`` compares, type-checks
(``integer`` included) and tests ``multipleOf`` on it exactly. The one limit: a
``multipleOf`` whose quotient would need more than 100,000 digits (``1e999999`` against
``multipleOf: 7``) is *unmeasured*, with that reason.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from releasegate.scorers import _json_numbers
from releasegate.scorers._check import Check, Options, negate
from releasegate.scorers._json_schema import NumberTooLargeError, exact_validator
from releasegate.scorers._text import preview
from releasegate.scorers.base import Score, ScorerContext
from releasegate.scorers.sample import Sample

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

    from releasegate.scorers.spec import AssertSpec

# jsonschema (and referencing) are imported by the json-schema check only: about 30 ms
# that every other run would pay at start-up.

__all__ = ["JsonCheck", "JsonParseError", "json_type", "parse_json_output"]

_FENCE = "```"
_FENCE_TAGS = frozenset({"", "json", "jsonc", "json5"})
_FENCE_LINE = re.compile(r"^[ \t]*```", re.MULTILINE)


class JsonParseError(ValueError):
    """The output is not JSON; the message says why and where."""


def _reject_constant(name: str) -> Any:
    raise JsonParseError(f"{name} is not valid JSON")


def _unfence(text: str) -> str | None:
    """The body of ``text`` if it is exactly one fenced code block, else ``None``.

    Fences are lines of their own (as in CommonMark), so backticks inside a JSON string
    do not end the block; a fence line inside the body means several blocks.
    """
    if not text.startswith(_FENCE):
        return None
    first_nl = text.find("\n")
    last_nl = text.rfind("\n")
    if first_nl < 0 or last_nl == first_nl or text[last_nl + 1 :].strip() != _FENCE:
        return None
    if text[len(_FENCE) : first_nl].strip().lower() not in _FENCE_TAGS:
        return None
    body = text[first_nl + 1 : last_nl]
    if _FENCE_LINE.search(body):
        return None
    return body


def parse_json_output(output: str, *, allow_fenced: bool = False) -> Any:
    """Parse a model output as strict JSON.

    Args:
        output: the raw output; surrounding whitespace is ignored.
        allow_fenced: also accept an output that is exactly one fenced code block.

    Returns:
        The parsed value.

    Raises:
        JsonParseError: the output is not JSON (empty, malformed, NaN, nested too deep).
    """
    text = output.strip()
    if allow_fenced:
        body = _unfence(text)
        if body is not None:
            text = body.strip()
    if not text:
        raise JsonParseError("empty output")
    try:
        return _json_numbers.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise JsonParseError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise JsonParseError("JSON nested too deeply to parse") from None


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type (``object``, ``number`` ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "number"


class JsonCheck(Check):
    """The output parses as JSON and, when a validator is given, conforms to its schema."""

    def __init__(self, name: str, *, allow_fenced: bool, validator: Validator | None) -> None:
        super().__init__(name)
        self._fenced = allow_fenced
        self.validator = validator

    def evaluate(self, sample: Sample) -> Score:
        try:
            instance = parse_json_output(sample.output or "", allow_fenced=self._fenced)
        except JsonParseError as exc:
            return Score.passed(False, str(exc))
        if self.validator is None:
            return Score.passed(True, f"valid JSON ({json_type(instance)})")
        from jsonschema.exceptions import best_match
        from referencing.exceptions import Unresolvable

        try:
            if self.validator.is_valid(instance):
                return Score.passed(True, "conforms to the schema")
            error = best_match(self.validator.iter_errors(instance))
        except RecursionError:
            return Score.unmeasured("JSON nested too deeply to validate")
        except Unresolvable as exc:
            return Score.unmeasured(f"schema reference cannot be resolved: {exc}")
        except NumberTooLargeError as exc:
            return Score.unmeasured(str(exc))
        message = error.message
        if len(message) > 200:  # keep both ends: a long value is quoted before the verdict
            message = f"{message[:110]}…{message[-89:]}"
        return Score.passed(
            False, f"{error.json_path}: {message}", details={"path": error.json_path}
        )


def build_is_json(spec: AssertSpec, ctx: ScorerContext) -> Check:
    """``is-json``: the whole output is JSON; option ``allow_fenced`` (false)."""
    opts = Options(spec, {"allow_fenced"})
    if spec.value is not None:
        raise ValueError("takes no value; to check a structure use 'json-schema'")
    return JsonCheck(spec.type, allow_fenced=opts.get_bool("allow_fenced", False), validator=None)


def _schema_from(spec: AssertSpec, opts: Options) -> Any:
    if spec.value is not None and opts.has("schema"):
        raise ValueError("give the schema either as value or as the schema option, not both")
    schema = opts.raw("schema") if opts.has("schema") else spec.value
    if schema is None:
        raise ValueError("needs a JSON Schema as value (or the schema option)")
    if isinstance(schema, str):
        # A schema pasted as a JSON string in YAML is accepted as well.
        try:
            schema = json.loads(schema)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"schema string is not JSON: {exc.msg} at column {exc.colno}"
            ) from None
    if not isinstance(schema, dict | bool):
        raise TypeError(f"schema must be a JSON Schema object, got {preview(repr(schema))}")
    return schema


def build_json_schema(spec: AssertSpec, ctx: ScorerContext) -> Check:
    """``json-schema``: value (or option ``schema``) is a JSON Schema; option
    ``allow_fenced`` (false). The schema's ``$schema`` picks the draft (default 2020-12).
    """
    from jsonschema.exceptions import SchemaError
    from jsonschema.validators import validator_for

    opts = Options(spec, {"allow_fenced", "schema"})
    schema = _schema_from(spec, opts)
    cls = validator_for(schema)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "(root)"
        raise ValueError(f"invalid JSON Schema at {where}: {exc.message}") from exc
    validator = exact_validator(cls)(schema, format_checker=cls.FORMAT_CHECKER)
    allow_fenced = opts.get_bool("allow_fenced", False)
    return JsonCheck(spec.type, allow_fenced=allow_fenced, validator=validator)


build_not_is_json = negate(build_is_json)

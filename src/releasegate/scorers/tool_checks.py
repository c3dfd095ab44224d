"""Tool-call checks: ``tool-call``, ``no-tool-call`` and ``valid-tool-call``.

They read :attr:`Sample.tool_calls` (the calls as the model sent them, OpenAI shape
``{"id", "type": "function", "function": {"name", "arguments": "<JSON text>"}}``) and,
for ``valid-tool-call``, :attr:`Sample.tools` (what the request offered).

Whatever the model sent, a check returns a measured pass or fail with the reason: a
text answer, an entry that is not an object or has no ``function``, a missing or empty
name, arguments that are not a string, not JSON or JSON that is not an object each fail
with a reason naming the entry (``tool_calls[1]``). Arguments are parsed as strict JSON
(no ``NaN``), numbers of any size exactly, as in the JSON checks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from releasegate.scorers import _json_numbers
from releasegate.scorers._check import Check, Options
from releasegate.scorers._json_schema import NumberTooLargeError, exact_validator
from releasegate.scorers._text import preview
from releasegate.scorers.base import Score, ScorerContext
from releasegate.scorers.json_checks import json_type
from releasegate.scorers.sample import Sample

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

    from releasegate.scorers.spec import AssertSpec

__all__ = [
    "NoToolCallCheck",
    "ParsedCall",
    "ToolCallCheck",
    "ValidToolCallCheck",
    "parse_tool_call",
    "subset_match",
]


@dataclass(frozen=True, slots=True)
class ParsedCall:
    """One ``tool_calls`` entry read as far as it goes.

    ``name`` is ``None`` when the entry has no usable name; ``arguments`` is the parsed
    object, ``None`` when ``problem`` says why it could not be read.
    """

    index: int
    name: str | None
    arguments: dict[str, Any] | None
    problem: str | None

    @property
    def label(self) -> str:
        return f"tool_calls[{self.index}]" + (f" ({self.name})" if self.name else "")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_tool_call(index: int, entry: Any) -> ParsedCall:
    """Read one ``tool_calls`` entry; never raises."""
    if not isinstance(entry, Mapping):
        return ParsedCall(index, None, None, f"is {json_type(entry)}, not an object")
    function = entry.get("function")
    if not isinstance(function, Mapping):
        what = "no 'function'" if function is None else f"'function' is {json_type(function)}"
        return ParsedCall(index, None, None, f"has {what}")
    name = function.get("name")
    if not isinstance(name, str) or not name:
        return ParsedCall(index, None, None, "has no function name")
    raw = function.get("arguments")
    if not isinstance(raw, str):
        return ParsedCall(index, name, None, f"arguments are {json_type(raw)}, not a JSON string")
    if not raw.strip():
        return ParsedCall(index, name, None, "arguments are empty, not a JSON object")
    try:
        args = _json_numbers.loads(raw, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        return ParsedCall(
            index, name, None, f"arguments are not JSON ({exc.msg} at column {exc.colno})"
        )
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        return ParsedCall(index, name, None, f"arguments are not JSON ({reason})")
    if not isinstance(args, dict):
        return ParsedCall(
            index, name, None, f"arguments are a JSON {json_type(args)}, not an object"
        )
    return ParsedCall(index, name, args, None)


def _calls(sample: Sample) -> list[ParsedCall]:
    return [parse_tool_call(i, entry) for i, entry in enumerate(sample.tool_calls)]


def _text_answer(sample: Sample) -> str:
    text = (sample.output or "").strip()
    return (
        f"no tool call: the model answered in text: {preview(text)!r}"
        if text
        else ("no tool call and no text")
    )


def _same(expected: Any, actual: Any) -> bool:
    # JSON equality: true is not 1, 1 equals 1.0.
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and expected.keys() == actual.keys()
            and all(_same(v, actual[k]) for k, v in expected.items())
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(_same(a, b) for a, b in zip(expected, actual, strict=True))
        )
    try:
        return bool(expected == actual)
    except (TypeError, ValueError):
        return False


def subset_match(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> str | None:
    """``None`` when every key of ``expected`` is in ``actual`` with a matching value
    (objects recursively by subset, anything else by JSON equality), else the first
    difference as ``"city: expected 'Paris', got 'Lyon'"``."""
    for key, want in expected.items():
        if key not in actual:
            return f"{key}: missing"
        got = actual[key]
        if isinstance(want, Mapping) and isinstance(got, Mapping):
            inner = subset_match(want, got)
            if inner is not None:
                return f"{key}.{inner}"
        elif not _same(want, got):
            return f"{key}: expected {_cut(_dump(want))}, got {_cut(_dump(got))}"
    return None


def _cut(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else f"{text[: limit - 12]}…{text[-11:]}"


def _dump(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (ValueError, TypeError):
        return repr(value)


def _schema_failure(validator: Validator, instance: Any) -> str | None:
    """``None`` when ``instance`` is valid, else the best error as ``"$.path: message"``."""
    from jsonschema.exceptions import best_match
    from referencing.exceptions import Unresolvable

    try:
        if validator.is_valid(instance):
            return None
        error = best_match(validator.iter_errors(instance))
    except RecursionError:
        return "arguments nested too deeply to validate"
    except Unresolvable as exc:
        return f"schema reference cannot be resolved: {exc}"
    except NumberTooLargeError as exc:
        return str(exc)
    if error is None:  # pragma: no cover - is_valid said invalid
        return "does not conform to the schema"
    return f"{error.json_path}: {_cut(error.message, 200)}"


def _validator(schema: Any) -> Validator:
    """A validator for ``schema``.

    Raises:
        ValueError: ``schema`` is not a valid JSON Schema.
    """
    from jsonschema.exceptions import SchemaError
    from jsonschema.validators import validator_for

    if not isinstance(schema, dict):
        raise TypeError(f"schema must be a JSON Schema object, got {preview(repr(schema))}")
    cls = validator_for(schema)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "(root)"
        raise ValueError(f"invalid JSON Schema at {where}: {exc.message}") from exc
    return exact_validator(cls)(schema, format_checker=cls.FORMAT_CHECKER)


class ToolCallCheck(Check):
    """At least one call to ``function`` whose arguments match."""

    def __init__(
        self,
        name: str,
        *,
        function: str,
        arguments: Mapping[str, Any] | None,
        validator: Validator | None,
    ) -> None:
        super().__init__(name)
        self.function = function
        self.arguments = arguments
        self.validator = validator

    def evaluate(self, sample: Sample) -> Score:
        calls = _calls(sample)
        if not calls:
            return Score.passed(False, _text_answer(sample))
        problems: list[str] = []
        for call in calls:
            if call.name != self.function:
                continue
            if call.arguments is None:
                problems.append(f"{call.label} {call.problem}")
                continue
            why = None
            if self.arguments is not None:
                why = subset_match(self.arguments, call.arguments)
            if why is None and self.validator is not None:
                why = _schema_failure(self.validator, call.arguments)
            if why is None:
                return Score.passed(True, f"called {self.function} ({call.label})")
            problems.append(f"{call.label} arguments: {why}")
        if problems:
            return Score.passed(False, "; ".join(problems[:3]))
        called = [c.name for c in calls if c.name]
        broken = [f"{c.label} {c.problem}" for c in calls if c.name is None]
        reason = f"no call to {self.function}"
        if called:
            reason += f" (called: {', '.join(called)})"
        if broken:
            reason += "; " + "; ".join(broken[:3])
        return Score.passed(False, reason)


class NoToolCallCheck(Check):
    """No call at all, or (with ``function``) no call to that function."""

    def __init__(self, name: str, *, function: str | None) -> None:
        super().__init__(name)
        self.function = function

    def evaluate(self, sample: Sample) -> Score:
        calls = _calls(sample)
        if self.function is None:
            if not calls:
                return Score.passed(True, "no tool call")
            shown = ", ".join(c.name or f"{c.label} ({c.problem})" for c in calls[:3])
            return Score.passed(False, f"{len(calls)} tool call(s): {shown}")
        hits = [c for c in calls if c.name == self.function]
        if hits:
            return Score.passed(False, f"called {self.function} ({hits[0].label})")
        unnamed = [c for c in calls if c.name is None]
        if unnamed:
            return Score.passed(
                False,
                f"cannot tell whether {self.function} was called: {unnamed[0].label} "
                f"{unnamed[0].problem}",
            )
        return Score.passed(True, f"no call to {self.function}")


class ValidToolCallCheck(Check):
    """Every call names a declared tool, with arguments valid against its parameters."""

    requires = frozenset({"tools"})

    def __init__(self, name: str, *, allow_none: bool) -> None:
        super().__init__(name)
        self.allow_none = allow_none
        # Validators by the declared schema's canonical text: the tools of a run are the
        # same for every case, so each schema is checked and compiled once.
        self._validators: dict[str, Validator | str] = {}

    def _declared(self, sample: Sample) -> dict[str, Any]:
        declared: dict[str, Any] = {}
        for tool in sample.tools:
            function = tool.get("function") if isinstance(tool, Mapping) else None
            if isinstance(function, Mapping) and isinstance(function.get("name"), str):
                declared.setdefault(function["name"], function.get("parameters"))
        return declared

    def _validator_for(self, schema: Any) -> Validator | str:
        key = _dump(schema)
        found = self._validators.get(key)
        if found is None:
            try:
                found = _validator(schema)
            except (ValueError, TypeError) as exc:
                found = f"declared parameters are not a valid JSON Schema: {exc}"
            if len(self._validators) < 256:
                self._validators[key] = found
        return found

    def evaluate(self, sample: Sample) -> Score:
        calls = _calls(sample)
        if not calls:
            if self.allow_none:
                return Score.passed(True, "no tool call (allowed)")
            return Score.passed(False, _text_answer(sample))
        declared = self._declared(sample)
        for call in calls:
            if call.name is None:
                return Score.passed(False, f"{call.label} {call.problem}")
            if call.name not in declared:
                known = ", ".join(declared) or "none"
                return Score.passed(
                    False, f"{call.label} calls an undeclared tool (declared: {known})"
                )
            if call.arguments is None:
                return Score.passed(False, f"{call.label} {call.problem}")
            schema = declared[call.name]
            if schema is None:
                continue
            validator = self._validator_for(schema)
            if isinstance(validator, str):
                return Score.unmeasured(f"{call.name}: {validator}")
            why = _schema_failure(validator, call.arguments)
            if why is not None:
                return Score.passed(False, f"{call.label} arguments: {why}")
        names = ", ".join(c.name or "" for c in calls)
        return Score.passed(True, f"{len(calls)} valid tool call(s): {names}")


def _function_name(spec: AssertSpec, opts: Options, *, required: bool) -> str | None:
    if spec.value is not None and opts.has("function"):
        raise ValueError("give the function name either as value or as option 'function'")
    name = opts.raw("function") if opts.has("function") else spec.value
    if name is None:
        if required:
            raise ValueError("needs the function name as value (value: get_weather)")
        return None
    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"the function name must be a non-empty string, got {name!r}")
    return name.strip()


def build_tool_call(spec: AssertSpec, ctx: ScorerContext) -> Check:
    """``tool-call``: value (or option ``function``) names the function; option
    ``arguments`` (an object the call's arguments must contain, recursively) or
    ``schema`` (a JSON Schema the arguments must conform to), or both."""
    opts = Options(spec, {"function", "arguments", "schema"})
    function = _function_name(spec, opts, required=True)
    assert function is not None
    arguments = opts.raw("arguments")
    if arguments is not None and not isinstance(arguments, dict):
        raise TypeError(f"option 'arguments' must be an object, got {preview(repr(arguments))}")
    validator = _validator(opts.raw("schema")) if opts.has("schema") else None
    return ToolCallCheck(spec.type, function=function, arguments=arguments, validator=validator)


def build_no_tool_call(spec: AssertSpec, ctx: ScorerContext) -> Check:
    """``no-tool-call``: no tool call at all; with a value (or option ``function``),
    no call to that function."""
    opts = Options(spec, {"function"})
    return NoToolCallCheck(spec.type, function=_function_name(spec, opts, required=False))


def build_valid_tool_call(spec: AssertSpec, ctx: ScorerContext) -> Check:
    """``valid-tool-call``: every call names a declared tool and its arguments are a
    JSON object valid against that tool's ``parameters``; option ``allow_none``
    (false): a text answer passes too."""
    opts = Options(spec, {"allow_none"})
    if spec.value is not None:
        raise ValueError("takes no value (the declared tools are the prompt's)")
    return ValidToolCallCheck(spec.type, allow_none=opts.get_bool("allow_none", False))

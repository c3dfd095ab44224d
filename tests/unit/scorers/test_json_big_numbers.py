"""Numbers of any size are valid JSON, and a JSON Schema judges them exactly: a 5,001-digit
integer, ``1e400`` or ``1e-400`` is neither an error, nor infinity, nor 0."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releasegate.scorers import ScoreStatus
from releasegate.scorers._json_numbers import BigInteger, BigNumber, loads
from releasegate.scorers._json_schema import is_multiple
from releasegate.scorers.json_checks import parse_json_output

from ._support import check

BIG = "9" * 5001  # beyond Python's 4,300-digit int conversion limit
HUGE = "1" + "0" * 100_000

VALID_JSON = [
    BIG,
    "-" + BIG,
    HUGE,
    "1e400",
    "-1E+400",
    "1e-400",
    "-0.0e-999",
    "1.5e308",
    "1" + "0" * 400 + ".5",
    "1e999999999",
    f'{{"id": {BIG}, "n": [1, -{BIG}, {{"deep": [1e400, 1e-400]}}]}}',
    f"[{BIG}, {BIG}]",
]


@pytest.mark.parametrize("text", VALID_JSON, ids=lambda t: t[:24])
def test_any_number_is_valid_json(text: str) -> None:
    res = check({"type": "is-json"}, text)
    assert (res.status, res.value) == (ScoreStatus.MEASURED, 1.0), res.reason
    assert check({"type": "not-is-json"}, text).value == 0.0
    assert res.reason.startswith("valid JSON (")


@pytest.mark.parametrize("text", VALID_JSON, ids=lambda t: t[:24])
def test_any_number_is_valid_json_in_a_fence(text: str) -> None:
    assert check({"type": "is-json", "allow_fenced": True}, f"```json\n{text}\n```").value == 1.0


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1e400", BigNumber("1e400")),
        ("1e-400", BigNumber("1e-400")),
        (BIG, BigInteger(BIG)),
        ("12", 12),
        ("0.5", 0.5),
        ("1e308", 1e308),
        ("0.0", 0.0),
        ("-0.0e-999", -0.0),
    ],
)
def test_numbers_are_read_exactly(text: str, value: Any) -> None:
    got = loads(text)
    assert got == value and type(got) is type(value)


def test_nan_and_infinity_literals_are_still_refused() -> None:
    for text in ("NaN", "[Infinity]", '{"a": -Infinity}'):
        assert check({"type": "is-json"}, text).value == 0.0


def _schema(schema: dict[str, Any], text: str) -> tuple[ScoreStatus, float | None, str]:
    res = check({"type": "json-schema", "value": schema}, text)
    return res.status, res.value, res.reason


@pytest.mark.parametrize(
    ("schema", "text", "passes"),
    [
        ({"type": "integer"}, BIG, True),
        ({"type": "integer"}, "-" + BIG, True),
        ({"type": "integer"}, "1e400", True),  # integral: an integer from draft 6 on
        ({"type": "integer"}, "1.5e-400", False),
        ({"type": "integer"}, "1" + "0" * 400 + ".5", False),
        ({"type": "number"}, BIG, True),
        ({"type": "number"}, "1e-400", True),
        ({"type": "string"}, BIG, False),
        ({"type": "number", "maximum": 10}, BIG, False),
        ({"type": "number", "minimum": 0}, "-" + BIG, False),
        ({"type": "number", "minimum": 0}, BIG, True),
        ({"type": "number", "maximum": 1.7976931348623157e308}, "1e400", False),
        ({"type": "number", "minimum": -1.7976931348623157e308}, "-1e400", False),
        ({"exclusiveMinimum": 0}, "1e-400", True),  # not rounded to 0
        ({"exclusiveMaximum": 0}, "-1e-400", True),
        ({"multipleOf": 3}, BIG, True),
        ({"multipleOf": 7}, BIG, False),
        ({"multipleOf": 0.1}, "1e400", True),
        ({"multipleOf": 0.5}, str(10**400), True),  # an int jsonschema would overflow on
        ({"multipleOf": 0.3}, str(10**400), False),
        ({"multipleOf": 0.1}, "1e-400", False),
        ({"multipleOf": 2}, "0.5", False),  # ordinary numbers keep their behaviour
        ({"multipleOf": 0.5}, "2.5", True),
        ({"enum": [1, 2]}, BIG, False),
        ({"const": 1e308}, "1e308", True),
        (
            {"type": "object", "properties": {"id": {"type": "integer", "minimum": 1}}},
            f'{{"id": {BIG}}}',
            True,
        ),
        (
            {"type": "array", "items": {"type": "integer", "maximum": 0}},
            f"[-{BIG}, -1e400, 1]",
            False,
        ),
    ],
)
def test_json_schema_judges_big_numbers_exactly(
    schema: dict[str, Any], text: str, passes: bool
) -> None:
    status, value, reason = _schema(schema, text)
    assert status is ScoreStatus.MEASURED, reason
    assert value == (1.0 if passes else 0.0), reason
    assert len(reason) < 260


def test_draft_4_does_not_count_an_integral_float_as_an_integer() -> None:
    schema = {"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer"}
    assert _schema(schema, "1e400")[1] == 0.0
    assert _schema(schema, BIG)[1] == 1.0


def test_draft_3_divisible_by_is_exact_too() -> None:
    schema = {"$schema": "http://json-schema.org/draft-03/schema#", "divisibleBy": 3}
    assert _schema(schema, BIG)[1] == 1.0
    assert _schema(schema, "1" + BIG)[1] == 0.0


def test_multiple_of_beyond_what_can_be_decided_is_unmeasured() -> None:
    status, value, reason = _schema({"multipleOf": 7}, "1e999999999")
    assert (status, value) == (ScoreStatus.UNMEASURED, None)
    assert "too large" in reason and "multipleOf" in reason
    # without multipleOf the same number is judged normally
    assert _schema({"type": "number", "minimum": 0}, "1e999999999")[1] == 1.0


def test_a_failure_reason_quotes_a_big_number_briefly() -> None:
    _, value, reason = _schema({"type": "string"}, BIG)
    assert value == 0.0 and reason.endswith("is not of type 'string'") and len(reason) < 260


@settings(deadline=None, max_examples=60)
@given(
    digits=st.integers(1, 12_000),
    sign=st.sampled_from(["", "-"]),
    exponent=st.none() | st.integers(-2000, 2000),
)
def test_any_well_formed_number_parses(digits: int, sign: str, exponent: int | None) -> None:
    text = sign + "7" * digits + ("" if exponent is None else f"e{exponent}")
    parse_json_output(text)
    parse_json_output(f'{{"a": [{text}]}}')


@settings(deadline=None)
@given(a=st.integers(-(10**60), 10**60), b=st.integers(1, 10**6))
def test_is_multiple_agrees_with_integer_arithmetic(a: int, b: int) -> None:
    assert is_multiple(a, b) is (a % b == 0)
    assert is_multiple(BigNumber(a), b) is (a % b == 0)


def test_ordinary_json_is_unchanged() -> None:
    text = json.dumps({"a": [1, 2.5, -3, 1e10, None, True, "x"]})
    assert parse_json_output(text) == json.loads(text)

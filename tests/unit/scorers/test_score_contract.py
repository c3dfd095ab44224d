"""A score is measured with a finite value in [0, 1], or it has no value. Nothing is
clamped: a check (built-in or plugin) that produces NaN, 1.7 or a string is reported
*unmeasured*, with a reason naming the check and the value."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from releasegate.datasets.case import Case
from releasegate.evals._scoring import CaseScorer
from releasegate.llm import ChatResponse, Usage
from releasegate.scorers import (
    InvalidScoreError,
    Sample,
    Score,
    ScoreStatus,
    score_checked,
)

from ._support import registered

BAD_VALUES = [
    float("nan"),
    float("inf"),
    float("-inf"),
    1.7,
    -0.1,
    1.0000000000000002,
    -5e-324,
    2,
    -1,
    10**400,
    -(10**5000),  # beyond Python's int-to-text limit: the message must still be built
    Fraction(4, 3),
    Decimal("NaN"),
    Decimal("sNaN"),
    Decimal("1.5"),
    "0.5",
    None,
    True,
    [0.5],
    1j,
]


def _id(value: Any) -> str:
    return f"int-{value.bit_length()}-bits" if isinstance(value, int) else repr(value)[:30]


@pytest.mark.parametrize("value", BAD_VALUES, ids=_id)
def test_measured_refuses_every_value_that_is_not_a_score(value: Any) -> None:
    with pytest.raises(InvalidScoreError) as info:
        Score.measured(value)
    assert "value" in str(info.value)


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (0, 0.0),
        (1, 1.0),
        (0.5, 0.5),
        (-0.0, 0.0),
        (Fraction(1, 4), 0.25),
        (Decimal("0.75"), 0.75),
        (5e-324, 5e-324),
    ],
)
def test_measured_keeps_every_score_as_a_float(value: Any, stored: float) -> None:
    s = Score.measured(value)
    assert type(s.value) is float and s.value == stored and math.copysign(1, s.value) == 1


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_measured_either_keeps_the_value_exactly_or_refuses_it(x: float) -> None:
    try:
        s = Score.measured(x)
    except InvalidScoreError as exc:
        assert not 0.0 <= x <= 1.0
        assert repr(x) in str(exc)  # the raw value, not a clamped one
    else:
        assert s.value == x and s.status is ScoreStatus.MEASURED


def test_the_constructor_enforces_the_tri_state_contract() -> None:
    with pytest.raises(InvalidScoreError, match="has no value"):
        Score(0.5, ScoreStatus.UNMEASURED, "x")
    with pytest.raises(InvalidScoreError, match="has no value"):
        Score(0.0, ScoreStatus.NOT_APPLICABLE, "x")
    with pytest.raises(InvalidScoreError, match="not a number"):
        Score(None)  # measured by default
    with pytest.raises(InvalidScoreError, match="status"):
        Score(0.5, "bogus")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="reason"):
        Score(0.5, ScoreStatus.MEASURED, None)  # type: ignore[arg-type]
    assert Score(0.5, "measured").status is ScoreStatus.MEASURED  # type: ignore[arg-type]
    assert Score.passed(True).value == 1.0 and Score.passed(False).value == 0.0
    assert Score.unmeasured("why").value is None


# --- the dispatcher: plugins returning bad values ------------------------------------


def _forged(**fields: Any) -> Score:
    """A Score whose fields were changed after construction (frozen is only a convention)."""
    s = Score.measured(0.5, "fine")
    for name, value in fields.items():
        object.__setattr__(s, name, value)
    return s


class Plugin:
    """A check from a plugin that returns whatever it is told to."""

    requires: frozenset[str] = frozenset()
    default_threshold = 0.5
    expensive = False

    def __init__(self, name: str, make: Any) -> None:
        self.name = name
        self.make = make

    async def score(self, sample: Sample) -> Any:
        return self.make()


PLUGIN_RESULTS: list[tuple[str, Any, str]] = [
    ("measured-1.7", lambda: Score.measured(1.7), "1.7 is outside [0, 1]"),
    ("measured-nan", lambda: Score.measured(float("nan")), "nan is not a finite number"),
    ("direct-inf", lambda: Score(float("inf")), "inf is not a finite number"),
    ("measured-neg", lambda: Score.measured(-0.25), "-0.25 is outside [0, 1]"),
    ("measured-str", lambda: Score.measured("0.9"), "'0.9' (str) is not a number"),  # type: ignore[arg-type]
    ("bare-float", lambda: 0.7, "returned float, not a Score"),
    ("none", lambda: None, "returned NoneType, not a Score"),
    ("forged-value", lambda: _forged(value=1.7), "1.7 is outside [0, 1]"),
    ("forged-nan", lambda: _forged(value=float("nan")), "nan is not a finite number"),
    ("forged-status", lambda: _forged(status=ScoreStatus.UNMEASURED), "has no value"),
]


@pytest.mark.parametrize(
    ("name", "make", "why"), PLUGIN_RESULTS, ids=[p[0] for p in PLUGIN_RESULTS]
)
async def test_a_bad_value_from_a_check_is_unmeasured_naming_the_check(
    name: str, make: Any, why: str
) -> None:
    s = await score_checked(Plugin(name, make), Sample("y", input="x", id="c"))
    assert s.status is ScoreStatus.UNMEASURED and s.value is None
    assert f"check {name!r}" in s.reason and why in s.reason


@pytest.mark.parametrize(
    ("name", "make", "why"), PLUGIN_RESULTS, ids=[p[0] for p in PLUGIN_RESULTS]
)
async def test_a_plugin_with_a_bad_value_is_unmeasured_in_the_case_result(
    name: str, make: Any, why: str
) -> None:
    case = Case.model_validate(
        {
            "id": "c1",
            "input": "x",
            "assert": [{"type": "bad-plugin"}, {"type": "contains", "value": "yes"}],
        }
    )
    with registered("bad-plugin", lambda spec, ctx: Plugin(name, make)):
        result = await CaseScorer().score(case, 0, ChatResponse(text="yes", usage=Usage()))
    bad, good = result.checks
    assert (bad.status, bad.value, bad.passed) == ("unmeasured", None, None)
    assert name in bad.reason and why in bad.reason
    # the other check is unaffected
    assert (good.status, good.value) == ("measured", 1.0)


async def test_a_plugin_that_raises_is_unmeasured_as_before() -> None:
    def boom() -> Score:
        raise RuntimeError("model file missing")

    s = await score_checked(Plugin("p", boom), Sample("y", input="x", id="c"))
    assert s.status is ScoreStatus.UNMEASURED and s.reason == "RuntimeError: model file missing"

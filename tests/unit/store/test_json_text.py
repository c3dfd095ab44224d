"""JSON columns' text: orjson where it writes what json would, json everywhere else."""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from datetime import UTC, datetime
from typing import Any

import pytest

from releasegate.store.engine import json_text

SAME = [
    {"a": "héllo — 你好 🙂", "b": [1, 2.5, True, False]},
    [1e16, 1e-7, -0.0, 123456789.125, 2**63 - 1, -(2**63)],
    {"nested": {"deep": [[{"x": "y"}]]}, "empty": {}, "list": []},
    2**70,  # beyond 64 bits: json
    {"n": None, "s": "null"},  # holds null: json
    "\ud800",  # a lone surrogate: json
    {"tab\t": 'quote" backslash\\ newline\n \u0000'},
    "",
]


@pytest.mark.parametrize("value", SAME, ids=range(len(SAME)))
def test_the_text_decodes_to_the_value_json_writes(value: Any) -> None:
    assert json.loads(json_text(value)) == json.loads(json.dumps(value))


def test_what_orjson_cannot_write_as_json_would_is_written_by_json() -> None:
    nan = json.loads(json_text({"x": float("nan"), "y": float("inf")}))
    assert math.isnan(nan["x"]) and nan["y"] == math.inf
    assert json_text({1: 2}) == json.dumps({1: 2})  # a non-string key, as json writes it

    class Colour(enum.StrEnum):
        RED = "red"

    assert json_text([Colour.RED]) == json.dumps([Colour.RED])


def test_plain_text_is_written_by_orjson_as_utf8() -> None:
    assert json_text({"a": "é", "b": [1, 2]}) == '{"a":"é","b":[1,2]}'


@dataclasses.dataclass
class Point:
    x: int


@pytest.mark.parametrize("value", [datetime(2026, 1, 1, tzinfo=UTC), Point(1), object(), {1.5}])
def test_what_json_refuses_is_refused(value: Any) -> None:
    with pytest.raises(TypeError):
        json_text({"v": value})


def test_a_circular_value_is_refused_as_json_refuses_it() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular"):
        json_text(loop)

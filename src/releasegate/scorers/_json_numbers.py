"""Reading JSON numbers that do not fit Python's defaults, exactly and cheaply.

Python's ``json`` module refuses an integer of more than 4,300 digits (a ``ValueError``
from its integer-conversion limit, not a ``JSONDecodeError``), turns ``1e400`` into
infinity and ``1e-400`` into 0. All three are valid JSON. The hooks here read such a
number as a :class:`BigNumber`, an exact :class:`~decimal.Decimal`; every other number
stays an ``int`` or a ``float`` as usual. Building a Decimal from text is linear in its
length, unlike ``int``, whose quadratic conversion is the reason for Python's limit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

__all__ = ["BigNumber", "json_float", "json_int", "loads", "make_decoder"]


class BigNumber(Decimal):
    """A JSON number too large or too small for ``int``/``float``, kept exactly.

    Its ``repr`` is the number as JSON would write it, so error messages quoting it
    read naturally.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)

    @property
    def is_integral(self) -> bool:
        """Whether the number has no fractional part (``1E+400`` has none)."""
        return self == self.to_integral_value()


class BigInteger(BigNumber):
    """A JSON integer literal (no fraction, no exponent) beyond Python's digit limit."""

    __slots__ = ()


def json_int(text: str) -> int | BigNumber:
    """An integer literal: ``int`` when Python converts it, else a :class:`BigInteger`."""
    try:
        return int(text)
    except ValueError:  # longer than sys.get_int_max_str_digits()
        return BigInteger(text)


def _has_nonzero_digit(mantissa: str) -> bool:
    return any(c in "123456789" for c in mantissa)


def json_float(text: str) -> float | BigNumber:
    """A number with a fraction or exponent: ``float``, unless the float would be
    infinite or 0 for a number that is neither (then a :class:`BigNumber`)."""
    value = float(text)
    if value in (float("inf"), float("-inf")):
        return BigNumber(text)
    if value == 0.0 and _has_nonzero_digit(text.lower().partition("e")[0]):
        return BigNumber(text)
    return value


def make_decoder(
    *,
    parse_constant: Callable[[str], Any] | None = None,
    object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
) -> json.JSONDecoder:
    """A decoder that reads numbers with :func:`json_int` and :func:`json_float`."""
    return json.JSONDecoder(
        parse_int=json_int,
        parse_float=json_float,
        parse_constant=parse_constant,
        object_pairs_hook=object_pairs_hook,
    )


def loads(
    text: str,
    *,
    parse_constant: Callable[[str], Any] | None = None,
    object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
) -> Any:
    """``json.loads`` with exact big numbers; raises what ``json.loads`` raises."""
    return json.loads(
        text,
        parse_int=json_int,
        parse_float=json_float,
        parse_constant=parse_constant,
        object_pairs_hook=object_pairs_hook,
    )

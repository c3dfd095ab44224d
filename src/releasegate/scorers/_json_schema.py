"""JSON Schema validators that treat numbers of any size exactly.

``jsonschema`` does arithmetic on the Python values it is given: ``multipleOf`` divides
by a float (an integer of a few hundred digits overflows, a ``Decimal`` cannot be
divided by a float at all), and ``integer`` means a Python ``int``. The JSON checks read
numbers that ``int``/``float`` cannot hold as :class:`BigNumber` (an exact Decimal), so
the validator class is extended here:

* ``integer`` also accepts a big integer literal, and an integral big number where the
  draft counts ``1.0`` as an integer (draft 6 and later);
* ``multipleOf`` (draft 3: ``divisibleBy``) falls back to exact decimal arithmetic when
  the instance is a big number or the float division overflows. The divisor is taken as
  the decimal the schema wrote (``0.1`` means one tenth), as for ordinary numbers.

Comparisons (``minimum``, ``maximum``, ``enum``, ``const``) are exact between Python
ints, floats and Decimals already. ``jsonschema`` is imported only when a ``json-schema``
check is built.
"""

from __future__ import annotations

import decimal
import functools
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from releasegate.scorers._json_numbers import BigInteger, BigNumber

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

__all__ = ["MAX_QUOTIENT_DIGITS", "NumberTooLargeError", "exact_validator", "is_multiple"]

#: ``multipleOf`` on numbers whose quotient needs more digits than this is unmeasured
MAX_QUOTIENT_DIGITS = 100_000


class NumberTooLargeError(ValueError):
    """A number is too large for ``multipleOf`` to be decided; the check is unmeasured."""


def _decimal(number: Any) -> Decimal:
    if isinstance(number, Decimal):
        return number
    if isinstance(number, float):
        return Decimal(repr(number))  # the decimal written in the schema or the output
    return Decimal(number)


def _preview(number: Any) -> str:
    text = repr(number)
    return text if len(text) <= 40 else f"{text[:20]}…{text[-12:]} ({len(text)} characters)"


def is_multiple(instance: Any, divisor: Any) -> bool:
    """Whether ``instance / divisor`` is an integer, computed exactly in decimal.

    Raises:
        NumberTooLargeError: deciding it would take more than
            :data:`MAX_QUOTIENT_DIGITS` digits.
    """
    x, d = _decimal(instance), _decimal(divisor)
    if x == 0:
        return True
    if x.adjusted() < d.adjusted():  # |x| < |d|: the quotient is not a whole number
        return False
    tx, td = x.as_tuple(), d.as_tuple()
    assert isinstance(tx.exponent, int) and isinstance(td.exponent, int)  # finite
    digits = (
        x.adjusted()
        - d.adjusted()
        + len(tx.digits)
        + len(td.digits)
        + abs(tx.exponent - td.exponent)
        + 2
    )
    too_large = NumberTooLargeError(
        f"cannot check multipleOf {_preview(divisor)} for {_preview(instance)}: "
        "the number is too large to decide exactly"
    )
    if digits > MAX_QUOTIENT_DIGITS:
        raise too_large
    with decimal.localcontext() as ctx:
        ctx.prec = digits
        ctx.Emax = decimal.MAX_EMAX
        ctx.Emin = decimal.MIN_EMIN
        ctx.traps[decimal.Inexact] = True
        try:
            return x % d == 0
        except decimal.DecimalException:  # not expected with this precision; never guess
            raise too_large from None


def _multiple_of(original: Any) -> Any:
    def multiple_of(validator: Any, divisor: Any, instance: Any, schema: Any) -> Iterator[Any]:
        from jsonschema.exceptions import ValidationError

        if not isinstance(instance, BigNumber):
            try:
                # Ordinary numbers keep jsonschema's own semantics; only its overflow
                # on large integers is taken over.
                yield from original(validator, divisor, instance, schema)
                return
            except OverflowError:
                pass
        if not validator.is_type(instance, "number"):
            return
        if not is_multiple(instance, divisor):
            yield ValidationError(f"{instance!r} is not a multiple of {divisor}")

    return multiple_of


@functools.cache
def exact_validator(cls: type[Validator]) -> type[Validator]:
    """``cls`` extended to treat big numbers exactly (see the module docstring)."""
    from jsonschema.validators import extend

    checker = cls.TYPE_CHECKER
    integral_floats = checker.is_type(1.0, "integer")

    def is_integer(type_checker: Any, instance: Any) -> bool:
        if isinstance(instance, BigInteger):
            return True
        if isinstance(instance, BigNumber):
            return integral_floats and instance.is_integral
        return bool(checker.is_type(instance, "integer"))

    keywords = {
        key: _multiple_of(cls.VALIDATORS[key])
        for key in ("multipleOf", "divisibleBy")
        if key in cls.VALIDATORS
    }
    extended: type[Validator] = extend(  # type: ignore[no-untyped-call]  # untyped in the stubs
        cls, validators=keywords, type_checker=checker.redefine("integer", is_integer)
    )
    return extended

"""Functions the ``python`` provider's cache-identity tests point at."""

from __future__ import annotations

from typing import Any


def answer(input: str) -> str:
    return input


def shout(input: str) -> str:
    return input.upper()


def by_case(case_id: str | None) -> str:
    return str(case_id)


def everything(**kwargs: Any) -> str:
    return repr(sorted(kwargs))


class Bot:
    @staticmethod
    def answer(input: str, vars: dict[str, Any]) -> str:
        return f"{input} {vars}"

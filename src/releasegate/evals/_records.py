"""What the dataset readers share: a raw case before validation, and the issue list."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from releasegate.errors import Issue

__all__ = ["Collector", "Record", "kind"]


@dataclass
class Record:
    """One raw case before validation, with what is needed to place its errors."""

    data: Any
    line: int | None
    base: tuple[Any, ...] = ()
    loc_to_path: Callable[[tuple[Any, ...]], Sequence[Any]] | None = None
    #: how many checks at the start of the case's ``assert`` came from the defaults
    default_asserts: int = 0


@dataclass
class Collector:
    """Every problem found in one file, so all of them are reported together."""

    file: str
    issues: list[Issue] = field(default_factory=list)

    def add(self, message: str, line: int | None = None, case_id: str | None = None) -> None:
        self.issues.append(Issue(file=self.file, line=line, case_id=case_id, message=message))


def kind(value: Any) -> str:
    """What a value is, in words for an error message ("a list", "nothing (null)")."""
    if value is None:
        return "nothing (null)"
    names = {str: "a string", list: "a list", dict: "a mapping", bool: "a boolean"}
    return names.get(type(value), f"a {type(value).__name__}")

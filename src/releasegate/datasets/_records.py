"""What the dataset readers share: a raw case before validation, the issue list, and
the rule that a case id is the text the user wrote."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from releasegate.errors import Issue

__all__ = ["Collector", "Record", "id_problem", "json_id_text", "kind"]


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
    names = {
        str: "a string",
        list: "a list",
        dict: "a mapping",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }
    return names.get(type(value), f"a {type(value).__name__}")


def id_problem(data: dict[str, Any]) -> str | None:
    """Why ``data``'s id cannot be used as written, if it cannot.

    An id is the text the user wrote. The readers hand over ids as text (YAML's and
    JSON's source text of a number, boolean or date); anything still not text here
    (a list, a JSON ``true``/``null``, a YAML value brought in by a ``<<`` merge) is
    refused with a hint to quote it rather than renamed by a conversion, and so is an
    id with whitespace around it (it would look like another id in a report).
    """
    if "id" not in data:
        return None  # reported by the model as a missing field
    value = data["id"]
    if isinstance(value, str):
        if value != value.strip():
            return (
                f"id: {value!r} has leading or trailing whitespace; remove it "
                "(ids are compared exactly as written)"
            )
        return None
    if value is None:
        return "id: must be text, got nothing (null); give the case an id"
    if isinstance(value, list | dict):
        return f"id: must be text, got {kind(value)}"
    shown = json.dumps(value) if isinstance(value, bool | int | float) else str(value)
    return f'id: must be text, got {kind(value)} ({shown}); quote it: "{shown}"'


def json_id_text(line: str, value: Any) -> Any:
    """A numeric JSON id as written on ``line`` (``1.10``, ``1e2``, ``100.0``).

    Decoding made it a number (1.1, 100.0, 100.0), which would rename the case and make
    distinct ids collide. The line is decoded again with every number kept as its source
    text; only lines with a numeric id pay for this. Anything else comes back unchanged.
    """
    if not isinstance(value, int | float) or isinstance(value, bool):
        return value
    try:
        again = json.loads(line, parse_int=str, parse_float=str, parse_constant=str)
    except (ValueError, RecursionError):  # pragma: no cover - it decoded a moment ago
        return value
    text = again.get("id") if isinstance(again, dict) else None
    return text if isinstance(text, str) else value

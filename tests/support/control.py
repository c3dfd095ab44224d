"""Test doubles for the control services' clock and salt source (see
:mod:`releasegate.ports`): time stands still until a test moves it, and salts count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["T0", "CountingSalts", "StepClock"]

T0 = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


class StepClock:
    """A clock that stands still until the test moves it."""

    def __init__(self, start: datetime = T0) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        """Move the clock by ``timedelta(**delta)`` and return the new time."""
        self.current += timedelta(**delta)
        return self.current


class CountingSalts:
    """Salts ``0000000000000001``, ``0000000000000002``, ... in order."""

    def __init__(self) -> None:
        self.n = 0

    def new_salt(self) -> str:
        self.n += 1
        return f"{self.n:016x}"

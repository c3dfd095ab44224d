from __future__ import annotations

import itertools

import pytest

from releasegate.deploy.status import ALLOWED, PAUSABLE, TERMINAL, Status, check_transition
from releasegate.errors import IllegalTransition

# The machine as specified, written out independently of the implementation's table.
LEGAL = {
    ("pending", "evaluating"),
    ("pending", "paused"),
    ("evaluating", "approved"),
    ("evaluating", "rejected"),
    ("evaluating", "paused"),
    ("approved", "canary"),
    ("approved", "active"),
    ("approved", "paused"),
    ("canary", "active"),
    ("canary", "rolled_back"),
    ("canary", "paused"),
    ("active", "superseded"),
    ("active", "rolled_back"),
    ("superseded", "active"),
}
NON_PAUSED = [s for s in Status if s is not Status.PAUSED]


@pytest.mark.parametrize(("current", "target"), list(itertools.product(NON_PAUSED, list(Status))))
def test_every_transition_from_a_non_paused_status(current: Status, target: Status) -> None:
    if (current.value, target.value) in LEGAL:
        check_transition(current, target, subject="f@v")
    else:
        with pytest.raises(IllegalTransition) as info:
            check_transition(current, target, subject="f@v")
        msg = str(info.value)
        assert "f@v" in msg and current.value in msg and target.value in msg


@pytest.mark.parametrize(
    ("paused_from", "target"), list(itertools.product(list(PAUSABLE), list(Status)))
)
def test_every_transition_out_of_paused(paused_from: Status, target: Status) -> None:
    # Resume to where it was, or end it (canary -> rolled_back, evaluating -> rejected).
    legal = target is paused_from or (paused_from.value, target.value) in {
        ("canary", "rolled_back"),
        ("evaluating", "rejected"),
    }
    if legal:
        check_transition(Status.PAUSED, target, subject="f@v", paused_from=paused_from)
    else:
        with pytest.raises(IllegalTransition):
            check_transition(Status.PAUSED, target, subject="f@v", paused_from=paused_from)


def test_paused_without_origin_cannot_move() -> None:
    with pytest.raises(IllegalTransition):
        check_transition(Status.PAUSED, Status.PENDING, subject="f@v")


def test_terminal_statuses_have_no_way_out() -> None:
    for s in TERMINAL:
        assert not ALLOWED[s]
    with pytest.raises(IllegalTransition, match="final"):
        check_transition(Status.REJECTED, Status.APPROVED, subject="f@v")


def test_table_matches_the_specified_machine() -> None:
    table = {
        (a.value, b.value)
        for a, targets in ALLOWED.items()
        if a is not Status.PAUSED
        for b in targets
    }
    assert table == LEGAL

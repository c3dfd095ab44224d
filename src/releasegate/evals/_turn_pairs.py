"""Multi-turn cases of two reports paired by case id *and* turn index.

A case's own score aggregates its turns; this looks inside. For every case id in both
reports that has turns on either side, turn ``i`` of base is compared with turn ``i`` of
head only: the repeats of a case are reduced per turn (the mean score of the repeats
that scored the turn, the share of those that passed it). A case whose turn count
differs (the dataset changed, or a conversation stopped earlier on one side) is listed
with both counts and every turn either side has; a turn only one side has is marked
(``in_base``/``in_head``) and paired with nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from releasegate.results.comparison import CaseTurns, TurnDelta
from releasegate.results.report import CaseResult, EvalReport, TurnResult

__all__ = ["turn_changes"]

_SAME = 1e-9


@dataclass
class _Side:
    n_turns: int
    #: turn index -> the results of that turn over the case's repeats
    turns: dict[int, list[TurnResult]]


def _sides(report: EvalReport) -> dict[str, _Side]:
    by_id: dict[str, list[CaseResult]] = defaultdict(list)
    for c in report.cases:
        by_id[c.id].append(c)
    out: dict[str, _Side] = {}
    for cid, rows in by_id.items():
        if not any(r.turns for r in rows):
            continue
        turns: dict[int, list[TurnResult]] = defaultdict(list)
        for r in rows:
            for t in r.turns or []:
                turns[t.index].append(t)
        out[cid] = _Side(n_turns=max(len(r.turns or []) for r in rows), turns=dict(turns))
    return out


def _mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return float(np.mean(vals)) if vals else None


def _share(turns: list[TurnResult]) -> float | None:
    return sum(t.passed for t in turns) / len(turns) if turns else None


def _pair(index: int, base: list[TurnResult], head: list[TurnResult]) -> TurnDelta:
    # ``base`` or ``head`` is empty for a turn only the other side has.
    b, h = _mean(t.score for t in base), _mean(t.score for t in head)
    calls: list[Any] | None = next((t.tool_calls for t in head if t.tool_calls), None)
    return TurnDelta(
        index=index,
        base_score=b,
        head_score=h,
        base_pass_share=_share(base),
        head_pass_share=_share(head),
        delta=None if b is None or h is None else h - b,
        in_base=bool(base),
        in_head=bool(head),
        head_input=head[0].input if head else None,
        head_output=next((t.output for t in head if t.output is not None), None),
        head_tool_calls=calls,
        base_input=base[0].input if base else None,
        head_messages=next((t.messages for t in head if t.messages), None),
    )


def _moved(t: TurnDelta) -> bool:
    if not (t.in_base and t.in_head) or (t.base_score is None) != (t.head_score is None):
        return True
    if t.delta is not None and abs(t.delta) > _SAME:
        return True
    return abs((t.head_pass_share or 0.0) - (t.base_pass_share or 0.0)) > _SAME


def turn_changes(base: EvalReport, head: EvalReport) -> list[CaseTurns]:
    """The multi-turn cases of both reports whose turns changed, in head order.

    A case is listed when its turn count differs between the reports or a paired turn's
    score or pass share moved; each lists every turn either side has, in index order.
    """
    b_sides, h_sides = _sides(base), _sides(head)
    out: list[CaseTurns] = []
    seen = {c.id for c in base.cases}
    for cid, h in h_sides.items():
        if cid not in seen:
            continue
        b = b_sides.get(cid, _Side(n_turns=0, turns={}))
        indices = sorted(set(b.turns) | set(h.turns))
        pairs = [_pair(i, b.turns.get(i, []), h.turns.get(i, [])) for i in indices]
        if b.n_turns != h.n_turns or any(_moved(t) for t in pairs):
            out.append(CaseTurns(id=cid, base_turns=b.n_turns, head_turns=h.n_turns, turns=pairs))
    head_ids = {c.id for c in head.cases}
    for cid, b in b_sides.items():  # multi-turn in base, single-turn in head
        if cid in head_ids and cid not in h_sides:
            only = [_pair(i, b.turns[i], []) for i in sorted(b.turns)]
            out.append(CaseTurns(id=cid, base_turns=b.n_turns, head_turns=0, turns=only))
    return out

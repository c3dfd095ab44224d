"""Running checks on a sample, with the same rules wherever the sample comes from.

Every check ends in one of three states:

* *not applicable* — an input it ``requires`` is missing or empty on the sample; the
  check is not called;
* *unmeasured* — it raised, or returned something that is not a valid
  :class:`~releasegate.scorers.base.Score` (the reason says which);
* *measured* — a value in [0, 1].

One failing check never blocks the others. :func:`score_sample` is the one call for an
eval case and for an online interaction alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from releasegate.scorers.base import InvalidScoreError, Score, Scorer
from releasegate.scorers.sample import Sample

__all__ = ["missing_inputs", "run_check", "score_checked", "score_sample"]


def missing_inputs(sample: Sample, requires: frozenset[str]) -> list[str]:
    """Names in ``requires`` whose sample field is absent, ``None`` or empty, sorted."""
    missing = []
    for name in sorted(requires):
        value = getattr(sample, name, None)
        if value is None or value == "" or value == [] or value == ():
            missing.append(name)
    return missing


def _vouched(name: str, result: object) -> Score:
    """``result`` if it is a well-formed :class:`Score`, else *unmeasured* naming ``name``.

    The constructor already refuses bad values; this catches a result that is not a
    Score at all, or one whose fields were changed after construction.
    """
    if not isinstance(result, Score):
        return Score.unmeasured(f"check {name!r} returned {type(result).__name__}, not a Score")
    try:
        # Re-running the constructor's checks costs about a microsecond.
        Score(result.value, result.status, result.reason)
    except (InvalidScoreError, TypeError) as exc:
        return Score.unmeasured(f"check {name!r} produced an invalid score: {exc}")
    return result


async def score_checked(scorer: Scorer, sample: Sample) -> Score:
    """Run one check on one sample; whatever it does, the result is a valid Score.

    A check that raises is *unmeasured* with the exception as the reason; a value that
    is not a finite number in [0, 1] (NaN, 1.7, a string) is *unmeasured* with a reason
    that names the check and the value. A value is never clamped into range. Inputs are
    not looked at: see :func:`run_check`.

    Args:
        scorer: a built-in check or a plugin.
        sample: the output to score.

    Returns:
        The check's score, or an *unmeasured* one explaining why it has none.
    """
    name = str(getattr(scorer, "name", "") or type(scorer).__name__)
    try:
        result = await scorer.score(sample)
    except InvalidScoreError as exc:
        return Score.unmeasured(f"check {name!r} produced an invalid score: {exc}")
    except Exception as exc:
        return Score.unmeasured(f"{type(exc).__name__}: {exc}")
    return _vouched(name, result)


async def run_check(scorer: Scorer, sample: Sample) -> Score:
    """One check on one sample: *not applicable* (``"needs context, reference"``) when
    an input it requires is missing, else :func:`score_checked`."""
    missing = missing_inputs(sample, scorer.requires)
    if missing:
        return Score.not_applicable("needs " + ", ".join(missing))
    return await score_checked(scorer, sample)


def _is_cheap(scorer: Scorer) -> bool:
    # Scorers say whether they do I/O (``expensive``); a plugin that does not say is
    # scheduled concurrently, which is correct either way.
    return getattr(scorer, "expensive", True) is False


async def score_sample(sample: Sample, checks: Sequence[Scorer]) -> list[Score]:
    """Score one sample with prepared checks; one score per check, in order.

    Pure CPU checks (``expensive = False``) run inline one after the other; the others
    (judges, embedders, plugins) run concurrently. No exception escapes a check.

    Args:
        sample: the output and its inputs.
        checks: built checks (see :func:`~releasegate.scorers.registry.build_scorer`
            and :class:`~releasegate.scorers.prepare.CheckBuilder`).

    Returns:
        ``len(checks)`` scores, each measured, unmeasured or not applicable.
    """
    scores: list[Score | None] = [None] * len(checks)
    slow: list[int] = []
    for i, check in enumerate(checks):
        if _is_cheap(check):
            scores[i] = await run_check(check, sample)
        else:
            slow.append(i)
    if slow:
        done = await asyncio.gather(*(run_check(checks[i], sample) for i in slow))
        for i, s in zip(slow, done, strict=True):
            scores[i] = s
    return [s for s in scores if s is not None]

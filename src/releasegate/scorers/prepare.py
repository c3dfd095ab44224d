"""Building the checks of many specs before anything is scored.

A run (and ``releasegate validate``) builds every check of a dataset first, so a broken
check stops it before a call is spent and nothing is built on the hot path.
:class:`CheckBuilder` builds each distinct spec once and reports every check that
cannot be built with the file, line, case id and ``assert[i]`` label it was written at.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Protocol

from releasegate.errors import ConfigError, Issue
from releasegate.scorers.base import Scorer, ScorerContext
from releasegate.scorers.registry import build_scorer
from releasegate.scorers.spec import AssertSpec

__all__ = ["CheckBuilder", "CheckOwner"]


class CheckOwner(Protocol):
    """Something that asserts checks and says where it was written (an eval case)."""

    @property
    def id(self) -> str:
        """Its id, for error messages."""
        ...

    @property
    def asserts(self) -> tuple[AssertSpec, ...]:
        """Its checks, in order."""
        ...

    @property
    def source(self) -> str | None:
        """The file it was read from, if known."""
        ...

    @property
    def line(self) -> int | None:
        """Its line in that file, if known."""
        ...

    def check_label(self, index: int) -> str:
        """Where check ``index`` was written (``assert[0]``, ``defaults.assert[1]``)."""
        ...


_SCALARS = (str, int, float, bool, type(None))


def _spec_key(spec: AssertSpec) -> tuple[Any, ...]:
    """A hashable key of everything a scorer is built from. Plain scalar values (the
    common case: a string to look for, a number) skip JSON encoding, which cost ~40 us a
    spec on the hot path."""
    if not spec.model_extra and isinstance(spec.value, _SCALARS):
        return (spec.type, type(spec.value), spec.value, spec.weight, spec.threshold)
    try:
        return (spec.type, json.dumps(spec.model_dump(mode="json"), sort_keys=True, default=str))
    except Exception:  # odd YAML values (binary) that JSON cannot carry: never shared
        return (spec.type, "id", id(spec))


def _where(owner: CheckOwner) -> str:
    return f"{owner.source or '<dataset>'}" + (f":{owner.line}" if owner.line else "")


class CheckBuilder:
    """Builds checks from specs against one judge and embedder, each distinct spec once.

    Args:
        ctx: the judge and embedder model-graded checks use (none by default).
    """

    def __init__(self, ctx: ScorerContext | None = None) -> None:
        self.ctx = ctx or ScorerContext()
        self._scorers: dict[tuple[Any, ...], Scorer] = {}
        self._by_id: dict[int, tuple[AssertSpec, Scorer]] = {}

    def _built(self, spec: AssertSpec) -> Scorer | None:
        # By identity first (a case's specs are seen again on every repeat); the entry
        # keeps the spec alive, so its id cannot be reused by another object. Equal specs
        # from different cases share a scorer through the value key.
        hit = self._by_id.get(id(spec))
        if hit is not None and hit[0] is spec:
            return hit[1]
        return None

    def build(self, spec: AssertSpec, *, where: str = "<dataset>") -> Scorer:
        """The check for ``spec``, built on first use and shared by equal specs.

        Raises:
            ConfigError: unknown type or bad arguments, naming ``where``.
        """
        hit = self._built(spec)
        if hit is not None:
            return hit
        key = _spec_key(spec)
        scorer = self._scorers.get(key)
        if scorer is None:
            scorer = build_scorer(spec, self.ctx, where=where)
            self._scorers[key] = scorer
        self._by_id[id(spec)] = (spec, scorer)
        return scorer

    def checks_of(self, owner: CheckOwner) -> list[Scorer]:
        """The checks of ``owner``, in order.

        Raises:
            ConfigError: a check cannot be built (see :meth:`prepare` to get them all).
        """
        checks = []
        for spec in owner.asserts:
            scorer = self._built(spec)
            if scorer is None:
                scorer = self.build(spec, where=_where(owner))
            checks.append(scorer)
        return checks

    def prepare(self, owners: Iterable[CheckOwner], *, file: str = "<dataset>") -> list[Issue]:
        """Build every check of ``owners`` before any call is made.

        Returns one issue per check that names an unknown type or has bad arguments
        (file, line, case id, ``assert[i]`` counted in the case's own list or
        ``defaults.assert[i]``; ``file`` when an owner does not say where it was read
        from), so a run with a broken check stops before it spends anything; and no
        scorer (nor plugin discovery) is built on the hot path. Equal checks are built
        once.
        """
        issues: list[Issue] = []
        for owner in owners:
            where = _where(owner)
            for index, spec in enumerate(owner.asserts):
                try:
                    self.build(spec, where=where)
                except ConfigError as exc:
                    messages = [i.message for i in exc.issues]
                except Exception as exc:  # a plugin's factory failing in its own way
                    messages = [
                        f"check {spec.type!r} could not be built: {type(exc).__name__}: {exc}"
                    ]
                else:
                    continue
                issues.extend(
                    Issue(
                        file=owner.source or file,
                        line=owner.line,
                        case_id=owner.id,
                        field=owner.check_label(index),
                        message=m,
                    )
                    for m in messages
                )
        return issues

"""Is a version ready for a canary? What must be true before live traffic reaches it.

A canary that nothing can judge or undo is a plain release with extra steps. Starting one
is refused, with every missing item listed, when:

- the version has no passing eval report (approved without a report, or on a report whose
  gate failed and was overridden);
- no online checks are configured for the feature, so nothing would score its traffic;
- nothing could be rolled back to (the feature has no active version) and the rollout
  is not marked as a first release.

A person may start it anyway with a reason, which is kept in the audit log with the list
of what was missing. Whether online checks are configured is project knowledge that
the service does not have: the composition root passes a lookup (``None`` when no
project configuration is at hand, which counts as "not configured").
"""

from __future__ import annotations

from collections.abc import Callable

from releasegate.deploy.model import Deployment

__all__ = ["OnlineChecks", "canary_gaps", "passing_report"]

#: feature -> whether online checks are configured for it (None: unknown)
OnlineChecks = Callable[[str], bool | None]


def passing_report(dep: Deployment) -> bool:
    """Whether ``dep`` was approved on a complete eval report whose gate passed."""
    ev = dep.eval_summary or {}
    return ev.get("status") == "complete" and ev.get("gate_passed") is True


def canary_gaps(
    dep: Deployment,
    incumbent: Deployment | None,
    *,
    online_checks: bool | None,
    first_release: bool,
) -> list[str]:
    """What is missing before ``dep`` may start a canary (empty: ready).

    Args:
        dep: The candidate.
        incumbent: The feature's active version, if any.
        online_checks: Whether online checks are configured for the feature (None:
            unknown, no project configuration at hand).
        first_release: The rollout is marked as the feature's first release.

    Returns:
        One sentence per missing item, each saying how to supply it.
    """
    gaps: list[str] = []
    if not passing_report(dep):
        why = (
            "its report's gate did not pass"
            if dep.eval_summary
            else "it was approved without an eval report"
        )
        gaps.append(
            f"{dep.ref} has no passing eval report ({why}): approve it with "
            "--report REPORT.json from `releasegate eval`"
        )
    if online_checks is None:
        gaps.append(
            f"no project configuration says whether online checks score {dep.feature!r}: "
            "run the command in the project (releasegate.yaml) or give --config"
        )
    elif not online_checks:
        gaps.append(
            f"no online checks are configured for {dep.feature!r}: add them under "
            f"online.features.{dep.feature}.checks in releasegate.yaml, or nothing "
            "would score the canary's traffic"
        )
    if incumbent is None and not first_release:
        gaps.append(
            f"{dep.feature!r} has no active version to roll back to: if this is its first "
            "release, say so with --first-release"
        )
    return gaps

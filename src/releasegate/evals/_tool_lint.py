"""Tool-call checks against the tools a suite's prompt declares, before any call.

* ``tool-call`` naming a function the prompt does not declare can never pass: an error,
  with a suggestion for a near name;
* ``no-tool-call`` naming an undeclared function always passes: a warning;
* a tool-call check in a suite whose prompt declares no tools: a warning (``tool-call``
  always fails, ``valid-tool-call`` is not applicable);
* ``tool_results`` for a tool the prompt does not declare: a warning (the model is never
  offered it, so the result is never used), with a suggestion for a near name.
"""

from __future__ import annotations

from collections.abc import Iterable

from releasegate._yaml import did_you_mean
from releasegate.datasets.case import Case
from releasegate.errors import Issue
from releasegate.prompts import Prompt

__all__ = ["tool_check_issues"]

_TOOL_CHECKS = frozenset({"tool-call", "no-tool-call", "valid-tool-call"})


def _named(value: object, options: dict[str, object]) -> str | None:
    name = options.get("function", value)
    return name.strip() if isinstance(name, str) and name.strip() else None


def tool_check_issues(cases: Iterable[Case], prompt: Prompt | None, *, file: str) -> list[Issue]:
    """Issues of the tool-call checks of ``cases`` run with ``prompt`` (``None``: the
    suite has no prompt). Checks whose arguments are broken are left to the check
    builder, which reports them."""
    declared = [t.function.name for t in (prompt.tools or [])] if prompt is not None else []
    whose = f"prompt {prompt.name!r}" if prompt is not None else "the suite (it has no prompt)"
    issues: list[Issue] = []
    seen: set[tuple[str, str | None]] = set()
    for case in cases:
        for i, spec in enumerate(case.asserts):
            if spec.type not in _TOOL_CHECKS:
                continue
            name = _named(spec.value, spec.options)
            key = (spec.type, name)
            if key in seen:  # once per check and name (defaults repeat on every case)
                continue
            seen.add(key)
            where = f"check {case.check_label(i)} ({spec.type})"
            if not declared:
                if spec.type != "no-tool-call":
                    issues.append(
                        Issue(
                            file=file,
                            line=case.line,
                            case_id=case.id,
                            severity="warning",
                            message=f"{where}: {whose} declares no tools, so this check "
                            + ("always fails" if spec.type == "tool-call" else "never applies"),
                        )
                    )
                continue
            if name is None or name in declared:
                continue
            hint = did_you_mean(name, declared)
            known = f" (declared: {', '.join(declared)})"
            issues.append(
                Issue(
                    file=file,
                    line=case.line,
                    case_id=case.id,
                    severity="error" if spec.type == "tool-call" else "warning",
                    message=f"{where}: function {name!r} is not a tool of {whose}{known}{hint}",
                )
            )
        issues += _result_issues(case, declared, whose, seen, file)
    return issues


def _result_issues(
    case: Case, declared: list[str], whose: str, seen: set[tuple[str, str | None]], file: str
) -> list[Issue]:
    issues: list[Issue] = []
    for name in case.tool_results or {}:
        if name in declared or ("tool_results", name) in seen:
            continue
        seen.add(("tool_results", name))
        known = f" (declared: {', '.join(declared)})" if declared else ""
        issues.append(
            Issue(
                file=file,
                line=case.line,
                case_id=case.id,
                severity="warning",
                message=f"tool_results.{name}: {name!r} is not a tool of {whose}{known}, "
                f"so the model never calls it{did_you_mean(name, declared)}",
            )
        )
    return issues

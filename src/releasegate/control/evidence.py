"""The registry's guard rails on what a deployment names and on the evidence approving it.

* :func:`check_prompt_known`: a registered ``name@version`` must be a prompt of the project
  (checked by the CLI when it runs inside a project; the API has no project at hand).
* :func:`check_report`: an approving eval report must be complete, reach the deployment's
  minimum score, have passed its gate, and have evaluated the deployment's own prompt
  version and model. The last two may be overridden with a recorded reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from releasegate.deploy.model import Deployment
from releasegate.deploy.names import check_prompt_ref
from releasegate.errors import DeploymentError, UsageError
from releasegate.prompts import Prompt
from releasegate.results.report import EvalReport

__all__ = ["check_prompt_known", "check_report", "eval_evidence"]


def eval_evidence(report: EvalReport) -> dict[str, Any]:
    """The part of an eval report kept as approval evidence."""
    s, ident = report.summary, report.identity
    return {
        "run_id": report.run_id,
        "suite": ident.suite,
        "status": report.status,
        "gate_passed": report.gate.passed if report.gate else None,
        "mean_score": s.mean_score,
        "pass_rate": s.pass_rate,
        "n_cases": s.n_cases,
        "n_unmeasured": s.n_unmeasured,
        "model": ident.model,
        "prompt_name": ident.prompt_name,
        "prompt_version": ident.prompt_version,
        "prompt_hash": ident.prompt_hash,
        "dataset_hash": ident.dataset_hash,
        "tool_version": ident.tool_version,
        "finished_at": report.finished_at,
    }


def check_prompt_known(ref: str, prompts: Mapping[str, Prompt], *, where: str) -> None:
    """Refuse a prompt reference the project does not have.

    Args:
        ref: ``name@version`` as given to ``register``.
        prompts: The project's prompts by name (one file per name, one version each).
        where: The prompt directory as shown to the user (``"prompts/"``).

    Raises:
        UsageError: naming the reference and the versions the project has.
    """
    name, version = check_prompt_ref(ref)
    prompt = prompts.get(name)
    if prompt is not None and prompt.version == version:
        return
    if prompt is not None:
        shown = prompt.path or where
        raise UsageError(
            f"--prompt {ref}: the project has {name} only at version {prompt.version} "
            f"({shown}); available versions of {name}: {prompt.version}"
        )
    known = ", ".join(p.ref for p in sorted(prompts.values(), key=lambda p: p.name))
    raise UsageError(
        f"--prompt {ref}: no prompt named {name!r} in {where}; "
        + (f"available prompts: {known}" if known else "the project has no prompts")
    )


def _overridable(dep: Deployment, report: EvalReport) -> list[str]:
    # Evidence that does not back this deployment: a failed gate, another prompt or model.
    problems: list[str] = []
    if report.gate is not None and not report.gate.passed:
        failed = [r.rule for r in report.gate.rules if not r.passed]
        rules = f" (failed: {', '.join(failed)})" if failed else ""
        problems.append(f"the report's gate failed{rules}")
    ident = report.identity
    if ident.prompt_name and (ident.prompt_name, ident.prompt_version) != (
        dep.prompt_name,
        dep.prompt_version,
    ):
        problems.append(
            f"the report evaluated prompt {ident.prompt_name}@{ident.prompt_version}, the "
            f"deployment serves {dep.prompt}"
        )
    if ident.model and ident.model != dep.model:
        problems.append(
            f"the report evaluated model {ident.model!r}, the deployment pins {dep.model!r}"
        )
    return problems


def check_report(
    dep: Deployment, report: EvalReport | None, override_reason: str | None = None
) -> dict[str, Any]:
    """The approval evidence of ``report`` for ``dep``, or why it does not back it.

    Args:
        dep: The deployment being approved.
        report: The eval report given, if any.
        override_reason: Why a report with a failed gate or of another prompt version or
            model is accepted anyway; kept in the evidence with what it overrode.

    Returns:
        The evidence dict (empty without a report).

    Raises:
        DeploymentError: when a minimum score is set and no report is given, when the run
            did not complete or scored below the minimum (never overridable), or when the
            report does not back the deployment and no override reason is given.
    """
    if report is None:
        if dep.min_score is not None:
            raise DeploymentError(
                f"{dep.ref} requires an eval score of at least {dep.min_score:g}; "
                "approve it with an eval report (--report)"
            )
        return {"override_reason": override_reason} if override_reason else {}
    evidence = eval_evidence(report)
    hard: list[str] = []
    if report.status != "complete":
        hard.append(f"the eval run did not complete (status {report.status})")
    score = report.summary.mean_score
    if dep.min_score is not None and (score is None or score < dep.min_score):
        shown = "none" if score is None else f"{score:.4f}"
        hard.append(f"mean score {shown} is below the minimum {dep.min_score:g}")
    soft = _overridable(dep, report)
    if hard or (soft and not override_reason):
        hint = (
            "; to approve it anyway, say why with --override-reason TEXT (kept in the audit log)"
            if soft and not hard and not override_reason
            else ""
        )
        raise DeploymentError(f"refusing to approve {dep.ref}: " + "; ".join(hard + soft) + hint)
    if override_reason:
        evidence["override_reason"] = override_reason
        evidence["overridden"] = soft
    return evidence

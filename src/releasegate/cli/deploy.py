"""CLI of the deployment control plane: ``deploy ...`` and ``route``.

Every command acts on the local database (``--db URL`` / ``RELEASEGATE_DATABASE_URL``,
default SQLite under ``.releasegate/``) or, with ``--api URL``, through the control-plane
API using the token in ``RELEASEGATE_API_TOKEN`` -- the same command, the same checks,
the same output either way (see :mod:`releasegate.cli._control`). The JSON printed by
``--json`` is documented in ``docs/deployments.md``. Names, reasons and actors are
printed as plain text, never as console markup.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from releasegate.cli._app import app
from releasegate.cli._common import err_console, out_console, plain, print_table
from releasegate.cli._control import (
    Actor,
    Api,
    AsJson,
    Db,
    Feature,
    NameCheck,
    Reason,
    ReasonCheck,
    Share,
    Version,
    argv_text,
    control_plane,
    resolve_actor,
    route_for,
)
from releasegate.control.deployments import FeatureState
from releasegate.deploy.model import AuditEntry, Deployment
from releasegate.deploy.plans import preset
from releasegate.errors import UsageError
from releasegate.prompts import Prompt
from releasegate.results.report import EvalReport

__all__ = ["deploy_app"]

deploy_app = typer.Typer(help="Register, approve, canary, promote and roll back versions.")
app.add_typer(deploy_app, name="deploy", no_args_is_help=True)


def _say(renderable: Text) -> None:
    # Soft wrap: a long name or key stays on one line (scripts read these lines).
    out_console.print(renderable, soft_wrap=True)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")


def _done(dep: Deployment, as_json: bool, what: str) -> None:
    if as_json:
        _print_json(dep.to_json())
    else:
        share = f" at {dep.share * 100:g}%" if dep.status.value == "canary" else ""
        _say(plain(f"{dep.ref}: {what} (status {dep.status.value}{share})"))


def _check_prompt(ref: str, config: Path | None) -> tuple[str | None, Prompt | None]:
    """Refuse a --prompt the project does not have.

    Returns:
        A warning to print once the registration succeeded when there is no project to
        check against (None when the reference was checked), and the project's prompt
        ``ref`` (None without a project), which the deployment keeps as its snapshot.
    """
    from releasegate.control.evidence import check_prompt_known
    from releasegate.project import CONFIG_NAMES, load_project

    if config is None and not any(Path(name).is_file() for name in CONFIG_NAMES):
        return (
            f"warning: --prompt {ref} not checked: no {CONFIG_NAMES[0]} here "
            "(run inside the project, or pass --config)"
        ), None
    project = load_project(config)
    shown = f"{project.config.prompts.rstrip('/')}/"
    prompts = project.prompts()
    check_prompt_known(ref, prompts, where=shown)
    return None, prompts[ref.rpartition("@")[0]]


def _load_report(path: Path | None) -> EvalReport | None:
    return EvalReport.load(path) if path is not None else None


@deploy_app.command("register")
def register(
    feature: Feature,
    version: Version,
    prompt: Annotated[
        str, typer.Option("--prompt", help="Prompt as NAME@VERSION.", callback=NameCheck)
    ],
    model: Annotated[str, typer.Option("--model", help="Pinned model name.", callback=NameCheck)],
    min_score: Annotated[
        float | None, typer.Option("--min-score", help="Lowest eval score approval accepts.")
    ] = None,
    params: Annotated[
        str | None, typer.Option("--params", help="Generation parameters as a JSON object.")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Project whose prompts --prompt must name (default: ./releasegate.yaml).",
        ),
    ] = None,
    db: Db = None,
    api: Api = None,
    actor: Actor = None,
    as_json: AsJson = False,
) -> None:
    """Register FEATURE VERSION as a pending candidate.

    Inside a project (or with --config) the prompt NAME@VERSION must be one of the
    project's prompts, and the deployment keeps a snapshot of it: the gateway serves
    this version that prompt even after the file moves on to another version.
    Elsewhere it cannot be checked (no snapshot) and a warning says so.
    """
    unchecked, snapshot = _check_prompt(prompt, config)
    parsed: dict[str, Any] = {}
    if params:
        try:
            parsed = json.loads(params)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--params is not valid JSON: {exc.msg}") from exc
        if not isinstance(parsed, dict):
            raise UsageError("--params must be a JSON object")
    who = resolve_actor(actor)
    with control_plane(db, api, create=True) as cp:
        dep = cp.register(
            feature,
            version,
            prompt=prompt,
            model=model,
            params=parsed,
            min_score=min_score,
            actor=who,
            snapshot=snapshot,
        )
    if unchecked:  # after the registration: an error stays the one line printed
        err_console.print(plain(unchecked), soft_wrap=True)
    _done(dep, as_json, "registered")


ReportOpt = Annotated[
    Path | None, typer.Option("--report", help="Eval report (JSON) backing the decision.")
]


@deploy_app.command("approve")
def approve(
    feature: Feature,
    version: Version,
    reason: Reason = "",
    report: ReportOpt = None,
    override_reason: Annotated[
        str | None,
        typer.Option(
            "--override-reason",
            help="Accept a report whose gate failed or that evaluated another prompt "
            "version or model; kept in the audit log.",
            callback=ReasonCheck,
        ),
    ] = None,
    db: Db = None,
    api: Api = None,
    actor: Actor = None,
    as_json: AsJson = False,
) -> None:
    """Approve a candidate; refuses a report that does not back it.

    A report below the deployment's --min-score or of an incomplete run is always
    refused; one whose gate failed, or of another prompt version or model, only without
    --override-reason.
    """
    with control_plane(db, api) as cp:
        dep = cp.approve(
            feature,
            version,
            actor=resolve_actor(actor),
            reason=reason,
            report=_load_report(report),
            override_reason=override_reason,
        )
    _done(dep, as_json, "approved")


@deploy_app.command("reject")
def reject(
    feature: Feature,
    version: Version,
    reason: Reason = "",
    report: ReportOpt = None,
    db: Db = None,
    api: Api = None,
    actor: Actor = None,
    as_json: AsJson = False,
) -> None:
    """Reject a candidate (final)."""
    with control_plane(db, api) as cp:
        dep = cp.reject(
            feature, version, actor=resolve_actor(actor), reason=reason, report=_load_report(report)
        )
    _done(dep, as_json, "rejected")


@deploy_app.command("canary")
def canary(
    feature: Feature,
    version: Version,
    share: Share = None,
    plan: Annotated[
        str | None, typer.Option("--plan", help="Start from a rollout plan preset.")
    ] = None,
    reason: Reason = "",
    first_release: Annotated[
        bool,
        typer.Option(
            "--first-release", help="The feature's first release: nothing to roll back to."
        ),
    ] = False,
    override_reason: Annotated[
        str | None,
        typer.Option(
            "--override-reason",
            help="Start it although it is not ready (kept in the audit log with what is missing).",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="Config file, for its online checks [./releasegate.yaml]"
        ),
    ] = None,
    db: Db = None,
    api: Api = None,
    actor: Actor = None,
    as_json: AsJson = False,
) -> None:
    """Start a canary for VERSION, or change the share of its running canary.

    A new canary needs a passing eval report (approve --report), online checks for the
    feature in releasegate.yaml, and an active version to roll back to (else
    --first-release); what is missing is listed, and --override-reason starts it anyway.
    """
    from releasegate.bootstrap import online_checks_of

    if share is None and plan is None:
        raise UsageError("give --share PERCENT (for example 5%) or --plan NAME")
    rollout = preset(plan) if plan else None
    who = resolve_actor(actor)
    checks = None if api else online_checks_of(config)
    with control_plane(db, api, online_checks=checks) as cp:
        dep = cp.canary(
            feature,
            version,
            actor=who,
            share=share,
            plan=rollout,
            reason=reason,
            first_release=first_release,
            override_reason=override_reason,
        )
    _done(dep, as_json, "canary")


@deploy_app.command("promote")
def promote(
    feature: Feature,
    version: Version,
    reason: Reason = "",
    db: Db = None,
    api: Api = None,
    actor: Actor = None,
    as_json: AsJson = False,
) -> None:
    """Make VERSION the only active version of FEATURE."""
    with control_plane(db, api) as cp:
        dep = cp.promote(feature, version, actor=resolve_actor(actor), reason=reason)
    _done(dep, as_json, "promoted")


@deploy_app.command("rollback")
def rollback(
    feature: Feature,
    reason: Annotated[str, typer.Option("--reason", help="Why (required).", callback=ReasonCheck)],
    to: Annotated[
        str | None, typer.Option("--to", help="Version to restore.", callback=NameCheck)
    ] = None,
    db: Db = None,
    api: Api = None,
    actor: Actor = None,
    as_json: AsJson = False,
) -> None:
    """Abort FEATURE's canary, or restore the previous good (or --to) version."""
    with control_plane(db, api) as cp:
        serving = cp.rollback(feature, actor=resolve_actor(actor), reason=reason, to=to)
    if as_json:
        _print_json({"serving": serving.to_json() if serving else None})
    elif serving is None:
        _say(plain(f"{feature}: canary rolled back; no active version, the fallback serves"))
    else:
        _say(plain(f"{feature}: rolled back; {serving.version} serves"))


@deploy_app.command("pause")
def pause(
    feature: Feature,
    version: Version,
    reason: Reason = "",
    db: Db = None,
    api: Api = None,
    actor: Actor = None,
    as_json: AsJson = False,
) -> None:
    """Freeze VERSION's rollout (a paused canary keeps its share but never advances)."""
    with control_plane(db, api) as cp:
        dep = cp.pause(feature, version, actor=resolve_actor(actor), reason=reason)
    _done(dep, as_json, "paused")


@deploy_app.command("resume")
def resume(
    feature: Feature,
    version: Version,
    reason: Reason = "",
    db: Db = None,
    api: Api = None,
    actor: Actor = None,
    as_json: AsJson = False,
) -> None:
    """Resume a paused VERSION where it was."""
    with control_plane(db, api) as cp:
        dep = cp.resume(feature, version, actor=resolve_actor(actor), reason=reason)
    _done(dep, as_json, "resumed")


def _percent(share: Any) -> str:
    return f"{share * 100:g}%" if isinstance(share, int | float) else "?"


def _status_rows(state: FeatureState) -> list[list[str]]:
    rows = []
    for d in state.deployments:
        share = _percent(d.share) if d.status.value in ("canary", "active", "paused") else ""
        status = d.status.value + (f" (from {d.paused_from.value})" if d.paused_from else "")
        updated = d.updated_at.strftime("%F %T")
        rows.append([d.version, status, share, d.prompt, d.model, updated, d.updated_by])
    return rows


@deploy_app.command("status")
def status(feature: Feature, db: Db = None, api: Api = None, as_json: AsJson = False) -> None:
    """Show which version serves FEATURE, its canary and every deployment."""
    with control_plane(db, api) as cp:
        state = cp.status(feature)
    if as_json:
        _print_json(state.to_json())
        return
    active = state.active.version if state.active else "none (fallback)"
    line = f"active: {active}"
    if state.canary:
        line += f"   canary: {state.canary.version} at {state.canary.share * 100:g}%"
    _say(plain(line))
    print_table(
        out_console,
        ("version", "status", "share", "prompt", "model", "updated (UTC)", "by"),
        _status_rows(state),
        title=state.feature,
    )


def _move(entry: AuditEntry) -> str:
    """The "from -> to" cell: statuses, and the traffic share where it changed."""
    ev = entry.evidence
    if "share_from" in ev or "share_to" in ev:
        return f"share {_percent(ev.get('share_from'))} -> {_percent(ev.get('share_to'))}"
    move = f"{entry.from_status or '-'} -> {entry.to_status or '-'}"
    if entry.action == "canary" and "share" in ev:
        move += f" at {_percent(ev['share'])}"
    return move


def _reason(e: AuditEntry) -> str:
    """The reason cell: the reason, and any override kept in the evidence."""
    parts = [e.reason] if e.reason else []
    override = e.evidence.get("readiness_override")
    if isinstance(override, dict) and override.get("reason"):
        missing = len(override.get("missing") or [])
        parts.append(f"override ({missing} missing): {override['reason']}")
    if e.evidence.get("override_reason"):
        parts.append(f"override: {e.evidence['override_reason']}")
    return "; ".join(parts)


def _history_rows(entries: list[AuditEntry]) -> list[list[str]]:
    return [
        [e.at.strftime("%F %T"), e.actor, e.action, e.version or "", _move(e), _reason(e)]
        for e in entries
    ]


@deploy_app.command("history")
def history(feature: Feature, db: Db = None, api: Api = None, as_json: AsJson = False) -> None:
    """Show FEATURE's audit log, oldest first."""
    with control_plane(db, api) as cp:
        entries = cp.history(feature)
    if as_json:
        _print_json([e.to_json() for e in entries])
    else:
        print_table(
            out_console,
            ("time (UTC)", "actor", "action", "version", "from -> to", "reason"),
            _history_rows(entries),
            title=f"{feature} audit log",
        )


@app.command("route")
def route(
    feature: Feature,
    unit_key: Annotated[
        str,
        typer.Argument(
            help="Sticky unit: user, session or tenant id (any text, even empty).",
            callback=argv_text,
        ),
    ],
    fallback_model: Annotated[
        str | None,
        typer.Option(
            "--fallback-model",
            help="Model when nothing is active (local store only).",
            callback=NameCheck,
        ),
    ] = None,
    db: Db = None,
    api: Api = None,
    as_json: AsJson = False,
) -> None:
    """Show which version serves UNIT_KEY for FEATURE right now."""
    result = route_for(db, api, feature, unit_key, fallback_model)
    if as_json:
        _print_json(result.to_json())
    else:
        what = result.version or "fallback"
        _say(plain(f"{feature} / {unit_key} -> {what} ({result.arm}, model {result.model})"))

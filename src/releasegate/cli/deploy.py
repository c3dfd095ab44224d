"""CLI of the deployment control plane: ``deploy ...``, ``route``, ``db``, ``token``, ``api``.

Every command acts on the local database (``--db URL`` / ``RELEASEGATE_DATABASE_URL``,
default SQLite under ``.releasegate/``) or, with ``--api URL``, through the control-plane
API using the token in ``RELEASEGATE_API_TOKEN``. The JSON printed by ``--json`` is
documented in ``docs/deployments.md``.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from releasegate.cli._app import app
from releasegate.deploy.model import AuditEntry, Deployment
from releasegate.deploy.plans import preset
from releasegate.deploy.router import Router
from releasegate.deploy.service import DeploymentService, FeatureState
from releasegate.deploy.tokens import Scope, TokenService
from releasegate.errors import ReleasegateError, UsageError
from releasegate.evals.report import EvalReport

if TYPE_CHECKING:  # httpx and SQLAlchemy: imported by the commands that use them
    from releasegate.api.client import ApiClient
    from releasegate.store.database import Database


__all__ = ["api_app", "db_app", "deploy_app", "token_app"]

deploy_app = typer.Typer(help="Register, approve, canary, promote and roll back versions.")
db_app = typer.Typer(help="Manage the releasegate database schema.")
token_app = typer.Typer(help="Create, list and revoke control-plane API tokens.")
api_app = typer.Typer(help="Run the control-plane REST API.")
app.add_typer(deploy_app, name="deploy", no_args_is_help=True)
app.add_typer(db_app, name="db", no_args_is_help=True)
app.add_typer(token_app, name="token", no_args_is_help=True)
app.add_typer(api_app, name="api", no_args_is_help=True)

ACTOR_ENV = "RELEASEGATE_ACTOR"

_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)

Db = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: $RELEASEGATE_DATABASE_URL or SQLite)."),
]
Api = Annotated[
    str | None,
    typer.Option("--api", help="Act through this API (token in $RELEASEGATE_API_TOKEN)."),
]
Actor = Annotated[
    str | None, typer.Option("--actor", help="Who acts (default: $RELEASEGATE_ACTOR or login).")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON (see docs/deployments.md).")]
Reason = Annotated[str, typer.Option("--reason", help="Why; kept in the audit log.")]
Feature = Annotated[str, typer.Argument(help="Feature name.")]
Version = Annotated[str, typer.Argument(help="Deployment version.")]


def _api_client(url: str, actor: str | None = None) -> ApiClient:
    """The control-plane API client (httpx is imported only when a command uses it)."""
    from releasegate.api.client import ApiClient

    return ApiClient(url, actor=actor) if actor is not None else ApiClient(url)


def _open_db(url: str | None, **kwargs: Any) -> Database:
    """The store (SQLAlchemy is imported only when a command uses it)."""
    from releasegate.store.database import open_database

    return open_database(url, **kwargs)


def _actor(actor: str | None) -> str:
    if actor:
        return actor
    env = os.environ.get(ACTOR_ENV)
    if env:
        return env
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@contextmanager
def _errors() -> Iterator[None]:
    """Print releasegate errors as one clear line and exit with their code."""
    try:
        yield
    except ReleasegateError as exc:
        _err.print(f"[bold red]error:[/] {exc}", markup=True)
        raise typer.Exit(int(exc.exit_code)) from None


@contextmanager
def _backend(
    db: str | None, api: str | None, actor: str | None
) -> Iterator[DeploymentService | ApiClient]:
    if api:
        client = _api_client(api, actor)
        try:
            yield client
        finally:
            client.close()
        return
    database = _open_db(db)
    try:
        yield DeploymentService(database.uow())
    finally:
        database.close()


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")


def _done(dep: Deployment, as_json: bool, what: str) -> None:
    if as_json:
        _print_json(dep.to_json())
    else:
        share = f" at {dep.share * 100:g}%" if dep.status.value == "canary" else ""
        _out.print(f"{dep.ref}: {what} (status {dep.status.value}{share})")


def _check_prompt(ref: str, config: Path | None) -> None:
    """Refuse a --prompt the project does not have; warn when there is no project."""
    from releasegate.deploy.evidence import check_prompt_known
    from releasegate.project import CONFIG_NAMES, load_project

    if config is None and not any(Path(name).is_file() for name in CONFIG_NAMES):
        _err.print(
            f"warning: --prompt {ref} not checked: no {CONFIG_NAMES[0]} here "
            "(run inside the project, or pass --config)"
        )
        return
    project = load_project(config)
    shown = f"{project.config.prompts.rstrip('/')}/"
    check_prompt_known(ref, project.prompts(), where=shown)


def _load_report(path: Path | None) -> EvalReport | None:
    return EvalReport.load(path) if path is not None else None


@deploy_app.command("register")
def register(
    feature: Feature,
    version: Version,
    prompt: Annotated[str, typer.Option("--prompt", help="Prompt as NAME@VERSION.")],
    model: Annotated[str, typer.Option("--model", help="Pinned model name.")],
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
    project's prompts; elsewhere it cannot be checked and a warning says so.
    """
    with _errors():
        _check_prompt(prompt, config)
        parsed: dict[str, Any] = {}
        if params:
            try:
                parsed = json.loads(params)
            except json.JSONDecodeError as exc:
                raise UsageError(f"--params is not valid JSON: {exc.msg}") from exc
            if not isinstance(parsed, dict):
                raise UsageError("--params must be a JSON object")
        with _backend(db, api, actor) as cp:
            dep = cp.register(
                feature,
                version,
                prompt=prompt,
                model=model,
                params=parsed,
                min_score=min_score,
                actor=_actor(actor),
            )
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
    with _errors(), _backend(db, api, actor) as cp:
        dep = cp.approve(
            feature,
            version,
            actor=_actor(actor),
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
    with _errors(), _backend(db, api, actor) as cp:
        dep = cp.reject(
            feature, version, actor=_actor(actor), reason=reason, report=_load_report(report)
        )
    _done(dep, as_json, "rejected")


@deploy_app.command("canary")
def canary(
    feature: Feature,
    version: Version,
    share: Annotated[
        float | None, typer.Option("--share", help="Traffic share in percent, e.g. 5 or 0.5.")
    ] = None,
    plan: Annotated[
        str | None, typer.Option("--plan", help="Start from a rollout plan preset.")
    ] = None,
    reason: Reason = "",
    db: Db = None,
    api: Api = None,
    actor: Actor = None,
    as_json: AsJson = False,
) -> None:
    """Start a canary for VERSION, or change the share of its running canary."""
    with _errors():
        if share is None and plan is None:
            raise UsageError("give --share PERCENT or --plan NAME")
        if share is not None and not 0.0 < share <= 100.0:
            raise UsageError(f"--share must be a percentage in (0, 100], got {share:g}")
        fraction = share / 100.0 if share is not None else None
        with _backend(db, api, actor) as cp:
            if not isinstance(cp, DeploymentService):
                dep = cp.canary(feature, version, share=fraction, plan=plan, reason=reason)
            else:
                dep = cp.canary(
                    feature,
                    version,
                    actor=_actor(actor),
                    share=fraction,
                    plan=preset(plan) if plan else None,
                    reason=reason,
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
    with _errors(), _backend(db, api, actor) as cp:
        dep = cp.promote(feature, version, actor=_actor(actor), reason=reason)
    _done(dep, as_json, "promoted")


@deploy_app.command("rollback")
def rollback(
    feature: Feature,
    reason: Annotated[str, typer.Option("--reason", help="Why (required).")],
    to: Annotated[str | None, typer.Option("--to", help="Version to restore.")] = None,
    db: Db = None,
    api: Api = None,
    actor: Actor = None,
    as_json: AsJson = False,
) -> None:
    """Abort FEATURE's canary, or restore the previous good (or --to) version."""
    with _errors(), _backend(db, api, actor) as cp:
        serving = cp.rollback(feature, actor=_actor(actor), reason=reason, to=to)
    if as_json:
        _print_json({"serving": serving.to_json() if serving else None})
    elif serving is None:
        _out.print(f"{feature}: canary rolled back; no active version, the fallback serves")
    else:
        _out.print(f"{feature}: rolled back; {serving.version} serves")


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
    with _errors(), _backend(db, api, actor) as cp:
        dep = cp.pause(feature, version, actor=_actor(actor), reason=reason)
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
    with _errors(), _backend(db, api, actor) as cp:
        dep = cp.resume(feature, version, actor=_actor(actor), reason=reason)
    _done(dep, as_json, "resumed")


def _status_table(state: FeatureState) -> Table:
    table = Table(title=f"{state.feature}", title_justify="left")
    for col in ("version", "status", "share", "prompt", "model", "updated (UTC)", "by"):
        table.add_column(col)
    for d in state.deployments:
        share = f"{d.share * 100:g}%" if d.status.value in ("canary", "active", "paused") else ""
        status = d.status.value + (f" (from {d.paused_from.value})" if d.paused_from else "")
        table.add_row(
            d.version,
            status,
            share,
            d.prompt,
            d.model,
            d.updated_at.strftime("%F %T"),
            d.updated_by,
        )
    return table


@deploy_app.command("status")
def status(feature: Feature, db: Db = None, api: Api = None, as_json: AsJson = False) -> None:
    """Show which version serves FEATURE, its canary and every deployment."""
    with _errors(), _backend(db, api, None) as cp:
        state = cp.status(feature)
    if as_json:
        _print_json(state.to_json())
        return
    active = state.active.version if state.active else "none (fallback)"
    line = f"active: {active}"
    if state.canary:
        line += f"   canary: {state.canary.version} at {state.canary.share * 100:g}%"
    _out.print(line)
    _out.print(_status_table(state))


def _history_table(feature: str, entries: list[AuditEntry]) -> Table:
    table = Table(title=f"{feature} audit log", title_justify="left")
    for col in ("time (UTC)", "actor", "action", "version", "from -> to", "reason"):
        table.add_column(col)
    for e in entries:
        move = f"{e.from_status or '-'} -> {e.to_status or '-'}"
        table.add_row(e.at.strftime("%F %T"), e.actor, e.action, e.version or "", move, e.reason)
    return table


@deploy_app.command("history")
def history(feature: Feature, db: Db = None, api: Api = None, as_json: AsJson = False) -> None:
    """Show FEATURE's audit log, oldest first."""
    with _errors(), _backend(db, api, None) as cp:
        entries = cp.history(feature)
    if as_json:
        _print_json([e.to_json() for e in entries])
    else:
        _out.print(_history_table(feature, entries))


@app.command("route")
def route(
    feature: Feature,
    unit_key: Annotated[str, typer.Argument(help="Sticky unit: user, session or tenant id.")],
    fallback_model: Annotated[
        str | None, typer.Option("--fallback-model", help="Model when nothing is active.")
    ] = None,
    db: Db = None,
    api: Api = None,
    as_json: AsJson = False,
) -> None:
    """Show which version serves UNIT_KEY for FEATURE right now."""
    with _errors():
        if api:
            client = _api_client(api)
            try:
                result = client.route(feature, unit_key)
            finally:
                client.close()
        else:
            database = _open_db(db)
            try:
                router = Router(
                    lambda: database.uow(write=False), fallback_model=fallback_model, ttl_s=0.0
                )
                result = router.route(feature, unit_key)
            finally:
                database.close()
    if as_json:
        _print_json(result.to_json())
    else:
        what = result.version or "fallback"
        _out.print(f"{feature} / {unit_key} -> {what} ({result.arm}, model {result.model})")


@db_app.command("upgrade")
def db_upgrade(db: Db = None) -> None:
    """Apply every pending schema migration."""
    with _errors():
        database: Database = _open_db(db, check_schema=False)
        try:
            applied = database.upgrade()
            now = database.revision()
        finally:
            database.close()
        if applied:
            _out.print(
                f"database {database.safe_url}: applied {len(applied)} migration(s): "
                f"{', '.join(applied)}; now at {now}"
            )
        else:
            _out.print(f"database {database.safe_url} was already up to date (at {now})")


@contextmanager
def _tokens_ctx(db: str | None) -> Iterator[TokenService]:
    database = _open_db(db)
    try:
        yield TokenService(database.uow())
    finally:
        database.close()


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="A name for the token (unique).")],
    scope: Annotated[str, typer.Option("--scope", help="read, operate or admin.")] = "read",
    db: Db = None,
    api: Api = None,
    actor: Actor = None,
    as_json: AsJson = False,
) -> None:
    """Create a token; its secret is printed once and stored only hashed."""
    with _errors():
        parsed = Scope.parse(scope)
        if api:
            client = _api_client(api, actor)
            try:
                token, secret = client.create_token(name, parsed.label)
            finally:
                client.close()
        else:
            with _tokens_ctx(db) as svc:
                created = svc.create(name, parsed, actor=_actor(actor))
            token, secret = created.token, created.secret
    if as_json:
        _print_json({**token.to_json(), "token": secret})
    else:
        _out.print(f"token {token.name!r} ({token.scope}) created; it is shown only once:")
        sys.stdout.write(secret + "\n")


@token_app.command("list")
def token_list(db: Db = None, api: Api = None, as_json: AsJson = False) -> None:
    """List tokens (names, scopes, prefixes; never secrets)."""
    with _errors():
        if api:
            client = _api_client(api)
            try:
                tokens = client.list_tokens()
            finally:
                client.close()
        else:
            with _tokens_ctx(db) as svc:
                tokens = svc.list()
    if as_json:
        _print_json([t.to_json() for t in tokens])
        return
    table = Table()
    for col in ("name", "scope", "prefix", "created (UTC)", "revoked (UTC)"):
        table.add_column(col)
    for t in tokens:
        revoked = t.revoked_at.strftime("%F %T") if t.revoked_at else ""
        table.add_row(t.name, t.scope, t.prefix + "...", t.created_at.strftime("%F %T"), revoked)
    _out.print(table)


@token_app.command("revoke")
def token_revoke(
    name: Annotated[str, typer.Argument(help="Token name.")],
    db: Db = None,
    api: Api = None,
    actor: Actor = None,
) -> None:
    """Revoke a token at once."""
    with _errors():
        if api:
            client = _api_client(api, actor)
            try:
                client.revoke_token(name)
            finally:
                client.close()
        else:
            with _tokens_ctx(db) as svc:
                svc.revoke(name, actor=_actor(actor))
    _out.print(f"token {name!r} revoked")


@api_app.command("serve")
def api_serve(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8700,
    fallback_model: Annotated[str | None, typer.Option("--fallback-model")] = None,
    db: Db = None,
) -> None:
    """Serve the control-plane API (OpenAPI at /docs) with uvicorn."""
    import uvicorn

    from releasegate.api.app import create_app

    with _errors():
        database = _open_db(db)
    try:
        uvicorn.run(
            create_app(database.uow, fallback_model=fallback_model),
            host=host,
            port=port,
            log_level="warning",
        )
    finally:
        database.close()

"""Where the control-plane commands act: the local store or the API, behind one interface.

:class:`ControlPlane` is what ``deploy ...`` needs; both
:class:`~releasegate.control.deployments.DeploymentService` (local) and
:class:`~releasegate.api.client.ApiClient` (``--api URL``) implement it, and mypy checks
that they do (see :func:`_local_plane` and :func:`_api_plane`). :class:`TokenControl` is
the same for ``token ...``. The commands never branch on the backend, so a command
behaves the same locally and through the API.

The shared options and their checks live here too: every value a user types is checked
when the command line is parsed (exit 2 with the option's name), and the actor is
resolved once, the same way for both backends.
"""

from __future__ import annotations

import getpass
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import typer

from releasegate import settings as _settings
from releasegate.bootstrap import ControlPlaneParts, open_database
from releasegate.control.deployments import DeploymentService, FeatureState
from releasegate.control.readiness import OnlineChecks
from releasegate.control.tokens import TokenService
from releasegate.deploy.model import ApiToken, AuditEntry, Deployment
from releasegate.deploy.plans import RolloutPlan
from releasegate.deploy.tokens import Scope
from releasegate.deploy.values import check_reason, clean_actor, describe_char
from releasegate.errors import NotFound, UsageError
from releasegate.results.report import EvalReport

if TYPE_CHECKING:  # httpx and SQLAlchemy: imported by the commands that use them
    from releasegate.api.client import ApiClient
    from releasegate.control.router import Route
    from releasegate.prompts import Prompt
    from releasegate.store.database import Database

__all__ = [
    "ACTOR_ENV",
    "Actor",
    "Api",
    "AsJson",
    "ControlPlane",
    "Db",
    "Feature",
    "NameCheck",
    "Reason",
    "ReasonCheck",
    "Share",
    "TokenControl",
    "Version",
    "argv_text",
    "control_plane",
    "open_db",
    "parse_share",
    "resolve_actor",
    "route_for",
    "store_errors",
    "token_control",
]

ACTOR_ENV = "RELEASEGATE_ACTOR"


class ControlPlane(Protocol):
    """The deployment operations, wherever they run (local store or API)."""

    def register(
        self,
        feature: str,
        version: str,
        *,
        prompt: str,
        model: str,
        params: dict[str, Any] | None = None,
        min_score: float | None = None,
        actor: str,
        snapshot: Prompt | None = None,
    ) -> Deployment: ...

    def approve(
        self,
        feature: str,
        version: str,
        *,
        actor: str,
        reason: str = "",
        report: EvalReport | None = None,
        override_reason: str | None = None,
    ) -> Deployment: ...

    def reject(
        self,
        feature: str,
        version: str,
        *,
        actor: str,
        reason: str = "",
        report: EvalReport | None = None,
    ) -> Deployment: ...

    def canary(
        self,
        feature: str,
        version: str,
        *,
        actor: str,
        share: float | None = None,
        plan: RolloutPlan | None = None,
        reason: str = "",
        first_release: bool = False,
        override_reason: str | None = None,
    ) -> Deployment: ...

    def promote(
        self, feature: str, version: str, *, actor: str, reason: str = ""
    ) -> Deployment: ...

    def pause(self, feature: str, version: str, *, actor: str, reason: str = "") -> Deployment: ...

    def resume(self, feature: str, version: str, *, actor: str, reason: str = "") -> Deployment: ...

    def rollback(
        self, feature: str, *, actor: str, reason: str, to: str | None = None
    ) -> Deployment | None: ...

    def get(self, feature: str, version: str) -> Deployment: ...

    def features(self) -> list[str]: ...

    def status(self, feature: str) -> FeatureState: ...

    def history(self, feature: str) -> list[AuditEntry]: ...


class TokenControl(Protocol):
    """Token operations, wherever they run."""

    def create_token(self, name: str, scope: Scope, *, actor: str) -> tuple[ApiToken, str]: ...

    def list_tokens(self) -> list[ApiToken]: ...

    def revoke_token(self, name: str, *, actor: str) -> ApiToken: ...


class _LocalTokens:
    """:class:`TokenService` under the :class:`TokenControl` names."""

    def __init__(self, service: TokenService) -> None:
        self._service = service

    def create_token(self, name: str, scope: Scope, *, actor: str) -> tuple[ApiToken, str]:
        created = self._service.create(name, scope, actor=actor)
        return created.token, created.secret

    def list_tokens(self) -> list[ApiToken]:
        return self._service.list()

    def revoke_token(self, name: str, *, actor: str) -> ApiToken:
        return self._service.revoke(name, actor=actor)


# -- option checks (run while the command line is parsed: exit 2 naming the option) --


def _name_check(value: str | None) -> str | None:
    if value is None:
        return None
    bad = next((i for i, ch in enumerate(value) if 0xD800 <= ord(ch) <= 0xDFFF), None)
    if bad is not None:
        raise typer.BadParameter(
            f"not valid text: character {bad + 1} is {describe_char(value[bad])}"
        )
    return value


def _reason_check(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return check_reason(value, source="the value")
    except UsageError as exc:
        raise typer.BadParameter(str(exc)) from None


def _actor_check(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return clean_actor(value, source="the value")
    except UsageError as exc:
        raise typer.BadParameter(str(exc)) from None


_NUMBER = re.compile(r"\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(%?)\s*")
SHARE_FORMS = "a percentage with a % sign, from 0% to 100% (10%, 0.5%)"


def parse_share(text: str) -> float:
    """A traffic share as typed: a percentage with its ``%`` sign (``10%``, ``0.5%``).

    A bare number is refused rather than guessed: earlier versions read ``0.5`` as half a
    percent, while the API's JSON uses fractions, so either reading would surprise
    someone.

    Returns:
        The share as a fraction in [0, 1].

    Raises:
        UsageError: anything else (``10``, ``0.1``, ``150%``, ``-5%``, ``ten``), echoing
            the value given and the accepted form.
    """
    match = _NUMBER.fullmatch(text)
    if match is not None and match.group(2):
        share = float(match.group(1)) / 100.0
        if math.isfinite(share) and 0.0 <= share <= 1.0:
            return share
    hint = ""
    if match is not None and not match.group(2) and float(match.group(1)) <= 100.0:
        hint = f" (for {match.group(1)} percent write {match.group(1)}%)"
    raise UsageError(f"{text!r} is not a traffic share{hint}; give {SHARE_FORMS}")


def _share_check(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        share = parse_share(value)
    except UsageError as exc:
        raise typer.BadParameter(str(exc)) from None
    if share == 0.0:
        raise typer.BadParameter(f"{value!r} is no traffic; a canary needs a share above 0")
    return share


def argv_text(value: str) -> str:
    """A command-line argument as text: bytes that are not UTF-8 (which Python hands
    over as ``surrogateescape`` code points) become U+FFFD, exactly as the API decodes a
    percent-encoded query parameter, so ``$'caf\\xe9'`` means ``caf\\ufffd`` in both."""
    try:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a surrogate that no byte produced: leave it to the hash rule
        return value


Db = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: $RELEASEGATE_DATABASE_URL or SQLite)."),
]
Api = Annotated[
    str | None,
    typer.Option("--api", help="Act through this API (token in $RELEASEGATE_API_TOKEN)."),
]
Actor = Annotated[
    str | None,
    typer.Option(
        "--actor",
        help="Who acts (default: $RELEASEGATE_ACTOR, else the login name); never blank.",
        callback=_actor_check,
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON (see docs/deployments.md).")]
Reason = Annotated[
    str, typer.Option("--reason", help="Why; kept in the audit log.", callback=_reason_check)
]
Feature = Annotated[str, typer.Argument(help="Feature name.", callback=_name_check)]
Version = Annotated[str, typer.Argument(help="Deployment version.", callback=_name_check)]
Share = Annotated[
    float | None,
    typer.Option(
        "--share",
        help="Traffic share: a percentage with % (5%) or a fraction from 0 to 1 (0.05).",
        parser=_share_check,
        metavar="SHARE",
    ),
]
NameCheck = _name_check
ReasonCheck = _reason_check


def resolve_actor(option: str | None) -> str:
    """Who acts: ``--actor``, else ``$RELEASEGATE_ACTOR`` (empty means unset), else the
    login name. The same value is recorded locally and sent to the API.

    Raises:
        UsageError: a blank or malformed value, naming where it came from.
    """
    if option is not None:
        return clean_actor(option, source="--actor")
    env = _settings.current().actor
    if env:
        return clean_actor(env, source=ACTOR_ENV)
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
    try:
        return clean_actor(login, source="the login name")
    except UsageError:
        return "unknown"


def open_db(url: str | None, *, create: bool = False, **kwargs: Any) -> Database:
    """The store, built by :func:`releasegate.bootstrap.open_database` (SQLAlchemy is
    imported only when a command uses it). Only commands that write pass
    ``create=True``: a read never creates a database or its folder."""
    with store_errors():
        return open_database(url, create=create, **kwargs)


@contextmanager
def _control_parts(
    db: str | None, *, create: bool = False, online_checks: OnlineChecks | None = None
) -> Iterator[ControlPlaneParts]:
    """The control-plane services on the store at ``db``; closed when the block ends."""
    database = open_db(db, create=create)
    try:
        with store_errors(), naming(f"database {database.safe_url}"):
            parts = ControlPlaneParts.on_database(database)
            parts.online_checks = online_checks
            yield parts
    finally:
        database.close()


@contextmanager
def naming(source: str) -> Iterator[None]:
    """Add what was read (``database URL`` or ``API URL``) to a "not found" error: a
    typo'd --db or --api reads an empty or another store."""
    try:
        yield
    except NotFound as exc:
        exc.args = (f"{exc} ({source})",)
        raise


@contextmanager
def store_errors() -> Iterator[None]:
    """A database that cannot be reached is a clear error (exit 2), like an API that
    cannot be reached, not an internal error; the message never holds a password."""
    from sqlalchemy.exc import OperationalError

    try:
        yield
    except OperationalError as exc:
        first = str(exc.orig or exc).strip().splitlines()[0]
        raise UsageError(f"cannot use the database: {first}") from None


def _api_client(url: str) -> ApiClient:
    """The control-plane API client (httpx is imported only when a command uses it)."""
    from releasegate.api.client import ApiClient

    return ApiClient(url)


def _local_plane(parts: ControlPlaneParts) -> ControlPlane:
    service: DeploymentService = parts.deployments()
    return service


def _api_plane(client: ApiClient) -> ControlPlane:
    return client


@contextmanager
def control_plane(
    db: str | None,
    api: str | None,
    *,
    create: bool = False,
    online_checks: OnlineChecks | None = None,
) -> Iterator[ControlPlane]:
    """The deployment operations on ``--api URL`` if given, else on the store (created
    only when ``create``: commands that write). ``online_checks`` turns on the canary
    readiness check of the local store (through the API, the server applies its own)."""
    if api:
        client = _api_client(api)
        try:
            with naming(f"API {client.safe_url}"):
                yield _api_plane(client)
        finally:
            client.close()
        return
    with _control_parts(db, create=create, online_checks=online_checks) as parts:
        yield _local_plane(parts)


def _api_tokens(client: ApiClient) -> TokenControl:
    return client


@contextmanager
def token_control(
    db: str | None, api: str | None, *, create: bool = False
) -> Iterator[TokenControl]:
    """The token operations on ``--api URL`` if given, else on the store (created only
    when ``create``)."""
    if api:
        client = _api_client(api)
        try:
            with naming(f"API {client.safe_url}"):
                yield _api_tokens(client)
        finally:
            client.close()
        return
    with _control_parts(db, create=create) as parts:
        yield _LocalTokens(parts.tokens())


def route_for(
    db: str | None, api: str | None, feature: str, unit_key: str, fallback_model: str | None
) -> Route:
    """The route for ``unit_key``: through the API, or with a :class:`Router` on the store
    (reading the current state: no cache)."""
    if api:
        if fallback_model is not None:
            raise UsageError(
                "--fallback-model applies to the local store only; the API serves its own "
                "(api serve --fallback-model)"
            )
        client = _api_client(api)
        try:
            with naming(f"API {client.safe_url}"):
                return client.route(feature, unit_key)
        finally:
            client.close()
    with _control_parts(db) as parts:
        return parts.router(fallback_model=fallback_model, ttl_s=0.0).route(feature, unit_key)

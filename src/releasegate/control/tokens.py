"""The token service: create, list, revoke and check API tokens.

API tokens: created once in clear, stored only as a SHA-256 hash, each with a scope.

Scopes are ordered: ``read`` (status, history, route) < ``operate`` (register, approve,
canary, promote, rollback, pause) < ``admin`` (tokens). A token grants its scope and every
lower one. Token records and their audit trail are admin matters: they are read only
through this service (the API serves them to admin tokens only), never as a feature's
history. Tokens are 256-bit random strings, so a plain SHA-256 (no salt, no slow hash)
is enough: there is nothing to brute-force, and lookups stay a single indexed query.
"""

from __future__ import annotations

import builtins
import hmac
import secrets

from releasegate.deploy.model import ApiToken, AuditEntry
from releasegate.deploy.names import (
    MAX_TOKEN_NAME,
    TOKENS_AUDIT_FEATURE,
    check_actor,
    check_lookup,
    check_name,
)
from releasegate.deploy.tokens import TOKEN_PREFIX, CreatedToken, Scope, hash_token
from releasegate.errors import DeploymentError, NotFound, UsageError
from releasegate.ports import Clock, SystemClock, UnitOfWork

__all__ = ["TokenService"]

_ACTIONS = frozenset({"token_create", "token_revoke"})


class TokenService:
    """Create, list, revoke and check API tokens.

    Args:
        uow: The unit of work; it is entered once per operation.
        clock: Stamps creations, revocations and audit entries (default: the system's
            UTC time).
    """

    def __init__(self, uow: UnitOfWork, *, clock: Clock | None = None) -> None:
        self.uow = uow
        self.clock: Clock = clock if clock is not None else SystemClock()

    def create(self, name: str, scope: Scope, *, actor: str) -> CreatedToken:
        """Create a token named ``name`` (the name grammar of features, see
        :mod:`releasegate.deploy.names`); the secret is in the result, shown once.

        Raises:
            UsageError: for a name or actor that breaks its rule.
            DeploymentError: when the name is taken.
        """
        if not name.strip():
            raise UsageError("a token needs a name")
        check_name("token name", name, MAX_TOKEN_NAME)
        check_actor(actor)
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.uow:
            if self.uow.tokens.by_name(name) is not None:
                raise DeploymentError(f"a token named {name!r} already exists")
            token = self.uow.tokens.add(
                ApiToken(
                    name=name,
                    scope=scope.label,
                    token_hash=hash_token(secret),
                    prefix=secret[: len(TOKEN_PREFIX) + 6],
                    created_by=actor,
                    created_at=self.clock.now(),
                )
            )
            self._audit("token_create", actor, name, {"scope": scope.label})
            self.uow.commit()
        return CreatedToken(token=token, secret=secret)

    def list(self) -> list[ApiToken]:
        with self.uow:
            return self.uow.tokens.all()

    def history(self) -> builtins.list[AuditEntry]:
        """The token audit trail (creations and revocations), oldest first."""
        with self.uow:
            entries = self.uow.audit.for_feature(TOKENS_AUDIT_FEATURE)
        # Only the entries this service wrote: a deployment registered under the reserved
        # name by an earlier release never passes for a token change.
        return [e for e in entries if e.version is None and e.action in _ACTIONS]

    def revoke(self, name: str, *, actor: str) -> ApiToken:
        """Revoke the token named ``name`` at once.

        Raises:
            NotFound: no such token.
            DeploymentError: already revoked.
        """
        check_lookup("token name", name)
        check_actor(actor)
        with self.uow:
            token = self.uow.tokens.by_name(name)
            if token is None:
                raise NotFound(f"no token named {name!r}")
            if token.revoked_at is not None:
                raise DeploymentError(f"token {name!r} is already revoked")
            token.revoked_at = self.clock.now()
            self.uow.tokens.update(token)
            self._audit("token_revoke", actor, name, {})
            self.uow.commit()
            return token

    def authenticate(self, secret: str) -> ApiToken | None:
        """The live token matching ``secret``, or None (unknown or revoked)."""
        digest = hash_token(secret)
        with self.uow:
            token = self.uow.tokens.by_hash(digest)
        if token is None or token.revoked_at is not None:
            return None
        # The lookup is by hash; compare again in constant time for good measure.
        return token if hmac.compare_digest(token.token_hash, digest) else None

    def _audit(self, action: str, actor: str, name: str, evidence: dict[str, str]) -> None:
        # Token changes are audited under a reserved pseudo-feature.
        self.uow.audit.append(
            AuditEntry(
                feature=TOKENS_AUDIT_FEATURE,
                action=action,
                actor=actor,
                reason=name,
                evidence=evidence,
                at=self.clock.now(),
            )
        )

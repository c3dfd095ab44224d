"""API tokens: created once in clear, stored only as a SHA-256 hash, each with a scope.

Scopes are ordered: ``read`` (status, history, route) < ``operate`` (register, approve,
canary, promote, rollback, pause) < ``admin`` (tokens). A token grants its scope and every
lower one. Token records and their audit trail are admin matters: they are read only
through this service (the API serves them to admin tokens only), never as a feature's
history. Tokens are 256-bit random strings, so a plain SHA-256 (no salt, no slow hash)
is enough: there is nothing to brute-force, and lookups stay a single indexed query.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import IntEnum

from releasegate.deploy.model import ApiToken
from releasegate.errors import UsageError

__all__ = ["TOKEN_PREFIX", "CreatedToken", "Scope", "hash_token"]

TOKEN_PREFIX = "rg_"


class Scope(IntEnum):
    """What a token may do; a higher scope includes the lower ones."""

    READ = 1
    OPERATE = 2
    ADMIN = 3

    @classmethod
    def parse(cls, name: str) -> Scope:
        try:
            return cls[name.strip().upper()]
        except KeyError:
            raise UsageError(
                f"unknown scope {name!r} (known: {', '.join(s.name.lower() for s in cls)})"
            ) from None

    @property
    def label(self) -> str:
        return self.name.lower()


def hash_token(secret: str) -> str:
    """Hex SHA-256 of a token, the only form that is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class CreatedToken:
    """A new token: ``secret`` is shown once and never stored."""

    token: ApiToken
    secret: str

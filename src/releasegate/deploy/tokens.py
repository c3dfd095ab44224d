"""API tokens: created once in clear, stored only as a SHA-256 hash, each with a scope.

Scopes are ordered: ``read`` (status, history, route) < ``operate`` (register, approve,
canary, promote, rollback, pause) < ``admin`` (tokens). A token grants its scope and every
lower one. ``ingest`` (record interactions and feedback) stands beside that ladder: an
ingest token can only write production records, never read or operate -- it is the
token an application holds -- and only ``admin`` grants ingest besides it, so a read or
operate token held by a person or CI cannot write production data. Token records and
their audit trail are admin matters: they are read only through this service (the API
serves them to admin tokens only), never as a feature's history. Tokens are 256-bit
random strings, so a plain SHA-256 (no salt, no slow hash) is enough: there is nothing
to brute-force, and lookups stay a single indexed query.
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
    """What a token may do; a higher scope includes the lower ones, except ``INGEST``.

    ``INGEST`` is outside the ordering: use :meth:`grants`, never ``>=``, to decide what
    a token may do. Its value 0 keeps it below ``READ`` so that an accidental ``>=``
    comparison can only refuse it, never admit it to a read or operate route.
    """

    INGEST = 0
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

    def grants(self, needed: Scope) -> bool:
        """Whether a token of this scope may call a route that needs ``needed``.

        ``admin`` grants everything; ``ingest`` grants only ``ingest`` and is granted
        only by ``ingest`` and ``admin``; otherwise a scope grants itself and the lower
        ones.
        """
        if self is Scope.ADMIN or self is needed:
            return True
        if Scope.INGEST in (self, needed):
            return False
        return self >= needed

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

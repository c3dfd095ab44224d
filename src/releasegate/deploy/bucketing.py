"""Sticky, reproducible traffic bucketing (SPEC R-2.2); see ``docs/bucketing.md``.

``bucket(salt, unit_key)`` maps a unit (user, session or tenant id) to a number in
[0, 1). The first 8 bytes of ``SHA-256(utf8(salt + ":" + unit_key))`` are read as a
big-endian unsigned 64-bit integer, the top 53 bits are kept and scaled by 2**-53. A
double represents every multiple of 2**-53 in [0, 1) exactly, so any language computes
bit-identical values and a unit never lands on 1.0 by rounding.

A unit is in the canary iff ``bucket(salt, unit_key) < share``. With the salt fixed for
the whole rollout, raising the share can only add units to the canary.
"""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["SCALE", "bucket", "in_canary", "new_salt"]

SCALE = 2.0**-53
"""Multiplier from the 53-bit integer to [0, 1)."""

_sha256 = hashlib.sha256


def bucket(salt: str, unit_key: str) -> float:
    """Position of ``unit_key`` in [0, 1) for the rollout identified by ``salt``.

    Args:
        salt: The rollout's salt (stored on the canary deployment).
        unit_key: The sticky unit: a user, session or tenant id.

    Returns:
        A float ``x`` with ``0 <= x < 1``, uniform over units, fixed for a given pair.
    """
    digest = _sha256(f"{salt}:{unit_key}".encode()).digest()
    return (int.from_bytes(digest[:8], "big") >> 11) * SCALE


def in_canary(salt: str, unit_key: str, share: float) -> bool:
    """True when the unit falls inside the canary's ``share`` (a fraction in [0, 1])."""
    return bucket(salt, unit_key) < share


def new_salt() -> str:
    """A fresh rollout salt: 16 random hex characters (64 bits)."""
    return secrets.token_hex(8)

"""Sticky, reproducible traffic bucketing; see ``docs/bucketing.md``.

``bucket(salt, unit_key)`` maps a unit (user, session or tenant id) to a number in
[0, 1). The first 8 bytes of ``SHA-256(key_bytes(salt + ":" + unit_key))`` are read as
a big-endian unsigned 64-bit integer, the top 53 bits are kept and scaled by 2**-53. A
double represents every multiple of 2**-53 in [0, 1) exactly, so any language computes
bit-identical values and a unit never lands on 1.0 by rounding.

A unit is in the canary iff ``bucket(salt, unit_key) < share``. With the salt fixed for
the whole rollout, raising the share can only add units to the canary.

:func:`key_bytes` is the one rule that turns text into the hashed bytes: UTF-8, after
any surrogate code point that is not part of a high/low pair is replaced by U+FFFD
(what JavaScript's ``TextEncoder`` does). Keys made of valid Unicode are unaffected.
"""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["SCALE", "bucket", "in_canary", "key_bytes", "new_salt", "scalar_text"]

SCALE = 2.0**-53
"""Multiplier from the 53-bit integer to [0, 1)."""

_sha256 = hashlib.sha256


def scalar_text(text: str) -> str:
    """``text`` as a string of Unicode scalar values.

    A high surrogate followed by a low surrogate becomes the code point they encode;
    every other surrogate (a lone one from JSON ``"\\ud800"``, or one Python's
    ``surrogateescape`` made of an undecodable byte) becomes U+FFFD. Text without
    surrogates is returned unchanged.
    """
    try:
        text.encode()
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def key_bytes(text: str) -> bytes:
    """The bytes hashed for ``text``: UTF-8 of :func:`scalar_text` (never raises)."""
    try:
        return text.encode()
    except UnicodeEncodeError:
        return scalar_text(text).encode()


def bucket(salt: str, unit_key: str) -> float:
    """Position of ``unit_key`` in [0, 1) for the rollout identified by ``salt``.

    Args:
        salt: The rollout's salt (stored on the canary deployment).
        unit_key: The sticky unit: a user, session or tenant id. Any string; see
            :func:`key_bytes` for strings that are not valid Unicode.

    Returns:
        A float ``x`` with ``0 <= x < 1``, uniform over units, fixed for a given pair.
    """
    digest = _sha256(key_bytes(f"{salt}:{unit_key}")).digest()
    return (int.from_bytes(digest[:8], "big") >> 11) * SCALE


def in_canary(salt: str, unit_key: str, share: float) -> bool:
    """True when the unit falls inside the canary's ``share`` (a fraction in [0, 1])."""
    return bucket(salt, unit_key) < share


def new_salt() -> str:
    """A fresh rollout salt: 16 random hex characters (64 bits)."""
    return secrets.token_hex(8)

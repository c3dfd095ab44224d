"""Dashboard sessions: a signed cookie naming the token, and CSRF tokens bound to it.

The cookie holds no secret that works anywhere else: the token's name, a keyed
fingerprint of the token's stored hash (so a revoked token recreated under the same name
does not inherit old sessions), a random session id and an expiry, signed with
HMAC-SHA256 under the dashboard's key. Each request looks the token up again, so a
revocation or a scope change applies at once. CSRF tokens are an HMAC of the session
id: a form is accepted only with the token of the session that sent it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from releasegate.deploy.model import ApiToken

__all__ = ["COOKIE", "LOGIN_COOKIE", "Session", "Signer"]

COOKIE = "releasegate_session"
LOGIN_COOKIE = "releasegate_login"
#: How long a sign-in lasts (seconds).
SESSION_TTL_S = 12 * 3600


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser: which token, which session, until when (Unix seconds)."""

    token_name: str
    fingerprint: str
    sid: str
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Signs and checks session cookies and CSRF tokens under one secret key.

    Args:
        key: The secret (at least 32 bytes; a random one per process by default, so
            sessions end when the server restarts).
    """

    def __init__(self, key: bytes | None = None) -> None:
        key = key if key is not None else secrets.token_bytes(32)
        if len(key) < 32:
            raise ValueError("the dashboard's session key must be at least 32 bytes")
        self._key = key

    def _mac(self, purpose: str, data: str) -> str:
        digest = hmac.new(self._key, f"{purpose}\0{data}".encode(), hashlib.sha256).digest()
        return _b64(digest)

    def fingerprint(self, token: ApiToken) -> str:
        """A keyed fingerprint of a token's stored hash (not usable as a token)."""
        return self._mac("fingerprint", token.token_hash)[:22]

    def new_session(self, token: ApiToken, *, now: float | None = None) -> str:
        """A cookie value for a fresh sign-in with ``token``."""
        now = time.time() if now is None else now
        body = {
            "n": token.name,
            "f": self.fingerprint(token),
            "s": secrets.token_urlsafe(16),
            "e": int(now + SESSION_TTL_S),
        }
        payload = _b64(json.dumps(body, separators=(",", ":")).encode())
        return f"{payload}.{self._mac('session', payload)}"

    def read_session(self, value: str | None, *, now: float | None = None) -> Session | None:
        """The session in a cookie value, or None when it is missing, forged or expired."""
        if not value or value.count(".") != 1:
            return None
        payload, mac = value.split(".")
        if not hmac.compare_digest(mac, self._mac("session", payload)):
            return None
        try:
            body = json.loads(_unb64(payload))
            session = Session(str(body["n"]), str(body["f"]), str(body["s"]), int(body["e"]))
        except (ValueError, KeyError, TypeError):
            return None
        if session.expires < (time.time() if now is None else now):
            return None
        return session

    def csrf(self, sid: str) -> str:
        """The CSRF token of the session ``sid`` (or of a sign-in form's nonce)."""
        return self._mac("csrf", sid)

    def check_csrf(self, sid: str, sent: str | None) -> bool:
        """Whether ``sent`` is the CSRF token of ``sid``."""
        return bool(sent) and hmac.compare_digest(str(sent), self.csrf(sid))

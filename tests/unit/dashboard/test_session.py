"""Session cookies and CSRF tokens: signed, bound to the token, refused when forged."""

from __future__ import annotations

import pytest

from releasegate.dashboard._session import SESSION_TTL_S, Signer
from releasegate.deploy.model import ApiToken

TOKEN = ApiToken(name="oncall", scope="operate", token_hash="ab" * 32, prefix="rg_ab")


def test_a_session_round_trips_and_holds_no_token_secret() -> None:
    signer = Signer(b"k" * 32)
    value = signer.new_session(TOKEN, now=1000.0)
    session = signer.read_session(value, now=1001.0)
    assert session is not None and session.token_name == "oncall"
    assert session.fingerprint == signer.fingerprint(TOKEN)
    assert TOKEN.token_hash not in value
    assert session.expires == 1000 + SESSION_TTL_S


@pytest.mark.parametrize(
    "mangle",
    [
        lambda v: v[:-2] + ("AA" if not v.endswith("AA") else "BB"),  # signature changed
        lambda v: "eyJuIjoiYWRtaW4ifQ" + v[v.index(".") :],  # payload swapped
        lambda v: v.replace(".", ""),  # no signature
        lambda v: "",
        lambda v: v + ".x",
    ],
)
def test_a_forged_cookie_is_refused(mangle: object) -> None:
    signer = Signer(b"k" * 32)
    value = signer.new_session(TOKEN, now=1000.0)
    assert signer.read_session(mangle(value), now=1001.0) is None  # type: ignore[operator]


def test_another_key_or_an_expired_session_is_refused() -> None:
    value = Signer(b"k" * 32).new_session(TOKEN, now=1000.0)
    assert Signer(b"j" * 32).read_session(value, now=1001.0) is None
    assert Signer(b"k" * 32).read_session(value, now=1000.0 + SESSION_TTL_S + 1) is None


def test_csrf_tokens_are_bound_to_their_session() -> None:
    signer = Signer(b"k" * 32)
    assert signer.check_csrf("sid-1", signer.csrf("sid-1"))
    assert not signer.check_csrf("sid-2", signer.csrf("sid-1"))
    assert not signer.check_csrf("sid-1", None)
    assert not signer.check_csrf("sid-1", "")


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        Signer(b"short")

"""Values that travel in headers or land in the audit log: tokens, actors, reasons."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from releasegate.deploy.values import (
    check_reason,
    clean_actor,
    clean_token,
    decode_actor,
    encode_actor,
)
from releasegate.errors import UsageError

SECRET = "rg_AbCdEf0123456789-_xyzXYZ0123456789abcdefgh"


@pytest.mark.parametrize("padded", [SECRET + "\n", f"  {SECRET}\r\n", f"\t{SECRET} ", SECRET])
def test_token_whitespace_around_is_trimmed(padded: str) -> None:
    assert clean_token(padded, source="RELEASEGATE_API_TOKEN") == SECRET


@pytest.mark.parametrize(
    ("token", "kind"),
    [
        (SECRET[:12] + "\n" + SECRET[12:], "control character (U+000A)"),
        (SECRET[:12] + "\r\n" + SECRET[12:], "control character (U+000D)"),
        (SECRET + "\x00", "control character (U+0000)"),
        (SECRET[:5] + "\x7f" + SECRET[5:], "control character (U+007F)"),
        ("Bearer " + SECRET, "a space"),
        (SECRET + "é", "non-ASCII character"),
        (SECRET + "\u2603", "non-ASCII character"),
        (SECRET[:20] + "\u00a0" + SECRET[20:], "a space"),
    ],
)
def test_malformed_tokens_are_refused_without_echoing_them(token: str, kind: str) -> None:
    with pytest.raises(UsageError) as info:
        clean_token(token, source="RELEASEGATE_API_TOKEN")
    message = str(info.value)
    assert message.startswith("RELEASEGATE_API_TOKEN is malformed") and kind in message
    assert SECRET[9:] not in message and SECRET[3:9] not in message


@pytest.mark.parametrize("blank", ["", "   ", "\n", "\t \r\n"])
def test_blank_token_and_actor_are_refused(blank: str) -> None:
    with pytest.raises(UsageError, match="empty"):
        clean_token(blank, source="RELEASEGATE_API_TOKEN")
    with pytest.raises(UsageError, match="--actor must not be blank"):
        clean_actor(blank, source="--actor")


@pytest.mark.parametrize("actor", ["x\r\ny", "a\x00b", "\x1b[31mred", "tab\there", "a\udce9"])
def test_actor_with_control_characters_is_refused_by_name(actor: str) -> None:
    with pytest.raises(UsageError, match=r"^RELEASEGATE_ACTOR is malformed: it contains U\+"):
        clean_actor(actor, source="RELEASEGATE_ACTOR")


@pytest.mark.parametrize("reason", ["", "one\r\ntwo", "tab\tand\nnewline", "[bold]x", "José 李"])
def test_reasons_keep_line_breaks_and_any_text(reason: str) -> None:
    assert check_reason(reason) == reason


@pytest.mark.parametrize("reason", ["\x1b]0;title\x07", "nul\x00", "bell\x07", "c1\x85", "\ud800"])
def test_reasons_with_other_controls_are_refused(reason: str) -> None:
    with pytest.raises(UsageError, match=r"^--reason is malformed"):
        check_reason(reason)


actors = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=30).filter(
    lambda s: s.strip()
)


@given(actor=actors)
def test_actor_header_round_trips_and_is_header_safe(actor: str) -> None:
    header = encode_actor(actor)
    assert all(0x20 <= ord(c) < 0x7F for c in header)  # visible ASCII: any HTTP stack
    assert decode_actor(header) == actor.strip()


@pytest.mark.parametrize("header", ["%FF", "caf%E9", "   ", "%0A", "a%00b"])
def test_malformed_actor_header_is_refused(header: str) -> None:
    with pytest.raises(UsageError, match="X-Releasegate-Actor"):
        decode_actor(header)

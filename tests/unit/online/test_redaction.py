"""Redaction: e-mail addresses, phone numbers, Luhn-checked card numbers, custom patterns."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releasegate.config import OnlineConfig, ProjectConfig, RedactRule
from releasegate.errors import ConfigError
from releasegate.online.redaction import _BUILTIN, Redactor, luhn_valid

R = Redactor()


@pytest.mark.parametrize(
    "text",
    [
        "write to jane.doe@example.com please",
        "JOHN+tag@Mail.Example.co.uk",
        "a_b-c.d%e@sub-domain.example.org.",
        "<x@y.io>",
    ],
)
def test_email_addresses_are_replaced(text: str) -> None:
    out = R.text(text)
    assert "[EMAIL]" in out and "@" not in out


@pytest.mark.parametrize(
    "text",
    [
        "call +1 (555) 123-4567 today",
        "555-123-4567",
        "(555) 123 4567",
        "+44 20 7946 0958",
        "020 7946 0958",
        "+33612345678",
        "06.12.34.56.78",
        "tel 0612345678",
    ],
)
def test_phone_numbers_in_several_formats_are_replaced(text: str) -> None:
    out = R.text(text)
    assert "[PHONE]" in out
    assert sum(c.isdigit() for c in out) < 4, out


@pytest.mark.parametrize(
    "text",
    [
        "released on 2024-01-15",
        "pi is 3.14159265",
        "from 10.0.0.12",
        "order 42 of 1234",
        "version 1.2.3",
        "price 1,234.56",
    ],
)
def test_dates_decimals_addresses_and_short_numbers_survive(text: str) -> None:
    assert R.text(text) == text


@pytest.mark.parametrize(
    "number",
    ["4111 1111 1111 1111", "4111-1111-1111-1111", "4012888888881881", "378282246310005"],
)
def test_card_numbers_passing_luhn_are_replaced(number: str) -> None:
    assert R.text(f"card: {number}.") == "card: [CARD]."


@pytest.mark.parametrize("number", ["4111 1111 1111 1112", "4012888888881882", "1234567812345678"])
def test_card_like_numbers_failing_luhn_are_kept(number: str) -> None:
    assert R.text(f"ref {number}") == f"ref {number}"


def test_luhn_reference_values() -> None:
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")
    assert luhn_valid("4111111111111111")


def test_custom_patterns_run_first_with_their_replacement() -> None:
    r = Redactor([r"ACCT-\d{6}", RedactRule(pattern=r"secret-\w+", replacement="<s>")])
    out = r.text("ACCT-123456 has secret-abc and a@b.io")
    assert out == "[REDACTED] has <s> and [EMAIL]"


def test_defaults_can_be_turned_off_one_by_one() -> None:
    r = Redactor(defaults=["card"])
    assert r.text("a@b.io 555-123-4567 4111111111111111") == "a@b.io 555-123-4567 [CARD]"
    assert Redactor(defaults=[]).text("a@b.io") == "a@b.io"


def test_values_are_redacted_recursively_but_keys_are_not() -> None:
    value = [{"role": "user", "content": [{"type": "text", "text": "me@x.org"}]}, 5, None]
    assert R.value(value) == [
        {"role": "user", "content": [{"type": "text", "text": "[EMAIL]"}]},
        5,
        None,
    ]


def test_project_config_reads_the_online_section() -> None:
    cfg = ProjectConfig.model_validate(
        {"online": {"redact": ["EMP\\d+"], "redact_defaults": ["email"]}}
    )
    r = Redactor.from_config(cfg.online)
    assert r.text("EMP42 a@b.io 555-123-4567") == "[REDACTED] [EMAIL] 555-123-4567"
    assert Redactor.from_config(None).text("a@b.io") == "[EMAIL]"


@pytest.mark.parametrize(
    ("pattern", "reason"), [("(unclosed", "not a valid regex"), ("x*", "matches the empty")]
)
def test_bad_custom_patterns_are_refused_naming_their_index(pattern: str, reason: str) -> None:
    with pytest.raises(ValueError, match=rf"redact\[1\].*{reason}"):
        OnlineConfig.model_validate({"redact": ["ok", pattern]})
    with pytest.raises(ConfigError, match=r"online.redact\[0\]"):
        Redactor([pattern])


def _every_pattern(text: str, custom: tuple[str, ...] = ()) -> str:
    """The redaction by definition: each pattern run over the whole text, in order."""
    import re

    for pattern in custom:
        text = re.sub(pattern, "[REDACTED]", text)
    for name in ("card", "email", "phone"):
        rule = _BUILTIN[name]
        text = rule.pattern.sub(rule.replace, text)
    return text


_PIECES = st.sampled_from(
    ["4111 1111 1111 1111", "4111-1111-1111-1112", "+1 (555) 123-4567", "555.123.4567",
     "12345", "123456", "1234567", "2024-01-31", "3.14159265", "10.0.0.1", "(12)3456",
     "a@b.co", "x.y+z@ex-ample.org", "@", "1", "-", " ", ".", "(", ")", "+", "é", "abc",
     "\n", "٣٤٥٦٧٨٩٠١٢"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_PIECES, st.text(alphabet="0123456789 .-()+@ax", max_size=12))))
def test_the_quick_tests_skip_only_texts_no_pattern_matches(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert R.text(text) == _every_pattern(text)
    custom = Redactor([r"secret-\d+"])
    assert custom.text(text + " secret-42") == _every_pattern(text + " secret-42", (r"secret-\d+",))

"""Redaction of personal data before anything is stored.

Three detectors are on by default -- e-mail addresses, phone numbers and payment card
numbers -- and a project adds its own regular expressions under ``online: redact:`` in
``releasegate.yaml``. Card candidates are replaced only when their digits pass the Luhn
check (so order numbers and timestamps of the same length survive); phone candidates
need 7 to 15 digits and are not dates, decimals or IPv4 addresses. Custom patterns run
first, then cards, then e-mail addresses, then phones, each on the output of the one
before.

The redactor errs toward redacting: a 10-digit number written like a phone number is
replaced whether or not it is one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from releasegate.config import OnlineConfig, RedactRule
from releasegate.errors import ConfigError

__all__ = ["DEFAULT_DETECTORS", "Redactor", "luhn_valid"]

DEFAULT_DETECTORS = ("email", "phone", "card")
"""Names of the built-in detectors, all on unless ``online: redact_defaults`` says less."""

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
# 13-19 digits, optionally grouped by single spaces or dashes, not inside a longer number.
_CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
# A run of digits with the separators phone numbers use; checked further in _phone_ok.
_PHONE = re.compile(r"(?<![\w+.-])\+?(?:\(\d{1,5}\)[ .-]?)?\d(?:[ .-]?\(?\d\)?){5,17}(?![\w-])")
# Found in every card and phone match (6 digits, at most 3 of " .()-" between two): a
# text without it skips both patterns.
_SIX_DIGITS = re.compile(r"\d(?:[ .()-]{0,3}\d){5}")
_DATE = re.compile(r"^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4})$")
_DECIMAL = re.compile(r"^\d+\.\d+$")
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")

EMAIL_MARK = "[EMAIL]"
PHONE_MARK = "[PHONE]"
CARD_MARK = "[CARD]"


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn checksum (payment card numbers do).

    Args:
        digits: Only the digits 0-9.
    """
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _card(match: re.Match[str]) -> str:
    digits = _digits(match.group(0))
    return CARD_MARK if 13 <= len(digits) <= 19 and luhn_valid(digits) else match.group(0)


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = _digits(text)
    if not 7 <= len(digits) <= 15 or _DATE.match(text) or _DECIMAL.match(text) or _IPV4.match(text):
        return text
    return PHONE_MARK


def _has_digits(text: str) -> bool:
    return _SIX_DIGITS.search(text) is not None


def _has_at(text: str) -> bool:
    return "@" in text


@dataclass(frozen=True, slots=True)
class _Rule:
    pattern: re.Pattern[str]
    replace: str | Callable[[re.Match[str]], str]
    # A quick test every text the pattern matches passes (None: always run the pattern).
    may_match: Callable[[str], bool] | None = None


_BUILTIN: dict[str, _Rule] = {
    "card": _Rule(_CARD, _card, _has_digits),
    "email": _Rule(_EMAIL, EMAIL_MARK, _has_at),
    "phone": _Rule(_PHONE, _phone, _has_digits),
}


class Redactor:
    """Replaces personal data in text and in JSON-like values.

    Args:
        custom: Project patterns (a regex string, replaced by ``[REDACTED]``, or a
            :class:`~releasegate.config.RedactRule`), applied first.
        defaults: Which built-in detectors run (names from :data:`DEFAULT_DETECTORS`).

    Raises:
        ConfigError: a custom pattern is not a valid regular expression (names its
            index under ``online.redact``) or a detector name is unknown.
    """

    def __init__(
        self,
        custom: Sequence[str | RedactRule] = (),
        defaults: Iterable[str] = DEFAULT_DETECTORS,
    ) -> None:
        rules: list[_Rule] = []
        for i, item in enumerate(custom):
            rule = item if isinstance(item, RedactRule) else RedactRule(pattern=item)
            try:
                compiled = re.compile(rule.pattern)
            except re.error as exc:
                raise ConfigError(
                    f"online.redact[{i}]: {rule.pattern!r} is not a valid regular "
                    f"expression ({exc})",
                    file="releasegate.yaml",
                ) from None
            if compiled.match(""):
                raise ConfigError(
                    f"online.redact[{i}]: {rule.pattern!r} matches the empty string",
                    file="releasegate.yaml",
                )
            rules.append(_Rule(compiled, rule.replacement.replace("\\", "\\\\")))
        chosen = set(defaults)
        unknown = chosen - set(_BUILTIN)
        if unknown:
            raise ConfigError(
                f"online.redact_defaults: unknown detector(s) {', '.join(sorted(unknown))} "
                f"(known: {', '.join(DEFAULT_DETECTORS)})",
                file="releasegate.yaml",
            )
        rules.extend(_BUILTIN[name] for name in ("card", "email", "phone") if name in chosen)
        self._rules = tuple(rules)

    @classmethod
    def from_config(cls, config: OnlineConfig | None) -> Redactor:
        """The redactor a project's ``online:`` section asks for (defaults when None)."""
        if config is None:
            return cls()
        return cls(config.redact, config.redact_defaults)

    def text(self, value: str) -> str:
        """``value`` with every match replaced."""
        tested: dict[Callable[[str], bool], str] = {}  # quick test -> the text it failed
        for rule in self._rules:
            test = rule.may_match
            if test is not None:
                if tested.get(test) is value:
                    continue
                if not test(value):
                    tested[test] = value
                    continue
            value = rule.pattern.sub(rule.replace, value)
        return value

    def value(self, value: Any) -> Any:
        """A JSON-like value with every string (not the keys) redacted, recursively."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value

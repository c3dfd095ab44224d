"""equals, the contains family, starts-with, regex and their negations."""

from __future__ import annotations

import pytest

from releasegate.scorers import Sample, ScoreStatus

from ._support import CASE, build, check

# --- equals -------------------------------------------------------------------------


def test_equals_exact_and_stripped() -> None:
    assert check({"type": "equals", "value": "Paris"}, "  Paris\n").value == 1.0
    res = check({"type": "equals", "value": "Paris"}, "Paris.")
    assert res.value == 0.0
    assert "expected 'Paris'" in res.reason and "'Paris.'" in res.reason


def test_equals_strip_false_keeps_whitespace_significant() -> None:
    assert check({"type": "equals", "value": "Paris", "strip": False}, "Paris\n").value == 0.0
    assert check({"type": "equals", "value": "Paris", "strip": False}, "Paris").value == 1.0


def test_equals_case_option() -> None:
    assert check({"type": "equals", "value": "Paris"}, "paris").value == 0.0
    assert check({"type": "equals", "value": "Paris", "case_sensitive": False}, "PARIS").value == 1


def test_equals_numeric_value_from_yaml_is_text() -> None:
    assert check({"type": "equals", "value": 42}, "42").value == 1.0


def test_equals_unicode_canonical_and_caseless() -> None:
    composed, decomposed = "caf\u00e9", "cafe\u0301"
    assert check({"type": "equals", "value": composed}, decomposed).value == 1.0
    assert check({"type": "equals", "value": "STRASSE", "case_sensitive": False}, "straße").value
    # The ligature only folds in caseless mode; case-sensitive mode keeps it distinct.
    assert check({"type": "equals", "value": "file", "case_sensitive": False}, "\ufb01le").value
    assert check({"type": "equals", "value": "file"}, "\ufb01le").value == 0.0


def test_not_equals() -> None:
    assert check({"type": "not-equals", "value": "n/a"}, "Paris").value == 1.0
    assert check({"type": "not-equals", "value": "n/a"}, " n/a ").value == 0.0


# --- contains family -----------------------------------------------------------------


def test_contains_and_case() -> None:
    assert check({"type": "contains", "value": "refund"}, "Your refund is ready").value == 1.0
    res = check({"type": "contains", "value": "Refund"}, "your refund is ready")
    assert res.value == 0.0 and res.reason == "missing: 'Refund'"
    assert check({"type": "icontains", "value": "Refund"}, "your REFUND is ready").value == 1.0
    spec = {"type": "contains", "value": "Refund", "case_sensitive": False}
    assert check(spec, "your refund").value == 1.0


def test_contains_all_scores_fraction_and_lists_missing() -> None:
    spec = {"type": "contains-all", "value": ["refund", "30 days", "receipt"]}
    res = check(spec, "A refund within 30 days.")
    assert res.value == pytest.approx(2 / 3)
    assert res.reason == "missing: 'receipt'"
    assert res.details["missing"] == ["receipt"]
    assert check(spec, "refund, 30 days, receipt").value == 1.0
    assert check(spec, "nothing relevant").value == 0.0


def test_contains_all_single_string_is_one_term() -> None:
    assert check({"type": "contains-all", "value": "ab"}, "xaby").value == 1.0


def test_icontains_all_and_any() -> None:
    spec = {"type": "icontains-all", "value": ["Refund", "RECEIPT"]}
    assert check(spec, "refund needs a receipt").value == 1.0
    assert check({"type": "icontains-any", "value": ["Yes", "Oui"]}, "OUI!").value == 1.0
    res = check({"type": "contains-any", "value": ["Yes", "Oui"]}, "non")
    assert res.value == 0.0 and res.reason == "none found of: 'Yes', 'Oui'"


def test_not_contains_names_every_forbidden_term() -> None:
    spec = {"type": "not-contains", "value": ["password", "ssn", "secret"]}
    res = check(spec, "the password and the secret")
    assert res.value == 0.0
    assert res.reason == "forbidden: 'password', 'secret'"
    assert check(spec, "nothing to see").value == 1.0
    assert check({"type": "not-contains", "value": "damn"}, "Damn.").value == 1.0
    assert check({"type": "not-icontains", "value": "damn"}, "Damn.").value == 0.0


def test_contains_unicode() -> None:
    assert check({"type": "contains", "value": "caf\u00e9"}, "un cafe\u0301 noir").value == 1.0
    assert check({"type": "icontains", "value": "\u00c9T\u00c9"}, "l'\u00e9t\u00e9").value == 1.0
    assert check({"type": "contains", "value": "\U0001f44d"}, "great \U0001f44d!").value == 1.0
    hebrew = "\u05e9\u05dc\u05d5\u05dd"  # RTL text is just code points to a substring test
    assert check({"type": "contains", "value": hebrew}, f"{hebrew} \u05e2\u05d5\u05dc\u05dd").value
    # The "fi" ligature folds to "fi" in caseless mode only.
    assert check({"type": "icontains", "value": "fish"}, "\ufb01sh").value == 1.0
    assert check({"type": "contains", "value": "fish"}, "\ufb01sh").value == 0.0


def test_contains_long_list_reason_is_bounded() -> None:
    terms = [f"term{i}" for i in range(20)]
    res = check({"type": "contains-all", "value": terms}, "")
    assert res.value == 0.0
    assert "(+15 more)" in res.reason and len(res.reason) < 200


# --- starts-with ---------------------------------------------------------------------


def test_starts_with() -> None:
    assert check({"type": "starts-with", "value": "Dear"}, "\n Dear customer").value == 1.0
    assert check({"type": "starts-with", "value": "Dear", "strip": False}, " Dear").value == 0.0
    res = check({"type": "starts-with", "value": "Dear"}, "Hello there, dear")
    assert res.value == 0.0 and "expected start 'Dear'" in res.reason
    assert check({"type": "starts-with", "value": "dear"}, "Dear").value == 0.0
    spec = {"type": "starts-with", "value": "dear", "case_sensitive": False}
    assert check(spec, "DEAR x").value == 1.0
    assert check({"type": "not-starts-with", "value": "Sure"}, "Sure! Here").value == 0.0


def test_starts_with_unicode_prefix_not_cut_mid_character() -> None:
    spec = {"type": "starts-with", "value": "\u00c9t\u00e9"}
    assert check(spec, "E\u0301te\u0301 2024").value == 1.0
    spec_ci = {"type": "starts-with", "value": "STRASSE", "case_sensitive": False}
    assert check(spec_ci, "Stra\u00dfe 5").value == 1.0


# --- regex ---------------------------------------------------------------------------


def test_regex_search_and_flags() -> None:
    spec = {"type": "regex", "value": r"order #\d{5}"}
    res = check(spec, "Your order #12345 shipped")
    assert res.value == 1.0 and "'order #12345'" in res.reason
    assert check(spec, "Your ORDER #12345").value == 0.0
    assert check({**spec, "flags": "i"}, "Your ORDER #12345").value == 1.0
    assert check({"type": "regex", "value": "^b$"}, "a\nb\nc").value == 0.0
    assert check({"type": "regex", "value": "^b$", "flags": "m"}, "a\nb\nc").value == 1.0
    assert check({"type": "regex", "value": "a.c", "flags": "s"}, "a\nc").value == 1.0


def test_regex_full_match() -> None:
    spec = {"type": "regex", "value": r"\d+", "full_match": True}
    assert check(spec, "12345").value == 1.0
    res = check(spec, "12345 apples")
    assert res.value == 0.0 and "does not fully match" in res.reason


def test_regex_matches_unicode_canonically() -> None:
    assert check({"type": "regex", "value": "caf\u00e9"}, "cafe\u0301").value == 1.0


def test_not_regex() -> None:
    spec = {"type": "not-regex", "value": r"\b\d{3}-\d{2}-\d{4}\b"}
    res = check(spec, "SSN 123-45-6789")
    assert res.value == 0.0 and "123-45-6789" in res.reason
    assert check(spec, "no numbers").value == 1.0


# --- scorer protocol -----------------------------------------------------------------


async def test_checks_are_awaitable_scorers() -> None:
    scorer = build({"type": "contains", "value": "x"})
    assert scorer.name == "contains"
    assert scorer.requires == frozenset()
    assert scorer.default_threshold == 1.0
    res = await scorer.score(Sample(**CASE, output="x"))
    assert res.status is ScoreStatus.MEASURED and res.value == 1.0

"""Every deterministic check on awkward samples: empty, None, errored, unicode, huge."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from releasegate.scorers import Sample, Score, Scorer, ScoreStatus, available_scorers

from ._support import CASE, build, score_now

#: one valid spec per registered deterministic check name
SPECS: dict[str, dict[str, Any]] = {
    "equals": {"value": "Paris"},
    "not-equals": {"value": "Paris"},
    "contains": {"value": "refund"},
    "icontains": {"value": "refund"},
    "contains-all": {"value": ["refund", "receipt"]},
    "icontains-all": {"value": ["refund", "receipt"]},
    "contains-any": {"value": ["refund", "receipt"]},
    "icontains-any": {"value": ["refund", "receipt"]},
    "not-contains": {"value": ["password", "ssn"]},
    "not-icontains": {"value": ["password", "ssn"]},
    "regex": {"value": r"\b\d{5}\b", "flags": "i"},
    "not-regex": {"value": r"\b\d{5}\b"},
    "starts-with": {"value": "Dear", "case_sensitive": False},
    "not-starts-with": {"value": "Sure"},
    "max-words": {"value": 100},
    "min-words": {"value": 3},
    "max-chars": {"value": 500},
    "min-chars": {"value": 10},
    "latency": {"value": 1000},
    "cost": {"value": 0.01},
    "is-json": {"allow_fenced": True},
    "not-is-json": {},
    "json-schema": {"value": {"type": "object", "required": ["answer"]}},
    "is-refusal": {},
    "not-refusal": {"window": 0},
    "repetition": {},
    "no-repetition": {"n": 3},
    "loop": {"max_repeats": 3},
    "tool-call": {"value": "get_weather", "arguments": {"city": "Paris"}},
    "no-tool-call": {},
}

_rng = random.Random(20240601)
_VOCAB = ["refund", "policy", "días", "naïve", "Straße", "ﬁle", "😀", "שלום", "你好", "e\u0301"]
HUGE_PROSE = " ".join(
    _rng.choice(_VOCAB) + _rng.choice(["", ".", ",", "\n"]) for _ in range(150_000)
)

AWKWARD: dict[str, str] = {
    "empty": "",
    "whitespace": " \n\t\u3000",
    "unicode": "ﬁle café cafe\u0301 😀👩‍👩‍👧 שלום עולם \u202eevil\u202c ∑",
    "nul-and-controls": "a\x00b\x1b[31mred\x7f",
    "huge-prose": HUGE_PROSE,
    "huge-one-char": "a" * 1_000_000,
    "huge-dots": "." * 1_000_000,
    "huge-newlines": "\n" * 1_000_000,
    "huge-json": json.dumps({"answer": ["refund " * 20 for _ in range(6_000)]}),
    # adversarial for our own refusal / unit patterns: long runs of near-matches
    "near-refusal": ("sorry, but i " * 80_000) + "sorry",
    "near-refusal-apostrophes": "i'm i'm i\u2019m can can\u2019t " * 50_000,
    "deep-json": "[" * 100_000,
}


def test_every_deterministic_check_is_registered() -> None:
    assert set(SPECS) <= set(available_scorers())


@pytest.mark.parametrize("name", sorted(SPECS))
def test_checks_satisfy_the_scorer_protocol(name: str) -> None:
    scorer = build({"type": name, **SPECS[name]})
    assert isinstance(scorer, Scorer)
    assert scorer.name == name
    assert scorer.requires == frozenset()
    assert scorer.default_threshold == 1.0


@pytest.mark.parametrize("name", sorted(SPECS))
@pytest.mark.parametrize("kind", sorted(AWKWARD))
def test_awkward_outputs_give_a_measured_score(name: str, kind: str) -> None:
    scorer = build({"type": name, **SPECS[name]})
    res = score_now(scorer, Sample(**CASE, output=AWKWARD[kind], latency_ms=5.0, cost_usd=0.001))
    _assert_sane(res)
    assert res.status is ScoreStatus.MEASURED


@pytest.mark.parametrize("name", sorted(SPECS))
def test_errored_sample_scores_zero_with_the_error(name: str) -> None:
    scorer = build({"type": name, **SPECS[name]})
    res = score_now(scorer, Sample(**CASE, output="", error="HTTP 500: upstream down"))
    assert res.status is ScoreStatus.MEASURED
    assert res.value == 0.0
    assert res.reason == "target error: HTTP 500: upstream down"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_none_output_is_treated_as_empty(name: str) -> None:
    scorer = build({"type": name, **SPECS[name]})
    on_none = score_now(scorer, Sample(**CASE, output=None, latency_ms=1.0, cost_usd=0.0))  # type: ignore[arg-type]
    on_empty = score_now(scorer, Sample(**CASE, output="", latency_ms=1.0, cost_usd=0.0))
    assert on_none == on_empty


def test_empty_output_verdicts() -> None:
    expected = {
        "contains": 0.0, "not-contains": 1.0, "min-words": 0.0, "max-words": 1.0,
        "is-json": 0.0, "not-refusal": 1.0, "repetition": 1.0, "equals": 0.0,
    }  # fmt: skip
    for name, value in expected.items():
        res = score_now(build({"type": name, **SPECS[name]}), Sample(**CASE, output=""))
        assert res.value == value, name


def _assert_sane(res: Score) -> None:
    assert res.value is not None
    assert 0.0 <= res.value <= 1.0
    assert isinstance(res.reason, str) and res.reason
    assert len(res.reason) < 400

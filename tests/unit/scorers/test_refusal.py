"""is-refusal / not-refusal."""

from __future__ import annotations

import pytest

from ._support import check

REFUSALS = [
    "I'm sorry, but I can't help with that.",
    "I\u2019m sorry, but I can\u2019t help with that.",  # typographic apostrophes
    "I\u02bcm sorry, I can\u02bct do that.",  # modifier-letter apostrophes
    "Im sorry but i cant assist with this request.",
    "I cannot help with that.",
    "I CANNOT PROVIDE INSTRUCTIONS FOR THAT.",
    "As an AI, I don't have personal opinions.",
    "As an AI language model, I am not able to browse the internet.",
    "Sorry, I can't.",
    "I apologise, but I won't be writing that.",
    "Unfortunately, I am unable to share personal data.",
    "I'm afraid I can't do that, Dave.",
    "I must respectfully decline this request.",
    "That's not something I can help with.",
    "I can't and won't help with that.",
    "This request goes against my guidelines.",
    "I'm not comfortable helping with that.",
    "I'm  sorry,\n but I   can't\thelp with that.",  # runs of whitespace
    "Lo siento. I'm sorry, but I cannot comply.",
    "\uff29'm sorry, but I can't help with that.",  # full-width capital I
]

ANSWERS = [
    "Our refund policy allows returns within 30 days with a receipt.",
    "I can't help but notice that the bug is in line 3: the loop never ends.",
    "I'm sorry to hear about the delay. Your order ships tomorrow.",
    "Sure! Here is a haiku about autumn leaves.",
    "The Cannot Stop Festival is held every June.",
    "",
    "Paris is the capital of France.",
]


@pytest.mark.parametrize("text", REFUSALS)
def test_refusals_detected(text: str) -> None:
    res = check({"type": "is-refusal"}, text)
    assert res.value == 1.0, text
    assert res.reason.startswith("refusal phrase")
    assert check({"type": "not-refusal"}, text).value == 0.0


@pytest.mark.parametrize("text", ANSWERS)
def test_answers_are_not_refusals(text: str) -> None:
    assert check({"type": "is-refusal"}, text).value == 0.0, text
    res = check({"type": "not-refusal"}, text)
    assert res.value == 1.0 and res.reason == "no refusal phrase found"


def test_refusal_phrase_late_in_long_answer_is_ignored_by_default() -> None:
    long_answer = "Here is a detailed answer. " * 40 + "As an AI, I may be wrong."
    assert check({"type": "not-refusal"}, long_answer).value == 1.0
    assert check({"type": "not-refusal", "window": 0}, long_answer).value == 0.0
    assert check({"type": "not-refusal", "window": 5000}, long_answer).value == 0.0


def test_custom_phrases_are_normalised_like_the_output() -> None:
    spec = {"type": "is-refusal", "phrases": ["Je ne peux pas", "That\u2019s off-limits"]}
    assert check(spec, "Désolé, JE NE PEUX PAS répondre.").value == 1.0
    assert check(spec, "that's off-limits for me").value == 1.0
    assert check(spec, "I can't help with that.").value == 1.0  # built-ins still apply
    assert check({"type": "is-refusal", "phrases": "nope."}, "Nope. Never").value == 1.0

"""A 404 for a model a prompt file pinned names that file; every other error is unchanged."""

from __future__ import annotations

import pytest

from releasegate.errors import ProviderError
from releasegate.evals._pins import explain_unserved_model


@pytest.mark.parametrize(
    ("message", "model", "pinned"),
    [
        (
            "model 'gpt-4o-mini' is not served by the local server at http://h/v1",
            "gpt-4o-mini",
            "prompts/a.yaml",
        ),
        ("HTTP 404: not found (check the base URL and the model name)", "m-1", "p/b.yaml"),
        ("The model `x` does not exist", "x", "prompts/sub/c.yml"),
    ],
)
def test_a_404_for_a_pinned_model_names_the_prompt_file(
    message: str, model: str, pinned: str
) -> None:
    text = explain_unserved_model(
        ProviderError(message, status=404), model=model, pinned_in=pinned, target="t"
    )
    assert f"model {model!r} (pinned in {pinned}) is not served by" in text
    assert "overrides the provider's model" in text
    assert text.count(pinned) == 2


@pytest.mark.parametrize(
    ("status", "pinned"),
    [(404, None), (400, "prompts/a.yaml"), (500, "prompts/a.yaml"), (None, "prompts/a.yaml")],
)
def test_other_errors_are_unchanged(status: int | None, pinned: str | None) -> None:
    exc = ProviderError("boom", status=status)
    assert explain_unserved_model(exc, model="m", pinned_in=pinned, target="t") == "boom"

"""The model-pinning lint rule."""

from __future__ import annotations

import pytest

from releasegate.evals._lint import is_pinned, lint_model_name

FLOATING = [
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4-turbo",
    "gpt-4-turbo-preview",
    "gpt-3.5-turbo",
    "gpt-4.1",
    "chatgpt-4o-latest",
    "o1",
    "o3-mini",
    "claude-3-5-sonnet-latest",
    "claude-sonnet-4-5",
    "gemini-1.5-pro",
    "gemini-2.0-flash",
    "mistral-large-latest",
    "mistral-small",
    "command-r",
    "grok-2",
    "deepseek-chat",
    "openai/gpt-4o",
    "models/gemini-1.5-flash",
    "anthropic.claude-3-5-sonnet",
    "llama3:latest",
    "my-own-model-latest",
    "smollm2-135m-instruct-q8_0:latest",
]

PINNED = [
    "gpt-4o-2024-11-20",
    "o1-2024-12-17",
    "gpt-4-0613",
    "gpt-3.5-turbo-0125",
    "gpt-4-1106-preview",
    "claude-3-5-sonnet-20241022",
    "claude-sonnet-4-5-20250929",
    "anthropic.claude-3-sonnet-20240229-v1:0",
    "claude-3-5-sonnet-v2@20241022",
    "gemini-1.5-pro-002",
    "gemini-2.5-pro-preview-05-06",
    "mistral-large-2411",
    "command-r-08-2024",
    "grok-2-1212",
    "smollm2-135m-instruct-q8_0",
    "llama3.1:8b-instruct-q4_K_M",
    "./models/smollm2.gguf",
    "/opt/models/model.gguf",
    "qwen2@sha256:0123456789abcdef",
]

# No pin, but not a family known to publish floating aliases: not flagged.
UNKNOWN = ["my-finetune", "text-embedding-3-small", "Qwen/Qwen2.5-7B-Instruct", "scripted"]


@pytest.mark.parametrize("model", FLOATING)
def test_floating_aliases_are_flagged(model: str) -> None:
    message = lint_model_name(model)
    assert message is not None
    assert repr(model) in message
    assert "pin" in message


@pytest.mark.parametrize("model", PINNED)
def test_pinned_names_pass(model: str) -> None:
    assert lint_model_name(model) is None
    assert is_pinned(model)


@pytest.mark.parametrize("model", UNKNOWN)
def test_unknown_unpinned_names_are_not_flagged(model: str) -> None:
    assert lint_model_name(model) is None
    assert not is_pinned(model)


def test_message_suggests_a_snapshot_of_the_same_vendor() -> None:
    assert "claude-3-5-sonnet-20241022" in (lint_model_name("claude-3-opus") or "")
    assert "gpt-4o-2024-11-20" in (lint_model_name("gpt-4o") or "")
    assert "latest" in (lint_model_name("whatever-latest") or "")


def test_date_must_be_a_real_calendar_stamp() -> None:
    # 9999 is no month/day; 2024-13-01 has no month 13.
    assert lint_model_name("gpt-4-9999") is not None
    assert lint_model_name("gpt-4o-2024-13-01") is not None

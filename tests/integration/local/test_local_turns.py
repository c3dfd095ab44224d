"""Dynamic multi-turn cases against the real SmolLM2 model: the second turn's request
carries the model's own reply to the first, exactly as it came back."""

from __future__ import annotations

import pytest

from releasegate.datasets.case import Case
from releasegate.evals._scoring import CaseScorer
from releasegate.evals._turns import run_turns
from releasegate.llm import ChatRequest, ChatResponse
from releasegate.local.assets import CHAT_MODEL_ID
from releasegate.prompts import Prompt
from releasegate.providers.local import LocalProvider

pytestmark = pytest.mark.slow

PROMPT = Prompt(
    name="chat",
    version="1.0.0",
    model=CHAT_MODEL_ID,
    system="You are brief.",
    template="{{ input }}",
)
CASE = Case.model_validate(
    {
        "id": "remember",
        "turns": [
            {
                "input": "My name is Ann. Say hello to me.",
                "assert": [{"type": "min-chars", "value": 1}],
            },
            {"input": "What is my name?", "assert": [{"type": "min-chars", "value": 1}]},
        ],
    }
)


async def test_second_turn_carries_the_models_real_first_reply(
    local_judge: LocalProvider,
) -> None:
    sent: list[ChatRequest] = []

    async def send(request: ChatRequest) -> ChatResponse | str:
        sent.append(request)
        return await local_judge.complete(request)

    result = await run_turns(
        CASE,
        0,
        prompt=PROMPT,
        scorer=CaseScorer(),
        make_request=lambda turn, msgs: ChatRequest(
            messages=tuple(msgs), model="", params={"temperature": 0, "max_tokens": 24}
        ),
        send=send,
    )
    assert result.error is None and result.turns is not None
    first, second = result.turns
    assert first.output and second.output  # the real model answered both turns
    assert len(sent) == 2
    assert list(sent[0].messages) == [
        {"role": "system", "content": "You are brief."},
        {"role": "user", "content": "My name is Ann. Say hello to me."},
    ]
    # Turn 2 refers to turn 1, and its request holds the model's reply verbatim.
    assert list(sent[1].messages) == [
        *sent[0].messages,
        {"role": "assistant", "content": first.output},
        {"role": "user", "content": "What is my name?"},
    ]
    assert result.messages == [*sent[1].messages, {"role": "assistant", "content": second.output}]

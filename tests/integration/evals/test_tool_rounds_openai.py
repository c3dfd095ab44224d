"""Tool rounds through the openai provider against a local OpenAI-compatible server: the
bodies sent carry the assistant tool calls and one ``tool`` message per call with the
call's id, and a tool call is never sent upstream without its result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from releasegate.bootstrap import arun_eval
from tests.support.openai_server import FakeOpenAIServer
from tests.support.project import make_project


def fn(id_: str, name: str, arguments: str) -> dict[str, Any]:
    return {"id": id_, "type": "function", "function": {"name": name, "arguments": arguments}}


def answered_everywhere(bodies: list[dict[str, Any]]) -> bool:
    """The Chat Completions rule: every assistant tool call is followed by a ``tool``
    message with its id before the next non-tool message (else the API answers 400)."""
    for body in bodies:
        messages = body["messages"]
        for i, message in enumerate(messages):
            ids = [c["id"] for c in message.get("tool_calls") or ()]
            following: list[str] = []
            for after in messages[i + 1 :]:
                if after["role"] != "tool":
                    break
                following.append(after["tool_call_id"])
            if ids and sorted(following) != sorted(ids):
                return False
    return True


async def test_parallel_calls_are_answered_with_their_ids(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    cases: list[dict[str, Any]] = [
        {
            "id": "both",
            "input": "Paris and Oslo?",
            "tool_results": {
                "get_weather": {
                    "match": [
                        {"arguments": {"city": "Paris"}, "result": {"temp_c": 18}},
                        {"arguments": {"city": "Oslo"}, "result": "3 degrees"},
                    ]
                }
            },
            "assert": [{"type": "contains", "value": "Oslo 3"}],
        }
    ]
    cfg = make_project(tmp_path, base_url=openai_server.base_url, cases=cases, cache=False)
    calls = [
        fn("call_p", "get_weather", '{"city": "Paris"}'),
        fn("call_o", "get_weather", '{"city":"Oslo"}'),
    ]
    openai_server.reply_next("Looking.", tool_calls=calls)
    openai_server.reply_next("Paris 18, Oslo 3.")
    report = await arun_eval(cfg, "pr")
    (case,) = report.cases
    assert case.passed and case.output == "Paris 18, Oslo 3."
    bodies = [r.body for r in openai_server.requests]
    assert len(bodies) == 2 and answered_everywhere(bodies)
    assert bodies[1]["messages"][-3:] == [
        {"role": "assistant", "content": "Looking.", "tool_calls": calls},
        {"role": "tool", "tool_call_id": "call_p", "content": '{"temp_c": 18}'},
        {"role": "tool", "tool_call_id": "call_o", "content": "3 degrees"},
    ]
    assert bodies[1]["messages"][:2] == bodies[0]["messages"]


async def test_turns_never_send_an_unanswered_call(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    answered = [
        {
            "id": "answered",
            "tool_results": {"lookup": "order 7 shipped"},
            "turns": [{"input": "Where is order 7?"}, {"input": "Thanks"}],
        }
    ]
    cfg = make_project(tmp_path / "a", base_url=openai_server.base_url, cases=answered)
    openai_server.reply_next(None, tool_calls=[fn("l1", "lookup", '{"order": 7}')])
    openai_server.reply_next("It shipped.")
    openai_server.reply_next("You're welcome.")
    (case,) = (await arun_eval(cfg, "pr", use_cache=False)).cases
    bodies = [r.body for r in openai_server.requests]
    assert len(bodies) == 3 and answered_everywhere(bodies)
    assert [m["role"] for m in bodies[2]["messages"]] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
    ]
    assert bodies[2]["messages"][3] == {
        "role": "tool",
        "tool_call_id": "l1",
        "content": "order 7 shipped",
    }
    assert case.passed and case.output == "You're welcome."

    openai_server.reset()
    unanswered = [{"id": "unanswered", "turns": [{"input": "Order 8?"}, {"input": "Thanks"}]}]
    cfg = make_project(tmp_path / "u", base_url=openai_server.base_url, cases=unanswered)
    openai_server.reply_next(None, tool_calls=[fn("l2", "lookup", '{"order": 8}')])
    (case,) = (await arun_eval(cfg, "pr", use_cache=False)).cases
    assert openai_server.count == 1  # the second turn was never sent
    assert not case.passed and case.turns is not None
    assert "turn 1 not sent" in (case.turns[1].error or "")
    assert "lookup" in (case.turns[1].error or "")


async def test_a_forced_tool_choice_applies_to_the_first_request_only(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    # The fake server answers a forced tool_choice with a call: were the choice kept on
    # the requests that send results back, the model could only call tools again.
    cases: list[dict[str, Any]] = [
        {"id": "forced", "input": "Weather?", "tool_results": {"get_weather": "sunny"}}
    ]
    cfg = make_project(tmp_path, base_url=openai_server.base_url, cases=cases, cache=False)
    prompt = tmp_path / "prompts" / "echo.yaml"
    prompt.write_text(
        prompt.read_text()
        + "tools:\n  - {type: function, function: {name: get_weather}}\n"
        + "tool_choice: {type: function, function: {name: get_weather}}\n"
    )
    (case,) = (await arun_eval(cfg, "pr")).cases
    bodies = [r.body for r in openai_server.requests]
    assert [b["tool_choice"] for b in bodies] == [
        {"type": "function", "function": {"name": "get_weather"}},
        "auto",
    ]
    assert case.error is None and case.output == "Q: Weather?"
    assert answered_everywhere(bodies)


async def test_a_call_failing_after_a_tool_round_errors_the_case_with_its_transcript(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    cases: list[dict[str, Any]] = [
        {"id": "fails", "input": "Weather?", "tool_results": {"get_weather": "sunny"}}
    ]
    cfg = make_project(tmp_path, base_url=openai_server.base_url, cases=cases, cache=False)
    openai_server.reply_next(None, tool_calls=[fn("w", "get_weather", "{}")])
    openai_server.fail_next(400, message="bad tool message")
    (case,) = (await arun_eval(cfg, "pr")).cases
    assert not case.passed and case.score == 0.0
    assert case.error is not None and "bad tool message" in case.error
    # The round that was sent is kept, and the first call's tokens count.
    assert case.messages is not None
    assert case.messages[-1] == {"role": "tool", "tool_call_id": "w", "content": "sunny"}
    assert case.tool_calls == [fn("w", "get_weather", "{}")]
    assert case.completion_tokens > 0

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from releasegate.config import ProviderConfig
from releasegate.errors import ConfigError, ProviderError
from releasegate.providers import ChatRequest, PriceTable, build_provider
from releasegate.providers.recording import RecordingProvider, request_key
from releasegate.providers.replay import ReplayProvider
from releasegate.providers.scripted import ScriptedOptions, ScriptedProvider


def req(text: str, case_id: str | None = None, repeat: int = 0) -> ChatRequest:
    return ChatRequest(
        messages=({"role": "user", "content": text},), model="m", case_id=case_id, repeat=repeat
    )


def replay(root: Path, file: str = "rec.jsonl", **extra: Any) -> ReplayProvider:
    cfg = ProviderConfig.model_validate({"type": "replay", "file": file, **extra})
    provider = build_provider("rp", cfg, pricing=PriceTable(), root=root)
    assert isinstance(provider, ReplayProvider)
    return provider


def write_lines(path: Path, lines: list[Any]) -> None:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))


async def test_replay_by_case_repeat_and_key(tmp_path: Path) -> None:
    write_lines(
        tmp_path / "rec.jsonl",
        [
            {"case_id": "a", "output": "any repeat of a"},
            {"case_id": "a", "repeat": 1, "output": "a, second repeat", "latency_ms": 12.5},
            {
                "key": request_key(req("by content").messages),
                "output": "matched by messages",
                "usage": {"prompt_tokens": 1_000_000, "completion_tokens": 0},
                "model": "gpt-4.1-nano-2025-04-14",
            },
            "",
        ],
    )
    provider = replay(tmp_path)
    assert (await provider.complete(req("x", "a", 0))).text == "any repeat of a"
    second = await provider.complete(req("x", "a", 1))
    assert second.text == "a, second repeat" and second.latency_ms == 12.5
    by_key = await provider.complete(req("by content"))
    assert by_key.text == "matched by messages"
    assert by_key.cost_usd == pytest.approx(0.10)  # priced from the recorded model and usage


async def test_missing_recording_is_not_retryable(tmp_path: Path) -> None:
    write_lines(tmp_path / "rec.jsonl", [{"case_id": "a", "repeat": 0, "output": "x"}])
    provider = replay(tmp_path)
    with pytest.raises(ProviderError, match="no recording for case 'b'") as info:
        await provider.complete(req("x", "b"))
    assert not info.value.retryable
    with pytest.raises(ProviderError, match=r"case 'a' \(repeat 3\)"):
        await provider.complete(req("x", "a", 3))


def test_bad_lines_name_file_and_line(tmp_path: Path) -> None:
    write_lines(
        tmp_path / "rec.jsonl",
        [{"case_id": "a", "output": "ok"}, "{not json", {"case_id": "b"}, {"output": "orphan"}],
    )
    with pytest.raises(ConfigError) as info:
        replay(tmp_path)
    lines = sorted((i.line, i.message) for i in info.value.issues)
    assert [line for line, _ in lines] == [2, 3, 4]
    assert "not valid JSON" in lines[0][1]
    assert "case_id" in lines[2][1] and "key" in lines[2][1]
    assert all(i.file.endswith("rec.jsonl") for i in info.value.issues)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        replay(tmp_path, file="nowhere.jsonl")


async def test_record_then_replay_round_trip(tmp_path: Path) -> None:
    inner = ScriptedProvider(ScriptedOptions(responses={"c1": ["one", "two"]}, fail={"bad": "500"}))
    recorder = RecordingProvider(inner, tmp_path / "out" / "rec.jsonl")
    originals = [await recorder.complete(req("q", "c1", r)) for r in range(2)]
    originals.append(await recorder.complete(req("no id here")))
    with pytest.raises(ProviderError):
        await recorder.complete(req("q", "bad"))
    await recorder.aclose()
    assert recorder.recorded == 3  # the failed call is not recorded

    lines = [json.loads(x) for x in (tmp_path / "out" / "rec.jsonl").read_text().splitlines()]
    assert lines[0]["case_id"] == "c1" and lines[0]["output"] == "one"
    assert lines[0]["usage"]["completion_tokens"] == originals[0].usage.completion_tokens

    provider = replay(tmp_path, file="out/rec.jsonl")
    for repeat, original in enumerate(originals[:2]):
        again = await provider.complete(req("q", "c1", repeat))
        assert again.text == original.text and again.usage == original.usage
    assert (await provider.complete(req("no id here"))).text == "no id here"


async def test_recording_append_mode_keeps_earlier_lines(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    for text in ("first", "second"):
        recorder = RecordingProvider(ScriptedProvider(), path, append=True)
        await recorder.complete(req(text, text))
        await recorder.aclose()
    assert len(path.read_text().splitlines()) == 2
    fresh = RecordingProvider(ScriptedProvider(), path)
    await fresh.aclose()
    assert path.read_text() == ""


def test_request_key_is_stable_and_content_sensitive() -> None:
    a = request_key([{"role": "user", "content": "x"}])
    assert a == request_key(({"content": "x", "role": "user"},))
    assert a != request_key([{"role": "user", "content": "y"}])


async def test_each_tool_round_of_a_case_replays_its_own_answer(tmp_path: Path) -> None:
    # Several requests of one case and repeat (tool rounds, turns) differ by their
    # messages: each gets the answer recorded for it, not the case's last one.
    from releasegate.datasets.case import ToolResult
    from releasegate.evals._tool_rounds import run_exchange

    script = {
        "rules": [
            {
                "match": "plan",
                "tool_calls": [{"id": "t", "name": "now"}],
                "then": {"tool_calls": [{"id": "w", "name": "weather"}], "then": "Noon, cold."},
            }
        ]
    }
    results = {
        "now": ToolResult.model_validate("12:00"),
        "weather": ToolResult.model_validate("cold"),
    }
    path = tmp_path / "rec.jsonl"
    recorder = RecordingProvider(ScriptedProvider(ScriptedOptions.model_validate(script)), path)
    first = await run_exchange(
        req("plan my day", "c", 0), recorder.complete, results=results, max_rounds=3, where="c"
    )
    await recorder.aclose()
    assert recorder.recorded == 3
    replayed = await run_exchange(
        req("plan my day", "c", 0),
        replay(tmp_path).complete,
        results=results,
        max_rounds=3,
        where="c",
    )
    assert replayed.error is None and [r.text for r in replayed.replies] == ["", "", "Noon, cold."]
    assert replayed.sent == first.sent
    # A request whose messages were never recorded still gets the case's answer.
    assert (await replay(tmp_path).complete(req("other", "c", 0))).text == "Noon, cold."

from __future__ import annotations

import asyncio
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from releasegate.config import PriceEntry, ProviderConfig
from releasegate.errors import ConfigError, ProviderError
from releasegate.providers import ChatRequest, PriceTable, build_provider
from releasegate.providers.python import PythonProvider


@pytest.fixture(autouse=True)
def _isolated_sys_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))


def app_module(tmp_path: Path, source: str) -> str:
    """Write a uniquely named module under tmp_path/app and return its name."""
    name = f"userapp_{uuid.uuid4().hex[:8]}"
    (tmp_path / "app").mkdir(exist_ok=True)
    (tmp_path / "app" / f"{name}.py").write_text(textwrap.dedent(source))
    return name


def build(tmp_path: Path, function: str, **extra: Any) -> PythonProvider:
    cfg = ProviderConfig.model_validate(
        {"type": "python", "function": function, "path": "app", **extra}
    )
    pricing = PriceTable({"app-model": PriceEntry(input_per_mtok=1e6, output_per_mtok=2e6)})
    provider = build_provider("app", cfg, pricing=pricing, root=tmp_path)
    assert isinstance(provider, PythonProvider)
    return provider


REQUEST = ChatRequest(
    messages=(
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "rendered: What is 2+2?"},
    ),
    model="",
    case_id="math-1",
    vars={"input": "What is 2+2?", "topic": "math"},
)


async def test_sync_function_gets_only_the_arguments_it_accepts(tmp_path: Path) -> None:
    mod = app_module(
        tmp_path,
        """
        import threading
        def answer(input, case_id):
            return f"{case_id}:{input}:{threading.current_thread().name != 'MainThread'}"
        """,
    )
    response = await build(tmp_path, f"{mod}:answer").complete(REQUEST)
    # The case's input text, not the rendered message; run off the event-loop thread.
    assert response.text == "math-1:What is 2+2?:True"
    assert response.latency_ms >= 0


async def test_async_function_with_kwargs_gets_everything(tmp_path: Path) -> None:
    mod = app_module(
        tmp_path,
        """
        async def answer(**kwargs):
            return {"output": ",".join(sorted(kwargs)) + "|" + kwargs["vars"]["topic"]
                    + "|" + kwargs["messages"][0]["content"]}
        """,
    )
    response = await build(tmp_path, f"{mod}:answer").complete(REQUEST)
    assert response.text == "case_id,input,messages,vars|math|Be brief."


async def test_dict_result_with_usage_is_priced_and_cost_wins(tmp_path: Path) -> None:
    mod = app_module(
        tmp_path,
        """
        def priced(input):
            return {"output": "4", "usage": {"prompt_tokens": 2, "completion_tokens": 1}}
        def explicit(input):
            return {"output": "4", "usage": {"prompt_tokens": 2, "completion_tokens": 1},
                    "cost_usd": 0.5}
        """,
    )
    priced = await build(tmp_path, f"{mod}:priced", model="app-model").complete(REQUEST)
    assert priced.usage.total_tokens == 3
    assert priced.cost_usd == pytest.approx(4.0)  # 2 * $1 + 1 * $2
    explicit = await build(tmp_path, f"{mod}:explicit", model="app-model").complete(REQUEST)
    assert explicit.cost_usd == 0.5


async def test_dotted_attribute_target(tmp_path: Path) -> None:
    mod = app_module(
        tmp_path,
        """
        class Bot:
            @staticmethod
            def reply(input):
                return input.upper()
        """,
    )
    assert (await build(tmp_path, f"{mod}:Bot.reply").complete(REQUEST)).text == "WHAT IS 2+2?"


async def test_exception_becomes_non_retryable_provider_error(tmp_path: Path) -> None:
    mod = app_module(
        tmp_path,
        """
        def broken(input):
            raise KeyError("missing index")
        """,
    )
    with pytest.raises(ProviderError) as info:
        await build(tmp_path, f"{mod}:broken").complete(REQUEST)
    assert not info.value.retryable
    assert "KeyError" in str(info.value) and "missing index" in str(info.value)
    assert f"{mod}:broken" in str(info.value)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("return 42", "returned int"),
        ("return {'text': 'x'}", "with a str 'output'"),
        ("return {'output': 'x', 'usage': 5}", "bad 'usage'"),
        ("return {'output': 'x', 'cost_usd': -1}", "bad 'cost_usd'"),
    ],
)
async def test_bad_return_values(tmp_path: Path, body: str, match: str) -> None:
    mod = app_module(tmp_path, f"def f(input):\n    {body}\n")
    with pytest.raises(ProviderError, match=match):
        await build(tmp_path, f"{mod}:f").complete(REQUEST)


def test_import_and_target_errors_are_config_errors(tmp_path: Path) -> None:
    mod = app_module(tmp_path, "x = 1\ndef needs(question, input):\n    return ''\n")
    cases = [
        ("no_colon", "must look like 'module:function'"),
        ("no_such_module_xyz:f", "cannot import module 'no_such_module_xyz'"),
        (f"{mod}:missing", "has no attribute 'missing'"),
        (f"{mod}:x", "is not callable"),
        (f"{mod}:needs", r"requires argument\(s\) 'question'"),
    ]
    for target, match in cases:
        with pytest.raises(ConfigError, match=match) as info:
            build(tmp_path, target)
        assert "provider 'app'" in str(info.value)


def test_module_that_raises_on_import(tmp_path: Path) -> None:
    mod = app_module(tmp_path, "raise RuntimeError('no config')\n")
    with pytest.raises(ConfigError, match="raised RuntimeError: no config"):
        build(tmp_path, f"{mod}:f")


def test_path_must_be_a_directory(tmp_path: Path) -> None:
    cfg = ProviderConfig.model_validate({"type": "python", "function": "m:f", "path": "nope"})
    with pytest.raises(ConfigError, match="is not a directory"):
        build_provider("app", cfg, pricing=PriceTable(), root=tmp_path)


async def test_blocking_functions_run_up_to_concurrency_at_once(tmp_path: Path) -> None:
    # Sixteen calls that each wait for all sixteen: this only completes if the provider
    # runs sixteen threads at once (asyncio's default pool is smaller on small machines).
    mod = app_module(
        tmp_path,
        """
        import threading
        barrier = threading.Barrier(16, timeout=20)
        def answer(input):
            barrier.wait()
            return input
        """,
    )
    provider = build(tmp_path, f"{mod}:answer", concurrency=16)
    try:
        results = await asyncio.gather(*(provider.complete(REQUEST) for _ in range(16)))
    finally:
        await provider.aclose()
    assert [r.text for r in results] == ["What is 2+2?"] * 16

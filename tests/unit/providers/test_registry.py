"""Provider types come from one registry: a table of built-ins imported on first use,
types registered by name, and plugins from the ``releasegate.providers`` entry-point
group (scanned only for a type that is not built in; built-in names win)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from releasegate._optional import MissingExtra
from releasegate.config import ProviderConfig
from releasegate.errors import ConfigError
from releasegate.providers import (
    ChatProvider,
    ChatRequest,
    ChatResponse,
    PriceTable,
    ProviderSpec,
    build_provider,
    register_provider,
    registry,
)
from releasegate.providers.scripted import ScriptedProvider


def build(cfg: dict[str, Any], name: str = "target") -> ChatProvider:
    return build_provider(
        name, ProviderConfig.model_validate(cfg), pricing=PriceTable(), root=Path(".")
    )


def test_unknown_type_names_provider_and_known_types() -> None:
    with pytest.raises(ConfigError) as info:
        build({"type": "nope"}, name="judge")
    text = str(info.value)
    assert "'judge'" in text and "unknown provider type 'nope'" in text
    assert "openai" in text and "scripted" in text
    assert info.value.issues[0].field == "providers.judge"


def test_unknown_option_lists_valid_options() -> None:
    with pytest.raises(ConfigError) as info:
        build({"type": "scripted", "respones": {}})
    text = str(info.value)
    assert "option 'respones'" in text and "unknown option" in text and "responses" in text
    assert info.value.issues[0].field == "providers.target.respones"


def test_bad_option_value() -> None:
    with pytest.raises(ConfigError, match="latency_ms"):
        build({"type": "scripted", "latency_ms": -1})


class FakeEntryPoint:
    def __init__(self, name: str, obj: Any) -> None:
        self.name = name
        self._obj = obj

    def load(self) -> Any:
        return self._obj


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Installed provider plugins: ``plugged`` and one named like the built-in
    ``scripted``. Records every scan of an entry-point group."""
    scans: list[str] = []

    def plugged(spec: ProviderSpec) -> ChatProvider:
        return ScriptedProvider(name=spec.name, model="plugged-model")

    def fake_entry_points(*, group: str) -> list[FakeEntryPoint]:
        scans.append(group)
        if group != registry.ENTRY_POINT_GROUP:
            return []
        return [FakeEntryPoint("plugged", plugged), FakeEntryPoint("scripted", plugged)]

    monkeypatch.setattr("releasegate._registry.entry_points", fake_entry_points)
    registry.PROVIDERS.reset_plugins()
    yield scans
    registry.PROVIDERS.reset_plugins()


def test_every_builtin_type_is_known_and_loads_from_its_table_entry() -> None:
    for type_name in registry.PROVIDERS.builtins:
        assert callable(registry.PROVIDERS.get(type_name)), type_name
        assert type_name in registry.known_provider_types()


def test_importing_the_registry_imports_no_provider_module() -> None:
    import subprocess

    code = (
        "import sys, releasegate.providers\n"
        "print(sorted(m for m in sys.modules if m.startswith('releasegate.providers.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    for module in ("openai", "anthropic", "http", "scripted", "local", "embeddings"):
        assert f"'releasegate.providers.{module}'" not in out.stdout, module


def test_builtin_scripted_builds() -> None:
    provider = build({"type": "scripted", "model": "fake-1"})
    assert isinstance(provider, ScriptedProvider)
    assert provider.model == "fake-1"


async def test_register_provider_with_a_factory_function() -> None:
    class Upper(ChatProvider):
        async def complete(self, request: ChatRequest) -> ChatResponse:
            return ChatResponse(text=str(request.messages[-1]["content"]).upper())

    seen: list[ProviderSpec] = []

    @register_provider("test-upper")
    def factory(spec: ProviderSpec) -> ChatProvider:
        seen.append(spec)
        return Upper()

    try:
        provider = build({"type": "test-upper", "anything": 1}, name="t")
        response = await provider.complete(
            ChatRequest(messages=({"role": "user", "content": "hey"},), model="m")
        )
        assert response.text == "HEY"
        assert seen[0].name == "t" and seen[0].config.options == {"anything": 1}
        assert "test-upper" in registry.known_provider_types()
    finally:
        registry.PROVIDERS.unregister("test-upper")


def test_plugin_from_entry_point(plugins: list[str]) -> None:
    provider = build({"type": "plugged"})
    assert provider.model == "plugged-model"
    build({"type": "plugged"})
    assert plugins == [registry.ENTRY_POINT_GROUP]  # scanned once
    assert "plugged" in registry.known_provider_types()


def test_built_in_types_do_not_scan_and_win_over_plugins(plugins: list[str]) -> None:
    provider = build({"type": "scripted", "model": "fake-1"})
    assert provider.model == "fake-1"
    assert plugins == []


def test_unknown_type_lists_the_plugins_too(plugins: list[str]) -> None:
    with pytest.raises(ConfigError, match=r"known: .*plugged"):
        build({"type": "nope"})


def test_a_built_in_whose_extra_is_missing_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    monkeypatch.setitem(registry.PROVIDERS.builtins, "llama-direct", "llama_cpp:Llama")
    with pytest.raises(MissingExtra) as info:
        build({"type": "llama-direct"})
    assert info.value.extra == "local"
    assert "pip install 'releasegate[local]'" in str(info.value)
    assert "provider 'llama-direct'" in str(info.value)


def test_a_registered_type_replaces_a_built_in_until_unregistered() -> None:
    register_provider("scripted")(lambda spec: ScriptedProvider(name=spec.name, model="swapped"))
    try:
        assert build({"type": "scripted", "model": "x"}).model == "swapped"
    finally:
        registry.PROVIDERS.unregister("scripted")
    assert build({"type": "scripted", "model": "x"}).model == "x"


def test_spec_resolve_relative_to_root(tmp_path: Path) -> None:
    spec = ProviderSpec(
        name="x", config=ProviderConfig(type="replay"), pricing=PriceTable(), root=tmp_path
    )
    assert spec.resolve("data/rec.jsonl") == tmp_path / "data" / "rec.jsonl"
    assert spec.resolve(tmp_path / "abs") == tmp_path / "abs"

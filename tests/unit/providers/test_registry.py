from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

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


def test_every_builtin_type_is_known_and_importable() -> None:
    import importlib

    for type_name, module in registry._BUILTIN_MODULES.items():
        importlib.import_module(module)
        assert type_name in registry._REGISTRY, type_name


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
        registry._REGISTRY.pop("test-upper", None)


def test_plugin_from_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeEntryPoint:
        name = "plugged"

        def load(self) -> Any:
            return lambda spec: ScriptedProvider(name=spec.name, model="plugged-model")

    def fake_entry_points(*, group: str) -> list[FakeEntryPoint]:
        assert group == registry.ENTRY_POINT_GROUP
        return [FakeEntryPoint()]

    monkeypatch.setattr(registry, "entry_points", fake_entry_points)
    try:
        provider = build({"type": "plugged"})
        assert provider.model == "plugged-model"
    finally:
        registry._REGISTRY.pop("plugged", None)


def test_spec_resolve_relative_to_root(tmp_path: Path) -> None:
    spec = ProviderSpec(
        name="x", config=ProviderConfig(type="replay"), pricing=PriceTable(), root=tmp_path
    )
    assert spec.resolve("data/rec.jsonl") == tmp_path / "data" / "rec.jsonl"
    assert spec.resolve(tmp_path / "abs") == tmp_path / "abs"

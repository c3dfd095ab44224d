"""Embedder types come from the same registry mechanism as providers and checks: a table
of built-ins imported on first use, types registered by name, and plugins from the
``releasegate.embedders`` entry-point group."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from releasegate.config import ProviderConfig
from releasegate.errors import ConfigError
from releasegate.llm import EmbeddingProvider
from releasegate.providers import ProviderSpec, build_embedder, register_embedder, registry
from releasegate.providers.embeddings import OpenAIEmbedder


class Constant(EmbeddingProvider):
    """Every text becomes the same unit vector."""

    def __init__(self, dims: int) -> None:
        self.dims = dims

    @classmethod
    def from_spec(cls, spec: ProviderSpec) -> Constant:
        dims = spec.config.options.get("dims", 2)
        if not isinstance(dims, int) or dims < 1:
            raise spec.error("option dims must be a positive integer", option="dims")
        return cls(dims)

    async def embed(self, texts: list[str]) -> list[list[float]]:
        return [[1.0] + [0.0] * (self.dims - 1) for _ in texts]


def build(cfg: dict[str, Any], name: str = "emb", root: Path = Path(".")) -> EmbeddingProvider:
    return build_embedder(name, ProviderConfig.model_validate(cfg), root=root)


class FakeEntryPoint:
    def __init__(self, name: str, obj: Any) -> None:
        self.name = name
        self._obj = obj

    def load(self) -> Any:
        return self._obj


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Installed embedder plugins: ``constant`` and one named like the built-in
    ``openai``. Records every scan of an entry-point group."""
    scans: list[str] = []

    def fake_entry_points(*, group: str) -> list[FakeEntryPoint]:
        scans.append(group)
        if group != registry.EMBEDDER_ENTRY_POINT_GROUP:
            return []
        return [FakeEntryPoint("constant", Constant), FakeEntryPoint("openai", Constant)]

    monkeypatch.setattr("releasegate._registry.entry_points", fake_entry_points)
    registry.EMBEDDERS.reset_plugins()
    yield scans
    registry.EMBEDDERS.reset_plugins()


def test_built_in_openai_loads_lazily_and_builds(plugins: list[str]) -> None:
    embedder = build({"type": "openai", "model": "m", "base_url": "http://127.0.0.1:9/v1"})
    assert isinstance(embedder, OpenAIEmbedder)
    assert embedder.model == "m" and embedder.base_url == "http://127.0.0.1:9/v1"
    assert plugins == []  # a built-in type never scans, and beats the plugin of its name


def test_every_built_in_type_loads_from_its_table_entry() -> None:
    for name in registry.EMBEDDERS.builtins:
        assert callable(registry.EMBEDDERS.get(name)), name


async def test_register_embedder_with_a_class() -> None:
    register_embedder("test-constant")(Constant)
    try:
        embedder = build({"type": "test-constant", "dims": 3})
        assert await embedder.embed(["a"]) == [[1.0, 0.0, 0.0]]
        assert "test-constant" in registry.known_embedder_types()
    finally:
        registry.EMBEDDERS.unregister("test-constant")
    assert "test-constant" not in registry.known_embedder_types()


def test_register_embedder_with_a_factory_function() -> None:
    seen: list[ProviderSpec] = []

    @register_embedder("test-factory")
    def factory(spec: ProviderSpec) -> EmbeddingProvider:
        seen.append(spec)
        return Constant(4)

    try:
        assert isinstance(build({"type": "test-factory"}, name="vecs"), Constant)
        assert seen[0].name == "vecs" and seen[0].kind == "embedder"
    finally:
        registry.EMBEDDERS.unregister("test-factory")


async def test_plugin_from_entry_point(plugins: list[str]) -> None:
    embedder = build({"type": "constant", "dims": 2})
    assert await embedder.embed(["x", "y"]) == [[1.0, 0.0], [1.0, 0.0]]
    build({"type": "constant"})
    assert plugins == [registry.EMBEDDER_ENTRY_POINT_GROUP]  # scanned once


def test_a_plugin_error_names_the_embedder_and_option(plugins: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        build({"type": "constant", "dims": 0}, name="vecs")
    issue = info.value.issues[0]
    assert "embedder 'vecs' (type 'constant')" in issue.message
    assert issue.field == "providers.vecs.dims"


def test_unknown_type_lists_the_known_ones(plugins: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        build({"type": "sentence-bert"})
    message = str(info.value)
    assert "unknown embedder type" in message
    assert "known: constant, local, openai" in message
    assert info.value.issues[0].field == "providers.emb"


def test_a_built_in_whose_extra_is_missing_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    monkeypatch.setitem(registry.EMBEDDERS.builtins, "llama-embed", "llama_cpp:Llama")
    with pytest.raises(ConfigError) as info:
        build({"type": "llama-embed"})
    message = str(info.value)
    assert "embedder 'emb' (type 'llama-embed')" in message
    assert "pip install 'releasegate[local]'" in message


@pytest.mark.parametrize("blocked", ["sentence_transformers", "torch"])
def test_local_embedder_without_its_packages_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, blocked: str
) -> None:
    monkeypatch.setitem(sys.modules, blocked, None)
    with pytest.raises(ConfigError, match=r"install the local extra: pip install"):
        build({"type": "local"})


def test_openai_options_are_checked_with_the_embedder_named() -> None:
    with pytest.raises(ConfigError) as info:
        build({"type": "openai", "model": "m", "base_url": "http://x/v1", "batch_sise": 3})
    assert "embedder 'emb' (type 'openai'): option 'batch_sise'" in str(info.value)
    assert "batch_size" in str(info.value)  # the valid options are listed
    with pytest.raises(ConfigError, match="set `model`"):
        build({"type": "openai", "base_url": "http://x/v1"})


def test_local_model_directory_resolves_against_the_project_root(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"model directory not found: .*no/such/dir"):
        build({"type": "local", "path": "no/such/dir"}, root=tmp_path)

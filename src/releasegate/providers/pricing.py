"""Model prices and the cost of one call.

A :class:`PriceTable` maps exact model names to USD per million input and output tokens.
It starts from a small built-in table of pinned OpenAI and Anthropic models and is
extended or overridden by the ``pricing:`` section of ``releasegate.yaml``.

Lookups are exact on purpose: an unknown model costs ``None`` (reported as "unknown"),
never a guess from a similar name, because a wrong price silently breaks cost gates and
budgets. Built-in prices are keyed by model family; a dated snapshot
(``gpt-4o-2024-08-06``) resolves to its family only through an alias listed explicitly in
:data:`BUILTIN_ALIASES` or passed to the constructor.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from releasegate.config import PriceEntry
from releasegate.llm import Usage

__all__ = ["BUILTIN_ALIASES", "BUILTIN_PRICES", "PriceTable"]


def _p(input_per_mtok: float, output_per_mtok: float) -> PriceEntry:
    return PriceEntry(input_per_mtok=input_per_mtok, output_per_mtok=output_per_mtok)


# Standard (non-batch, non-cached) list prices in USD per million tokens, transcribed from
# the vendors' pricing pages (https://openai.com/api/pricing/ and
# https://docs.anthropic.com/en/docs/about-claude/pricing) as published in 2025 and
# cross-checked against copies of those pages dated March-June 2026. Prices change:
# override them in the project's ``pricing:`` section rather than trusting this table.
BUILTIN_PRICES: Mapping[str, PriceEntry] = MappingProxyType(
    {
        # OpenAI
        "gpt-5": _p(1.25, 10.00),
        "gpt-5-mini": _p(0.25, 2.00),
        "gpt-5-nano": _p(0.05, 0.40),
        "gpt-4.1": _p(2.00, 8.00),
        "gpt-4.1-mini": _p(0.40, 1.60),
        "gpt-4.1-nano": _p(0.10, 0.40),
        "gpt-4o": _p(2.50, 10.00),
        # The first gpt-4o snapshot kept its launch price: a reason never to price a dated
        # name by its family.
        "gpt-4o-2024-05-13": _p(5.00, 15.00),
        "gpt-4o-mini": _p(0.15, 0.60),
        "o3": _p(2.00, 8.00),
        "o3-mini": _p(1.10, 4.40),
        "o4-mini": _p(1.10, 4.40),
        "text-embedding-3-small": _p(0.02, 0.0),
        "text-embedding-3-large": _p(0.13, 0.0),
        # Anthropic
        "claude-opus-4-1": _p(15.00, 75.00),
        "claude-opus-4": _p(15.00, 75.00),
        "claude-sonnet-4-5": _p(3.00, 15.00),
        "claude-sonnet-4": _p(3.00, 15.00),
        "claude-3-7-sonnet": _p(3.00, 15.00),
        "claude-haiku-4-5": _p(1.00, 5.00),
        "claude-3-5-haiku": _p(0.80, 4.00),
    }
)

# Pinned snapshots and the entry whose price they carry. A dated name is priced only if it
# is listed here (or in the project's ``pricing:``); "gpt-4o-2099-01-01" costs ``None``.
BUILTIN_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "gpt-5-2025-08-07": "gpt-5",
        "gpt-5-mini-2025-08-07": "gpt-5-mini",
        "gpt-5-nano-2025-08-07": "gpt-5-nano",
        "gpt-4.1-2025-04-14": "gpt-4.1",
        "gpt-4.1-mini-2025-04-14": "gpt-4.1-mini",
        "gpt-4.1-nano-2025-04-14": "gpt-4.1-nano",
        "gpt-4o-2024-08-06": "gpt-4o",
        "gpt-4o-2024-11-20": "gpt-4o",
        "gpt-4o-mini-2024-07-18": "gpt-4o-mini",
        "o3-2025-04-16": "o3",
        "o3-mini-2025-01-31": "o3-mini",
        "o4-mini-2025-04-16": "o4-mini",
        "claude-opus-4-1-20250805": "claude-opus-4-1",
        "claude-opus-4-20250514": "claude-opus-4",
        "claude-sonnet-4-5-20250929": "claude-sonnet-4-5",
        "claude-sonnet-4-20250514": "claude-sonnet-4",
        "claude-3-7-sonnet-20250219": "claude-3-7-sonnet",
        "claude-haiku-4-5-20251001": "claude-haiku-4-5",
        "claude-3-5-haiku-20241022": "claude-3-5-haiku",
    }
)


class PriceTable:
    """Prices per model, built-ins overridden by the project's own entries.

    Args:
        overrides: the config's ``pricing:`` section (model name -> price). An entry with
            the name of a built-in model replaces it.
        aliases: extra exact aliases (model name -> priced model name).
        builtin: whether to start from :data:`BUILTIN_PRICES` (tests may turn it off).
    """

    def __init__(
        self,
        overrides: Mapping[str, PriceEntry] | None = None,
        *,
        aliases: Mapping[str, str] | None = None,
        builtin: bool = True,
    ) -> None:
        self._prices: dict[str, PriceEntry] = dict(BUILTIN_PRICES) if builtin else {}
        self._prices.update(overrides or {})
        self._aliases: dict[str, str] = dict(BUILTIN_ALIASES) if builtin else {}
        self._aliases.update(aliases or {})

    def __contains__(self, model: object) -> bool:
        return isinstance(model, str) and self.lookup(model) is not None

    def __len__(self) -> int:
        return len(self._prices)

    @property
    def models(self) -> list[str]:
        """Every priced model name, sorted."""
        return sorted(self._prices)

    def lookup(self, model: str) -> PriceEntry | None:
        """The price of ``model``: an exact entry, else an explicit alias, else ``None``."""
        entry = self._prices.get(model)
        if entry is not None:
            return entry
        target = self._aliases.get(model)
        return self._prices.get(target) if target is not None else None

    def cost(self, model: str | None, usage: Usage) -> float | None:
        """USD cost of one call, or ``None`` when the model has no known price."""
        if model is None:
            return None
        entry = self.lookup(model)
        if entry is None:
            return None
        return (
            usage.prompt_tokens * entry.input_per_mtok
            + usage.completion_tokens * entry.output_per_mtok
        ) / 1_000_000

    def cost_first(self, models: tuple[str | None, ...], usage: Usage) -> float | None:
        """Cost priced by the first of ``models`` that is known (configured name first,
        then the name the server reported)."""
        for model in models:
            value = self.cost(model, usage)
            if value is not None:
                return value
        return None

from __future__ import annotations

import pytest

from releasegate.config import PriceEntry
from releasegate.providers import PriceTable, Usage
from releasegate.providers.pricing import BUILTIN_ALIASES, BUILTIN_PRICES


def test_builtin_cost_of_pinned_snapshot() -> None:
    table = PriceTable()
    # gpt-4.1-mini: $0.40 in, $1.60 out per million tokens.
    cost = table.cost("gpt-4.1-mini-2025-04-14", Usage(1_000_000, 500_000))
    assert cost == pytest.approx(0.40 + 0.80)


def test_unknown_model_costs_none_not_a_guess() -> None:
    table = PriceTable()
    assert table.cost("my-local-model", Usage(10, 10)) is None
    assert table.cost(None, Usage(10, 10)) is None
    # A dated name that is not listed is not priced from its family.
    assert table.cost("gpt-4o-2099-01-01", Usage(10, 10)) is None
    assert "gpt-4o-2099-01-01" not in table


def test_listed_snapshot_with_its_own_price_is_not_the_family_price() -> None:
    table = PriceTable()
    old = table.lookup("gpt-4o-2024-05-13")
    family = table.lookup("gpt-4o-2024-08-06")
    assert old is not None and family is not None
    assert old.input_per_mtok == 5.0
    assert family.input_per_mtok == 2.5


def test_overrides_replace_and_extend() -> None:
    table = PriceTable(
        {
            "gpt-4o": PriceEntry(input_per_mtok=1.0, output_per_mtok=2.0),
            "acme-small-2025-01-01": PriceEntry(input_per_mtok=0.5, output_per_mtok=0.5),
        }
    )
    # The alias of a snapshot follows the overridden family price.
    assert table.cost("gpt-4o-2024-11-20", Usage(1_000_000, 1_000_000)) == pytest.approx(3.0)
    assert table.cost("acme-small-2025-01-01", Usage(2_000_000, 0)) == pytest.approx(1.0)
    assert len(table) == len(BUILTIN_PRICES) + 1


def test_explicit_aliases_and_no_builtins() -> None:
    table = PriceTable(
        {"mine": PriceEntry(input_per_mtok=2.0, output_per_mtok=0.0)},
        aliases={"mine-2025-06-01": "mine"},
        builtin=False,
    )
    assert table.models == ["mine"]
    assert table.cost("mine-2025-06-01", Usage(500_000, 7)) == pytest.approx(1.0)
    assert table.cost("gpt-4.1-2025-04-14", Usage(1, 1)) is None


def test_cost_first_prefers_the_first_known_name() -> None:
    table = PriceTable()
    usage = Usage(1_000_000, 0)
    assert table.cost_first(("unknown", "o3-mini-2025-01-31"), usage) == pytest.approx(1.1)
    assert table.cost_first(("unknown", None), usage) is None


def test_every_builtin_alias_points_at_a_priced_entry() -> None:
    for alias, target in BUILTIN_ALIASES.items():
        assert target in BUILTIN_PRICES, alias
        assert alias not in BUILTIN_PRICES, alias

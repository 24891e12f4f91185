"""Prices as dated data: the documented checks, overrides, and no invented prices."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftkit import UsageError
from ftkit.cost import CostEstimate, PriceTable, load_prices
from ftkit.tokens import ExampleTokens, TokenStats


def _stats(tokens_per_example: list[int]) -> TokenStats:
    return TokenStats.of(ExampleTokens(t, t // 2, t, False, 0) for t in tokens_per_example)


def _file_of(total: int, examples: int = 100) -> TokenStats:
    size = total // examples
    return _stats([size] * examples)


@pytest.mark.parametrize(
    ("model", "usd"),
    [
        ("gpt-4o-mini-2024-07-18", 0.90),  # documented [G24]
        ("gpt-3.5-turbo-0125", 2.40),  # documented [G24]
        ("gpt-4.1-2025-04-14", 7.50),
        ("gpt-4o-2024-08-06", 7.50),
        ("gpt-4.1-mini-2025-04-14", 1.50),
        ("gpt-4.1-nano-2025-04-14", 0.45),
    ],
)
def test_documented_check_100k_tokens_3_epochs(model: str, usd: float) -> None:
    est = CostEstimate.from_stats(_file_of(100_000), model=model, epochs=3)
    assert est.billed_tokens == 300_000
    assert est.cost_usd == pytest.approx(usd)
    assert est.cost_reason is None


def test_dpo_is_priced_like_sft_and_ft_models_like_their_base() -> None:
    stats = _file_of(100_000)
    sft = CostEstimate.from_stats(stats, model="gpt-4.1-mini-2025-04-14", epochs=3)
    dpo = CostEstimate.from_stats(
        stats, model="ft:gpt-4.1-mini-2025-04-14:acme::x1", epochs=3, method="dpo"
    )
    assert dpo.cost_usd == sft.cost_usd
    assert dpo.base_model == "gpt-4.1-mini-2025-04-14"


def test_unknown_model_gets_tokens_but_no_price() -> None:
    est = CostEstimate.from_stats(_file_of(100_000), model="gpt-9-2031-01-01", epochs=3)
    assert est.billed_tokens == 300_000
    assert est.cost_usd is None and est.price_per_1m is None
    assert est.cost_reason is not None and "gpt-9-2031-01-01" in est.cost_reason
    assert "prices=" in est.cost_reason


def test_reinforcement_is_billed_per_hour_not_per_token() -> None:
    est = CostEstimate.from_stats(_file_of(10_000), model="o4-mini-2025-04-16", epochs=1)
    assert est.cost_usd is None
    assert est.cost_reason is not None and "per hour" in est.cost_reason
    rft = load_prices().lookup("gpt-4.1-2025-04-14", method="reinforcement")
    assert rft.per_1m_tokens is None


def test_aliases_and_azure_spellings() -> None:
    table = load_prices()
    assert table.lookup("gpt-4o-mini").per_1m_tokens == 3.0
    # Azure's name for the snapshot is Azure's model, which bills its own (unrecorded) rate.
    assert table.lookup("gpt-35-turbo-0125").per_1m_tokens is None
    assert table.lookup("gpt-4o-mini-2024-07-18.ft-0123abcd").per_1m_tokens == 3.0


def test_the_default_table_is_dated() -> None:
    table = PriceTable.default()
    assert table.as_of == "2026-10"
    assert table.currency == "USD"
    assert CostEstimate.from_stats(_file_of(1000), model="gpt-4o-mini").prices_as_of == "2026-10"


def test_overrides_by_mapping_win_for_their_models_only() -> None:
    stats = _file_of(100_000)
    azure = CostEstimate.from_stats(
        stats, model="gpt-4o-mini-2024-07-18", epochs=3, prices={"gpt-4o-mini-2024-07-18": 5}
    )
    assert azure.cost_usd == pytest.approx(1.50)
    assert "custom" in azure.prices_as_of
    other = CostEstimate.from_stats(
        stats, model="gpt-3.5-turbo-0125", epochs=3, prices={"gpt-4o-mini-2024-07-18": 5}
    )
    assert other.cost_usd == pytest.approx(2.40)
    custom = CostEstimate.from_stats(stats, model="my-model", epochs=3, prices={"my-model": 1.0})
    assert custom.cost_usd == pytest.approx(0.30)
    assert custom.limit is None  # an unknown model has no documented per-example limit


def test_overrides_by_file_and_by_table(tmp_path: Path) -> None:
    plain = tmp_path / "prices.json"
    plain.write_text(json.dumps({"gpt-4.1-nano-2025-04-14": 3.0}))
    full = tmp_path / "azure.json"
    full.write_text(
        json.dumps(
            {
                "as_of": "2026-11-02",
                "training": {"gpt-4.1-nano-2025-04-14": {"per_1m_tokens": 2.0}},
            }
        )
    )
    stats = _file_of(100_000)
    by_plain = CostEstimate.from_stats(
        stats, model="gpt-4.1-nano-2025-04-14", epochs=3, prices=plain
    )
    assert by_plain.cost_usd == pytest.approx(0.90)
    by_full = CostEstimate.from_stats(
        stats, model="gpt-4.1-nano-2025-04-14", epochs=3, prices=str(full)
    )
    assert by_full.cost_usd == pytest.approx(0.60)
    assert by_full.prices_as_of == "2026-11-02"
    only = PriceTable.from_dict({"gpt-4o-mini-2024-07-18": 1.0}, as_of="2026-12")
    by_table = CostEstimate.from_stats(stats, model="gpt-4o-mini-2024-07-18", epochs=3, prices=only)
    assert by_table.cost_usd == pytest.approx(0.30)
    missing = CostEstimate.from_stats(stats, model="gpt-3.5-turbo-0125", epochs=3, prices=only)
    assert missing.cost_usd is None


@pytest.mark.parametrize("bad", [{"m": -1}, {"m": "cheap"}, {"m": True}, {"m": {}}])
def test_malformed_prices_are_usage_errors(bad: dict[str, object]) -> None:
    with pytest.raises(UsageError):
        load_prices(bad)


def test_unreadable_price_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        load_prices(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("[1, 2]")
    with pytest.raises(UsageError):
        load_prices(broken)
    with pytest.raises(UsageError):
        load_prices(42)  # type: ignore[arg-type]

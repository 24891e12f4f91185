"""Fireworks AI's training cost: dataset tokens x epochs at the catalog's rate by size."""

from __future__ import annotations

import pytest

import ftkit
from ftkit.cost import CostEstimate, PriceTable, resolve_epochs
from ftkit.cost.epochs import PROVIDER_DEFAULT_EPOCHS
from ftkit.tokens import ExampleTokens, TokenStats

SMALL = "accounts/fireworks/models/llama-v3p1-8b-instruct"
LARGE = "accounts/fireworks/models/qwen2p5-72b-instruct"


def _stats(examples: int, tokens: int = 1_000) -> TokenStats:
    return TokenStats.of(ExampleTokens(tokens, 200, tokens, False) for _ in range(examples))


@pytest.mark.parametrize(("model", "rate"), [(SMALL, 0.5), (LARGE, 3.0), ("qwen3-32b", 3.0)])
@pytest.mark.parametrize("method", ["supervised", "dpo"])
def test_an_estimate_prices_every_token_of_every_epoch(
    model: str, rate: float, method: str
) -> None:
    est = CostEstimate.from_stats(
        _stats(40), model=model, epochs=3, provider="fireworks", method=method
    )
    assert (est.billed_tokens_per_epoch, est.billed_tokens) == (40_000, 120_000)
    assert est.price_per_1m == rate
    assert est.cost_usd == pytest.approx(120_000 * rate / 1_000_000)
    assert est.prices_as_of == "unknown"  # the pricing page's copy is undated
    assert est.limit is None


def test_the_catalogs_model_prices_without_naming_the_provider() -> None:
    est = CostEstimate.from_stats(_stats(10), model=SMALL, epochs=2)
    assert est.cost_usd == pytest.approx(20_000 * 0.5 / 1_000_000)
    # Dated as its own price is, not as the newest of every provider's table.
    assert est.prices_as_of == "unknown"
    openai = CostEstimate.from_stats(_stats(10), model="gpt-4.1-mini-2025-04-14", epochs=2)
    assert openai.prices_as_of not in ("unknown", None)


def test_a_model_without_a_bracket_has_no_dollar_figure() -> None:
    est = CostEstimate.from_stats(
        _stats(10), model="accounts/fireworks/models/gpt-oss-120b", provider="fireworks"
    )
    assert est.cost_usd is None and est.price_per_1m is None
    assert est.cost_reason is not None
    assert "Fireworks AI's training price for 'accounts/fireworks/models/gpt-oss-120b'" in (
        est.cost_reason
    )


def test_the_fireworks_table_holds_only_fireworks_prices() -> None:
    table = PriceTable.default("fireworks")
    assert table.lookup("llama-v3p1-8b-instruct").per_1m_tokens == 0.5  # the short id
    assert table.lookup("gpt-4o-mini-2024-07-18").per_1m_tokens is None
    assert table.as_of == "unknown"
    # OpenAI's table keeps its own date: the undated Fireworks prices do not move it.
    assert PriceTable.default().as_of == PriceTable.default("openai").as_of


def test_auto_epochs_follow_the_shared_rule_on_fireworks() -> None:
    # No Fireworks source gives its jobs' default epoch count, so "auto" is ftkit's rule
    # (the backend sends the count it resolves, so the estimate and the job agree).
    assert "fireworks" not in PROVIDER_DEFAULT_EPOCHS
    assert resolve_epochs(None, 20, "fireworks") == resolve_epochs(None, 20) == (5, True)
    est = CostEstimate.from_stats(_stats(20), model=SMALL, provider="fireworks")
    assert (est.epochs, est.epochs_auto) == (5, True)


def test_estimate_from_records_gives_a_dollar_figure() -> None:
    records = [
        {
            "messages": [
                {"role": "user", "content": f"{n}+{n}?"},
                {"role": "assistant", "content": "x"},
            ]
        }
        for n in range(12)
    ]
    est = ftkit.estimate(records, model=SMALL, provider="fireworks", epochs=2)
    assert est.cost_usd == pytest.approx(est.billed_tokens * 0.5 / 1_000_000)
    assert est.billed_tokens == 2 * est.billed_tokens_per_epoch > 0
    assert est.approximate  # no tokenizer.json registered: a stand-in counted them

"""Together's jobs train 1 epoch when none is given; OpenAI's "auto" rule is unchanged."""

from __future__ import annotations

from ftkit.cost import CostEstimate, resolve_epochs
from ftkit.tokens import ExampleTokens, TokenStats

QWEN = "Qwen/Qwen3-8B"


def _stats(examples: int) -> TokenStats:
    return TokenStats.of(ExampleTokens(100, 40, 100, False) for _ in range(examples))


def test_auto_is_the_providers_fixed_default_where_it_has_one() -> None:
    assert resolve_epochs(None, 20) == (5, True)  # the cookbook rule
    assert resolve_epochs("auto", 20, "openai") == (5, True)
    assert resolve_epochs(None, 20, "together") == (1, True)
    assert resolve_epochs("auto", 20, "together") == (1, True)
    assert resolve_epochs(3, 20, "together") == (3, False)


def test_an_estimate_of_a_together_model_trains_one_epoch_by_default() -> None:
    for provider in ("together", None):  # None: the catalog says it is Together's
        est = CostEstimate.from_stats(_stats(20), model=QWEN, provider=provider)
        assert (est.epochs, est.epochs_auto, est.billed_tokens) == (1, True, 2_000)
    openai = CostEstimate.from_stats(_stats(20), model="gpt-4.1-mini-2025-04-14")
    assert (openai.epochs, openai.billed_tokens) == (5, 10_000)

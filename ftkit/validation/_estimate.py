"""``ftkit.estimate``: what a training file will cost, from one streaming pass.

The pass is the validator's (:func:`ftkit.validation._engine.scan`, beside it): it parses
each line, keeps the structurally valid examples and counts them with a
:class:`~ftkit.tokens.TokenCounter`, in parallel byte-range chunks for large
files. The estimate skips the dataset-quality checks; lines that are not valid
records of the file's method are not counted and are reported as ``skipped``,
with their reasons in ``skipped_reasons``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterable
from typing import Any

from .._exceptions import UsageError
from ..cost.epochs import EpochsArg
from ..cost.estimate import CostEstimate
from ..cost.prices import PricesArg, counted_as, load_prices
from ..providers import example_limit
from ..tokens.encoding import base_model
from ..tokens.stats import TokenStats

__all__ = ["estimate"]

logger = logging.getLogger("ftkit.cost")

_PRICING_METHOD = {"sft": "supervised", "dpo": "dpo"}


def estimate(
    source: str | os.PathLike[str] | Iterable[Any],
    model: str,
    *,
    epochs: EpochsArg = None,
    prices: PricesArg = None,
    method: str | None = None,
    workers: int | None = None,
    provider: str | None = None,
) -> CostEstimate:
    """Count a training file's tokens for ``model`` and price the run.

    Called like :func:`ftkit.validate`: ``estimate("train.jsonl", "gpt-4.1-mini-2025-04-14")``
    (``model=`` by name works too); the other options are keywords.

    Args:
        source: a JSONL path, or an iterable of record dicts, records or JSON lines.
        model: the model to train (``ft:`` names use their base model's tokenizer,
            per-example limit and price).
        epochs: ``None``/``"auto"`` for the documented default rule (Together's jobs
            default to 1 epoch instead), or an int (1-50).
        prices: overrides of the dated price table: a :class:`~ftkit.cost.PriceTable`,
            ``{model: USD per 1M training tokens}``, or a JSON file path. A model ftkit
            has no tokenizer for is estimable when these price it: it is counted as its
            entry's ``base_model`` (see :func:`ftkit.cost.prices.counted_as`).
        method: ``"sft"``/``"supervised"`` or ``"dpo"``; ``None`` detects it from the file.
        workers: processes for a large file (``None`` chooses, ``1`` stays in-process).
        provider: the provider that will train it (``"azure"``): its per-example limit
            and prices (at its default training type) apply; ``None``: the first
            provider that lists the model (``openai`` first). An open model's
            (``"together"``) tokens are counted with its own ``tokenizer.json`` when one is
            registered or in the Hugging Face cache, else approximately (``approximate``
            is then true): see :mod:`ftkit.tokens.open_models`.

    Returns:
        The :class:`CostEstimate`; ``cost_usd`` is ``None`` (with ``cost_reason``) for a
        model without a known per-token price.

    Raises:
        UsageError: a missing file, an unknown model, bad epochs or prices.
        TokenizerUnavailable: no verified vocabulary for the model's encoding.
    """
    from ..tokens.counting import TokenCounter
    from ._engine import scan

    # A model ftkit has no tokenizer for is estimable when the prices given price it.
    table = load_prices(prices, provider=provider)
    counting, assumed = counted_as(model, table)
    if assumed:
        logger.warning("%s", assumed)
    # Fail here, loudly, on an unknown model or a missing vocabulary.
    TokenCounter(counting, provider=provider)
    result = scan(
        source,
        model=counting,
        method=method,
        provider=provider,
        checks=False,
        workers=workers,
        max_per_code=0,
        minimum_examples=False,
    )
    stats = result.tokens if result.tokens is not None else TokenStats()
    if stats.skipped:
        logger.info("%s: %s", result.source or "source", stats.skipped_text())
    kind = result.kind or "sft"
    if method in ("reinforcement", "rft"):
        raise UsageError("reinforcement fine-tuning is billed per hour; it has no token estimate")
    found = CostEstimate.from_stats(
        stats,
        model=model,
        epochs=epochs,
        prices=table,
        method=_PRICING_METHOD[kind],
        provider=provider,
    )
    if counting == model:
        return found
    return dataclasses.replace(
        found, base_model=base_model(counting), limit=example_limit(counting, provider=provider)
    )

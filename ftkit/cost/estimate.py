"""What a training run will bill: :class:`CostEstimate`, built from token statistics.

The statistics are :class:`ftkit.tokens.TokenStats` (one pass over a file); this
module adds the epochs rule, the dated price and the rendering.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ..providers import base_model as _base_model
from ..providers import example_limit, find_model
from ..tokens.stats import HistogramBin, TokenStats, TokenSummary, skip_reasons_text, skipped_text
from .epochs import EpochsArg, resolve_epochs
from .prices import PricesArg, load_prices

__all__ = ["APPROXIMATE_NOTE", "CostEstimate"]

APPROXIMATE_NOTE = (
    "counted without the model's own tokenizer.json (ftkit.tokens.register_tokenizer, or "
    "the model's files in the Hugging Face cache, make the counts exact)"
)
"""What an estimate marked approximate says about its counts, in every rendering."""


@dataclass(frozen=True)
class CostEstimate:
    """What a training run on a dataset will bill, before anything is uploaded.

    Token fields count one pass over the file unless their name says otherwise;
    ``billed_tokens`` is what the run is charged for (capped examples x epochs).
    """

    model: str
    """The model given (may be an ``ft:`` name)."""
    base_model: str
    """The base snapshot used for the tokenizer, the limit and the price."""
    method: str
    """``supervised`` or ``dpo`` (priced alike), or ``reinforcement``."""
    examples: int
    epochs: int
    epochs_auto: bool
    """Whether ``epochs`` was chosen by the ``"auto"`` rule (or the provider's fixed default)."""
    total_tokens: int
    """All tokens of the file, uncapped."""
    trained_tokens: int
    """Tokens the model learns to produce (weighted assistant turns, DPO outputs)."""
    billed_tokens_per_epoch: int
    """Tokens of the file with each example capped at the per-example limit."""
    billed_tokens: int
    """``billed_tokens_per_epoch * epochs``: the tokens the run is charged for."""
    over_limit: int
    """Examples longer than the per-example limit (truncated from the end)."""
    trained_lost: int
    """Trained tokens (per epoch) that truncation removes."""
    limit: int | None
    """Max tokens per example for the model, ``None`` when unknown."""
    price_per_1m: float | None
    """Training price in USD per 1M tokens, ``None`` when unknown or not per token."""
    prices_as_of: str
    """When the price table was checked."""
    cost_usd: float | None
    """``billed_tokens * price_per_1m / 1e6``; ``None`` with ``cost_reason`` when unknown."""
    cost_reason: str | None
    """Why ``cost_usd`` is ``None``."""
    stats: TokenSummary = field(default_factory=lambda: TokenSummary(0, 0, 0.0, 0.0, 0.0, 0.0))
    """Distribution of tokens per example."""
    skipped: int = 0
    """Non-blank lines not counted because they are not valid records (see ``ftkit.validate``)."""
    skipped_reasons: Mapping[str, int] = field(default_factory=dict)
    """``skipped`` by reason (``{"invalid_json": 5, ...}``).

    The keys are those of ``ftkit.tokens.stats.SKIP_REASONS``."""
    approximate: bool = False
    """Whether the token figures (and so the cost) are estimates: an open model counted
    without its own ``tokenizer.json`` (see ``ftkit.tokens.open_models``)."""

    @classmethod
    def from_stats(
        cls,
        stats: TokenStats,
        *,
        model: str,
        epochs: EpochsArg = None,
        prices: PricesArg = None,
        method: str = "supervised",
        skipped: int | None = None,
        provider: str | None = None,
        training_type: str | None = None,
    ) -> CostEstimate:
        """Price accumulated token stats for ``model``.

        Args:
            stats: the dataset's token stats (counted with ``model``'s tokenizer and limit).
            model: the model to train; ``ft:`` names use their base model.
            epochs: ``None``/``"auto"`` for the default rule (a provider's fixed default,
                such as Together's 1, where it has one), or an explicit count (1-50).
            prices: a :class:`PriceTable`, ``{model: USD per 1M}`` overrides, or a JSON file.
            method: ``supervised``, ``dpo`` (same price) or ``reinforcement`` (not per token).
            skipped: lines of the source that were not counted (invalid records);
                ``None`` takes them, with their reasons, from ``stats.skipped``.
            provider: the provider that trains it, whose catalog limit and prices apply
                (``None``: every provider's, ``openai`` first).
            training_type: the run's training type on a provider with training types
                (``None``: the one its jobs train on when none is named).

        Raises:
            UsageError: invalid epochs or prices, an unknown provider or training type.
        """
        trains = provider
        if trains is None:
            info = find_model(model)
            trains = info.provider if info is not None else None
        count, auto = resolve_epochs(epochs, stats.examples, trains)
        table = load_prices(prices, provider=provider, training_type=training_type)
        found = table.lookup(model, method=method)
        billed = stats.billed_tokens * count
        cost = None if found.per_1m_tokens is None else billed * found.per_1m_tokens / 1_000_000
        return cls(
            model=model,
            base_model=_base_model(model),
            method=method,
            examples=stats.examples,
            epochs=count,
            epochs_auto=auto,
            total_tokens=stats.total_tokens,
            trained_tokens=stats.trained_tokens,
            billed_tokens_per_epoch=stats.billed_tokens,
            billed_tokens=billed,
            over_limit=stats.over_limit,
            trained_lost=stats.trained_lost,
            limit=example_limit(model, provider=provider),
            price_per_1m=found.per_1m_tokens,
            prices_as_of=found.as_of or table.as_of,
            cost_usd=cost,
            cost_reason=found.reason,
            stats=stats.summary(),
            skipped=stats.skipped_total if skipped is None else skipped,
            skipped_reasons=dict(stats.skipped) if skipped is None else {},
            approximate=stats.approximate,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (the histogram as ``[low, high, count]`` lists)."""
        data = asdict(self)
        data["skipped_reasons"] = dict(self.skipped_reasons)
        data["stats"]["histogram"] = [[b.low, b.high, b.count] for b in self.stats.histogram]
        return data

    def __str__(self) -> str:
        return "\n".join(_render(self))

    def _repr_html_(self) -> str:
        from .._html import html_block, html_table

        s = self.stats
        cost = (
            f"${self.cost_usd:,.2f} at ${self.price_per_1m:,.2f} per 1M tokens "
            f"(prices as of {self.prices_as_of})"
            if self.cost_usd is not None and self.price_per_1m is not None
            else f"unknown: {self.cost_reason}"
        )
        facts: list[tuple[str, object]] = [
            (
                "model",
                self.model
                if self.base_model == self.model
                else f"{self.model} (base {self.base_model})",
            ),
            ("examples", self.examples),
            (
                "tokens (total / trained)",
                f"{self.total_tokens:,} / {self.trained_tokens:,}"
                + (" (approximate)" if self.approximate else ""),
            ),
            (
                "per example (p5 / median / p95 / max)",
                f"{s.p5:,.0f} / {s.p50:,.0f} / {s.p95:,.0f} / {s.max:,}",
            ),
            ("limit per example", self.limit),
            ("over the limit", self.over_limit),
            ("epochs", f"{self.epochs} ({'auto' if self.epochs_auto else 'given'})"),
            ("billed tokens", self.billed_tokens),
            ("cost", cost),
        ]
        if self.skipped:
            facts.append(
                (
                    "lines not counted",
                    f"{self.skipped:,}"
                    + (
                        f" ({why})"
                        if (why := skip_reasons_text(self.skipped, self.skipped_reasons))
                        else ""
                    ),
                )
            )
        summary = "unknown" if self.cost_usd is None else f"${self.cost_usd:,.2f}"
        return html_block("ftkit estimate", summary, html_table(("", ""), facts))

    def to_pandas(self) -> Any:
        """The token length histogram as a ``pandas.DataFrame`` (needs the ``pandas`` extra).

        Columns: ``low, high, count`` — examples whose total tokens fall in ``[low, high)``.

        Raises:
            MissingExtra: pandas is not installed.
        """
        from .._optional import require

        pd = require("pandas", extra="pandas", feature="CostEstimate.to_pandas()")
        return pd.DataFrame(
            [(b.low, b.high, b.count) for b in self.stats.histogram],
            columns=["low", "high", "count"],
        )

    def token_lengths(self, bins: int = 30) -> tuple[tuple[Any, ...], int | None, int | None, str]:
        """``(histogram, over_limit, limit, title)`` for :func:`ftkit.plots.plot_token_lengths`.

        Plain data, so that the plotting module needs no domain type (layers point down).
        """
        label = f"{self.examples:,} examples ({self.model})"
        return self.stats.histogram, self.over_limit, self.limit, label

    def plot(self, limit: int | None = None) -> Any:
        """The token length distribution with the model's limit marked (``ftkit.plots``)."""
        from ..plots import plot_token_lengths

        return plot_token_lengths(self, limit=limit)


def _render(est: CostEstimate) -> list[str]:
    s = est.stats
    epochs = f"{est.epochs} ({'auto' if est.epochs_auto else 'given'})"
    lines = [
        f"model           {est.model}"
        + (f" (base {est.base_model})" if est.base_model != est.model else ""),
        f"examples        {est.examples:,}"
        + (f" ({skipped_text(est.skipped_reasons, est.skipped)})" if est.skipped else ""),
        f"tokens          {est.total_tokens:,} total, {est.trained_tokens:,} trained"
        + (" (approximate)" if est.approximate else ""),
        f"per example     min {s.min:,}  p5 {s.p5:,.0f}  p50 {s.p50:,.0f}  "
        f"p95 {s.p95:,.0f}  max {s.max:,}  mean {s.mean:,.1f}",
    ]
    if est.approximate:
        lines.append(f"approximate     {APPROXIMATE_NOTE}")
    if est.limit is not None:
        lines.append(
            f"over limit      {est.over_limit:,} of {est.examples:,} examples exceed "
            f"{est.limit:,} tokens"
            + (f"; {est.trained_lost:,} trained tokens truncated" if est.over_limit else "")
        )
    lines += [
        f"epochs          {epochs}",
        f"billed tokens   {est.billed_tokens:,} ({est.billed_tokens_per_epoch:,} per epoch)",
    ]
    if est.cost_usd is not None and est.price_per_1m is not None:
        lines.append(
            f"cost            ${est.cost_usd:,.2f} at ${est.price_per_1m:,.2f} per 1M tokens "
            f"(prices as of {est.prices_as_of})"
        )
    else:
        lines.append(f"cost            unknown: {est.cost_reason}")
    return lines


def estimate_from_mapping(data: Mapping[str, Any]) -> CostEstimate:
    """Rebuild a :class:`CostEstimate` from :meth:`CostEstimate.to_dict` output."""
    values = dict(data)
    summary = dict(values.pop("stats"))
    summary["histogram"] = tuple(HistogramBin(*b) for b in summary.get("histogram", ()))
    return CostEstimate(**values, stats=TokenSummary(**summary))

"""Inference prices, as dated data: what the evaluation's tokens cost.

The prices are the model catalog's (:mod:`ftkit.providers`): USD per 1M input
and output tokens for fine-tuned models (the "FT input" / "FT output" columns
of the pricing page's fine-tuning section, kept on the base snapshot's entry)
and for the base snapshots themselves. ``prices=`` overrides entries by exact
model name (an ``ft:`` name, a deployment, a base snapshot). A model the table
does not know gets no cost and a reason: ftkit never guesses a price.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._exceptions import UsageError
from ..providers import base_model, models

__all__ = ["InferencePrices", "InferencePricesArg"]

InferencePricesArg = Mapping[str, Any] | None
"""``{model: {"input": USD per 1M, "output": USD per 1M}}`` or ``{model: (input, output)}``."""


@dataclass(frozen=True)
class InferencePrices:
    """Input and output prices per model, with the date they were checked."""

    fine_tuned: Mapping[str, tuple[float, float]]
    base: Mapping[str, tuple[float, float]]
    as_of: str
    aliases: Mapping[str, str]
    overrides: Mapping[str, tuple[float, float]]

    @classmethod
    def load(cls, overrides: InferencePricesArg = None) -> InferencePrices:
        """The catalog's prices (``as_of``: its newest check); ``overrides`` win for their models.

        Raises:
            UsageError: a malformed override.
        """
        fine_tuned: dict[str, tuple[float, float]] = {}
        base: dict[str, tuple[float, float]] = {}
        aliases: dict[str, str] = {}
        checked: list[str] = []
        for info in models():  # the first provider that prices a name wins (openai first)
            for table, price in (
                (fine_tuned, info.inference_price),
                (base, info.base_inference_price),
            ):
                if price is not None:
                    table.setdefault(info.name, (price.input, price.output))
                    checked += [price.as_of] if price.as_of else []
            for alias in info.aliases:
                aliases.setdefault(alias, info.name)
        return cls(
            fine_tuned=fine_tuned,
            base=base,
            as_of=max(checked, default="unknown"),
            aliases=aliases,
            overrides={str(k): _pair(k, v) for k, v in (overrides or {}).items()},
        )

    def lookup(self, model: str) -> tuple[tuple[float, float] | None, str | None]:
        """``((input, output) USD per 1M, None)``, or ``(None, reason)``."""
        if model in self.overrides:
            return self.overrides[model], None
        fine_tuned = model.startswith("ft:") or ".ft-" in model
        try:
            base = base_model(model)
        except UsageError:
            return None, f"cannot read the base model of {model!r}"
        base = self.aliases.get(base, base)
        table = self.fine_tuned if fine_tuned else self.base
        price = table.get(base)
        if price is None:
            kind = "fine-tuned " if fine_tuned else ""
            return None, (
                f"no {kind}inference price known for {base!r} (prices as of {self.as_of}); "
                f"pass prices={{{model!r}: {{'input': ..., 'output': ...}}}}"
            )
        return price, None

    def cost(self, model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
        """USD for the given tokens, or None when the price is unknown."""
        price, _ = self.lookup(model)
        if price is None:
            return None
        return (prompt_tokens * price[0] + completion_tokens * price[1]) / 1_000_000


def _pair(model: object, value: Any) -> tuple[float, float]:
    if isinstance(value, Mapping):
        pair = (value.get("input"), value.get("output"))
    elif isinstance(value, (list, tuple)) and len(value) == 2:
        pair = (value[0], value[1])
    else:
        raise UsageError(
            f"price of {model!r} must be {{'input': x, 'output': y}} or (input, output), "
            f"got {value!r}"
        )
    for number in pair:
        if isinstance(number, bool) or not isinstance(number, (int, float)) or number < 0:
            raise UsageError(f"price of {model!r} must hold non-negative numbers, got {value!r}")
    return float(pair[0]), float(pair[1])  # type: ignore[arg-type]

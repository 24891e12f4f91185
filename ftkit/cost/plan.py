"""The cost of a whole pipeline: SFT and DPO stage estimates summed.

A DPO stage trains on the SFT stage's model, which does not exist yet when a
plan is made: it is estimated with the base model's tokenizer, limit and DPO
price (the catalog's DPO rate), which is what ``ft:`` names resolve to anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .._plain import attributes
from .estimate import CostEstimate

__all__ = ["PlanEstimate", "estimate_stages"]


@dataclass(frozen=True)
class PlanEstimate:
    """Estimates of every training stage of a run, and their sum."""

    stages: tuple[CostEstimate, ...]

    @property
    def billed_tokens(self) -> int:
        """Tokens charged across all stages (each stage: capped tokens x epochs)."""
        return sum(s.billed_tokens for s in self.stages)

    @property
    def trained_tokens(self) -> int:
        """Trained tokens of one pass over every stage's file."""
        return sum(s.trained_tokens for s in self.stages)

    @property
    def over_limit(self) -> int:
        """Examples over their model's per-example limit, across stages."""
        return sum(s.over_limit for s in self.stages)

    @property
    def approximate(self) -> bool:
        """Whether any stage's token figures are estimates (``CostEstimate.approximate``)."""
        return any(s.approximate for s in self.stages)

    @property
    def cost_usd(self) -> float | None:
        """The summed cost, or ``None`` if any stage has no price (see :attr:`cost_reason`)."""
        costs = [s.cost_usd for s in self.stages]
        if any(c is None for c in costs):
            return None
        return sum(c for c in costs if c is not None)

    @property
    def cost_reason(self) -> str | None:
        """Why :attr:`cost_usd` is unknown: the first stage without a price."""
        for stage in self.stages:
            if stage.cost_usd is None:
                return f"{stage.method} stage: {stage.cost_reason}"
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data: every stage, then the totals."""
        return {
            "stages": [s.to_dict() for s in self.stages],
            **attributes(
                self,
                "billed_tokens",
                "trained_tokens",
                "over_limit",
                "cost_usd",
                "cost_reason",
                "approximate",
            ),
        }

    def __str__(self) -> str:
        lines: list[str] = []
        for stage in self.stages:
            lines.append(f"[{stage.method}]")
            lines += [f"  {line}" for line in str(stage).splitlines()]
        cost = self.cost_usd
        total = f"${cost:,.2f}" if cost is not None else f"unknown ({self.cost_reason})"
        lines.append(
            f"total           {self.billed_tokens:,} billed tokens, {total}"
            + (" (approximate)" if self.approximate else "")
        )
        return "\n".join(lines)


def estimate_stages(stages: Iterable[CostEstimate]) -> PlanEstimate:
    """Sum the estimates of a run's stages (SFT, then optionally DPO on the SFT model).

    Args:
        stages: one :class:`CostEstimate` per training stage, in order; build each with
            ``ftkit.estimate(file, model=..., method="dpo")`` or ``CostEstimate.from_stats``.

    Returns:
        A :class:`PlanEstimate` whose cost is ``None`` when any stage has no known price.
    """
    return PlanEstimate(tuple(stages))

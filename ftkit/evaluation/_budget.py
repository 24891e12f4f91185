"""Inference spending: an estimate before the first call, and a hard cap on every answer.

Evaluations, their judges and distillations pay per token. Before any call, the
calls still to make are estimated (:func:`estimate`: their prompts counted, their
answers guessed, each priced from the catalog's dated inference prices, the same
:class:`~._prices.InferencePrices` the report uses), and :meth:`Spending.check`
refuses to start when the estimate is over ``max_cost_usd``. While the calls run,
:meth:`Spending.charge` adds what each answer was billed (the usage the API
reported), and the caller stops starting new calls once the cap is reached; the
answers already received are kept, so a later run with a higher cap resumes.

With a cap, every model called must have a price (from the catalog or
``prices=``): ftkit never guesses one, and a cap on an unknown cost would be a cap
on nothing.

Counting: prompts with ftkit's token counter for the model where it knows the
model's tokenizer, else about four characters per token (the estimate then says
it is approximate). Answers are guessed, not counted; each caller states its
guess (:class:`CallEstimate`).
"""

from __future__ import annotations

import functools
import json
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import CostLimitExceeded, UsageError
from .._words import plural
from ._prices import InferencePrices

__all__ = [
    "CallEstimate",
    "SpendEstimate",
    "Spending",
    "estimate",
    "prompt_tokens",
    "text_tokens",
]

log = logging.getLogger("ftkit.evaluation")

_CHARS_PER_TOKEN = 4


def _rough(text: str) -> int:
    return max(1, math.ceil(len(text) / _CHARS_PER_TOKEN))


@functools.lru_cache(maxsize=64)  # one per model: building one takes about a millisecond
def _counter(model: str) -> Any:
    """ftkit's token counter for ``model``, or None where it does not know the tokenizer."""
    try:
        from ..tokens.counting import TokenCounter

        return TokenCounter(model)
    except Exception:  # an unknown model or no vocabulary offline: count roughly
        return None


def prompt_tokens(
    model: str,
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[Mapping[str, Any]] | None = None,
) -> tuple[int, bool]:
    """``(tokens, exact)`` of a prompt for ``model``; ``exact`` is False for a rough count."""
    counter = _counter(model)
    if counter is not None:
        try:
            counted = counter.count_messages([dict(m) for m in messages], tools=tools or None)
            return int(counted.total), True
        except Exception:  # a message the counter cannot read: count roughly
            pass
    text = json.dumps(list(messages), ensure_ascii=False) + json.dumps(tools or [])
    return _rough(text) + 3 * len(messages), False


def text_tokens(model: str, text: str) -> tuple[int, bool]:
    """``(tokens, exact)`` of a piece of text for ``model``."""
    counter = _counter(model)
    if counter is not None:
        try:
            return int(counter.text(text)), True
        except Exception:
            pass
    return _rough(text), False


@dataclass(frozen=True)
class CallEstimate:
    """One call still to make: the model, its prompt's tokens and a guess at its answer's."""

    model: str
    prompt_tokens: int
    completion_tokens: int
    exact: bool = True
    """Whether the prompt was counted with the model's tokenizer (the answer is always a guess)."""


@dataclass(frozen=True)
class SpendEstimate:
    """What a batch of calls is expected to cost, before any is made.

    Attributes:
        calls: how many calls.
        prompt_tokens, completion_tokens: their expected tokens (answers guessed).
        cost_usd: the expected cost, or None when a model has no price.
        unpriced: the models without a price (their reasons in ``notes``).
        approximate: some prompt was counted at about four characters per token.
        prices_as_of: the date of the prices.
    """

    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    unpriced: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    approximate: bool = False
    prices_as_of: str | None = None

    def __str__(self) -> str:
        cost = "cost unknown" if self.cost_usd is None else f"about ${self.cost_usd:,.4f}"
        rough = ", prompts counted roughly" if self.approximate else ""
        return (
            f"{plural(self.calls, 'call')}, {self.prompt_tokens:,} prompt tokens and about "
            f"{self.completion_tokens:,} answer tokens: {cost}{rough}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_usd": self.cost_usd,
            "unpriced": list(self.unpriced),
            "approximate": self.approximate,
            "prices_as_of": self.prices_as_of,
        }


def estimate(calls: Iterable[CallEstimate], prices: InferencePrices) -> SpendEstimate:
    """Sum and price a batch of calls."""
    count = prompt = completion = 0
    cost = 0.0
    approximate = False
    unpriced: dict[str, str] = {}
    for call in calls:
        count += 1
        prompt += call.prompt_tokens
        completion += call.completion_tokens
        approximate = approximate or not call.exact
        price = prices.cost(call.model, call.prompt_tokens, call.completion_tokens)
        if price is None:
            unpriced.setdefault(call.model, prices.lookup(call.model)[1] or "no price")
        else:
            cost += price
    return SpendEstimate(
        calls=count,
        prompt_tokens=prompt,
        completion_tokens=completion,
        cost_usd=None if unpriced else cost,
        unpriced=tuple(unpriced),
        notes=tuple(unpriced.values()),
        approximate=approximate,
        prices_as_of=prices.as_of,
    )


@dataclass
class Spending:
    """The cap of one batch of inference calls and what they have cost so far.

    Args:
        limit_usd: ``max_cost_usd`` (None: no cap, spending is still added up).
        prices: the inference prices.
    """

    limit_usd: float | None
    prices: InferencePrices
    spent_usd: float = 0.0
    unpriced_calls: int = 0
    estimates: list[tuple[str, SpendEstimate]] = field(default_factory=list)

    def __post_init__(self) -> None:
        limit = self.limit_usd
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, (int, float)) or not limit >= 0
        ):
            raise UsageError(f"max_cost_usd must be a non-negative number, got {limit!r}")

    def check(self, expected: SpendEstimate, what: str) -> None:
        """Refuse to start calls whose estimate is over what the cap leaves.

        Args:
            expected: the calls' estimate.
            what: what they are, for the message (``"judge calls"``).

        Raises:
            UsageError: a cap is set and some model of these calls has no price.
            CostLimitExceeded: the estimate is over the cap (less what was spent).
        """
        self.estimates.append((what, expected))
        log.info("estimated %s: %s", what, expected)
        if self.limit_usd is None or not expected.calls:
            return
        if expected.cost_usd is None:
            raise UsageError(
                f"max_cost_usd is set but the cost of the {what} is unknown: "
                + "; ".join(expected.notes)
            )
        left = self.limit_usd - self.spent_usd
        if expected.cost_usd > left:
            # Spent: earlier calls of this batch were made (their answers are kept).
            spent = (
                f" (${self.spent_usd:,.4f} already spent); none of them was asked"
                if self.spent_usd
                else "; nothing was asked"
            )
            raise CostLimitExceeded(
                f"the {what} ({expected}) would cost more than max_cost_usd="
                f"${self.limit_usd:,.4f}{spent}. Raise the cap, or ask fewer "
                "examples (max_examples=)",
                limit_usd=self.limit_usd,
                estimate_usd=expected.cost_usd,
                spent_usd=self.spent_usd,
            )

    def charge(self, model: str, prompt_tokens: int, completion_tokens: int) -> None:
        """Add one answer's billed usage."""
        cost = self.prices.cost(model, prompt_tokens, completion_tokens)
        if cost is None:
            self.unpriced_calls += 1
        else:
            self.spent_usd += cost

    def reached(self) -> CostLimitExceeded | None:
        """The error to stop with once what was billed has reached the cap, else None."""
        if self.limit_usd is None or self.spent_usd < self.limit_usd:
            return None
        return CostLimitExceeded(
            f"the calls made so far cost ${self.spent_usd:,.4f}, which reaches max_cost_usd="
            f"${self.limit_usd:,.4f}; no new call was started and the answers received are "
            "kept (run again with the same out= and a higher cap to go on)",
            limit_usd=self.limit_usd,
            spent_usd=self.spent_usd,
        )

"""Token statistics of a dataset: per-example figures, accumulated one example at a time.

:class:`TokenStats` is a mergeable accumulator: each worker of a parallel
pass fills its own and the parent merges them, so nothing but small counts
crosses process boundaries. It keeps one counter per distinct example length
(a few thousand integers at most), which is enough for *true* percentiles:
p5/p50/p95 are the 5th/50th/95th percentiles (linear interpolation between
order statistics, like ``numpy.percentile``), not the 10th/90th the cookbook
prints under those labels. Pricing them is :mod:`ftkit.cost`'s job; this
module knows nothing of prices.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .counting import ExampleTokens

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["SKIP_REASONS", "HistogramBin", "TokenStats", "TokenSummary"]

HISTOGRAM_BINS = 10

SKIP_REASONS: Mapping[str, str] = {
    "invalid_json": "not a JSON object",
    "multiline_json": "part of a record spread over several lines",
    "unreadable_file": "in a file that is not UTF-8 text",
    "unknown_format": "not an SFT or DPO record",
    "other_kind": "a record of the other method",
    "invalid_record": "a record with errors",
    "other": "not a countable record",
}
"""Why a non-blank line was not counted: the keys of :attr:`TokenStats.skipped`, in order.

``invalid_json`` covers the validator's ``invalid_json``, ``invalid_utf8``,
``line_too_complex`` and ``not_an_object`` lines; ``unreadable_file`` a UTF-16 or
binary file; ``invalid_record`` a record with at least one error finding."""
_NOT_JSON_CODES = ("invalid_json", "invalid_utf8", "line_too_complex", "not_an_object")


@dataclass(frozen=True, slots=True)
class HistogramBin:
    """Examples whose total tokens fall in ``[low, high)``."""

    low: int
    high: int
    count: int


class TokenStats:
    """Per-example token figures of a dataset, accumulated one example at a time.

    Picklable and mergeable (``a.merge(b)``); memory grows with the number of
    distinct example lengths, not with the number of examples.
    """

    __slots__ = (
        "_lengths",
        "approximate",
        "billed_tokens",
        "examples",
        "over_limit",
        "skipped",
        "total_tokens",
        "trained_lost",
        "trained_tokens",
    )

    def __init__(self) -> None:
        self._lengths: dict[int, int] = {}
        self.examples = 0
        self.total_tokens = 0
        self.trained_tokens = 0
        self.billed_tokens = 0
        self.over_limit = 0
        self.trained_lost = 0
        self.skipped: dict[str, int] = {}
        """Non-blank lines not counted, by reason (a key of :data:`SKIP_REASONS`)."""
        self.approximate = False
        """Whether any example's figures are estimates (:attr:`ExampleTokens.approximate`)."""

    def __getstate__(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.skipped = {}  # absent from states pickled before it existed
        self.approximate = False  # likewise
        for name, value in state.items():
            setattr(self, name, value)

    def __repr__(self) -> str:
        return (
            f"TokenStats(examples={self.examples}, total_tokens={self.total_tokens}, "
            f"billed_tokens={self.billed_tokens}, over_limit={self.over_limit}"
            + (", approximate=True)" if self.approximate else ")")
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TokenStats):
            return NotImplemented
        return self.__getstate__() == other.__getstate__()

    __hash__ = None  # type: ignore[assignment]  # mutable accumulator

    @classmethod
    def of(cls, items: Iterable[ExampleTokens]) -> TokenStats:
        """Stats of a sequence of counted examples."""
        stats = cls()
        for item in items:
            stats.add(item)
        return stats

    def add(self, tokens: ExampleTokens) -> None:
        """Account for one example."""
        self.examples += 1
        self.total_tokens += tokens.total
        self.trained_tokens += tokens.trained
        self.billed_tokens += tokens.billed
        if tokens.over_limit:
            self.over_limit += 1
            self.trained_lost += tokens.trained_lost
        if tokens.approximate:
            self.approximate = True
        lengths = self._lengths
        lengths[tokens.total] = lengths.get(tokens.total, 0) + 1

    def merge(self, other: TokenStats) -> TokenStats:
        """Add ``other``'s examples to this one (in place); returns ``self``."""
        self.examples += other.examples
        self.total_tokens += other.total_tokens
        self.trained_tokens += other.trained_tokens
        self.billed_tokens += other.billed_tokens
        self.over_limit += other.over_limit
        self.trained_lost += other.trained_lost
        self.approximate = self.approximate or other.approximate
        lengths = self._lengths
        for length, count in other._lengths.items():
            lengths[length] = lengths.get(length, 0) + count
        for reason, count in other.skipped.items():
            self.skipped[reason] = self.skipped.get(reason, 0) + count
        return self

    def skip(self, reason: str, count: int = 1) -> None:
        """Account for ``count`` lines that were not counted, for ``reason``."""
        self.skipped[reason] = self.skipped.get(reason, 0) + count

    @property
    def skipped_total(self) -> int:
        """Non-blank lines that were not counted, for any reason."""
        return sum(self.skipped.values())

    def explain_skipped(self, lines: int, counts: Mapping[str, int]) -> None:
        """Attribute every non-blank line that was not counted to a reason.

        The pass records the records it refused (``invalid_record``, ``other_kind``);
        the lines that never became a record are told apart by the validator's
        finding counts, each reported once per line. The rest are lines of records
        spread over several lines (or of a file that is not text at all).

        Args:
            lines: the non-blank lines (or items) of the source.
            counts: the pass's finding counts, by code.
        """
        skipped = dict(self.skipped)
        not_json = sum(counts.get(code, 0) for code in _NOT_JSON_CODES)
        if not_json:
            skipped["invalid_json"] = not_json
        if counts.get("unknown_format"):
            skipped["unknown_format"] = counts["unknown_format"]
        rest = lines - self.examples - sum(skipped.values())
        if rest > 0:
            if "utf16_file" in counts or "binary_file" in counts:
                skipped["unreadable_file"] = rest
            else:
                skipped["multiline_json" if "multiline_json" in counts else "other"] = rest
        self.skipped = {reason: skipped[reason] for reason in SKIP_REASONS if skipped.get(reason)}

    def skipped_text(self) -> str:
        """``"12 lines not counted (not a JSON object: 5, ...)"``, or ``""`` when none were."""
        return skipped_text(self.skipped)

    @property
    def min(self) -> int:
        """Tokens of the shortest example (0 when empty)."""
        return min(self._lengths, default=0)

    @property
    def max(self) -> int:
        """Tokens of the longest example (0 when empty)."""
        return max(self._lengths, default=0)

    @property
    def mean(self) -> float:
        """Mean tokens per example (0.0 when empty)."""
        return self.total_tokens / self.examples if self.examples else 0.0

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile (0-100) of per-example tokens, interpolated like numpy.

        Raises:
            ValueError: ``q`` outside 0-100.
        """
        if not 0 <= q <= 100:
            raise ValueError(f"percentile must be within 0-100, got {q}")
        if not self.examples:
            return 0.0
        rank = (self.examples - 1) * q / 100
        low = math.floor(rank)
        high = math.ceil(rank)
        below = self._order_statistic(low)
        above = below if high == low else self._order_statistic(high)
        return below + (above - below) * (rank - low)

    def _order_statistic(self, index: int) -> int:
        seen = 0
        for length in sorted(self._lengths):
            seen += self._lengths[length]
            if seen > index:
                return length
        raise IndexError(index)  # pragma: no cover - index is always < examples

    @property
    def p5(self) -> float:
        """5th percentile of tokens per example."""
        return self.percentile(5)

    @property
    def p50(self) -> float:
        """Median tokens per example."""
        return self.percentile(50)

    @property
    def p95(self) -> float:
        """95th percentile of tokens per example."""
        return self.percentile(95)

    def token_lengths(self, bins: int = 30) -> tuple[tuple[Any, ...], int | None, int | None, None]:
        """``(histogram, over_limit, limit, title)`` for :func:`ftkit.plots.plot_token_lengths`."""
        return (self.histogram(bins) if self.examples else ()), self.over_limit, None, None

    def histogram(self, bins: int = HISTOGRAM_BINS) -> tuple[HistogramBin, ...]:
        """Example counts in ``bins`` equal-width integer ranges from min to max."""
        if not self.examples:
            return ()
        if bins < 1:
            raise ValueError("bins must be at least 1")
        low, high = self.min, self.max + 1
        width = max(1, math.ceil((high - low) / bins))
        counts = [0] * math.ceil((high - low) / width)
        for length, count in self._lengths.items():
            counts[(length - low) // width] += count
        return tuple(
            HistogramBin(low + i * width, min(high, low + (i + 1) * width), count)
            for i, count in enumerate(counts)
        )

    def summary(self) -> TokenSummary:
        """A frozen snapshot of the distribution."""
        return TokenSummary(
            min=self.min,
            max=self.max,
            mean=self.mean,
            p5=self.p5,
            p50=self.p50,
            p95=self.p95,
            histogram=self.histogram(),
        )


@dataclass(frozen=True)
class TokenSummary:
    """Distribution of tokens per example."""

    min: int
    max: int
    mean: float
    p5: float
    p50: float
    p95: float
    histogram: tuple[HistogramBin, ...] = ()

    def token_lengths(self, bins: int = 30) -> tuple[tuple[Any, ...], int | None, int | None, None]:
        """``(histogram, over_limit, limit, title)`` for :func:`ftkit.plots.plot_token_lengths`.

        A summary keeps its own histogram (``bins`` is ignored) and knows neither the
        examples over the limit nor the limit.
        """
        return self.histogram, None, None, None


def skipped_text(reasons: Mapping[str, int], total: int | None = None) -> str:
    """``"12 lines not counted (not a JSON object: 5, a record with errors: 7)"``.

    ``""`` when nothing was skipped; ``total`` (when the reasons are unknown) alone
    gives ``"12 lines not counted"``.
    """
    count = sum(reasons.values()) if total is None else total
    if not count:
        return ""
    why = skip_reasons_text(count, reasons)
    return f"{count:,} line{'' if count == 1 else 's'} not counted" + (f" ({why})" if why else "")


def skip_reasons_text(total: int, reasons: Mapping[str, int]) -> str:
    """``"not a JSON object: 5, a record with errors: 7"``; ``""`` unless they sum to ``total``."""
    if sum(reasons.values()) != total:
        return ""  # given without its reasons (or with stale ones): say only how many
    return ", ".join(
        f"{SKIP_REASONS.get(reason, reason)}: {count:,}" for reason, count in reasons.items()
    )

"""A mergeable histogram with geometric buckets: distributions in bounded memory.

The quality stats keep length distributions (messages per example, response
characters) as histograms, so that a worker's chunk can be merged into the
parent's and memory does not grow with the file.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

__all__ = ["Histogram"]

_RATIO = 1.1
_LOG_RATIO = math.log(_RATIO)
_log = math.log


class Histogram:
    """A mergeable histogram of non-negative numbers with geometric buckets.

    Quantiles are exact for 0 and within about 5 % otherwise; min, max, mean
    and count are exact.
    """

    __slots__ = ("buckets", "count", "maximum", "minimum", "total")

    def __init__(self) -> None:
        self.buckets: Counter[int] = Counter()
        self.count = 0
        self.total = 0
        self.minimum: int | None = None
        self.maximum: int | None = None

    def add(self, value: int) -> None:
        """Record one value."""
        self.buckets[-1 if value <= 0 else int(_log(value) / _LOG_RATIO)] += 1
        self.count += 1
        self.total += value
        if self.minimum is None or value < self.minimum:
            self.minimum = value
        if self.maximum is None or value > self.maximum:
            self.maximum = value

    def merge(self, other: Histogram) -> None:
        """Add another histogram's values to this one."""
        self.buckets.update(other.buckets)
        self.count += other.count
        self.total += other.total
        for value in (other.minimum, other.maximum):
            if value is not None:
                if self.minimum is None or value < self.minimum:
                    self.minimum = value
                if self.maximum is None or value > self.maximum:
                    self.maximum = value

    def quantile(self, q: float) -> int | None:
        """The value below which a fraction ``q`` of the values lie (approximate)."""
        if not self.count:
            return None
        rank = q * (self.count - 1)
        seen = 0
        for bucket in sorted(self.buckets):
            seen += self.buckets[bucket]
            if seen > rank:
                if bucket < 0:
                    return 0
                middle: float = _RATIO ** (bucket + 0.5)
                assert self.minimum is not None and self.maximum is not None
                return max(self.minimum, min(self.maximum, round(middle)))
        return self.maximum

    def summary(self) -> dict[str, Any]:
        """``count, min, max, mean, p10, p50, p90`` as plain JSON values."""
        return {
            "count": self.count,
            "min": self.minimum,
            "max": self.maximum,
            "mean": round(self.total / self.count, 1) if self.count else None,
            "p10": self.quantile(0.1),
            "p50": self.quantile(0.5),
            "p90": self.quantile(0.9),
        }

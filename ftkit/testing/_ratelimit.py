"""The ``x-ratelimit-*`` headers the fake puts on every answer, as OpenAI sends them.

OpenAI answers every request with six headers: ``x-ratelimit-limit-requests`` /
``-tokens`` (the per-minute limits), ``x-ratelimit-remaining-requests`` /
``-tokens`` and ``x-ratelimit-reset-requests`` / ``-tokens``, durations such as
``12ms`` or ``6m0s``. The reset values the service sends (``12ms`` after one
request on a 5,000-request limit, 60 s / 5,000) show a bucket that refills at
``limit`` per minute, so that is what :class:`RateLimitMeter` keeps, on the
virtual clock. The fake reports these numbers and never enforces them (its 429s
come from scripted faults and ``Limits.active_jobs``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["RateLimitMeter"]

REQUESTS_PER_MINUTE = 10_000
TOKENS_PER_MINUTE = 30_000_000


@dataclass
class _Bucket:
    """How much of a per-minute ``limit`` is in use at ``at``, refilling continuously."""

    limit: int
    used: float = 0.0
    at: float = 0.0

    def spend(self, amount: float, now: float) -> None:
        refilled = (now - self.at) * self.limit / 60
        self.used = max(0.0, self.used - refilled) + amount
        self.at = now

    def headers(self, unit: str) -> dict[str, str]:
        return {
            f"x-ratelimit-limit-{unit}": str(self.limit),
            f"x-ratelimit-remaining-{unit}": str(max(0, int(self.limit - self.used))),
            f"x-ratelimit-reset-{unit}": duration(self.used * 60 / self.limit),
        }


@dataclass
class RateLimitMeter:
    """Request and token use of one fake, for its ``x-ratelimit-*`` headers.

    The front door spends one request per API call (not the fake's ``/_fake/``
    controls); Chat Completions spend the tokens of their ``usage``, streamed or not.
    """

    requests: _Bucket = field(default_factory=lambda: _Bucket(REQUESTS_PER_MINUTE))
    tokens: _Bucket = field(default_factory=lambda: _Bucket(TOKENS_PER_MINUTE))

    def headers(self, now: float) -> dict[str, str]:
        """The six headers as of ``now`` (both buckets refilled to then)."""
        self.requests.spend(0, now)
        self.tokens.spend(0, now)
        return {**self.requests.headers("requests"), **self.tokens.headers("tokens")}


def duration(seconds: float) -> str:
    """A duration as OpenAI's reset headers write it: ``0s``, ``12ms``, ``1.5s``, ``6m0s``."""
    if seconds <= 0:
        return "0s"
    if seconds < 1:
        return f"{max(1, round(seconds * 1000))}ms"
    minutes, rest = divmod(round(seconds, 3), 60)
    text = f"{rest:.3f}".rstrip("0").rstrip(".") + "s"
    return f"{int(minutes)}m{text}" if minutes else text

"""A virtual clock: time in the fake only moves when someone moves it.

Jobs, upload expiry and retry back-off in :mod:`ftkit.testing` all read this
clock, so a test that polls a job with ``sleep=fake.clock.sleep`` walks through
hours of training in microseconds and gets the same answer on every run.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone

__all__ = ["DEFAULT_START", "FakeClock"]

DEFAULT_START = datetime(2026, 11, 2, tzinfo=timezone.utc).timestamp()
"""2026-11-02T00:00:00Z: after the 2026-10-23 retirements (gpt-3.5-turbo, gpt-4.1-nano,
o4-mini) and before the 2027-01-06 end of new jobs, so both lifecycle cases are testable."""


class FakeClock:
    """A thread-safe virtual wall clock in Unix seconds.

    Args:
        start: the initial time (Unix seconds); defaults to :data:`DEFAULT_START`.
    """

    def __init__(self, start: float = DEFAULT_START) -> None:
        self._now = float(start)
        self._lock = threading.Lock()
        self.slept: list[float] = []
        """Every duration passed to :meth:`sleep`, in order (for assertions)."""

    def now(self) -> float:
        """The current virtual time (Unix seconds)."""
        with self._lock:
            return self._now

    # ``time.time``-compatible alias, so the clock can be injected where a clock callable is wanted.
    time = now

    def advance(self, seconds: float) -> float:
        """Move time forward by ``seconds`` (never backwards); returns the new time.

        Raises:
            ValueError: if ``seconds`` is negative.
        """
        if seconds < 0:
            raise ValueError(f"the virtual clock cannot go backwards (got {seconds})")
        with self._lock:
            self._now += seconds
            return self._now

    def sleep(self, seconds: float) -> None:
        """A drop-in for ``time.sleep`` that advances the virtual clock instead of waiting."""
        self.slept.append(float(seconds))
        self.advance(max(0.0, float(seconds)))

    def __repr__(self) -> str:
        iso = datetime.fromtimestamp(self.now(), tz=timezone.utc).isoformat()
        return f"FakeClock({iso})"

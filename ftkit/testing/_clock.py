"""A virtual clock: time in the fake only moves when someone moves it.

Jobs, upload expiry and retry back-off in :mod:`ftkit.testing` all read this
clock, so a test that polls a job with ``sleep=fake.clock.sleep`` walks through
hours of training in microseconds and gets the same answer on every run.

A clock starts at the real time by default, so the dates a fake hands out
(``created_at``, expiries) agree with the machine's, as the service's do; a test
that depends on the date pins it with ``FakeClock(start=...)``, for example at
:data:`DEFAULT_START`. The environment variable :data:`START_VARIABLE` moves that
default for every fake of a process and its children (``ftkit fake-server``,
``ftkit run --fake``): a test suite, or a demo run after the models it names have
retired, sets it once.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timezone

__all__ = ["DEFAULT_START", "START_VARIABLE", "FakeClock", "default_start"]

DEFAULT_START = datetime(2026, 11, 2, tzinfo=timezone.utc).timestamp()
"""2026-11-02T00:00:00Z, a date for tests to pin: after the 2026-10-23 retirements
(gpt-3.5-turbo; gpt-4.1-nano and o4-mini, unconfirmed) and before the 2027-01-06 end of
new jobs (unconfirmed) and the 2027-01-14 retirements, so every lifecycle case is testable."""

START_VARIABLE = "FTKIT_FAKE_START"
"""Where a clock without ``start`` begins, when set: a UTC date or time in ISO form
(``2026-11-02``, ``2026-11-02T09:30:00``) or Unix seconds."""


def default_start() -> float:
    """The start of a clock given none: :data:`START_VARIABLE` if set, else the real time now.

    Raises:
        UsageError: the variable holds neither an ISO date/time nor plausible Unix seconds
            (a ``ValueError`` too).
    """
    from .._exceptions import UsageError

    raw = os.environ.get(START_VARIABLE, "").strip()
    if not raw:
        return time.time()
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        pass
    else:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.timestamp()
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    # ISO first, and only plausible Unix seconds after it (``20261102`` is no timestamp).
    if seconds < _PLAUSIBLE_UNIX:
        raise UsageError(
            f"{START_VARIABLE}={raw!r} is neither an ISO date/time (2026-11-02) nor Unix "
            "seconds (such as 1793577600)"
        )
    return seconds


_PLAUSIBLE_UNIX = 1e9
"""Unix seconds of 2001-09-09: a smaller number in :data:`START_VARIABLE` is a mistake."""


class FakeClock:
    """A thread-safe virtual wall clock in Unix seconds.

    Args:
        start: the initial time (Unix seconds); by default the real time now, so a
            fake's dates are today's (or :data:`START_VARIABLE`'s, when set). Pass one
            (:data:`DEFAULT_START`, say) for a test whose answers depend on the date.

    Raises:
        ValueError: no ``start`` and :data:`START_VARIABLE` is malformed.
    """

    def __init__(self, start: float | None = None) -> None:
        self._now = float(default_start() if start is None else start)
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

"""A fake monotonic clock and sleep for the policy tests (a plain module: see cli_support)."""

from __future__ import annotations


class FakeTime:
    """A clock that moves only when the code under test sleeps (or a call "takes" time).

    It starts at 100 s, not 0, so that no code can get away with treating a start
    time of zero as "not started".
    """

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

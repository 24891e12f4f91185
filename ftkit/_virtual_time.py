"""The time a client brings with it: a fake API's virtual clock.

A client made by :class:`ftkit.testing.FakeFineTuningAPI` carries the fake's
clock as the class attribute :data:`CLIENT_CLOCK_ATTRIBUTE` (a class attribute
because ``client.with_options()`` rebuilds a client from its class). Everything
in ftkit that waits — polling, retry back-off, evaluation retries — passes its
policy through :func:`on_client_time`, so such a client runs on virtual time
with no wiring, while a ``sleep`` or ``clock`` the caller chose still wins.

No import of ``openai`` or :mod:`ftkit.testing` here: the clock is found by
duck typing, so this stays free for ``import ftkit``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Protocol, TypeVar

__all__ = [
    "CLIENT_CLOCK_ATTRIBUTE",
    "VirtualClock",
    "client_clock",
    "client_today",
    "on_client_time",
]

CLIENT_CLOCK_ATTRIBUTE = "_ftkit_virtual_clock"
"""The class attribute of a client that holds its virtual clock."""


class VirtualClock(Protocol):
    """What ftkit needs of a clock a client carries (:class:`ftkit.testing.FakeClock`)."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class _Timed(Protocol):
    """A policy with an optional ``sleep`` and ``clock`` (RetryPolicy, PollPolicy)."""

    @property
    def sleep(self) -> Callable[[float], object] | None: ...

    @property
    def clock(self) -> Callable[[], float] | None: ...

    def with_sleep(self: _P, sleep: Callable[[float], object] | None) -> _P: ...

    def with_clock(self: _P, clock: Callable[[], float] | None) -> _P: ...


_P = TypeVar("_P", bound=_Timed)


def client_clock(client: object) -> VirtualClock | None:
    """The virtual clock ``client`` carries, or ``None`` for a client on real time.

    Read from the client's class, never the instance, so a mock that answers every
    attribute is not mistaken for a fake.
    """
    clock = getattr(type(client), CLIENT_CLOCK_ATTRIBUTE, None)
    if callable(getattr(clock, "now", None)) and callable(getattr(clock, "sleep", None)):
        return clock
    return None


def client_today(client: object) -> _dt.date | None:
    """The UTC day on ``client``'s virtual clock, or ``None`` for a client on real time.

    A fake lives on its own calendar: a base model's shutdown date is compared with
    the fake's day (as the service compares it with its own), so a run on the fake
    does not start failing when the machine's calendar passes a shutdown date.
    """
    clock = client_clock(client)
    if clock is None:
        return None
    return _dt.datetime.fromtimestamp(clock.now(), tz=_dt.timezone.utc).date()


def on_client_time(policy: _P, client: object) -> _P:
    """``policy`` sleeping and reading time on ``client``'s virtual clock, if it has one.

    Only what the policy leaves unset is filled: an explicit ``sleep`` or ``clock``
    is kept as given.
    """
    clock = client_clock(client)
    if clock is None:
        return policy
    if policy.sleep is None:
        policy = policy.with_sleep(clock.sleep)
    if policy.clock is None:
        policy = policy.with_clock(clock.now)
    return policy

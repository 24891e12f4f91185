"""A declarative script of refusals and transport faults, per route.

``fake.faults.inject("jobs.create", "429", times=2, retry_after=1)`` makes the
next two job creations answer 429; routes are the openai SDK's method paths
without ``fine_tuning.`` (``files.create``, ``uploads.parts.create``,
``jobs.list_events``, ``jobs.checkpoints.list`` ...) and accept shell-style
wildcards (``jobs.*``, ``*``). Faults are consumed in the order they were
injected; the first one that matches a request fires. :func:`strike` is what a
fired fault does to the request: a refusal, a dropped connection, a late or a
lost answer.
"""

from __future__ import annotations

import contextlib
import fnmatch
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

import httpx2

from ._clock import FakeClock
from ._core import WireError

__all__ = ["Fault", "FaultKind", "FaultScript", "strike"]

FaultKind = Literal[
    "429",
    "500",
    "503",
    "reset",
    "slow",
    "applied_but_lost",
    "403_training_not_available",
    "status",
]
"""What a fault does:

- ``"429"``: rate limited, with ``retry-after`` (and ``retry-after-ms``) headers;
- ``"500"`` / ``"503"``: server errors; nothing is applied;
- ``"reset"``: the connection drops before the request reaches the service; nothing is applied;
- ``"slow"``: the answer takes ``delay`` virtual seconds; past the client's read timeout the
  client gets a timeout and nothing is applied, otherwise the answer arrives late;
- ``"applied_but_lost"``: the service performs the request, the client sees a timeout
  (a lost answer: the case that duplicates jobs on a blind retry);
- ``"403_training_not_available"``: job creation refused as for an organisation whose
  fine-tuning access has ended;
- ``"status"``: any other HTTP error status (``status=404``, ``400``, ``401``, ``422`` ...)
  with the provider's error body and an optional ``code``; nothing is applied.
"""

_KINDS = frozenset(get_args(FaultKind))


@dataclass
class Fault:
    """One scripted fault; ``remaining`` is None for a fault that never runs out."""

    route: str
    kind: FaultKind
    remaining: int | None = 1
    skip: int = 0
    retry_after: float | None = None
    delay: float = 30.0
    fired: int = 0
    status: int | None = None
    code: str | None = None

    def matches(self, route: str) -> bool:
        pattern = self.route.removeprefix("fine_tuning.")
        return fnmatch.fnmatchcase(route, pattern)


class FaultScript:
    """The faults waiting to fire, consumed as matching requests arrive (thread-safe)."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def inject(
        self,
        route: str,
        kind: FaultKind,
        *,
        times: int | None = 1,
        after: int = 0,
        retry_after: float | None = None,
        delay: float = 30.0,
        status: int | None = None,
        code: str | None = None,
    ) -> Fault:
        """Script a fault on a route.

        Args:
            route: an SDK method path such as ``"jobs.create"``, or a wildcard
                (``"jobs.*"``, ``"*"``).
            kind: what happens; see :data:`FaultKind`.
            times: how many matching requests it affects; ``None`` means every one, for good.
            after: let this many matching requests through untouched first.
            retry_after: seconds sent in ``retry-after`` for ``"429"`` (default 1).
            delay: virtual seconds a ``"slow"`` answer takes.
            status: the HTTP status (400–599) a ``"status"`` fault answers; only for that kind.
            code: the error ``code`` in the body of a ``"status"`` fault (default none).

        Returns:
            The :class:`Fault`, whose ``fired`` counter tells how often it struck.

        Raises:
            ValueError: for an unknown kind, a non-positive ``times``, or a ``"status"``
                fault without a status from 400 to 599 (or a status on another kind).
        """
        if kind not in _KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {sorted(_KINDS)}")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1, or None for a permanent fault")
        if after < 0 or delay < 0:
            raise ValueError("after and delay must not be negative")
        if kind == "status":
            if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
                raise ValueError(f"a status fault needs status= from 400 to 599, got {status!r}")
        elif status is not None or code is not None:
            raise ValueError(f"status and code apply to kind 'status', not {kind!r}")
        fault = Fault(route, kind, times, after, retry_after, delay, status=status, code=code)
        with self._lock:
            self._faults.append(fault)
        return fault

    def refuse_training(self, refuse: bool = True) -> None:
        """Answer every job creation with 403 ``training_not_available`` (or stop doing so)."""
        with self._lock:
            self._faults = [
                f
                for f in self._faults
                if not (f.kind == "403_training_not_available" and f.remaining is None)
            ]
        if refuse:
            self.inject("jobs.create", "403_training_not_available", times=None)

    def clear(self) -> None:
        """Forget every scripted fault."""
        with self._lock:
            self._faults.clear()

    @property
    def pending(self) -> list[Fault]:
        """The faults that can still fire, in order."""
        with self._lock:
            return [f for f in self._faults if f.remaining is None or f.remaining > 0]

    def take(self, route: str) -> Fault | None:
        """The fault that fires for this request on ``route``, if any (consumes one use)."""
        with self._lock:
            for fault in self._faults:
                if not fault.matches(route) or fault.remaining == 0:
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                fault.fired += 1
                return fault
        return None


# What the service says with the statuses a "status" fault can answer.
_STATUS_ERRORS: dict[int, tuple[str, str]] = {
    400: ("Invalid request: the request was refused as malformed.", "invalid_request_error"),
    401: (
        "Incorrect API key provided. You can find your API key in your account settings.",
        "invalid_request_error",
    ),
    403: ("You are not allowed to perform this request.", "invalid_request_error"),
    404: ("The requested resource does not exist.", "invalid_request_error"),
    409: ("The request conflicts with the resource's current state.", "invalid_request_error"),
    422: ("The request could not be processed.", "invalid_request_error"),
}


def strike(
    fault: Fault,
    request: httpx2.Request,
    answer: Callable[[], httpx2.Response],
    clock: FakeClock,
) -> httpx2.Response:
    """What ``request`` gets when ``fault`` fires; ``answer`` performs the request.

    Raises:
        WireError: for the refusals (429, 5xx, 403, ``status``): nothing is applied.
        httpx2.ConnectError: for ``reset``: nothing is applied.
        httpx2.ReadTimeout: for ``applied_but_lost`` (applied) and a ``slow`` answer past
            the client's read timeout (not applied); the clock moves by that timeout.
    """
    kind = fault.kind
    if kind == "429":
        wait = 1.0 if fault.retry_after is None else fault.retry_after
        raise WireError(
            429,
            f"Rate limit reached for requests. Please try again in {wait:g}s.",
            type="requests",
            code="rate_limit_exceeded",
            headers={"retry-after": f"{wait:g}", "retry-after-ms": str(int(wait * 1000))},
        )
    if kind == "500":
        raise WireError(
            500,
            "The server had an error while processing your request. Sorry about that!",
            type="server_error",
        )
    if kind == "503":
        raise WireError(503, "The server is overloaded or not ready yet.", type="server_error")
    if kind == "403_training_not_available":
        raise WireError(
            403,
            "Fine-tuning is not available for this organization: new fine-tuning "
            "jobs can no longer be created.",
            code="training_not_available",
        )
    if kind == "status":
        status = int(fault.status or 500)
        message, type_ = _STATUS_ERRORS.get(status, (f"HTTP {status}", "invalid_request_error"))
        raise WireError(status, message, type=type_, code=fault.code)
    if kind == "reset":
        raise httpx2.ConnectError("[Errno 104] Connection reset by peer", request=request)
    timeout = _read_timeout(request)
    if kind == "slow":
        if timeout is not None and fault.delay >= timeout:
            clock.advance(timeout)
            raise httpx2.ReadTimeout("The read operation timed out", request=request)
        clock.advance(fault.delay)
        return answer()
    # applied_but_lost: the write happens, the answer never arrives.
    with contextlib.suppress(WireError):
        answer()
    if timeout is not None:
        clock.advance(timeout)
    raise httpx2.ReadTimeout("The read operation timed out", request=request)


def _read_timeout(request: httpx2.Request) -> float | None:
    """The client's read timeout: httpx's request extension, else the SDK's header."""
    timeout = request.extensions.get("timeout")
    if isinstance(timeout, dict) and isinstance(timeout.get("read"), (int, float)):
        return float(timeout["read"])
    header = request.headers.get("x-stainless-read-timeout")
    if header:
        try:
            return float(header)
        except ValueError:
            return None
    return None

"""What to do when one API call fails: the per-call retry policy.

:class:`RetryPolicy` is an immutable value built from tenacity's strategy
objects. By default it retries exactly the failures the backend marked
``retryable`` (408, 409, 429, 5xx, connection errors and timeouts; never 400,
401, 403, 404 or 422), waits what the server asked for in ``Retry-After`` /
``retry-after-ms`` (capped), else backs off exponentially with jitter, and
stops after ``max_attempts`` attempts or before sleeping past ``deadline``.
Any tenacity ``stop`` / ``wait`` / ``retry`` object composes in::

    from tenacity import stop_after_attempt, stop_after_delay
    policy = RetryPolicy(stop=stop_after_attempt(8) | stop_after_delay(120))
    job = policy.call(backend.retrieve_job("ftjob-abc").run)

Every decision lives once, in a sans-IO attempt program (:func:`_attempts`, a
generator that yields "call this" or "sleep that long" and is sent the outcome);
:meth:`RetryPolicy.call` / :meth:`~RetryPolicy.call_once` perform its operations
blocking, :meth:`~RetryPolicy.acall` / :meth:`~RetryPolicy.acall_once` await
them (the shared drivers of :mod:`ftkit._steps`), so the two cannot drift.
``sleep`` and ``clock`` are injectable, so tests never sleep for real.

Writes that must happen once (job creation, file upload) use
:meth:`RetryPolicy.call_once`: after an *ambiguous* failure (the request may
have been applied) it looks the object up before trying again.

Polling a long-running job is a different concern: see :mod:`ftkit.polling`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from tenacity import Future, RetryCallState, Retrying
from tenacity.retry import retry_base, retry_if_exception
from tenacity.stop import stop_after_attempt, stop_any, stop_base, stop_before_delay, stop_never
from tenacity.wait import wait_base

from ._exceptions import APIError, RetryExhausted, UsageError
from ._public import publish
from ._steps import Program, Sleep, arun, run

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "RetryEvent",
    "RetryPolicy",
    "is_retryable",
    "wait_backoff",
    "wait_retry_after",
]

logger = logging.getLogger("ftkit.retry")

T = TypeVar("T")

#: Attempts made when neither ``max_attempts`` nor ``stop`` is given.
DEFAULT_MAX_ATTEMPTS = 5

StopStrategy = stop_base | Callable[[RetryCallState], bool]
WaitStrategy = wait_base | Callable[[RetryCallState], float | int]
RetryStrategy = retry_base | Callable[[RetryCallState], bool]


def is_retryable(exc: BaseException) -> bool:
    """The default retry predicate: a translated API error marked ``retryable``."""
    return isinstance(exc, APIError) and exc.retryable


def _failure(retry_state: RetryCallState) -> BaseException | None:
    outcome = retry_state.outcome
    if outcome is None or not outcome.failed:
        return None
    return outcome.exception()


@dataclass(frozen=True)
class wait_backoff(wait_base):  # tenacity naming, so it reads like its peers
    """Exponential backoff with jitter: ``min(initial_delay * multiplier**(n-1), max_delay)``.

    The delay is then reduced by a random fraction of up to ``jitter`` (the
    openai client's scheme), so concurrent callers spread out without ever
    waiting longer than the undisturbed curve.
    """

    initial_delay: float = 0.5
    max_delay: float = 30.0
    multiplier: float = 2.0
    jitter: float = 0.25
    rng: Callable[[], float] = dataclasses.field(default=random.random, compare=False, repr=False)

    def __call__(self, retry_state: RetryCallState) -> float:
        exponent = min(retry_state.attempt_number - 1, 1000)
        try:
            base = self.initial_delay * self.multiplier**exponent
        except OverflowError:
            base = self.max_delay
        base = min(base, self.max_delay)
        return max(0.0, base * (1.0 - self.jitter * self.rng()))


class wait_retry_after(wait_base):  # tenacity naming
    """Wait what the server asked for (``APIError.retry_after``), else ``fallback``.

    The server's delay is capped at ``cap`` seconds: a client that waits an
    hour because a proxy said so looks hung. Zero or missing values fall back.
    """

    def __init__(self, fallback: WaitStrategy, *, cap: float = 120.0) -> None:
        self.fallback = fallback
        self.cap = cap

    def __call__(self, retry_state: RetryCallState) -> float:
        exc = _failure(retry_state)
        asked = getattr(exc, "retry_after", None)
        if isinstance(asked, (int, float)) and math.isfinite(asked) and asked > 0:
            return min(float(asked), self.cap)
        return float(self.fallback(retry_state))


@dataclass(frozen=True)
class RetryEvent:
    """One decision to retry, as passed to ``RetryPolicy.on_retry``.

    Attributes:
        attempt: the 1-based number of the attempt that just failed.
        error: what it raised.
        delay: seconds the policy will sleep before the next attempt.
        elapsed: seconds since the first attempt started (policy clock).
    """

    attempt: int
    error: BaseException
    delay: float
    elapsed: float


@dataclass(frozen=True)
class RetryPolicy:
    """How one API call is retried. Immutable; copy it with the ``with_*`` methods.

    Attributes:
        max_attempts: total attempts (1 = no retry). ``None`` means
            :data:`DEFAULT_MAX_ATTEMPTS` unless ``stop`` is given, in which
            case ``stop`` alone bounds the attempts.
        deadline: overall seconds from the first attempt; the policy never
            sleeps past it. ``None`` = no deadline.
        initial_delay, max_delay, multiplier, jitter: the exponential backoff
            used when the server gives no ``Retry-After``.
        max_retry_after: cap on a server-requested delay.
        stop: a tenacity stop strategy, combined (any-of) with ``max_attempts``
            when that is set and with ``deadline``.
        wait: a tenacity wait strategy replacing the backoff. ``Retry-After``
            is still honoured first unless ``honour_retry_after`` is false.
        retry: a tenacity retry strategy replacing :func:`is_retryable`.
        honour_retry_after: wait the server's requested delay when it gives one.
        sleep: ``sleep(seconds)``; may return an awaitable for :meth:`acall`.
            Defaults to ``time.sleep`` / ``asyncio.sleep``; the pipeline and
            evaluation use a fake client's virtual clock instead when left unset.
        clock: monotonic clock in seconds for the deadline. Defaults to
            ``time.monotonic`` (or, likewise, a fake client's virtual clock).
        on_retry: called with a :class:`RetryEvent` before each sleep (every
            retry is also logged on ``ftkit.retry`` at INFO).
    """

    max_attempts: int | None = None
    deadline: float | None = None
    initial_delay: float = 0.5
    max_delay: float = 30.0
    multiplier: float = 2.0
    jitter: float = 0.25
    max_retry_after: float = 120.0
    stop: StopStrategy | None = None
    wait: WaitStrategy | None = None
    retry: RetryStrategy | None = None
    honour_retry_after: bool = True
    sleep: Callable[[float], object] | None = dataclasses.field(default=None, compare=False)
    clock: Callable[[], float] | None = dataclasses.field(default=None, compare=False)
    on_retry: Callable[[RetryEvent], object] | None = dataclasses.field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts is not None and (
            isinstance(self.max_attempts, bool)
            or not isinstance(self.max_attempts, int)
            or self.max_attempts < 1
        ):
            raise UsageError(f"max_attempts must be an int >= 1, got {self.max_attempts!r}")
        if self.deadline is not None and not self.deadline > 0:
            raise UsageError(f"deadline must be > 0 seconds (or None), got {self.deadline!r}")
        for name in ("initial_delay", "max_delay", "max_retry_after"):
            if not getattr(self, name) >= 0:
                raise UsageError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if not self.multiplier >= 1:
            raise UsageError(f"multiplier must be >= 1, got {self.multiplier!r}")
        if not 0 <= self.jitter <= 1:
            raise UsageError(f"jitter must be within [0, 1], got {self.jitter!r}")
        for name in ("stop", "wait", "retry", "sleep", "clock", "on_retry"):
            value = getattr(self, name)
            if value is not None and not callable(value):
                raise UsageError(f"{name} must be callable (a tenacity strategy), got {value!r}")

    # construction
    @classmethod
    def coerce(cls, value: int | RetryPolicy | None) -> RetryPolicy:
        """Accept the shorthands the public API allows.

        Args:
            value: a policy (returned as is), an int (max attempts) or ``None``
                (the default policy).

        Returns:
            A :class:`RetryPolicy`.

        Raises:
            UsageError: for anything else (booleans included).
        """
        if value is None:
            return cls()
        if isinstance(value, RetryPolicy):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return cls(max_attempts=value)
        raise UsageError(
            f"retry must be a RetryPolicy, an int (max attempts) or None, got {value!r}"
        )

    @classmethod
    def never(cls) -> RetryPolicy:
        """A policy that makes exactly one attempt."""
        return cls(max_attempts=1)

    def with_max_attempts(self, max_attempts: int | None) -> RetryPolicy:
        """A copy with another attempt limit."""
        return dataclasses.replace(self, max_attempts=max_attempts)

    def with_deadline(self, deadline: float | None) -> RetryPolicy:
        """A copy with another overall deadline (seconds)."""
        return dataclasses.replace(self, deadline=deadline)

    def with_backoff(
        self,
        *,
        initial_delay: float | None = None,
        multiplier: float | None = None,
        max_delay: float | None = None,
        jitter: float | None = None,
    ) -> RetryPolicy:
        """A copy with other backoff parameters (unspecified ones kept).

        The words are :class:`~ftkit.PollPolicy`'s: the first delay, its growth
        factor, and the cap.
        """
        return dataclasses.replace(
            self,
            initial_delay=self.initial_delay if initial_delay is None else initial_delay,
            multiplier=self.multiplier if multiplier is None else multiplier,
            max_delay=self.max_delay if max_delay is None else max_delay,
            jitter=self.jitter if jitter is None else jitter,
        )

    def with_stop(self, stop: StopStrategy | None) -> RetryPolicy:
        """A copy with a tenacity stop strategy."""
        return dataclasses.replace(self, stop=stop)

    def with_wait(self, wait: WaitStrategy | None) -> RetryPolicy:
        """A copy with a tenacity wait strategy."""
        return dataclasses.replace(self, wait=wait)

    def with_retry(self, retry: RetryStrategy | None) -> RetryPolicy:
        """A copy with a tenacity retry strategy (what counts as retryable)."""
        return dataclasses.replace(self, retry=retry)

    def with_sleep(self, sleep: Callable[[float], object] | None) -> RetryPolicy:
        """A copy that sleeps with ``sleep`` (tests pass a list's ``append``)."""
        return dataclasses.replace(self, sleep=sleep)

    def with_clock(self, clock: Callable[[], float] | None) -> RetryPolicy:
        """A copy that reads time from ``clock`` (monotonic seconds)."""
        return dataclasses.replace(self, clock=clock)

    def with_on_retry(self, on_retry: Callable[[RetryEvent], object] | None) -> RetryPolicy:
        """A copy that reports each retry to ``on_retry``."""
        return dataclasses.replace(self, on_retry=on_retry)

    # the strategies, as tenacity objects
    def stop_strategy(self) -> StopStrategy:
        """The effective tenacity stop strategy (attempts, deadline, custom)."""
        parts: list[StopStrategy] = []
        if self.stop is not None:
            parts.append(self.stop)
        attempts = self.max_attempts
        if attempts is None and self.stop is None:
            attempts = DEFAULT_MAX_ATTEMPTS
        if attempts is not None:
            parts.append(stop_after_attempt(attempts))
        if self.deadline is not None:
            parts.append(stop_before_delay(self.deadline))
        if not parts:
            return stop_never
        return parts[0] if len(parts) == 1 else stop_any(*cast("list[stop_base]", parts))

    def wait_strategy(self) -> WaitStrategy:
        """The effective tenacity wait strategy (Retry-After, then backoff or custom)."""
        fallback: WaitStrategy = (
            self.wait
            if self.wait is not None
            else wait_backoff(self.initial_delay, self.max_delay, self.multiplier, self.jitter)
        )
        if not self.honour_retry_after:
            return fallback
        return wait_retry_after(fallback, cap=self.max_retry_after)

    def retry_strategy(self) -> RetryStrategy:
        """The effective tenacity retry strategy."""
        return self.retry if self.retry is not None else retry_if_exception(is_retryable)

    # drivers: one attempt program (:func:`_attempts`), performed blocking or awaited
    def call(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Call ``fn(*args, **kwargs)``, retrying as the policy says.

        Returns:
            What ``fn`` returned.

        Raises:
            RetryExhausted: retryable failures outlasted the policy (chained
                from the last one).
            Exception: a non-retryable failure, re-raised unchanged.
        """
        return cast("T", run(_attempts(self, _Call(fn, args, kwargs))))

    async def acall(self, fn: Callable[..., Awaitable[T]], /, *args: Any, **kwargs: Any) -> T:
        """Await ``fn(*args, **kwargs)``, retrying as the policy says (see :meth:`call`)."""
        return cast("T", await arun(_attempts(self, _Call(fn, args, kwargs))))

    def call_once(self, create: Callable[[], T], find: Callable[[], T | None]) -> T:
        """Perform a write that must happen at most once.

        After an *ambiguous* failure (``exc.ambiguous``: timeout, connection
        error, 5xx) the write may have been applied, so ``find()`` (itself
        retried with this policy) looks for its result before ``create()`` is
        tried again. If the policy gives up, or the failure is final but
        ambiguous, ``find()`` gets one last look before the error is raised.

        Args:
            create: performs the write and returns its result.
            find: returns the result of an earlier successful write, or ``None``.

        Returns:
            The created (or found) object.

        Raises:
            RetryExhausted: retryable failures outlasted the policy and nothing
                was found.
            Exception: a non-retryable failure, re-raised unchanged.
        """
        return cast("T", run(_attempts(self, _Call(create), find=_Call(find))))

    async def acall_once(
        self,
        create: Callable[[], Awaitable[T]],
        find: Callable[[], Awaitable[T | None]],
    ) -> T:
        """The awaitable twin of :meth:`call_once`."""
        return cast("T", await arun(_attempts(self, _Call(create), find=_Call(find))))


@dataclass(frozen=True)
class _Call:
    """Operation: call ``fn(*args, **kwargs)``."""

    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def run(self) -> Any:
        return self.fn(*self.args, **self.kwargs)

    async def arun(self) -> Any:
        return await self.fn(*self.args, **self.kwargs)


def _attempts(policy: RetryPolicy, call: _Call, *, find: _Call | None = None) -> Program[Any]:
    """Every decision of :meth:`RetryPolicy.call` and :meth:`~RetryPolicy.call_once`, sans-IO.

    The program yields what to do (``_Call``, ``Sleep``) and a driver
    sends back the call's result or throws its error in, so the blocking and the
    awaitable drivers cannot decide differently. With ``find`` it is a write that
    must happen at most once: after an ambiguous failure the result is looked up
    (``find`` retried under the same policy) before ``call`` is tried again, and
    once more before the error is raised.
    """
    attempts = _Attempts(policy)
    while True:
        try:
            return (yield call)
        except Exception as exc:
            error: Exception = exc
        ambiguous = find is not None and getattr(error, "ambiguous", False) is True
        try:
            delay = attempts.failed(error)
        except RetryExhausted as exhausted:
            delay, error = None, exhausted
        if delay is None:
            if ambiguous and find is not None:
                found = yield from _last_look(policy, find)
                if found is not None:
                    return found
            raise error
        yield Sleep(delay, policy.sleep)
        if ambiguous and find is not None:
            found = yield from _attempts(policy, find)
            if found is not None:
                logger.info("an ambiguous write had succeeded; reusing its result")
                return found


def _last_look(policy: RetryPolicy, find: _Call) -> Program[Any]:
    """``find`` under the policy; a failure of the look itself is logged, not raised."""
    try:
        return (yield from _attempts(policy, find))
    except Exception:
        logger.warning("could not check whether a failed write was applied", exc_info=True)
        return None


class _Attempts:
    """The sans-IO decision core shared by every driver.

    It records each failure in a tenacity :class:`~tenacity.RetryCallState`
    (timestamps from the policy's clock, so tenacity's own delay-based stops
    see injected time) and answers one question: how long to sleep before the
    next attempt, or ``None`` when the failure is not retryable. It raises
    :class:`~ftkit.RetryExhausted` when the stop strategy says so.
    """

    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy
        self._clock = policy.clock or time.monotonic
        self._retry = policy.retry_strategy()
        self._wait = policy.wait_strategy()
        self._stop = policy.stop_strategy()
        # tenacity strategies may look at ``retry_state.retry_object``; give them
        # a real (never run) controller carrying the same strategies.
        controller = Retrying(stop=self._stop, wait=self._wait, retry=self._retry)
        self._state = RetryCallState(controller, fn=None, args=(), kwargs={})
        self._state.start_time = self._clock()

    def failed(self, exc: BaseException) -> float | None:
        state = self._state
        outcome = Future(state.attempt_number)
        outcome.set_exception(exc)
        state.outcome = outcome
        state.outcome_timestamp = self._clock()
        if not self._retry(state):
            return None
        delay = max(0.0, float(self._wait(state)))
        state.upcoming_sleep = delay
        elapsed = state.outcome_timestamp - state.start_time
        if self._stop(state):
            attempts = state.attempt_number
            last = exc if isinstance(exc, APIError) else None
            raise RetryExhausted(
                f"gave up after {attempts} attempt{'s' if attempts != 1 else ''} "
                f"in {elapsed:.1f}s: {exc}",
                attempts=attempts,
                last_error=last,
            ) from exc
        logger.info("attempt %d failed (%s); retrying in %.2fs", state.attempt_number, exc, delay)
        if self._policy.on_retry is not None:
            self._policy.on_retry(
                RetryEvent(attempt=state.attempt_number, error=exc, delay=delay, elapsed=elapsed)
            )
        state.idle_for += delay
        state.prepare_for_next_attempt()
        return delay


publish(__name__, globals(), __all__)

"""RetryPolicy: what is retried, how long it waits, when it stops; sync and async alike."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from typing import Any

import pytest
from tenacity import retry_if_exception_type, stop_after_attempt, stop_after_delay, wait_fixed
from time_support import FakeTime

from ftkit import APIError, RetryExhausted, UsageError
from ftkit.retry import DEFAULT_MAX_ATTEMPTS, RetryEvent, RetryPolicy, wait_backoff


def err(
    status: int | None, *, retry_after: float | None = None, ambiguous: bool = False
) -> APIError:
    retryable = status is None or status in (408, 409, 429) or (status or 0) >= 500
    return APIError(
        f"HTTP {status}",
        status_code=status,
        retry_after=retry_after,
        retryable=retryable,
        ambiguous=ambiguous,
    )


def scripted(*outcomes: Any) -> Callable[[], Any]:
    """A callable that raises or returns the given outcomes in order; counts its calls."""
    queue = list(outcomes)

    def fn() -> Any:
        fn.calls += 1  # type: ignore[attr-defined]
        item = queue.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item

    fn.calls = 0  # type: ignore[attr-defined]
    return fn


def slow_failure(t: FakeTime, seconds: float, status: int) -> Callable[[], None]:
    """A call that takes ``seconds`` of ``t``'s clock, then fails with HTTP ``status``."""

    def call() -> None:
        t.now += seconds
        raise err(status)

    return call


def policy(t: FakeTime, **kwargs: Any) -> RetryPolicy:
    kwargs.setdefault("jitter", 0.0)
    return RetryPolicy(sleep=t.sleep, clock=t.clock, **kwargs)


def run(p: RetryPolicy, fn: Callable[[], Any], driver: str) -> Any:
    if driver == "sync":
        return p.call(fn)

    async def afn() -> Any:
        return fn()

    return asyncio.run(p.acall(afn))


DRIVERS = ["sync", "async"]


@pytest.mark.parametrize("driver", DRIVERS)
def test_retries_transient_errors_with_exponential_backoff(driver: str) -> None:
    t = FakeTime()
    fn = scripted(err(500), err(429), err(None), "ok")
    assert run(policy(t), fn, driver) == "ok"
    assert fn.calls == 4  # type: ignore[attr-defined]
    assert t.sleeps == [0.5, 1.0, 2.0]


@pytest.mark.parametrize("driver", DRIVERS)
def test_retry_after_is_honoured_and_capped(driver: str) -> None:
    t = FakeTime()
    fn = scripted(err(429, retry_after=7.0), err(429, retry_after=500.0), err(503), "ok")
    assert run(policy(t, max_retry_after=30.0), fn, driver) == "ok"
    assert t.sleeps == [7.0, 30.0, 2.0]


def test_retry_after_can_be_ignored() -> None:
    t = FakeTime()
    fn = scripted(err(429, retry_after=7.0), "ok")
    assert policy(t, honour_retry_after=False).call(fn) == "ok"
    assert t.sleeps == [0.5]


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_never_retried(driver: str, status: int) -> None:
    t = FakeTime()
    error = err(status)
    fn = scripted(error, "never reached")
    with pytest.raises(APIError) as info:
        run(policy(t), fn, driver)
    assert info.value is error
    assert fn.calls == 1  # type: ignore[attr-defined]
    assert t.sleeps == []


def test_foreign_exceptions_are_not_retried() -> None:
    t = FakeTime()
    fn = scripted(KeyError("bug"), "ok")
    with pytest.raises(KeyError):
        policy(t).call(fn)
    assert fn.calls == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("driver", DRIVERS)
def test_gives_up_after_max_attempts_with_evidence(driver: str) -> None:
    t = FakeTime()
    last = err(502)
    fn = scripted(err(500), err(500), last, "never")
    with pytest.raises(RetryExhausted) as info:
        run(policy(t, max_attempts=3), fn, driver)
    exc = info.value
    assert exc.attempts == 3
    assert exc.last_error is last
    assert exc.__cause__ is last
    assert exc.status_code == 502
    assert fn.calls == 3  # type: ignore[attr-defined]
    assert t.sleeps == [0.5, 1.0]


def test_default_attempts() -> None:
    t = FakeTime()
    fn = scripted(*[err(500)] * 10)
    with pytest.raises(RetryExhausted):
        policy(t).call(fn)
    assert fn.calls == DEFAULT_MAX_ATTEMPTS  # type: ignore[attr-defined]


def test_deadline_stops_before_sleeping_past_it() -> None:
    t = FakeTime()
    fn = scripted(*[err(500)] * 10)
    with pytest.raises(RetryExhausted) as info:
        policy(t, max_attempts=100, deadline=3.0).call(fn)
    # 0.5 + 1.0 = 1.5 elapsed; the next sleep (2.0) would end at 3.5 > 3.0.
    assert t.sleeps == [0.5, 1.0]
    assert info.value.attempts == 3


def test_deadline_counts_time_spent_in_calls() -> None:
    t = FakeTime()
    with pytest.raises(RetryExhausted) as info:
        policy(t, max_attempts=100, deadline=25.0).call(slow_failure(t, 10.0, 500))
    # Failures end at 10, 20.5 and 31.5 s: the third is already past the deadline.
    assert t.sleeps == [0.5, 1.0]
    assert info.value.attempts == 3


def test_tenacity_stop_objects_compose_with_the_injected_clock() -> None:
    t = FakeTime()
    p = policy(t, stop=stop_after_attempt(50) | stop_after_delay(10))
    with pytest.raises(RetryExhausted) as info:
        p.call(slow_failure(t, 4.0, 503))
    # Failures end at 4, 8.5, 13.5 s: stop_after_delay(10) fires on the third.
    assert info.value.attempts == 3


def test_a_custom_stop_replaces_the_default_attempt_limit() -> None:
    t = FakeTime()
    fn = scripted(*[err(500)] * 7, "ok")
    assert policy(t, stop=stop_after_attempt(8)).call(fn) == "ok"
    assert fn.calls == 8  # type: ignore[attr-defined]


def test_custom_wait_replaces_backoff_but_retry_after_still_wins() -> None:
    t = FakeTime()
    fn = scripted(err(500), err(429, retry_after=4.0), err(500), "ok")
    assert policy(t, wait=wait_fixed(3)).call(fn) == "ok"
    assert t.sleeps == [3.0, 4.0, 3.0]


def test_custom_retry_predicate() -> None:
    t = FakeTime()
    fn = scripted(ValueError("flaky"), ValueError("flaky"), "ok")
    p = policy(t, retry=retry_if_exception_type(ValueError))
    assert p.call(fn) == "ok"
    fn2 = scripted(ValueError("flaky"), ValueError("still"), ValueError("always"))
    with pytest.raises(RetryExhausted) as info:
        p.with_max_attempts(3).call(fn2)
    assert info.value.last_error is None  # not an API error
    assert isinstance(info.value.__cause__, ValueError)


def test_jitter_only_shortens_the_delay() -> None:
    from tenacity import RetryCallState, Retrying

    state = RetryCallState(Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = 3
    assert wait_backoff(0.5, 30.0, 2.0, jitter=0.25, rng=lambda: 0.0)(state) == 2.0
    assert wait_backoff(0.5, 30.0, 2.0, jitter=0.25, rng=lambda: 1.0)(state) == 1.5
    state.attempt_number = 40
    assert wait_backoff(0.5, 30.0, 2.0, jitter=0.0)(state) == 30.0


def test_default_jitter_stays_within_bounds() -> None:
    t = FakeTime()
    fn = scripted(err(500), err(500), err(500), "ok")
    RetryPolicy(sleep=t.sleep, clock=t.clock).call(fn)
    for got, base in zip(t.sleeps, [0.5, 1.0, 2.0], strict=True):
        assert base * 0.75 <= got <= base


def test_on_retry_hook_and_log(caplog: pytest.LogCaptureFixture) -> None:
    t = FakeTime()
    events: list[RetryEvent] = []
    fn = scripted(err(500), err(429, retry_after=2.0), "ok")
    with caplog.at_level(logging.INFO, logger="ftkit.retry"):
        policy(t, on_retry=events.append).call(fn)
    assert [(e.attempt, e.delay) for e in events] == [(1, 0.5), (2, 2.0)]
    assert events[1].elapsed == 0.5
    assert isinstance(events[0].error, APIError)
    retry_lines = [r for r in caplog.records if r.name == "ftkit.retry"]
    assert len(retry_lines) == 2


def test_async_driver_awaits_an_async_sleep() -> None:
    slept: list[float] = []

    async def asleep(seconds: float) -> None:
        slept.append(seconds)

    fn = scripted(err(500), "ok")

    async def afn() -> Any:
        return fn()

    p = RetryPolicy(sleep=asleep, jitter=0.0)
    assert asyncio.run(p.acall(afn)) == "ok"
    assert slept == [0.5]


# ----------------------------------------------------------------- exactly-once writes


def test_call_once_looks_up_after_an_ambiguous_failure() -> None:
    t = FakeTime()
    create = scripted(err(500, ambiguous=True), "second create")
    find = scripted("the job the first create made")
    assert policy(t).call_once(create, find) == "the job the first create made"
    assert create.calls == 1  # type: ignore[attr-defined]
    assert find.calls == 1  # type: ignore[attr-defined]


def test_call_once_creates_again_when_nothing_was_written() -> None:
    t = FakeTime()
    create = scripted(err(None, ambiguous=True), "created")
    find = scripted(None)
    assert policy(t).call_once(create, find) == "created"
    assert create.calls == 2  # type: ignore[attr-defined]


def test_call_once_does_not_look_after_an_unambiguous_failure() -> None:
    t = FakeTime()
    create = scripted(err(429), "created")
    find = scripted()
    assert policy(t).call_once(create, find) == "created"
    assert find.calls == 0  # type: ignore[attr-defined]


def test_call_once_takes_a_last_look_when_giving_up() -> None:
    t = FakeTime()
    create = scripted(err(500, ambiguous=True), err(500, ambiguous=True))
    find = scripted(None, "it was there after all")
    assert policy(t, max_attempts=2).call_once(create, find) == "it was there after all"


def test_call_once_raises_when_the_last_look_finds_nothing() -> None:
    t = FakeTime()
    create = scripted(err(500, ambiguous=True), err(500, ambiguous=True))
    find = scripted(None, None)
    with pytest.raises(RetryExhausted):
        policy(t, max_attempts=2).call_once(create, find)


def test_acall_once_matches_call_once() -> None:
    t = FakeTime()
    create = scripted(err(500, ambiguous=True), "second create")
    find = scripted("found")

    async def acreate() -> Any:
        return create()

    async def afind() -> Any:
        return find()

    assert asyncio.run(policy(t).acall_once(acreate, afind)) == "found"
    assert create.calls == 1  # type: ignore[attr-defined]


def run_once(
    p: RetryPolicy, create: Callable[[], Any], find: Callable[[], Any], driver: str
) -> Any:
    if driver == "sync":
        return p.call_once(create, find)

    async def acreate() -> Any:
        return create()

    async def afind() -> Any:
        return find()

    return asyncio.run(p.acall_once(acreate, afind))


ONCE_SCENARIOS: dict[str, tuple[list[Any], list[Any]]] = {
    "found after an ambiguous failure": ([err(500, ambiguous=True), "again"], ["found"]),
    "created again when nothing was written": ([err(None, ambiguous=True), "made"], [None]),
    "no look after an unambiguous failure": ([err(429), "made"], []),
    "the look is retried": ([err(500, ambiguous=True), "made"], [err(503), None]),
    "a last look when giving up": (
        [err(500, ambiguous=True), err(500, ambiguous=True)],
        [None, "there after all"],
    ),
    "the last look finds nothing": (
        [err(500, ambiguous=True), err(500, ambiguous=True)],
        [None, None],
    ),
    "a failing last look is not the error raised": (
        [err(500, ambiguous=True), err(500, ambiguous=True)],
        [None, err(401)],
    ),
    "a final ambiguous failure gets a look": ([err(400, ambiguous=True)], ["was applied"]),
}


def _trace(creates: list[Any], finds: list[Any], driver: str) -> tuple[Any, ...]:
    t = FakeTime()
    create, find = scripted(*creates), scripted(*finds)
    try:
        outcome: Any = run_once(policy(t, max_attempts=2), create, find, driver)
    except Exception as exc:
        outcome = type(exc).__name__
    return outcome, create.calls, find.calls, t.sleeps  # type: ignore[attr-defined]


@pytest.mark.parametrize("scenario", list(ONCE_SCENARIOS))
def test_call_once_and_acall_once_decide_alike(scenario: str) -> None:
    creates, finds = ONCE_SCENARIOS[scenario]
    assert _trace(creates, finds, "sync") == _trace(creates, finds, "async")


def test_a_failing_last_look_raises_the_write_error(caplog: pytest.LogCaptureFixture) -> None:
    t = FakeTime()
    create = scripted(err(500, ambiguous=True), err(500, ambiguous=True))
    find = scripted(None, err(401))
    with caplog.at_level(logging.WARNING, logger="ftkit.retry"), pytest.raises(RetryExhausted):
        policy(t, max_attempts=2).call_once(create, find)
    assert "could not check" in caplog.text


def test_an_interrupt_is_never_retried_by_either_driver() -> None:
    for driver in DRIVERS:
        t = FakeTime()
        fn = scripted(KeyboardInterrupt(), "never")
        with pytest.raises(KeyboardInterrupt):
            run(policy(t), fn, driver)
        assert fn.calls == 1 and t.sleeps == []  # type: ignore[attr-defined]


# ----------------------------------------------------------------- the value itself


def test_coerce() -> None:
    p = RetryPolicy(max_attempts=2)
    assert RetryPolicy.coerce(p) is p
    assert RetryPolicy.coerce(None) == RetryPolicy()
    assert RetryPolicy.coerce(7).max_attempts == 7
    for bad in (True, 0, -1, "3", 2.5):
        with pytest.raises(UsageError):
            RetryPolicy.coerce(bad)  # type: ignore[arg-type]


def test_immutable_and_copied() -> None:
    p = RetryPolicy()
    q = p.with_max_attempts(9).with_deadline(60).with_backoff(initial_delay=1.0, jitter=0.0)
    assert (p.max_attempts, p.deadline, p.initial_delay) == (None, None, 0.5)
    assert (q.max_attempts, q.deadline, q.initial_delay, q.jitter) == (9, 60, 1.0, 0.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.max_attempts = 3  # type: ignore[misc]
    assert RetryPolicy.never().max_attempts == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 0},
        {"deadline": 0},
        {"initial_delay": -1},
        {"multiplier": 0.5},
        {"jitter": 1.5},
        {"stop": 5},
    ],
)
def test_invalid_values_are_usage_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        RetryPolicy(**kwargs)

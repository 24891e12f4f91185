"""How long to wait for a fine-tuning job, and how to follow its events.

Polling is not retrying: a :class:`PollPolicy` says how often to look at a
job and for how long; a :class:`~ftkit.RetryPolicy` says what to do when one
look fails. The caller composes them (``retrieve`` is usually
``lambda: retry.call(backend.retrieve_job, job_id)``).

Waiting is data. A small table of :class:`Acceptor` rows maps a job status to
an outcome, first match wins: ``succeeded`` is success; ``failed`` and
``cancelled`` are failure; anything else, including statuses this version has
never heard of, keeps waiting (unknown ones are logged once).

One sans-IO core (:class:`JobWaiter`) decides after each look whether to
sleep, finish, fail or time out; :func:`wait_for_job` and
:func:`async_wait_for_job` are thin drivers around it. :class:`EventFollower`
(and its async twin) fetch job events incrementally, deduplicate them by id
and deliver them oldest first as typed :class:`JobEvent` values.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from ._exceptions import JobFailed, UsageError, WaitTimeout

__all__ = [
    "DEFAULT_ACCEPTORS",
    "IN_PROGRESS_STATUSES",
    "Acceptor",
    "AsyncEventFollower",
    "Done",
    "EventFollower",
    "Fail",
    "FollowState",
    "JobEvent",
    "JobWaiter",
    "MessageEvent",
    "MetricsEvent",
    "PollPolicy",
    "Sleep",
    "Timeout",
    "async_wait_for_job",
    "job_failure",
    "parse_event",
    "wait_for_job",
]

logger = logging.getLogger("ftkit.polling")

J = TypeVar("J")


def _get(obj: Any, name: str) -> Any:
    """Read a field from an SDK model or a plain dict (the fake API returns both)."""
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


# --------------------------------------------------------------------------- acceptors


@dataclass(frozen=True)
class Acceptor:
    """One row of the waiting table: jobs in ``statuses`` end in ``outcome``."""

    outcome: Literal["success", "failure"]
    statuses: frozenset[str]

    def matches(self, status: str | None) -> bool:
        """Whether a job with ``status`` is decided by this row."""
        return status in self.statuses


#: The fine-tuning API's terminal states. Everything else is in progress.
DEFAULT_ACCEPTORS: tuple[Acceptor, ...] = (
    Acceptor("success", frozenset({"succeeded"})),
    Acceptor("failure", frozenset({"failed", "cancelled"})),
)

#: Non-terminal statuses this version knows; others still wait, with one log line.
IN_PROGRESS_STATUSES = frozenset({"validating_files", "queued", "running", "pausing", "paused"})


# --------------------------------------------------------------------------- policy


@dataclass(frozen=True)
class PollPolicy:
    """How often to look at a job and for how long. Immutable; copy with ``with_*``.

    Attributes:
        interval: seconds before the second look (the first is immediate).
        backoff: factor applied to the interval after each look with an
            unchanged status; a status change resets it to ``interval``.
        max_interval: cap on the interval.
        timeout: overall seconds to wait, or ``None`` to wait until the job
            ends. The last look happens at the deadline.
        acceptors: the waiting table, first match wins.
        sleep: ``sleep(seconds)``; may return an awaitable for the async driver.
            Defaults to ``time.sleep`` / ``asyncio.sleep``; a pipeline run on a
            :class:`ftkit.testing.FakeFineTuningAPI` client uses the fake's
            virtual clock instead when this is left unset.
        clock: monotonic clock in seconds (default ``time.monotonic``, or
            likewise the fake client's virtual clock).
    """

    interval: float = 5.0
    backoff: float = 1.5
    max_interval: float = 60.0
    timeout: float | None = None
    acceptors: tuple[Acceptor, ...] = DEFAULT_ACCEPTORS
    sleep: Callable[[float], object] | None = dataclasses.field(default=None, compare=False)
    clock: Callable[[], float] | None = dataclasses.field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not self.interval > 0:
            raise UsageError(f"poll interval must be > 0 seconds, got {self.interval!r}")
        if not self.backoff >= 1:
            raise UsageError(f"poll backoff must be >= 1, got {self.backoff!r}")
        if not self.max_interval >= self.interval:
            raise UsageError(
                f"max_interval ({self.max_interval!r}) must be >= interval ({self.interval!r})"
            )
        if self.timeout is not None and not self.timeout > 0:
            raise UsageError(f"poll timeout must be > 0 seconds or None, got {self.timeout!r}")
        if not all(isinstance(a, Acceptor) for a in self.acceptors):
            raise UsageError("acceptors must be a tuple of ftkit.polling.Acceptor")

    def with_interval(self, interval: float) -> PollPolicy:
        """A copy with another base interval."""
        return dataclasses.replace(self, interval=interval)

    def with_backoff(self, backoff: float, *, max_interval: float | None = None) -> PollPolicy:
        """A copy with another backoff factor (and optionally cap)."""
        return dataclasses.replace(
            self,
            backoff=backoff,
            max_interval=self.max_interval if max_interval is None else max_interval,
        )

    def with_timeout(self, timeout: float | None) -> PollPolicy:
        """A copy with another overall timeout (``None`` waits until the job ends)."""
        return dataclasses.replace(self, timeout=timeout)

    def with_acceptors(self, acceptors: Sequence[Acceptor]) -> PollPolicy:
        """A copy with another waiting table."""
        return dataclasses.replace(self, acceptors=tuple(acceptors))

    def with_sleep(self, sleep: Callable[[float], object] | None) -> PollPolicy:
        """A copy that sleeps with ``sleep``."""
        return dataclasses.replace(self, sleep=sleep)

    def with_clock(self, clock: Callable[[], float] | None) -> PollPolicy:
        """A copy that reads time from ``clock``."""
        return dataclasses.replace(self, clock=clock)


# --------------------------------------------------------------------------- core


@dataclass(frozen=True)
class Sleep:
    """Wait ``delay`` seconds, then look again."""

    delay: float


@dataclass(frozen=True)
class Done:
    """The job succeeded; ``job`` is the last object seen."""

    job: Any


@dataclass(frozen=True)
class Fail:
    """The job ended in failure; raise ``error``."""

    error: JobFailed


@dataclass(frozen=True)
class Timeout:
    """The policy's timeout passed; raise ``error`` (the job keeps running)."""

    error: WaitTimeout


Action = Sleep | Done | Fail | Timeout


def job_failure(job: Any, *, run_id: str | None = None) -> JobFailed:
    """Build :class:`~ftkit.JobFailed` from a ``failed`` or ``cancelled`` job.

    ``job.error`` is read defensively: jobs that did not fail carry an error
    object whose fields are all ``None``, and a failed job may too.

    Args:
        job: the terminal job (SDK model or dict).
        run_id: the ftkit run it belongs to, if any.

    Returns:
        The exception, with the job attached as evidence.
    """
    error = _get(job, "error")
    return JobFailed(
        job_id=str(_get(job, "id") or "?"),
        status=str(_get(job, "status") or "failed"),
        code=_get(error, "code") if error else None,
        message=_get(error, "message") if error else None,
        param=_get(error, "param") if error else None,
        job=job,
        run_id=run_id,
    )


class JobWaiter:
    """The sans-IO decision core: after each look at a job, what next.

    Args:
        policy: the polling policy.
        started: the clock reading when waiting began.
        job_id: the job's id (taken from the first job seen when ``None``).
        run_id: the ftkit run, for the resume hint in :class:`~ftkit.WaitTimeout`.
    """

    def __init__(
        self,
        policy: PollPolicy,
        *,
        started: float,
        job_id: str | None = None,
        run_id: str | None = None,
    ) -> None:
        self.policy = policy
        self.started = started
        self.job_id = job_id
        self.run_id = run_id
        self.last_status: str | None = None
        self.looks = 0
        self._streak = 0
        self._unknown_logged: set[str] = set()

    def observe(self, job: Any, now: float) -> Action:
        """Decide what follows a look at ``job`` taken at clock reading ``now``."""
        self.looks += 1
        status = _get(job, "status")
        status = str(status) if status is not None else None
        if self.job_id is None and _get(job, "id") is not None:
            self.job_id = str(_get(job, "id"))
        for acceptor in self.policy.acceptors:
            if acceptor.matches(status):
                self.last_status = status
                if acceptor.outcome == "success":
                    return Done(job)
                return Fail(job_failure(job, run_id=self.run_id))
        if status not in IN_PROGRESS_STATUSES and status not in self._unknown_logged:
            self._unknown_logged.add(str(status))
            logger.warning(
                "job %s reports unknown status %r; treating it as in progress", self.job_id, status
            )
        if status != self.last_status:
            self._streak = 0
            if self.last_status is not None:
                logger.info("job %s: %s -> %s", self.job_id, self.last_status, status)
        self.last_status = status
        delay = min(
            self.policy.interval * self.policy.backoff ** min(self._streak, 100),
            self.policy.max_interval,
        )
        self._streak += 1
        if self.policy.timeout is not None:
            remaining = self.policy.timeout - (now - self.started)
            if remaining <= 0:
                return Timeout(self._timeout_error(now))
            delay = min(delay, remaining)
        return Sleep(delay)

    def _timeout_error(self, now: float) -> WaitTimeout:
        job_id = self.job_id or "?"
        if self.run_id is not None:
            how = f"resume with ftkit.Run.resume({self.run_id!r})"
        else:
            how = (
                f"wait again with ftkit.polling.wait_for_job, or check "
                f"client.fine_tuning.jobs.retrieve({job_id!r})"
            )
        return WaitTimeout(
            f"stopped waiting for job {job_id} after {now - self.started:.0f}s "
            f"(last status: {self.last_status}); the job keeps running on the server: {how}",
            job_id=job_id,
            last_status=self.last_status,
            run_id=self.run_id,
        )


def wait_for_job(
    retrieve: Callable[[], J],
    policy: PollPolicy | None = None,
    *,
    job_id: str | None = None,
    run_id: str | None = None,
    on_job: Callable[[J], object] | None = None,
) -> J:
    """Look at a job until it ends, as ``policy`` says.

    Args:
        retrieve: returns the job's current state (usually wrapped in a
            :class:`~ftkit.RetryPolicy`).
        policy: the polling policy (default :class:`PollPolicy`).
        job_id: the job's id, for messages (read from the job when omitted).
        run_id: the ftkit run, for the resume hint.
        on_job: called with every job seen, terminal included (follow events here).

    Returns:
        The succeeded job.

    Raises:
        JobFailed: the job ended ``failed`` or ``cancelled``.
        WaitTimeout: the policy's timeout passed; the job keeps running.
    """
    policy = policy or PollPolicy()
    clock = policy.clock or time.monotonic
    sleep = policy.sleep or time.sleep
    waiter = JobWaiter(policy, started=clock(), job_id=job_id, run_id=run_id)
    while True:
        job = retrieve()
        if on_job is not None:
            on_job(job)
        action = waiter.observe(job, clock())
        if isinstance(action, Sleep):
            sleep(action.delay)
        elif isinstance(action, Done):
            return job
        else:
            raise action.error


async def async_wait_for_job(
    retrieve: Callable[[], Awaitable[J]],
    policy: PollPolicy | None = None,
    *,
    job_id: str | None = None,
    run_id: str | None = None,
    on_job: Callable[[J], object] | None = None,
) -> J:
    """The awaitable twin of :func:`wait_for_job` (``on_job`` may be a coroutine function)."""
    policy = policy or PollPolicy()
    clock = policy.clock or time.monotonic
    waiter = JobWaiter(policy, started=clock(), job_id=job_id, run_id=run_id)
    while True:
        job = await retrieve()
        if on_job is not None:
            await _maybe_await(on_job(job))
        action = waiter.observe(job, clock())
        if isinstance(action, Sleep):
            if policy.sleep is None:
                await asyncio.sleep(action.delay)
            else:
                await _maybe_await(policy.sleep(action.delay))
        elif isinstance(action, Done):
            return job
        else:
            raise action.error


async def _maybe_await(value: object) -> None:
    if inspect.isawaitable(value):
        await value


# --------------------------------------------------------------------------- events


@dataclass(frozen=True, kw_only=True)
class JobEvent:
    """One job event, as delivered to callbacks (unknown ``type`` values pass through).

    Attributes:
        id: the event id (``ftevent-...``), unique per job.
        created_at: Unix seconds.
        level: ``info``, ``warn`` or ``error`` (not validated).
        message: the human-readable text.
        type: ``message``, ``metrics`` or anything newer; ``None`` when absent.
        data: the raw ``data`` payload, if any.
    """

    id: str
    created_at: int = 0
    level: str = "info"
    message: str = ""
    type: str | None = None
    data: Mapping[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class MessageEvent(JobEvent):
    """A plain message event (``type == "message"``)."""


_METRIC_FIELDS = (
    "train_loss",
    "train_mean_token_accuracy",
    "valid_loss",
    "valid_mean_token_accuracy",
    "full_valid_loss",
    "full_valid_mean_token_accuracy",
)


@dataclass(frozen=True, kw_only=True)
class MetricsEvent(JobEvent):
    """A training-metrics event: step counters and losses/accuracies when reported.

    Fields the provider did not send are ``None``; every numeric value of
    ``data`` (DPO and RFT add their own) is in :attr:`metrics`.
    """

    step: int | None = None
    total_steps: int | None = None
    train_loss: float | None = None
    train_mean_token_accuracy: float | None = None
    valid_loss: float | None = None
    valid_mean_token_accuracy: float | None = None
    full_valid_loss: float | None = None
    full_valid_mean_token_accuracy: float | None = None

    @property
    def metrics(self) -> dict[str, float]:
        """Every numeric value in ``data`` except the step counters."""
        return {
            k: float(v)
            for k, v in (self.data or {}).items()
            if isinstance(v, (int, float))
            and not isinstance(v, bool)
            and k not in ("step", "total_steps")
        }


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def parse_event(raw: Any) -> JobEvent:
    """Turn an SDK ``FineTuningJobEvent`` or a dict into a typed event, leniently.

    Args:
        raw: the event as the API returned it.

    Returns:
        A :class:`MetricsEvent` for ``type == "metrics"`` (or an untyped event
        whose data has a ``step``), a :class:`MessageEvent` for ``"message"``,
        else a plain :class:`JobEvent`.
    """
    data = _get(raw, "data")
    if not isinstance(data, Mapping):
        data = None
    kind = _get(raw, "type")
    common: dict[str, Any] = {
        "id": str(_get(raw, "id") or ""),
        "created_at": _as_int(_get(raw, "created_at")) or 0,
        "level": str(_get(raw, "level") or "info"),
        "message": str(_get(raw, "message") or ""),
        "type": str(kind) if kind is not None else None,
        "data": dict(data) if data is not None else None,
    }
    if kind == "metrics" or (kind is None and data is not None and "step" in data):
        values = data or {}
        metrics: dict[str, Any] = {name: _as_float(values.get(name)) for name in _METRIC_FIELDS}
        return MetricsEvent(
            **common,
            step=_as_int(values.get("step")),
            total_steps=_as_int(values.get("total_steps")),
            **metrics,
        )
    if kind == "message":
        return MessageEvent(**common)
    return JobEvent(**common)


class _PageLike(Protocol):
    @property
    def data(self) -> Sequence[Any]: ...

    @property
    def has_more(self) -> bool | None: ...


EventCallback = Callable[[JobEvent], object]


class FollowState:
    """The sans-IO core of event following: what to fetch next, what is new.

    Public so that other drivers (the pipeline's program) can follow events
    without owning the I/O; :class:`EventFollower` is the ready-made driver.

    The API lists events newest first, paginated with ``after=<last id>``
    towards older events. A refresh therefore walks pages from the newest
    until it meets an event already delivered (or the history ends), then
    hands the new ones over oldest first.
    """

    def __init__(self, *, page_size: int, max_pages: int | None, seen: Iterable[str]) -> None:
        if page_size < 1:
            raise UsageError(f"page_size must be >= 1, got {page_size!r}")
        self.page_size = page_size
        self.max_pages = max_pages
        self.seen: set[str] = set(seen)
        self.last_event_id: str | None = None
        self._batch: list[JobEvent] = []
        self._batch_ids: set[str] = set()
        self._pages = 0

    def begin(self) -> None:
        self._batch = []
        self._batch_ids = set()
        self._pages = 0

    def take(self, page: _PageLike) -> str | None:
        """Record one page; return the cursor of the next page, or ``None`` to stop."""
        self._pages += 1
        reached_known = False
        last_id: str | None = None
        for raw in page.data:
            event = parse_event(raw)
            last_id = event.id or last_id
            if event.id in self.seen:
                # Everything older than a delivered event was delivered before it.
                reached_known = True
                break
            if event.id in self._batch_ids:
                continue  # the list shifted between pages
            self._batch_ids.add(event.id)
            self._batch.append(event)
        if reached_known or not page.has_more or last_id is None:
            return None
        if self.max_pages is not None and self._pages >= self.max_pages:
            return None
        return last_id

    def finish(self) -> list[JobEvent]:
        """The new events, oldest first; marked seen before anyone gets them."""
        events = list(reversed(self._batch))
        # Stable: events of one second keep the API's order; a server that
        # lists oldest first still comes out right across seconds.
        events.sort(key=lambda e: e.created_at)
        self.seen.update(e.id for e in events)
        if events:
            self.last_event_id = events[-1].id
        self._batch = []
        self._batch_ids = set()
        return events


class EventFollower:
    """Fetches a job's events incrementally and delivers each exactly once, in order.

    Args:
        list_events: ``list_events(after=cursor, limit=n)`` returning a page
            with ``data`` and ``has_more`` (for example
            ``functools.partial(backend.list_job_events, job_id)``, wrapped in
            a retry policy).
        callbacks: called with every new :class:`JobEvent`, oldest first.
            A callback's exception propagates (the event still counts as
            delivered).
        page_size: events per request.
        max_pages: cap on pages per refresh (bounds the first backfill of a
            long job); ``None`` reads the whole history once.
        seen: event ids delivered earlier (a resumed run passes them back).
    """

    def __init__(
        self,
        list_events: Callable[..., _PageLike],
        *,
        callbacks: Sequence[EventCallback] = (),
        page_size: int = 100,
        max_pages: int | None = None,
        seen: Iterable[str] = (),
    ) -> None:
        self._list_events = list_events
        self._callbacks = tuple(callbacks)
        self._state = FollowState(page_size=page_size, max_pages=max_pages, seen=seen)

    @property
    def seen(self) -> frozenset[str]:
        """Ids of every event delivered so far."""
        return frozenset(self._state.seen)

    @property
    def last_event_id(self) -> str | None:
        """The newest event delivered so far."""
        return self._state.last_event_id

    def poll(self, _job: object = None) -> list[JobEvent]:
        """Fetch new events and deliver them; usable directly as ``on_job``.

        Returns:
            The newly delivered events, oldest first.
        """
        state = self._state
        state.begin()
        cursor: str | None = None
        while True:
            page = self._list_events(after=cursor, limit=state.page_size)
            cursor = state.take(page)
            if cursor is None:
                break
        events = state.finish()
        for event in events:
            for callback in self._callbacks:
                callback(event)
        return events


class AsyncEventFollower:
    """The awaitable twin of :class:`EventFollower` (callbacks may be coroutine functions)."""

    def __init__(
        self,
        list_events: Callable[..., Awaitable[_PageLike]],
        *,
        callbacks: Sequence[EventCallback] = (),
        page_size: int = 100,
        max_pages: int | None = None,
        seen: Iterable[str] = (),
    ) -> None:
        self._list_events = list_events
        self._callbacks = tuple(callbacks)
        self._state = FollowState(page_size=page_size, max_pages=max_pages, seen=seen)

    @property
    def seen(self) -> frozenset[str]:
        """Ids of every event delivered so far."""
        return frozenset(self._state.seen)

    @property
    def last_event_id(self) -> str | None:
        """The newest event delivered so far."""
        return self._state.last_event_id

    async def poll(self, _job: object = None) -> list[JobEvent]:
        """Fetch new events and deliver them; usable directly as ``on_job``."""
        state = self._state
        state.begin()
        cursor: str | None = None
        while True:
            page = await self._list_events(after=cursor, limit=state.page_size)
            cursor = state.take(page)
            if cursor is None:
                break
        events = state.finish()
        for event in events:
            for callback in self._callbacks:
                await _maybe_await(callback(event))
        return events

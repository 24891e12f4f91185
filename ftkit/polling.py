"""How long to wait for a fine-tuning job, and how to follow its events.

Polling is not retrying: a :class:`PollPolicy` says how often to look at a
job and for how long; a :class:`~ftkit.RetryPolicy` says what to do when one
look fails. The caller composes them (``retrieve`` is usually
``lambda: retry.call(backend.retrieve_job(job_id).run)``).

Waiting is data. A small table of :class:`Acceptor` rows maps a job status to
an outcome, first match wins: ``succeeded`` is success; ``failed`` and
``cancelled`` are failure; anything else, including statuses this version has
never heard of, keeps waiting (unknown ones are logged once).

Jobs are ftkit's own :class:`~ftkit.backend.Job` values, so the table speaks
normalised statuses whatever the provider; the provider's own word
(``raw_status``) is what the logs and errors show.

One sans-IO core (:class:`JobWaiter`) decides after each look whether to
sleep (and how long) or finish, and raises when the job failed or the
deadline passed; :func:`waiting` is the program that looks, and
:func:`wait_for_job` / :func:`await_for_job` drive it blocking or awaited
(:mod:`ftkit._steps`). :class:`EventFollower` (and its async twin) drive
:func:`following`, which fetches job events incrementally, deduplicates them
by id and delivers them oldest first as typed :class:`~ftkit.backend.JobEvent`
values. The pipeline's program runs the same two programs, which is why they
live here; they, :class:`JobWaiter` and :class:`FollowState` are not
exported: a user waits with the drivers.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

from ._exceptions import JobFailed, UsageError, WaitTimeout
from ._public import publish
from .backend import _program as steps
from .backend._resources import JobStatus

if TYPE_CHECKING:
    from .backend import Job, JobEvent, Page
    from .backend._program import Operation, Program

__all__ = [
    "DEFAULT_ACCEPTORS",
    "Acceptor",
    "AsyncEventFollower",
    "EventFollower",
    "PollPolicy",
    "await_for_job",
    "wait_for_job",
]

logger = logging.getLogger("ftkit.polling")

# --------------------------------------------------------------------------- acceptors


@dataclass(frozen=True)
class Acceptor:
    """One row of the waiting table: jobs in ``statuses`` (normalised) end in ``outcome``."""

    outcome: Literal["success", "failure"]
    statuses: frozenset[JobStatus]

    def __post_init__(self) -> None:
        # A provider's own word ("validating_files", "completed") would never match:
        # the wait would run to its deadline instead of failing here.
        known = get_args(JobStatus)
        unknown = sorted(set(self.statuses) - set(known))
        if unknown:
            raise UsageError(
                f"acceptor statuses are ftkit's normalised ones ({', '.join(known)}); "
                f"got {', '.join(map(repr, unknown))}"
            )

    def matches(self, status: JobStatus) -> bool:
        """Whether a job with ``status`` is decided by this row."""
        return status in self.statuses


#: The terminal states. Everything else is in progress; ``unknown`` is logged once.
DEFAULT_ACCEPTORS: tuple[Acceptor, ...] = (
    Acceptor("success", frozenset({"succeeded"})),
    Acceptor("failure", frozenset({"failed", "cancelled"})),
)


# --------------------------------------------------------------------------- policy


@dataclass(frozen=True)
class PollPolicy:
    """How often to look at a job and for how long. Immutable; copy with ``with_*``.

    The words are :class:`~ftkit.RetryPolicy`'s for the same ideas.

    Attributes:
        initial_delay: seconds before the second look (the first is immediate).
        multiplier: factor applied to the delay after each look with an
            unchanged status; a status change resets it to ``initial_delay``.
        max_delay: cap on the delay.
        deadline: overall seconds to wait, or ``None`` to wait until the job
            ends. The last look happens at the deadline.
        acceptors: the waiting table, first match wins.
        sleep: ``sleep(seconds)``; may return an awaitable for the async driver.
            Defaults to ``time.sleep`` / ``asyncio.sleep``; a pipeline run on a
            :class:`ftkit.testing.FakeFineTuningAPI` client uses the fake's
            virtual clock instead when this is left unset.
        clock: monotonic clock in seconds (default ``time.monotonic``, or
            likewise the fake client's virtual clock).
    """

    initial_delay: float = 5.0
    multiplier: float = 1.5
    max_delay: float = 60.0
    deadline: float | None = None
    acceptors: tuple[Acceptor, ...] = DEFAULT_ACCEPTORS
    sleep: Callable[[float], object] | None = dataclasses.field(default=None, compare=False)
    clock: Callable[[], float] | None = dataclasses.field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not self.initial_delay > 0:
            raise UsageError(f"poll initial_delay must be > 0 seconds, got {self.initial_delay!r}")
        if not self.multiplier >= 1:
            raise UsageError(f"poll multiplier must be >= 1, got {self.multiplier!r}")
        if not self.max_delay >= self.initial_delay:
            raise UsageError(
                f"max_delay ({self.max_delay!r}) must be >= initial_delay ({self.initial_delay!r})"
            )
        if self.deadline is not None and not self.deadline > 0:
            raise UsageError(f"poll deadline must be > 0 seconds or None, got {self.deadline!r}")
        if not all(isinstance(a, Acceptor) for a in self.acceptors):
            raise UsageError("acceptors must be a tuple of ftkit.polling.Acceptor")

    def with_backoff(
        self,
        *,
        initial_delay: float | None = None,
        multiplier: float | None = None,
        max_delay: float | None = None,
    ) -> PollPolicy:
        """A copy with other delays between looks (unspecified ones kept)."""
        return dataclasses.replace(
            self,
            initial_delay=self.initial_delay if initial_delay is None else initial_delay,
            multiplier=self.multiplier if multiplier is None else multiplier,
            max_delay=self.max_delay if max_delay is None else max_delay,
        )

    def with_deadline(self, deadline: float | None) -> PollPolicy:
        """A copy with another overall deadline (``None`` waits until the job ends)."""
        return dataclasses.replace(self, deadline=deadline)

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


def job_failure(job: Job, *, run_id: str | None = None) -> JobFailed:
    """Build :class:`~ftkit.JobFailed` from a ``failed`` or ``cancelled`` job.

    Args:
        job: the terminal job (a failed job may come without an error).
        run_id: the ftkit run it belongs to, if any.

    Returns:
        The exception, with the job attached as evidence.
    """
    error = job.error
    return JobFailed(
        job_id=job.id or "?",
        status=job.raw_status or job.status,
        code=error.code if error else None,
        message=error.message if error else None,
        param=error.param if error else None,
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

    def observe(self, job: Job, now: float) -> float | None:
        """Decide what follows a look at ``job`` taken at clock reading ``now``.

        Returns:
            The seconds to wait before the next look, or ``None``: the job succeeded.

        Raises:
            JobFailed: the job ended in failure (an acceptor said so).
            WaitTimeout: the policy's deadline passed (the job keeps running).
        """
        self.looks += 1
        # Logs, errors and the backoff follow the provider's word: it is finer
        # than the normalised status (``pausing`` and ``paused`` are both paused).
        status = job.raw_status
        if self.job_id is None and job.id:
            self.job_id = job.id
        for acceptor in self.policy.acceptors:
            if acceptor.matches(job.status):
                self.last_status = status
                if acceptor.outcome == "success":
                    return None
                raise job_failure(job, run_id=self.run_id)
        if job.status == "unknown" and status not in self._unknown_logged:
            self._unknown_logged.add(status)
            logger.warning(
                "job %s reports unknown status %r; treating it as in progress", self.job_id, status
            )
        if status != self.last_status:
            self._streak = 0
            if self.last_status is not None:
                logger.info("job %s: %s -> %s", self.job_id, self.last_status, status)
        self.last_status = status
        delay = min(
            self.policy.initial_delay * self.policy.multiplier ** min(self._streak, 100),
            self.policy.max_delay,
        )
        self._streak += 1
        if self.policy.deadline is not None:
            remaining = self.policy.deadline - (now - self.started)
            if remaining <= 0:
                raise self._timeout_error(now)
            delay = min(delay, remaining)
        return delay

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


def waiting(
    retrieve: Callable[[], Job] | Callable[[], Awaitable[Job]],
    policy: PollPolicy | None = None,
    *,
    job_id: str | None = None,
    run_id: str | None = None,
    on_job: Callable[[Job], object] | None = None,
) -> Program[Job]:
    """The program of :func:`wait_for_job` and :func:`await_for_job`."""
    policy = policy or PollPolicy()
    clock = policy.clock or time.monotonic
    waiter = JobWaiter(policy, started=clock(), job_id=job_id, run_id=run_id)
    while True:
        job: Job = yield steps.Call(retrieve)
        if on_job is not None:
            yield steps.Call(on_job, (job,))
        delay = waiter.observe(job, clock())
        if delay is None:
            return job
        yield steps.Sleep(delay, policy.sleep)


def wait_for_job(
    retrieve: Callable[[], Job],
    policy: PollPolicy | None = None,
    *,
    job_id: str | None = None,
    run_id: str | None = None,
    on_job: Callable[[Job], object] | None = None,
) -> Job:
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
        WaitTimeout: the policy's deadline passed; the job keeps running.
    """
    return steps.run(waiting(retrieve, policy, job_id=job_id, run_id=run_id, on_job=on_job))


async def await_for_job(
    retrieve: Callable[[], Awaitable[Job]],
    policy: PollPolicy | None = None,
    *,
    job_id: str | None = None,
    run_id: str | None = None,
    on_job: Callable[[Job], object] | None = None,
) -> Job:
    """The awaitable twin of :func:`wait_for_job` (``on_job`` may be a coroutine function)."""
    program = waiting(retrieve, policy, job_id=job_id, run_id=run_id, on_job=on_job)
    return await steps.arun(program)


# --------------------------------------------------------------------------- events


EventCallback = Callable[["JobEvent"], object]


class FollowState:
    """The sans-IO core of event following: what to fetch next, what is new.

    :func:`following` is the program that refreshes it (the pipeline's program
    runs it too); :class:`EventFollower` and :class:`AsyncEventFollower` drive it.

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

    def take(self, page: Page[JobEvent]) -> str | None:
        """Record one page; return the cursor of the next page, or ``None`` to stop."""
        self._pages += 1
        reached_known = False
        last_id: str | None = None
        for event in page.data:
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


def following(
    fetch: Callable[[str | None, int], Operation],
    state: FollowState,
    *,
    callbacks: Sequence[EventCallback] = (),
) -> Program[list[JobEvent]]:
    """One refresh of ``state``: fetch the new events, deliver them, return them oldest first.

    ``fetch(cursor, limit)`` is the operation that gets a :class:`~ftkit.backend.Page`
    of events (a backend's request under a retry policy, in the pipeline).
    """
    state.begin()
    cursor: str | None = None
    while True:
        page: Page[JobEvent] = yield fetch(cursor, state.page_size)
        cursor = state.take(page)
        if cursor is None:
            break
    events = state.finish()
    for event in events:
        for callback in callbacks:
            yield steps.Call(callback, (event,))
    return events


class _Follower:
    """What both followers are: a :class:`FollowState` and the program that refreshes it."""

    def __init__(
        self,
        list_events: Callable[..., object],
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

    def _fetch(self, after: str | None, limit: int) -> Operation:
        return steps.Call(self._list_events, kwargs={"after": after, "limit": limit})

    def _refresh(self) -> Program[list[JobEvent]]:
        return following(self._fetch, self._state, callbacks=self._callbacks)


class EventFollower(_Follower):
    """Fetches a job's events incrementally and delivers each exactly once, in order.

    Args:
        list_events: ``list_events(after=cursor, limit=n)`` returning a
            :class:`~ftkit.backend.Page` of events (for example
            ``lambda **page: retry.call(backend.list_job_events(job_id, **page).run)``).
        callbacks: called with every new :class:`~ftkit.backend.JobEvent`, oldest first.
            A callback's exception propagates (the event still counts as
            delivered).
        page_size: events per request.
        max_pages: cap on pages per refresh (bounds the first backfill of a
            long job); ``None`` reads the whole history once.
        seen: event ids delivered earlier (a resumed run passes them back).
    """

    def poll(self, _job: object = None) -> list[JobEvent]:
        """Fetch new events and deliver them; usable directly as ``on_job``.

        Returns:
            The newly delivered events, oldest first.
        """
        return steps.run(self._refresh())


class AsyncEventFollower(_Follower):
    """The awaitable twin of :class:`EventFollower`.

    ``list_events`` is a coroutine function; callbacks may be coroutine functions.
    """

    async def poll(self, _job: object = None) -> list[JobEvent]:
        """Fetch new events and deliver them; usable directly as ``on_job``."""
        return await steps.arun(self._refresh())


publish(__name__, globals(), __all__)

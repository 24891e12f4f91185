"""PollPolicy, the waiting table and the event follower, driven by scripted job sequences."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from openai.types.fine_tuning import FineTuningJob, FineTuningJobEvent
from time_support import FakeTime

from ftkit import JobEvent, JobFailed, MessageEvent, MetricsEvent, UsageError, WaitTimeout
from ftkit.backend import Job, Page
from ftkit.backend._openai import to_event, to_job
from ftkit.polling import (
    Acceptor,
    AsyncEventFollower,
    EventFollower,
    PollPolicy,
    await_for_job,
    wait_for_job,
)

NULL_ERROR = {"code": None, "message": None, "param": None}


def job(status: str, *, error: dict[str, Any] | None = None, **extra: Any) -> FineTuningJob:
    """A job object exactly as the SDK builds it from a response body."""
    body = {
        "id": "ftjob-1",
        "object": "fine_tuning.job",
        "created_at": 1,
        "model": "gpt-4.1-mini-2025-04-14",
        "organization_id": "org-1",
        "result_files": [],
        "seed": 1,
        "status": status,
        "training_file": "file-1",
        "error": error if error is not None else NULL_ERROR,
        "fine_tuned_model": None,
        "finished_at": None,
        "hyperparameters": None,
        "trained_tokens": None,
        "validation_file": None,
        **extra,
    }
    return FineTuningJob.construct(**body)  # how the SDK builds responses: no validation


def retriever(statuses: Sequence[Any]) -> Callable[[], Job]:
    """Looks at a job going through ``statuses``, each read by the OpenAI adapter."""
    items = [s if not isinstance(s, str) else job(s) for s in statuses]

    def retrieve() -> Job:
        retrieve.calls += 1  # type: ignore[attr-defined]
        return to_job(items.pop(0))

    retrieve.calls = 0  # type: ignore[attr-defined]
    return retrieve


def pol(t: FakeTime, **kwargs: Any) -> PollPolicy:
    return PollPolicy(sleep=t.sleep, clock=t.clock, **kwargs)


def drive(driver: str, retrieve: Callable[[], Any], policy: PollPolicy, **kwargs: Any) -> Any:
    if driver == "sync":
        return wait_for_job(retrieve, policy, **kwargs)

    async def aretrieve() -> Any:
        return retrieve()

    return asyncio.run(await_for_job(aretrieve, policy, **kwargs))


DRIVERS = ["sync", "async"]


@pytest.mark.parametrize("driver", DRIVERS)
def test_waits_through_statuses_until_succeeded(driver: str) -> None:
    t = FakeTime()
    seen: list[str] = []
    retrieve = retriever(["validating_files", "queued", "running", "running", "succeeded"])
    done = drive(driver, retrieve, pol(t), on_job=lambda j: seen.append(j.raw_status))
    assert done.status == "succeeded"
    # The interval grows while the status stays the same and resets when it changes.
    assert t.sleeps == [5.0, 5.0, 5.0, 7.5]
    assert seen == ["validating_files", "queued", "running", "running", "succeeded"]


def test_interval_is_capped() -> None:
    t = FakeTime()
    wait_for_job(retriever(["running"] * 6 + ["succeeded"]), pol(t, multiplier=2.0, max_delay=25))
    assert t.sleeps == [5.0, 10.0, 20.0, 25.0, 25.0, 25.0]


@pytest.mark.parametrize("driver", DRIVERS)
def test_failed_job_raises_job_failed_with_the_error(driver: str) -> None:
    t = FakeTime()
    failed = job(
        "failed",
        error={
            "code": "invalid_training_file",
            "message": "line 3 is not valid JSON",
            "param": "training_file",
        },
    )
    with pytest.raises(JobFailed) as info:
        drive(driver, retriever(["running", failed]), pol(t), run_id="run-7")
    exc = info.value
    assert (exc.job_id, exc.status, exc.code, exc.param) == (
        "ftjob-1",
        "failed",
        "invalid_training_file",
        "training_file",
    )
    assert exc.error_message == "line 3 is not valid JSON"
    assert exc.job.raw is failed
    assert exc.run_id == "run-7"
    assert "invalid_training_file" in str(exc)


def test_cancelled_job_fails_without_inventing_an_error() -> None:
    t = FakeTime()
    with pytest.raises(JobFailed) as info:
        wait_for_job(retriever(["cancelled"]), pol(t))
    assert info.value.status == "cancelled"
    assert info.value.code is None and info.value.error_message is None


def test_all_null_error_object_on_a_queued_job_is_not_a_failure() -> None:
    t = FakeTime()
    queued = job("queued", error=NULL_ERROR)
    assert queued.error is not None  # the SDK keeps the object: a naive check would fail here
    done = wait_for_job(retriever([queued, "succeeded"]), pol(t))
    assert done.status == "succeeded"


def test_unknown_statuses_keep_waiting_and_are_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    t = FakeTime()
    statuses = ["queued", "warming_up", "warming_up", "warming_up", "running", "succeeded"]
    with caplog.at_level(logging.INFO, logger="ftkit.polling"):
        done = wait_for_job(retriever(statuses), pol(t))
    assert done.status == "succeeded"
    unknown = [r for r in caplog.records if "unknown status" in r.getMessage()]
    assert len(unknown) == 1 and "warming_up" in unknown[0].getMessage()


@pytest.mark.parametrize("driver", DRIVERS)
def test_timeout_leaves_the_job_running_and_says_how_to_resume(driver: str) -> None:
    t = FakeTime()
    retrieve = retriever(["running"] * 20)
    with pytest.raises(WaitTimeout) as info:
        drive(
            driver, retrieve, pol(t, initial_delay=10, multiplier=1.0, deadline=25), run_id="run-42"
        )
    exc = info.value
    assert exc.job_id == "ftjob-1" and exc.last_status == "running" and exc.run_id == "run-42"
    assert "Run.resume('run-42')" in str(exc)
    # The last sleep is shortened so the final look happens at the deadline.
    assert t.sleeps == [10.0, 10.0, 5.0]
    assert retrieve.calls == 4  # type: ignore[attr-defined]


def test_timeout_hint_without_a_run_names_the_job() -> None:
    t = FakeTime()
    with pytest.raises(WaitTimeout) as info:
        wait_for_job(retriever(["queued"] * 5), pol(t, deadline=1))
    assert "ftjob-1" in str(info.value)
    assert info.value.run_id is None


def test_success_at_the_deadline_wins_over_timeout() -> None:
    t = FakeTime()
    done = wait_for_job(retriever(["running", "succeeded"]), pol(t, initial_delay=10, deadline=10))
    assert done.status == "succeeded"


def test_acceptors_are_data_and_first_match_wins() -> None:
    t = FakeTime()
    table = (
        Acceptor("failure", frozenset({"paused"})),
        Acceptor("success", frozenset({"succeeded", "paused"})),
    )
    with pytest.raises(JobFailed):
        wait_for_job(retriever(["running", "paused"]), pol(t, acceptors=table))


def test_sparse_job_bodies_work_too() -> None:
    t = FakeTime()
    bodies = [
        {"id": "ftjob-9", "status": "running", "error": None},
        {
            "id": "ftjob-9",
            "status": "failed",
            "error": {"code": "x", "message": "m", "param": None},
        },
    ]
    jobs = [FineTuningJob.construct(**body) for body in bodies]
    with pytest.raises(JobFailed) as info:
        wait_for_job(retriever(jobs), pol(t))
    assert (info.value.job_id, info.value.code) == ("ftjob-9", "x")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"initial_delay": 0},
        {"multiplier": 0.5},
        {"initial_delay": 10, "max_delay": 5},
        {"deadline": 0},
    ],
)
def test_invalid_poll_policy(kwargs: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        PollPolicy(**kwargs)


def test_poll_policy_is_an_immutable_value() -> None:
    p = PollPolicy()
    q = p.with_backoff(initial_delay=2).with_deadline(60).with_backoff(multiplier=2.0, max_delay=30)
    assert (p.initial_delay, p.deadline) == (5.0, None)
    assert (q.initial_delay, q.deadline, q.multiplier, q.max_delay) == (2, 60, 2.0, 30)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.initial_delay = 1  # type: ignore[misc]


# --------------------------------------------------------------------------- events


def sdk_event(n: int, *, kind: str | None = "message", data: Any = None) -> FineTuningJobEvent:
    body: dict[str, Any] = {
        "id": f"ftevent-{n}",
        "created_at": 1000 + n,
        "level": "info",
        "message": f"event {n}",
        "object": "fine_tuning.job.event",
        "data": data,
    }
    if kind is not None:
        body["type"] = kind
    return FineTuningJobEvent.model_validate(body)


def test_the_adapter_types_metrics_message_and_unknown_events() -> None:
    metrics = to_event(
        sdk_event(
            1,
            kind="metrics",
            data={
                "step": 10,
                "total_steps": 90,
                "train_loss": 1.25,
                "train_mean_token_accuracy": 0.5,
                "dpo_margin": 3,
            },
        )
    )
    assert isinstance(metrics, MetricsEvent)
    assert (metrics.step, metrics.total_steps, metrics.train_loss) == (10, 90, 1.25)
    assert metrics.valid_loss is None
    assert metrics.metrics == {
        "train_loss": 1.25,
        "train_mean_token_accuracy": 0.5,
        "dpo_margin": 3.0,
    }

    assert isinstance(to_event(sdk_event(2)), MessageEvent)

    moderation = to_event(
        FineTuningJobEvent.construct(
            id="ftevent-3",
            created_at=5,
            level="warn",
            message="checks",
            type="moderation_checks",
            data={"x": 1},
        )
    )
    assert type(moderation) is JobEvent
    assert moderation.type == "moderation_checks" and moderation.data == {"x": 1}

    odd = to_event(FineTuningJobEvent.construct(id="ftevent-4", data={"step": "seven"}))
    assert isinstance(odd, MetricsEvent) and odd.step is None


class EventFeed:
    """The API's event listing: newest first, ``after`` pages towards older events."""

    def __init__(self) -> None:
        self.events: list[FineTuningJobEvent] = []  # oldest first
        self.requests: list[tuple[str | None, int]] = []

    def add(self, *ns: int) -> None:
        self.events.extend(sdk_event(n) for n in ns)

    def list_events(self, *, after: str | None, limit: int) -> Page[JobEvent]:
        self.requests.append((after, limit))
        newest_first = list(reversed(self.events))
        start = 0
        if after is not None:
            start = [e.id for e in newest_first].index(after) + 1
        chunk = [to_event(e) for e in newest_first[start : start + limit]]
        return Page(chunk, has_more=start + limit < len(newest_first))


def test_follower_delivers_all_history_oldest_first_then_only_new_events() -> None:
    feed = EventFeed()
    feed.add(1, 2, 3, 4, 5)
    got: list[str] = []
    follower = EventFollower(feed.list_events, callbacks=[lambda e: got.append(e.id)], page_size=2)
    first = follower.poll()
    assert [e.id for e in first] == [f"ftevent-{n}" for n in (1, 2, 3, 4, 5)]
    assert got == [e.id for e in first]
    assert feed.requests == [(None, 2), ("ftevent-4", 2), ("ftevent-2", 2)]

    feed.requests.clear()
    assert follower.poll() == []
    assert feed.requests == [(None, 2)]  # the first page already holds a seen event

    feed.add(6, 7, 8)
    feed.requests.clear()
    assert [e.id for e in follower.poll()] == ["ftevent-6", "ftevent-7", "ftevent-8"]
    assert feed.requests == [(None, 2), ("ftevent-7", 2)]
    assert got[-3:] == ["ftevent-6", "ftevent-7", "ftevent-8"]
    assert follower.last_event_id == "ftevent-8"


def test_follower_deduplicates_events_repeated_across_pages() -> None:
    pages = [
        Page([to_event(sdk_event(3)), to_event(sdk_event(2))], has_more=True),
        # a new event arrived between requests: the listing shifted by one
        Page([to_event(sdk_event(2)), to_event(sdk_event(1))], has_more=False),
    ]

    def list_events(*, after: str | None, limit: int) -> Page[Any]:
        return pages.pop(0)

    events = EventFollower(list_events).poll()
    assert [e.id for e in events] == ["ftevent-1", "ftevent-2", "ftevent-3"]


def test_follower_resumes_from_seen_ids_and_caps_pages() -> None:
    feed = EventFeed()
    feed.add(1, 2, 3, 4, 5, 6)
    resumed = EventFollower(feed.list_events, page_size=2, seen={"ftevent-4"})
    assert [e.id for e in resumed.poll()] == ["ftevent-5", "ftevent-6"]

    capped = EventFollower(feed.list_events, page_size=2, max_pages=1)
    assert [e.id for e in capped.poll()] == ["ftevent-5", "ftevent-6"]


def test_follower_as_on_job_hook_catches_final_events() -> None:
    t = FakeTime()
    feed = EventFeed()
    feed.add(1)
    jobs = iter(["running", "succeeded"])
    got: list[str] = []
    follower = EventFollower(feed.list_events, callbacks=[lambda e: got.append(e.id)])

    def retrieve() -> Job:
        status = next(jobs)
        if status == "succeeded":
            feed.add(2, 3)
        return to_job(job(status))

    wait_for_job(retrieve, pol(t), on_job=follower.poll)
    assert got == ["ftevent-1", "ftevent-2", "ftevent-3"]


def test_async_follower_awaits_async_callbacks() -> None:
    feed = EventFeed()
    feed.add(1, 2, 3)
    got: list[str] = []

    async def list_events(*, after: str | None, limit: int) -> Page[Any]:
        return feed.list_events(after=after, limit=limit)

    async def callback(event: JobEvent) -> None:
        got.append(event.id)

    follower = AsyncEventFollower(list_events, callbacks=[callback], page_size=2)
    asyncio.run(follower.poll())
    assert got == ["ftevent-1", "ftevent-2", "ftevent-3"]
    assert follower.seen == frozenset(got)


def test_an_acceptor_refuses_a_provider_status_word() -> None:
    # Acceptors match ftkit's normalised status: "validating_files" would never match.
    with pytest.raises(UsageError, match="validating_files"):
        Acceptor("failure", frozenset({"validating_files"}))  # type: ignore[arg-type]

"""A fake's client carries its clock: FineTune, retries and evaluation need no time wiring.

Every run here is bounded by a thread ``join(timeout)`` so a regression (polling on
real time, where the fake's jobs never move) fails the test instead of hanging it,
and ``time.sleep`` / ``asyncio.sleep`` raise, so no real sleep can pass unnoticed.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from collections.abc import Callable, Coroutine
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import pytest

import ftkit
from ftkit._virtual_time import client_clock, on_client_time
from ftkit.polling import PollPolicy
from ftkit.retry import RetryPolicy
from ftkit.testing import DEFAULT_START, FakeClock, FakeFineTuningAPI, Timings

DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
MODEL = "gpt-4.1-mini-2025-04-14"
SFT = DATA / "sarcasm_sft.jsonl"
SFT_VALIDATION = DATA / "sarcasm_sft_validation.jsonl"
DPO = DATA / "sarcasm_dpo.jsonl"
BOUND = 120.0  # real seconds: a guard against hangs, not a speed assertion

T = TypeVar("T")
FT = TypeVar("FT", ftkit.FineTune, ftkit.AsyncFineTune)


class RealSleep(AssertionError):
    """Raised by the patched ``time.sleep`` / ``asyncio.sleep``."""


@pytest.fixture
def no_real_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(seconds: float, *args: object, **kwargs: object) -> Any:
        raise RealSleep(f"a real sleep of {seconds}s")

    monkeypatch.setattr("time.sleep", refuse)
    monkeypatch.setattr("asyncio.sleep", refuse)


def bounded(fn: Callable[[], T]) -> T:
    """``fn()`` in a daemon thread; fails (instead of hanging) if it is not done in BOUND s."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # handed back to the test below
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(BOUND)
    if thread.is_alive():
        pytest.fail(f"still running after {BOUND:.0f} s: waiting on real time?")
    if "error" in outcome:
        raise outcome["error"]
    value: T = outcome["value"]
    return value


def bounded_async(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return bounded(lambda: asyncio.run(make()))


def sft_then_dpo(ft: FT, state_dir: Path) -> FT:
    return (
        ft.model(MODEL).sft(SFT, validation=SFT_VALIDATION).dpo(DPO, beta=0.1).state_dir(state_dir)
    )


def assert_trained(result: ftkit.RunResult, fake: FakeFineTuningAPI, start: float) -> None:
    assert [s.name for s in result.stages] == ["sft", "dpo"]
    assert all(s.status == "succeeded" for s in result.stages)
    assert result.fine_tuned_model in fake.fine_tuned_models
    assert fake.clock.now() > start  # polling moved the fake's time...
    assert fake.clock.slept  # ...by sleeping on its clock


# ---------------------------------------------------------------- the pipeline


@pytest.mark.parametrize(
    ("provider", "api", "asynchronous"),
    [
        ("openai", None, False),
        ("azure", "dated", False),
        ("azure", "v1", False),
        ("openai", None, True),
        ("azure", "dated", True),
        ("azure", "v1", True),
    ],
)
def test_finetune_on_a_bare_fake_client_finishes_on_virtual_time(
    provider: str, api: str | None, asynchronous: bool, tmp_path: Path, no_real_sleep: None
) -> None:
    fake = FakeFineTuningAPI(provider=provider)
    start = fake.clock.now()
    client = fake.async_client(api=api) if asynchronous else fake.client(api=api)
    if asynchronous:
        result = bounded_async(sft_then_dpo(ftkit.AsyncFineTune(client), tmp_path).run)
    else:
        result = bounded(sft_then_dpo(ftkit.FineTune(client), tmp_path).run)
    assert_trained(result, fake, start)


def test_start_then_wait_and_resume_use_the_clients_clock(
    tmp_path: Path, no_real_sleep: None
) -> None:
    fake = FakeFineTuningAPI()
    ft = ftkit.FineTune(fake.client()).model(MODEL).sft(SFT).state_dir(tmp_path)
    run = bounded(ft.start)
    resumed = ftkit.Run.resume(run.id, fake.client(), state_dir=tmp_path)
    result = bounded(resumed.wait)
    assert result.stages[0].status == "succeeded" and fake.clock.slept


def test_shutdown_dates_follow_the_fakes_calendar(
    tmp_path: Path, no_real_sleep: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The machine's calendar is past every shutdown date of the model table...
    from ftkit.providers import _model as _models

    monkeypatch.setattr(_models, "utc_today", lambda: date(2027, 6, 1))
    fake = FakeFineTuningAPI(clock=FakeClock(start=DEFAULT_START))
    ft = ftkit.FineTune(fake.client()).model(MODEL).sft(SFT).state_dir(tmp_path)
    with pytest.raises(ftkit.TrainingUnavailable):
        ftkit.FineTune(None).model(MODEL).sft(SFT).state_dir(tmp_path).run()
    # ...but the fake lives on its own day (2026-11-02 here): plan and preflight both use it.
    assert ft.plan().ok
    result = bounded(ft.run)
    assert result.stages[0].status == "succeeded"
    later = FakeFineTuningAPI(
        clock=FakeClock(datetime(2027, 2, 1, tzinfo=timezone.utc).timestamp())
    )
    with pytest.raises(ftkit.TrainingUnavailable):
        ftkit.FineTune(later.client()).model(MODEL).sft(SFT).state_dir(tmp_path).run()


def test_retries_back_off_on_the_fakes_clock(tmp_path: Path, no_real_sleep: None) -> None:
    fake = FakeFineTuningAPI()
    fake.faults.inject("jobs.create", "429", retry_after=7)
    ft = ftkit.FineTune(fake.client()).model(MODEL).sft(SFT).state_dir(tmp_path)
    result = bounded(ft.run)
    assert result.stages[0].status == "succeeded"
    # ftkit's policy (not the SDK: ftkit calls with max_retries=0) waited the Retry-After.
    assert 7.0 in fake.clock.slept
    assert [r.status for r in fake.calls("jobs.create")] == [429, 200]


def test_async_retries_back_off_on_the_fakes_clock(tmp_path: Path, no_real_sleep: None) -> None:
    fake = FakeFineTuningAPI()
    fake.faults.inject("jobs.create", "503")
    ft = ftkit.AsyncFineTune(fake.async_client()).model(MODEL).sft(SFT).state_dir(tmp_path)
    result = bounded_async(ft.run)
    assert result.stages[0].status == "succeeded"
    assert [r.status for r in fake.calls("jobs.create")] == [503, 200]


def test_an_explicit_sleep_and_clock_still_win(tmp_path: Path) -> None:
    # Files processed at once: every poll here is the job's (no wait for a file).
    fake = FakeFineTuningAPI(timings=Timings(file_processing=0))
    fake.faults.inject("jobs.create", "429", retry_after=3)
    polled: list[float] = []
    backed_off: list[float] = []

    def poll_sleep(seconds: float) -> None:
        polled.append(seconds)
        fake.advance(seconds)

    def retry_sleep(seconds: float) -> None:
        backed_off.append(seconds)

    ft = (
        ftkit.FineTune(fake.client())
        .model(MODEL)
        .sft(SFT)
        .retry(RetryPolicy(max_attempts=3, sleep=retry_sleep))
        .poll(PollPolicy(initial_delay=20.0, max_delay=20.0, sleep=poll_sleep))
        .state_dir(tmp_path)
    )
    result = bounded(ft.run)
    assert result.stages[0].status == "succeeded"
    assert backed_off == [3.0]
    assert polled and set(polled) == {20.0}
    assert fake.clock.slept == []  # nothing went to the fake's own sleep


def test_on_client_time_fills_only_what_is_unset() -> None:
    fake = FakeFineTuningAPI()
    client = fake.client()
    assert client_clock(client) is fake.clock
    assert client_clock(client.with_options(max_retries=0)) is fake.clock
    azure = FakeFineTuningAPI(provider="azure")
    assert client_clock(azure.async_azure_client()) is azure.clock
    assert client_clock(object()) is None and client_clock(None) is None

    filled = on_client_time(PollPolicy(), client)
    assert filled.sleep == fake.clock.sleep and filled.clock == fake.clock.now

    def mine(seconds: float) -> None:
        pass

    kept = on_client_time(RetryPolicy(sleep=mine), client)
    assert kept.sleep is mine and kept.clock == fake.clock.now
    other = FakeClock()
    assert on_client_time(RetryPolicy(clock=other.now), client).clock == other.now
    untouched = RetryPolicy()
    assert on_client_time(untouched, object()) is untouched


def test_a_mock_client_is_not_mistaken_for_a_fake() -> None:
    from unittest.mock import MagicMock

    assert client_clock(MagicMock()) is None


# ---------------------------------------------------------------- evaluation


def _tuned(fake: FakeFineTuningAPI) -> str:
    client = fake.client(max_retries=0)
    file = client.files.create(file=("t.jsonl", SFT.read_bytes()), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(model=MODEL, training_file=file.id)
    fake.advance(100_000)
    done = client.fine_tuning.jobs.retrieve(job.id)
    assert done.fine_tuned_model
    return done.fine_tuned_model


def _test_rows() -> list[dict[str, Any]]:
    lines = SFT_VALIDATION.read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()][:4]


def test_evaluate_retries_on_the_fakes_clock(no_real_sleep: None) -> None:
    from ftkit.testing import ChatBehaviour

    fake = FakeFineTuningAPI(chat=ChatBehaviour(error_rate=0.0))
    model = _tuned(fake)
    fake.faults.inject("chat.completions.create", "429", times=2, retry_after=5)
    report = bounded(lambda: ftkit.evaluate(model, _test_rows(), client=fake.client()))
    assert fake.clock.slept == [5.0, 5.0]
    assert [r.status for r in fake.calls("chat.completions.create")].count(429) == 2
    assert report is not None


def test_aevaluate_retries_on_the_fakes_clock(no_real_sleep: None) -> None:
    from ftkit.evaluation import aevaluate
    from ftkit.testing import ChatBehaviour

    fake = FakeFineTuningAPI(chat=ChatBehaviour(error_rate=0.0))
    model = _tuned(fake)
    fake.faults.inject("chat.completions.create", "503", times=2)
    rows = _test_rows()
    bounded_async(lambda: aevaluate(model, rows, client=fake.async_client()))
    assert len(fake.clock.slept) == 2
    assert [r.status for r in fake.calls("chat.completions.create")].count(503) == 2


# ---------------------------------------------------------------- ids


def _first_file_id(fake: FakeFineTuningAPI) -> str:
    client = fake.client(max_retries=0)
    return client.files.create(file=("t.jsonl", SFT.read_bytes()), purpose="fine-tune").id


def _first_ids(fake: FakeFineTuningAPI) -> tuple[str, str]:
    """The first file id and the first job id a fake hands out."""
    file_id = _first_file_id(fake)
    job = fake.client(max_retries=0).fine_tuning.jobs.create(model=MODEL, training_file=file_id)
    return file_id, job.id


def test_two_fakes_hand_out_different_ids() -> None:
    a, b = FakeFineTuningAPI(), FakeFineTuningAPI()
    assert a.seed != b.seed
    (file_a, job_a), (file_b, job_b) = _first_ids(a), _first_ids(b)
    assert file_a != file_b and job_a != job_b


def test_a_seed_makes_ids_reproducible() -> None:
    first = FakeFineTuningAPI()
    again = FakeFineTuningAPI(seed=first.seed)
    assert _first_ids(first) == _first_ids(again)
    assert _first_ids(FakeFineTuningAPI(seed=3)) == _first_ids(FakeFineTuningAPI(seed=3))


def test_ids_differ_across_processes() -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from test_fake_virtual_time import FakeFineTuningAPI, _first_file_id;"
        "print(_first_file_id(FakeFineTuningAPI()))"
    )
    child = subprocess.run(
        [sys.executable, "-c", code, str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        check=True,
        timeout=BOUND,
    )
    assert child.stdout.strip().startswith("file-")
    assert child.stdout.strip() != _first_file_id(FakeFineTuningAPI())

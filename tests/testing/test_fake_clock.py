"""The virtual clock, and what importing ``ftkit.testing`` costs."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

import ftkit
from ftkit.testing import DEFAULT_START, FakeClock, FakeFineTuningAPI
from ftkit.testing._clock import START_VARIABLE


def test_clock_moves_only_forward() -> None:
    clock = FakeClock(start=100)
    assert clock.now() == clock.time() == 100
    assert clock.advance(5) == 105
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)
    assert clock.now() == 105


def test_a_clock_starts_at_the_real_time_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(START_VARIABLE)  # this suite pins every fake at DEFAULT_START (conftest)
    before = time.time()
    clock = FakeClock()
    assert before <= clock.now() <= time.time()
    assert FakeClock(start=DEFAULT_START).now() == DEFAULT_START
    fake = FakeFineTuningAPI()
    assert before <= fake.clock.now() <= time.time()
    upload = fake.client(max_retries=0).files.create(file=("t.jsonl", b"{}\n"), purpose="fine-tune")
    assert abs(upload.created_at - time.time()) < 60  # dated today, as the service dates it


@pytest.mark.parametrize(
    ("value", "start"),
    [
        ("2026-11-02", DEFAULT_START),
        ("2026-11-02T00:00:30", DEFAULT_START + 30),
        ("2026-11-02T01:00:00+01:00", DEFAULT_START),
        (str(DEFAULT_START + 5), DEFAULT_START + 5),
    ],
)
def test_the_default_start_can_be_set_for_a_whole_process(
    monkeypatch: pytest.MonkeyPatch, value: str, start: float
) -> None:
    monkeypatch.setenv(START_VARIABLE, value)
    assert FakeClock().now() == start
    assert FakeClock(start=7).now() == 7  # an explicit start still wins


@pytest.mark.parametrize("value", ["next tuesday", "2026"])
def test_a_malformed_default_start_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    # "2026" is neither a date nor plausible Unix seconds (it would be 1970).
    monkeypatch.setenv(START_VARIABLE, value)
    with pytest.raises(ftkit.UsageError, match=START_VARIABLE):
        FakeClock()


def test_sleep_advances_and_records() -> None:
    clock = FakeClock(start=DEFAULT_START)
    assert clock.now() == DEFAULT_START
    clock.sleep(2.5)
    clock.sleep(0)
    assert clock.slept == [2.5, 0.0]
    assert clock.now() == DEFAULT_START + 2.5
    assert repr(clock) == "FakeClock(2026-11-02T00:00:02.500000+00:00)"


def test_importing_the_fake_does_not_import_openai() -> None:
    code = "import sys, ftkit.testing; assert 'openai' not in sys.modules, 'openai imported'"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr

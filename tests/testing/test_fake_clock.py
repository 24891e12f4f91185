"""The virtual clock, and what importing ``ftkit.testing`` costs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ftkit.testing import DEFAULT_START, FakeClock


def test_clock_moves_only_forward() -> None:
    clock = FakeClock(start=100)
    assert clock.now() == clock.time() == 100
    assert clock.advance(5) == 105
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)
    assert clock.now() == 105


def test_sleep_advances_and_records() -> None:
    clock = FakeClock()
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

"""Fixtures for pipeline tests (helpers live in pipeline_support)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pipeline_support import EXAMPLES, Env, SimulatedCrash

import ftkit
from ftkit.testing import FakeFineTuningAPI


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return Env(fake=FakeFineTuningAPI(), state_dir=tmp_path / "state")


@pytest.fixture
def sft_file() -> Path:
    return EXAMPLES / "sarcasm_sft.jsonl"


@pytest.fixture
def sft_validation_file() -> Path:
    return EXAMPLES / "sarcasm_sft_validation.jsonl"


@pytest.fixture
def dpo_file() -> Path:
    return EXAMPLES / "sarcasm_dpo.jsonl"


@pytest.fixture
def crash_on() -> Callable[[str, int], Callable[[ftkit.RunEvent], None]]:
    """A callback that raises the n-th time an event of a type is emitted (a simulated crash)."""

    def make(event_type: str, nth: int = 1) -> Callable[[ftkit.RunEvent], None]:
        seen = 0

        def callback(event: ftkit.RunEvent) -> None:
            nonlocal seen
            if event.type == event_type:
                seen += 1
                if seen == nth:
                    raise SimulatedCrash(event_type)

        return callback

    return make

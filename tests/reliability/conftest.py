"""Fixtures for the reliability tests (the shared engine lives in reliability_support)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_support import Data, make_data


@pytest.fixture(scope="session")
def data(tmp_path_factory: pytest.TempPathFactory) -> Data:
    """Small training files (10 examples each), written once for the whole test run."""
    return make_data(tmp_path_factory.mktemp("reliability-data"))


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Thousands of manifest writes happen here. fsync only guards against losing the
    # page cache (power loss), which neither a simulated crash in this process nor a
    # killed child process can do, so skipping it changes nothing these tests observe.
    monkeypatch.setattr(os, "fsync", lambda fd: None)
    yield

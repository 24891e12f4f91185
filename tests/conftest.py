"""Shared fixtures: the real third-party datasets, and an offline tokenizer guard."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Third-party files vendored with their licences (tests/data/real/README.md names the sources).
REAL_DATASETS = REPO / "tests" / "data" / "real"

# Tests must never reach tiktoken's CDN: vocabularies come from a verified local source.
os.environ["FTKIT_TIKTOKEN_DOWNLOAD"] = "0"
# Every fake of the suite, and of the processes it starts, begins on 2026-11-02
# (ftkit.testing.DEFAULT_START) rather than today: the model table's shutdown dates pass
# one by one, and the suite's expectations must not move with the calendar. Tests of
# the default (the real time) remove it; tests of a date pass FakeClock(start=...).
os.environ["FTKIT_FAKE_START"] = "2026-11-02"


@pytest.fixture(autouse=True)
def _pinned_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shutdown dates are compared with the fake's start day, not the machine's.

    The model table's shutdown dates pass one by one (the last fine-tunable model
    retires in 2027-01): without this, tests written against today's table would
    start failing on a later calendar day. Tests of the date rule pass ``today=``
    or patch ``utc_today`` themselves. (The fakes' start is pinned above, by
    ``FTKIT_FAKE_START``.)
    """
    from ftkit.providers import _model as _models
    from ftkit.testing import DEFAULT_START

    day = datetime.fromtimestamp(DEFAULT_START, tz=timezone.utc).date()
    monkeypatch.setattr(_models, "utc_today", lambda: day)


@pytest.fixture(scope="session")
def real_datasets() -> Path:
    """The folder of real third-party JSONL files (read-only)."""
    if not REAL_DATASETS.is_dir():
        pytest.fail(f"real datasets folder not found: {REAL_DATASETS}")
    return REAL_DATASETS


@pytest.fixture(autouse=True)
def _fresh_catalog_after_together(request: pytest.FixtureRequest) -> Iterator[None]:
    """A Together run refreshes the catalog's entry from the API (the fake's limits):
    forget it afterwards, so no other test sees the fake's figures. (Every test whose
    id names Together; resetting after every test would cost seconds of CI.)"""
    yield
    if "together" in request.node.nodeid.lower():
        from ftkit import providers

        providers.reset()

"""Shared fixtures: the real third-party datasets, and an offline tokenizer guard."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Third-party files vendored with their licences (tests/data/real/README.md names the sources).
REAL_DATASETS = REPO / "tests" / "data" / "real"

# Tests must never reach tiktoken's CDN: vocabularies come from a verified local source.
os.environ["FTKIT_TIKTOKEN_DOWNLOAD"] = "0"


@pytest.fixture(scope="session")
def real_datasets() -> Path:
    """The folder of real third-party JSONL files (read-only)."""
    if not REAL_DATASETS.is_dir():
        pytest.fail(f"real datasets folder not found: {REAL_DATASETS}")
    return REAL_DATASETS

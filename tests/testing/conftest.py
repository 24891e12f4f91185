"""Fixtures of the fake's tests: a default fake and an openai client on it."""

from __future__ import annotations

import openai
import pytest

from ftkit.testing import FakeFineTuningAPI


@pytest.fixture
def fake() -> FakeFineTuningAPI:
    """A fake with the defaults (a test module may override it with its own settings)."""
    return FakeFineTuningAPI()


@pytest.fixture
def client(fake: FakeFineTuningAPI) -> openai.OpenAI:
    """An in-process client of ``fake`` that surfaces every error (no SDK retries)."""
    return fake.client(max_retries=0)

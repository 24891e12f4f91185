"""Fixtures for evaluation tests (helpers live in tests/chat_support.py)."""

from __future__ import annotations

import pytest
from chat_support import JSON_FILE, train

from ftkit.testing import ChatBehaviour, FakeFineTuningAPI


@pytest.fixture
def fake() -> FakeFineTuningAPI:
    return FakeFineTuningAPI(chat=ChatBehaviour(error_rate=0.0))


@pytest.fixture
def tuned(fake: FakeFineTuningAPI) -> str:
    """A model fine-tuned on the JSON extraction examples (it recalls them all)."""
    return train(fake, JSON_FILE)

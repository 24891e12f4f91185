"""Factories for backend tests: API bodies as the service sends them, and offline clients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
import pytest

API_KEY = "sk-test-0123456789abcdefSECRET"
BASE = "https://api.test/v1"


def job_body(job_id: str = "ftjob-1", status: str = "queued", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": job_id,
        "object": "fine_tuning.job",
        "created_at": 1_760_000_000,
        "model": "gpt-4.1-mini-2025-04-14",
        "organization_id": "org-1",
        "result_files": [],
        "seed": 42,
        "status": status,
        "training_file": "file-train",
        "validation_file": None,
        "error": {"code": None, "message": None, "param": None},
        "fine_tuned_model": None,
        "finished_at": None,
        "hyperparameters": None,
        "trained_tokens": None,
        "metadata": None,
        "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": "auto"}}},
    }
    body.update(extra)
    return body


def listing(items: list[dict[str, Any]], has_more: bool = False) -> dict[str, Any]:
    return {"object": "list", "data": items, "has_more": has_more}


def error_body(message: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    return {
        "error": {"message": message, "type": "invalid_request_error", "code": code, "param": param}
    }


class Bodies:
    """Response bodies and constants, handed to tests through the ``api`` fixture."""

    key = API_KEY
    base = BASE
    job: Callable[..., dict[str, Any]] = staticmethod(job_body)
    listing: Callable[..., dict[str, Any]] = staticmethod(listing)
    error: Callable[..., dict[str, Any]] = staticmethod(error_body)


@pytest.fixture
def api() -> type[Bodies]:
    return Bodies


@pytest.fixture
def client() -> openai.OpenAI:
    # max_retries left at a non-zero value on purpose: the backend must turn it off.
    return openai.OpenAI(api_key=API_KEY, base_url=BASE, max_retries=3)


@pytest.fixture
def async_client() -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key=API_KEY, base_url=BASE, max_retries=3)

"""Helpers of the Azure fake's tests: the spec's property lists, raw requests, typed checks."""

from __future__ import annotations

from typing import Any

import httpx2
import openai
from fake_support import LINES
from pydantic import BaseModel, TypeAdapter

from ftkit.testing import FakeFineTuningAPI

BASE = "gpt-4.1-mini-2025-04-14"
"""An OpenAI model Azure trains on every tier (SFT and DPO)."""
OPEN_SOURCE = "gpt-oss-20b"
"""An open-source model: Global Standard only."""
API_VERSION = "2025-04-01-preview"
HEX32 = r"[0-9a-f]{32}"

# Properties of the dated spec's definitions (Azure/azure-rest-api-specs,
# specification/cognitiveservices/data-plane/AzureOpenAI/authoring/preview/
# 2025-04-01-preview/azureopenai.yaml): an answer of the dated API has no other key.
JOB_PROPERTIES = frozenset(
    {
        "object",
        "created_at",
        "id",
        "status",
        "model",
        "fine_tuned_model",
        "training_file",
        "validation_file",
        "result_files",
        "finished_at",
        "organisation_id",
        "trained_tokens",
        "error",
        "estimated_finish",
        "hyperparameters",
        "suffix",
        "seed",
        "integrations",
        "method",
    }
)
FILE_PROPERTIES = frozenset(
    {"object", "created_at", "id", "status", "bytes", "purpose", "filename", "expires_at"}
    | {"status_details"}
)
MODEL_PROPERTIES = frozenset(
    {"object", "created_at", "id", "status", "model", "fine_tune", "capabilities"}
    | {"lifecycle_status", "deprecation"}
)
FILE_STATES = frozenset({"uploaded", "pending", "running", "processed", "error"} | {"deleted"})
JOB_STATES = frozenset(
    {"created", "pending", "running", "pausing", "paused", "resuming", "succeeded"}
    | {"cancelled", "failed"}
)


def dated_url(path: str) -> str:
    return f"https://res.openai.azure.invalid/openai{path}?api-version={API_VERSION}"


def v1_url(path: str) -> str:
    return f"https://res.openai.azure.invalid/openai/v1{path}"


def call(
    fake: FakeFineTuningAPI, method: str, url: str, body: Any = None, **headers: str
) -> httpx2.Response:
    """One raw request to the fake with an Azure key (for bodies the SDK would hide)."""
    return fake.handle(
        httpx2.Request(method, url, json=body, headers={"api-key": "any-key", **headers})
    )


def processed_file(fake: FakeFineTuningAPI, client: openai.OpenAI, content: bytes = LINES) -> str:
    """A training file the service has finished processing."""
    created = client.files.create(file=("train.jsonl", content), purpose="fine-tune")
    assert created.status in ("pending", "uploaded")  # Azure's word, OpenAI's
    fake.advance(10)
    return created.id


def assert_no_nulls(value: Any, where: str = "answer") -> None:
    """The dated spec marks no property nullable: a value is there, or its key is absent."""
    assert value is not None, f"null at {where}"
    if isinstance(value, dict):
        for key, item in value.items():
            assert_no_nulls(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            assert_no_nulls(item, f"{where}[{i}]")


def assert_dated(body: dict[str, Any], properties: frozenset[str]) -> None:
    """An answer of the dated API: only its spec's properties, and no ``null``."""
    assert set(body) <= properties, set(body) - properties
    assert_no_nulls(body)


def assert_typed(body: dict[str, Any], sdk_type: type[BaseModel], *, lenient: set[str]) -> None:
    """Every field the SDK's type declares and the answer carries has the SDK's type.

    ``lenient`` fields are closed enums in the SDK that the provider's words fall outside
    (Azure's job statuses): the SDK keeps them as strings, and so does ftkit.
    """
    for name, field in sdk_type.model_fields.items():
        if name in body and name not in lenient:
            TypeAdapter(field.annotation).validate_python(body[name])

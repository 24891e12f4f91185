"""Every response the fake sends validates against the openai package's own types.

One scenario walks every route through a plain ``openai.OpenAI`` whose transport
records the raw answers; each JSON body is then validated with the SDK model
for that route. Two documented deviations of the real service from the SDK's
types are allowed, and only those: the all-null ``error`` object of jobs that did
not fail, ``hyperparameters: null`` on DPO/reinforcement jobs, and the ``pausing``
and ``paused`` statuses, which the API reference lists but the SDK's literal lacks;
and the ``role`` of stored input messages, which the spec's example shows as the
input's (``user``...) but the spec and the SDK type as ``"assistant"`` only.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import openai
import pytest
from fake_support import sdk_client, sft_lines
from openai.types import FileDeleted, FileObject, Model, ModelDeleted, Upload
from openai.types.chat import ChatCompletion, ChatCompletionDeleted, ChatCompletionStoreMessage
from openai.types.fine_tuning import FineTuningJob, FineTuningJobEvent
from openai.types.fine_tuning.checkpoints import PermissionCreateResponse, PermissionDeleteResponse
from openai.types.fine_tuning.jobs import FineTuningJobCheckpoint
from openai.types.uploads import UploadPart
from pydantic import BaseModel, ValidationError

from ftkit.testing import ROUTE_NAMES, FakeFineTuningAPI

ITEM_TYPES: dict[str, type[BaseModel]] = {
    "files.create": FileObject,
    "files.retrieve": FileObject,
    "files.delete": FileDeleted,
    "uploads.create": Upload,
    "uploads.parts.create": UploadPart,
    "uploads.complete": Upload,
    "uploads.cancel": Upload,
    "jobs.create": FineTuningJob,
    "jobs.retrieve": FineTuningJob,
    "jobs.cancel": FineTuningJob,
    "jobs.pause": FineTuningJob,
    "jobs.resume": FineTuningJob,
    "models.retrieve": Model,
    "models.delete": ModelDeleted,
    "checkpoints.permissions.delete": PermissionDeleteResponse,
    "chat.completions.create": ChatCompletion,
    "chat.completions.retrieve": ChatCompletion,
    "chat.completions.update": ChatCompletion,
    "chat.completions.delete": ChatCompletionDeleted,
}
LIST_TYPES: dict[str, type[BaseModel]] = {
    "files.list": FileObject,
    "jobs.list": FineTuningJob,
    "jobs.list_events": FineTuningJobEvent,
    "jobs.checkpoints.list": FineTuningJobCheckpoint,
    "models.list": Model,
    "checkpoints.permissions.create": PermissionCreateResponse,
    "checkpoints.permissions.retrieve": PermissionCreateResponse,
    "chat.completions.list": ChatCompletion,
    "chat.completions.messages.list": ChatCompletionStoreMessage,
}
# The SDK's cursor pages read ``has_more``; files and checkpoints also carry first/last ids.
LIST_KEYS: dict[str, set[str]] = {
    "files.list": {"object", "data", "first_id", "last_id", "has_more"},
    "jobs.list": {"object", "data", "has_more"},
    "jobs.list_events": {"object", "data", "has_more"},
    "jobs.checkpoints.list": {"object", "data", "first_id", "last_id", "has_more"},
    "models.list": {"object", "data"},
    "checkpoints.permissions.create": {"object", "data", "first_id", "last_id", "has_more"},
    "checkpoints.permissions.retrieve": {"object", "data", "first_id", "last_id", "has_more"},
    "chat.completions.list": {"object", "data", "first_id", "last_id", "has_more"},
    "chat.completions.messages.list": {"object", "data", "first_id", "last_id", "has_more"},
}


def dpo_lines(n: int) -> bytes:
    rows = [
        {
            "input": {"messages": [{"role": "user", "content": f"Summarise item {i}."}]},
            "preferred_output": [{"role": "assistant", "content": "Short."}],
            "non_preferred_output": [{"role": "assistant", "content": "A long ramble."}],
        }
        for i in range(n)
    ]
    return "\n".join(json.dumps(r) for r in rows).encode()


def check_job(data: dict[str, Any]) -> None:
    """Validate a job, tolerating only the real service's two documented nulls."""
    try:
        FineTuningJob.model_validate(data)
    except ValidationError as exc:
        allowed: set[tuple[Any, ...]] = set()
        if data["status"] != "failed" and data["error"] == {
            "code": None,
            "message": None,
            "param": None,
        }:
            allowed |= {("error", "code"), ("error", "message")}
        if data["method"]["type"] != "supervised" and data["hyperparameters"] is None:
            allowed.add(("hyperparameters",))
        if data["status"] in ("pausing", "paused"):
            allowed.add(("status",))
        locs = {tuple(e["loc"]) for e in exc.errors()}
        assert locs <= allowed, f"unexpected schema errors: {exc}"


def check_store_message(data: dict[str, Any]) -> None:
    """Validate a stored input message, tolerating only its real (non-assistant) role."""
    if data["role"] != "assistant":
        assert data["role"] in ("developer", "system", "user", "tool", "function"), data
        data = {**data, "role": "assistant"}
    ChatCompletionStoreMessage.model_validate(data)


def check(route: str, body: Any) -> None:
    if route in LIST_TYPES:
        assert set(body) == LIST_KEYS[route], route
        assert body["object"] == "list"
        items = body["data"]
        kind = LIST_TYPES[route]
    else:
        items, kind = [body], ITEM_TYPES[route]
    for item in items:
        if kind is FineTuningJob:
            check_job(item)
        elif kind is ChatCompletionStoreMessage:
            check_store_message(item)
        else:
            kind.model_validate(item)


@pytest.fixture
def recorded() -> tuple[FakeFineTuningAPI, openai.OpenAI, list[tuple[str, httpx2.Response]]]:
    fake = FakeFineTuningAPI()
    seen: list[tuple[str, httpx2.Response]] = []

    def transport(request: httpx2.Request) -> httpx2.Response:
        response = fake.handle(request)
        seen.append((fake.requests[-1].route or "?", response))
        return response

    client = sdk_client(transport, api_key="sk-test-shapes")
    return fake, client, seen


def test_every_route_answers_with_the_sdk_types(recorded: Any) -> None:
    fake, client, seen = recorded
    train = client.files.create(file=("train.jsonl", sft_lines(12)), purpose="fine-tune")
    valid = client.files.create(file=("valid.jsonl", sft_lines(3)), purpose="fine-tune")
    client.files.retrieve(train.id)
    list(client.files.list(limit=1))
    doomed = client.files.create(file=("x.jsonl", sft_lines(1)), purpose="fine-tune")
    client.files.delete(doomed.id)

    upload = client.uploads.create(
        bytes=6, filename="u.jsonl", mime_type="text/jsonl", purpose="fine-tune"
    )
    part = client.uploads.parts.create(upload.id, data=b"{}\n{}\n")
    client.uploads.complete(upload.id, part_ids=[part.id])
    other = client.uploads.create(
        bytes=3, filename="v.jsonl", mime_type="text/jsonl", purpose="fine-tune"
    )
    client.uploads.cancel(other.id)

    job = client.fine_tuning.jobs.create(
        model="gpt-4o-mini-2024-07-18",
        training_file=train.id,
        validation_file=valid.id,
        suffix="shapes",
        metadata={"suite": "shapes"},
        integrations=[{"type": "wandb", "wandb": {"project": "p"}}],
    )
    client.fine_tuning.jobs.retrieve(job.id)
    fake.advance(120)
    client.fine_tuning.jobs.pause(job.id)
    fake.advance(60)
    client.fine_tuning.jobs.resume(job.id)
    fake.advance(100_000)
    done = client.fine_tuning.jobs.retrieve(job.id)
    assert done.status == "succeeded"
    list(client.fine_tuning.jobs.list(limit=1))
    list(client.fine_tuning.jobs.list_events(job.id, limit=50))
    list(client.fine_tuning.jobs.checkpoints.list(job.id, limit=2))
    csv = client.files.content(done.result_files[0]).text
    assert (
        csv.splitlines()[0] == "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"
    )

    prefs = client.files.create(file=("prefs.jsonl", dpo_lines(10)), purpose="fine-tune")
    assert done.fine_tuned_model is not None
    dpo = client.fine_tuning.jobs.create(
        model=done.fine_tuned_model,
        training_file=prefs.id,
        method={"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.1}}},
    )
    client.fine_tuning.jobs.cancel(dpo.id)
    client.models.retrieve("gpt-4.1-mini-2025-04-14")
    client.models.retrieve(done.fine_tuned_model)
    list(client.models.list())
    client.chat.completions.create(
        model=done.fine_tuned_model, messages=[{"role": "user", "content": "What is 1+1?"}]
    )
    stored = client.chat.completions.create(
        model=done.fine_tuned_model,
        messages=[{"role": "user", "content": "What is 2+2?"}],
        store=True,
        metadata={"suite": "shapes"},
    )
    list(client.chat.completions.list(metadata={"suite": "shapes"}))
    client.chat.completions.retrieve(stored.id)
    list(client.chat.completions.messages.list(stored.id))
    client.chat.completions.update(stored.id, metadata={"suite": "done"})
    client.chat.completions.delete(stored.id)
    permissions = client.fine_tuning.checkpoints.permissions
    granted = permissions.create(done.fine_tuned_model, project_ids=["proj_shapes"])
    list(permissions.list(done.fine_tuned_model))
    permissions.delete(granted.data[0].id, fine_tuned_model_checkpoint=done.fine_tuned_model)
    client.models.delete(done.fine_tuned_model)

    hit = set()
    for route, response in seen:
        assert response.status_code == 200, (route, response.text)
        if route == "files.content":
            continue
        check(route, response.json())
        hit.add(route)
    assert hit | {"files.content"} == set(FakeFineTuningAPI().route_names)
    assert set(FakeFineTuningAPI().route_names) <= set(ROUTE_NAMES)


def test_failed_job_has_a_full_error_object(recorded: Any) -> None:
    fake, client, seen = recorded
    bad = client.files.create(file=("bad.jsonl", sft_lines(3)), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(model="gpt-4.1-mini-2025-04-14", training_file=bad.id)
    fake.advance(60)
    client.fine_tuning.jobs.retrieve(job.id)
    body = seen[-1][1].json()
    assert body["status"] == "failed"
    FineTuningJob.model_validate(body)  # strict: a failed job's error is complete
    assert body["error"]["code"] == "invalid_training_file"
    assert body["error"]["param"] == "training_file"


def test_error_bodies_have_the_provider_envelope(recorded: Any) -> None:
    _fake, client, seen = recorded
    with pytest.raises(openai.NotFoundError) as caught:
        client.files.retrieve("file-missing")
    body = seen[-1][1].json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert caught.value.request_id == seen[-1][1].headers["x-request-id"]

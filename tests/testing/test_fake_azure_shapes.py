"""Every route of both Azure APIs answers with what the openai SDK's types declare.

The v1 API's answers validate against the SDK's types in full (they are OpenAI's
shapes). The dated API's carry Azure's words (job statuses, ``organisation_id``),
so each field the SDK's type declares is checked on its own, and the answer
against the dated spec's property list with no ``null`` (``azure_support``).
"""

from __future__ import annotations

from typing import Any

import httpx2
import openai
import pytest
from azure_support import (
    API_VERSION,
    BASE,
    FILE_PROPERTIES,
    JOB_PROPERTIES,
    MODEL_PROPERTIES,
    assert_dated,
    assert_no_nulls,
    assert_typed,
)
from fake_support import LINES
from openai.types import FileDeleted, FileObject, Model, Upload
from openai.types.chat import ChatCompletion, ChatCompletionDeleted, ChatCompletionStoreMessage
from openai.types.fine_tuning import FineTuningJob, FineTuningJobEvent
from openai.types.fine_tuning.jobs import FineTuningJobCheckpoint
from openai.types.uploads import UploadPart
from pydantic import BaseModel

from ftkit.testing import FakeFineTuningAPI
from ftkit.testing._azure_routes import DATED, V1

ITEM_TYPES: dict[str, type[BaseModel]] = {
    "files.create": FileObject,
    "files.import": FileObject,
    "files.retrieve": FileObject,
    "files.list": FileObject,
    "files.delete": FileDeleted,
    "uploads.create": Upload,
    "uploads.parts.create": UploadPart,
    "uploads.complete": Upload,
    "uploads.cancel": Upload,
    "jobs.create": FineTuningJob,
    "jobs.retrieve": FineTuningJob,
    "jobs.list": FineTuningJob,
    "jobs.cancel": FineTuningJob,
    "jobs.pause": FineTuningJob,
    "jobs.resume": FineTuningJob,
    "jobs.list_events": FineTuningJobEvent,
    "jobs.checkpoints.list": FineTuningJobCheckpoint,
    "models.list": Model,
    "models.retrieve": Model,
    "chat.completions.create": ChatCompletion,
    "chat.completions.retrieve": ChatCompletion,
    "chat.completions.update": ChatCompletion,
    "chat.completions.list": ChatCompletion,
    "chat.completions.delete": ChatCompletionDeleted,
    "chat.completions.messages.list": ChatCompletionStoreMessage,
}
# The dated spec's definitions the fake's own answers follow (the rest are OpenAI's).
DATED_PROPERTIES = {
    FineTuningJob: JOB_PROPERTIES,
    FileObject: FILE_PROPERTIES,
    Model: MODEL_PROPERTIES,
}
# Closed enums in the SDK whose Azure words fall outside them.
LENIENT: dict[type[BaseModel], set[str]] = {
    FineTuningJob: {"status"},
    FileObject: {"status", "purpose"},
    FineTuningJobEvent: {"level"},
    ChatCompletionStoreMessage: {"role"},
    Upload: {"file"},  # a FileObject in Azure's words, checked on its own
}

Seen = list[tuple[str, httpx2.Response]]


def recording(fake: FakeFineTuningAPI, seen: Seen) -> httpx2.Client:
    def transport(request: httpx2.Request) -> httpx2.Response:
        response = fake.handle(request)
        response.read()
        seen.append((fake.requests[-1].route or "", response))
        return response

    return httpx2.Client(transport=httpx2.MockTransport(transport))


def exercise(fake: FakeFineTuningAPI, client: openai.OpenAI, *, dated: bool) -> None:
    """Call every route of one API at least once, with a live resource."""
    train = client.files.create(file=("train.jsonl", LINES), purpose="fine-tune")
    client.files.list()
    fake.advance(10)
    client.files.retrieve(train.id)
    if dated:
        fake.serve_url("https://blob.example.invalid/t.jsonl", LINES)
        client.post(
            "/files/import",
            body={
                "purpose": "fine-tune",
                "filename": "t.jsonl",
                "content_url": "https://blob.example.invalid/t.jsonl",
            },
            cast_to=FileObject,
        )
        upload = client.uploads.create(
            bytes=len(LINES), filename="u.jsonl", mime_type="text/jsonl", purpose="fine-tune"
        )
        part = client.uploads.parts.create(upload.id, data=LINES)
        client.uploads.complete(upload.id, part_ids=[part.id])
        other = client.uploads.create(
            bytes=1, filename="v.jsonl", mime_type="text/jsonl", purpose="fine-tune"
        )
        client.uploads.cancel(other.id)
    job = client.fine_tuning.jobs.create(model=BASE, training_file=train.id, suffix="shapes")
    fake.advance(95)
    client.fine_tuning.jobs.pause(job.id)
    client.fine_tuning.jobs.resume(job.id)
    fake.advance(10_000)
    done = client.fine_tuning.jobs.retrieve(job.id)
    list(client.fine_tuning.jobs.list())
    list(client.fine_tuning.jobs.list_events(job.id, limit=5).data)
    list(client.fine_tuning.jobs.checkpoints.list(job.id))
    second = client.fine_tuning.jobs.create(model=BASE, training_file=train.id)
    client.fine_tuning.jobs.cancel(second.id)
    if dated:
        client.delete(f"/fine_tuning/jobs/{second.id}", cast_to=type(None))
    client.models.list()
    assert done.fine_tuned_model is not None
    client.models.retrieve(done.fine_tuned_model)
    client.models.retrieve(BASE)
    stored = client.chat.completions.create(
        model=done.fine_tuned_model, messages=[{"role": "user", "content": "q1"}], store=True
    )
    list(client.chat.completions.list())
    client.chat.completions.retrieve(stored.id)
    list(client.chat.completions.messages.list(stored.id))
    client.chat.completions.update(stored.id, metadata={"k": "v"})
    client.chat.completions.delete(stored.id)
    client.files.content(done.result_files[0])
    client.files.delete(train.id)


def v1_valid(sdk_type: type[BaseModel], item: dict[str, Any]) -> None:
    """The SDK's type in full, but for the words its closed enums lack (as for OpenAI)."""
    if sdk_type is FineTuningJob and item.get("status") in ("pausing", "paused"):
        item = {**item, "status": "running"}  # pause words the SDK's enum does not list
    if sdk_type is ChatCompletionStoreMessage and item.get("role") != "assistant":
        assert item["role"] in ("developer", "system", "user", "tool"), item
        item = {**item, "role": "assistant"}  # a stored input keeps its own role
    sdk_type.model_validate(item)


def items(body: dict[str, Any]) -> list[Any]:
    return body["data"] if body.get("object") == "list" else [body]


@pytest.mark.parametrize("api", ["dated", "v1"])
def test_every_route_answers_with_the_sdk_types(api: str) -> None:
    fake = FakeFineTuningAPI(provider="azure")
    seen: Seen = []
    http = recording(fake, seen)
    endpoint = "https://res.openai.azure.invalid"
    client = (
        openai.AzureOpenAI(
            azure_endpoint=endpoint, api_version=API_VERSION, api_key="k", http_client=http
        )
        if api == "dated"
        else openai.OpenAI(base_url=f"{endpoint}/openai/v1/", api_key="k", http_client=http)
    )
    exercise(fake, client, dated=api == "dated")
    hit = set()
    for route, response in seen:
        assert 200 <= response.status_code < 300, (route, response.text)
        hit.add(route)
        if route in ("files.content", "jobs.delete"):
            continue
        sdk_type = ITEM_TYPES[route]
        for item in items(response.json()):
            if api == "v1" and sdk_type is not FileObject:  # a file's status is Azure's
                v1_valid(sdk_type, item)
                continue
            assert_typed(item, sdk_type, lenient=LENIENT.get(sdk_type, set()))
            if sdk_type in DATED_PROPERTIES:
                assert_dated(item, DATED_PROPERTIES[sdk_type])
            elif sdk_type in (FineTuningJobEvent, FineTuningJobCheckpoint, Upload, UploadPart):
                assert_no_nulls(item)
            if sdk_type is Upload and "file" in item:
                assert_typed(item["file"], FileObject, lenient=LENIENT[FileObject])
                assert_dated(item["file"], FILE_PROPERTIES)
    assert hit == set((DATED if api == "dated" else V1).names)

"""The fake answers what OpenAI's OpenAPI spec allows, and refuses what it would not ignore.

Each test names the spec schema or path it holds the fake to. Raw bodies are read
where the openai client would hide the difference (a ``null`` where the spec types
a string, a key the spec leaves out).
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import openai
import pytest
from fake_support import LINES

from ftkit.testing import FakeFineTuningAPI

BASE = "https://api.example.invalid/v1"
THIRTY_DAYS = 2_592_000


def raw(fake: FakeFineTuningAPI, method: str, path: str, **kwargs: Any) -> httpx2.Response:
    """One request straight to the fake's router, bypassing the openai client."""
    headers = {"authorization": "Bearer sk-test-spec"}
    request = httpx2.Request(method, BASE + path, headers=headers, **kwargs)
    request.read()
    return fake.handle(request)


def refusal(response: httpx2.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


def upload_file(
    fake: FakeFineTuningAPI, purpose: str, *, data: dict[str, str] | None = None
) -> httpx2.Response:
    return raw(
        fake,
        "POST",
        "/files",
        files={"file": ("f.jsonl", LINES)},
        data={"purpose": purpose, **(data or {})},
    )


# ------------------------------------------------------------- OpenAIFile
def test_a_file_that_never_expires_leaves_out_expires_at_and_status_details(
    fake: FakeFineTuningAPI,
) -> None:
    # OpenAIFile: expires_at is an integer, status_details a string; neither is nullable.
    body = upload_file(fake, "fine-tune").json()
    assert "expires_at" not in body and "status_details" not in body
    assert all(value is not None for value in body.values())


def test_batch_files_expire_after_30_days_by_default(
    fake: FakeFineTuningAPI, client: openai.OpenAI
) -> None:
    # FileExpirationAfter: "files with purpose=batch expire after 30 days".
    batch = client.files.create(file=("b.jsonl", LINES), purpose="batch")
    assert batch.expires_at == batch.created_at + THIRTY_DAYS
    kept = client.files.create(
        file=("k.jsonl", LINES),
        purpose="batch",
        expires_after={"anchor": "created_at", "seconds": 7200},
    )
    assert kept.expires_at == kept.created_at + 7200
    fake.advance(THIRTY_DAYS)
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(batch.id)


def test_an_empty_files_page_has_string_cursors(fake: FakeFineTuningAPI) -> None:
    # ListFilesResponse requires first_id and last_id, typed string (not nullable).
    body = raw(fake, "GET", "/files").json()
    assert body["data"] == [] and isinstance(body["first_id"], str)
    assert isinstance(body["last_id"], str)


# ---------------------------------------------------------- expires_after
def test_a_json_encoded_expires_after_field_is_honoured(fake: FakeFineTuningAPI) -> None:
    # CreateFileRequest.expires_after is an object: OpenAPI's multipart default is JSON.
    policy = json.dumps({"anchor": "created_at", "seconds": 3600})
    body = upload_file(fake, "fine-tune", data={"expires_after": policy}).json()
    assert body["expires_at"] == body["created_at"] + 3600


@pytest.mark.parametrize(
    ("value", "param"),
    [
        ("not json", "expires_after"),
        ("[3600]", "expires_after"),
        ('{"anchor": "created_at", "seconds": 60}', "expires_after.seconds"),
        ('{"anchor": "last_used", "seconds": 3600}', "expires_after.anchor"),
    ],
)
def test_a_bad_json_expires_after_field_is_refused(
    fake: FakeFineTuningAPI, value: str, param: str
) -> None:
    error = refusal(upload_file(fake, "fine-tune", data={"expires_after": value}))
    assert error["param"] == param
    assert len(fake.files) == 0


def test_uploads_honour_expires_after_on_the_completed_file(client: openai.OpenAI) -> None:
    # CreateUploadRequest.expires_after: the File the upload becomes carries it.
    upload = client.uploads.create(
        bytes=len(LINES),
        filename="u.jsonl",
        mime_type="text/jsonl",
        purpose="fine-tune",
        expires_after={"anchor": "created_at", "seconds": 3600},
    )
    part = client.uploads.parts.create(upload.id, data=LINES)
    done = client.uploads.complete(upload.id, part_ids=[part.id])
    assert done.file is not None
    assert done.file.expires_at == done.file.created_at + 3600


# ------------------------------------------------------------ uploads.create
@pytest.mark.parametrize(
    ("purpose", "mime_type", "filename", "param"),
    [
        ("user_data", "text/plain", "a.txt", "purpose"),  # CreateUploadRequest.purpose enum
        ("evals", "text/jsonl", "a.jsonl", "purpose"),
        ("vision", "text/jsonl", "a.jsonl", "mime_type"),  # vision takes images
        ("batch", "text/csv", "a.csv", "mime_type"),  # batch input is JSONL
        ("assistants", "not a mime type", "a.pdf", "mime_type"),
    ],
)
def test_uploads_refuse_purposes_and_mime_types_the_api_rejects(
    client: openai.OpenAI, purpose: str, mime_type: str, filename: str, param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.uploads.create(
            bytes=10,
            filename=filename,
            mime_type=mime_type,
            purpose=purpose,  # type: ignore[arg-type]
        )
    assert caught.value.param == param


def test_uploads_accept_the_mime_types_each_purpose_takes(client: openai.OpenAI) -> None:
    for purpose, mime_type, filename in (
        ("vision", "image/png", "a.png"),
        ("batch", "application/jsonl", "a.jsonl"),
        ("assistants", "application/pdf", "a.pdf"),
    ):
        upload = client.uploads.create(
            bytes=10,
            filename=filename,
            mime_type=mime_type,
            purpose=purpose,  # type: ignore[arg-type]
        )
        assert upload.status == "pending"


# -------------------------------------------------------------- fine-tuning
def _job(client: openai.OpenAI) -> str:
    training = client.files.create(file=("t.jsonl", LINES), purpose="fine-tune").id
    return client.fine_tuning.jobs.create(model="gpt-4o-mini-2024-07-18", training_file=training).id


def test_an_events_cursor_that_is_not_an_event_of_the_job_is_refused(
    client: openai.OpenAI,
) -> None:
    # listFineTuningEvents: ``after`` is the "last event from the previous pagination request".
    first, second = _job(client), _job(client)
    theirs = client.fine_tuning.jobs.list_events(second, limit=1).data[0].id
    for cursor in ("ftevent-nosuchevent", theirs):
        with pytest.raises(openai.BadRequestError) as caught:
            client.fine_tuning.jobs.list_events(first, after=cursor)
        assert caught.value.param == "after"
    mine = client.fine_tuning.jobs.list_events(first, limit=1).data[0].id
    assert client.fine_tuning.jobs.list_events(first, after=mine).data  # a real cursor pages on


@pytest.mark.parametrize("query", ["metadata[run][id]=r1", "metadata=r1", "metadata[]=r1"])
def test_a_metadata_filter_the_spec_does_not_define_is_refused(
    fake: FakeFineTuningAPI, query: str
) -> None:
    # listPaginatedFineTuningJobs: metadata is ``metadata[k]=v`` (string values) or ``null``.
    error = refusal(raw(fake, "GET", f"/fine_tuning/jobs?{query}"))
    assert error["param"] == "metadata"

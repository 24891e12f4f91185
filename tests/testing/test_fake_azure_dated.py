"""An Azure fake's dated API (``openai.AzureOpenAI``, ``/openai/...?api-version=``).

Driven by the real ``openai.AzureOpenAI`` / ``AsyncAzureOpenAI`` clients; raw
answers are checked against the dated spec's definitions (``azure_support``).
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime, timezone
from typing import Any

import httpx2
import openai
import pytest
from azure_support import (
    API_VERSION,
    BASE,
    FILE_PROPERTIES,
    FILE_STATES,
    HEX32,
    JOB_PROPERTIES,
    JOB_STATES,
    MODEL_PROPERTIES,
    assert_dated,
    assert_typed,
    call,
    dated_url,
    processed_file,
)
from fake_support import LINES
from openai.types import FileObject, Model
from openai.types.fine_tuning import FineTuningJob, FineTuningJobEvent

import ftkit
from ftkit.providers import ModelInfo
from ftkit.testing import FakeFineTuningAPI, Limits

DPO_LINES = "\n".join(
    json.dumps(
        {
            "input": {"messages": [{"role": "user", "content": f"q{i}"}]},
            "preferred_output": [{"role": "assistant", "content": "good"}],
            "non_preferred_output": [{"role": "assistant", "content": "bad"}],
        }
    )
    for i in range(10)
).encode()


@pytest.fixture
def fake() -> FakeFineTuningAPI:
    return FakeFineTuningAPI(provider="azure")


@pytest.fixture
def client(fake: FakeFineTuningAPI) -> openai.AzureOpenAI:
    return fake.azure_client(max_retries=0)


def raw_job(fake: FakeFineTuningAPI, job_id: str) -> dict[str, Any]:
    response = call(fake, "GET", dated_url(f"/fine_tuning/jobs/{job_id}"))
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    assert_dated(body, JOB_PROPERTIES)
    assert_typed(body, FineTuningJob, lenient={"status"})
    assert body["status"] in JOB_STATES
    return body


# ------------------------------------------------------------------ clients
def test_the_default_clients_are_azures_dated_ones(fake: FakeFineTuningAPI) -> None:
    blocking, asynchronous = fake.client(), fake.async_client()
    assert isinstance(blocking, openai.AzureOpenAI)
    assert isinstance(asynchronous, openai.AsyncAzureOpenAI)
    assert isinstance(fake.azure_client(), openai.AzureOpenAI)
    assert isinstance(fake.async_azure_client(), openai.AsyncAzureOpenAI)
    assert blocking._api_version == API_VERSION  # the spec the fake follows
    assert fake.provider == "azure" and fake.apis == ("dated", "v1")
    blocking.files.list()
    recorded = fake.requests[-1]
    assert recorded.api == "dated" and recorded.azure
    assert recorded.path == "/openai/files" and recorded.query["api-version"] == API_VERSION
    assert "api-key" not in recorded.headers  # the key went in Azure's header, unrecorded


def test_any_dated_api_version_is_served(fake: FakeFineTuningAPI) -> None:
    older = fake.azure_client(api_version="2024-10-21", max_retries=0)
    assert older.files.list().data == []
    assert fake.requests[-1].query["api-version"] == "2024-10-21"


# -------------------------------------------------------------------- files
def test_files_are_pending_then_processed(
    fake: FakeFineTuningAPI, client: openai.AzureOpenAI
) -> None:
    created = client.files.create(file=("train.jsonl", LINES), purpose="fine-tune")
    assert re.fullmatch(f"file-{HEX32}", created.id)
    assert created.status == "pending"
    assert fake.calls("files.create")[-1].status == 201  # the dated API's create answers 201
    fake.advance(10)
    assert client.files.retrieve(created.id).status == "processed"
    assert client.files.wait_for_processing(created.id).status == "processed"
    listing = call(fake, "GET", dated_url("/files")).json()
    assert set(listing) == {"object", "data"}  # ``FileList``: no cursors, no has_more
    for item in listing["data"]:
        assert_dated(item, FILE_PROPERTIES)
        assert_typed(item, FileObject, lenient={"status", "purpose"})
        assert item["status"] in FILE_STATES


def test_file_expiry_takes_the_dated_range(client: openai.AzureOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.files.create(
            file=("t.jsonl", LINES),
            purpose="fine-tune",
            expires_after={"anchor": "created_at", "seconds": 3600},  # OpenAI's minimum
        )
    assert caught.value.code == "invalidPayload"
    assert caught.value.param == "expires_after.seconds"
    kept = client.files.create(
        file=("t.jsonl", LINES),
        purpose="fine-tune",
        expires_after={"anchor": "created_at", "seconds": 14 * 86400},
    )
    assert kept.expires_at == kept.created_at + 14 * 86400


def test_an_import_from_a_served_url_becomes_a_file(
    fake: FakeFineTuningAPI, client: openai.AzureOpenAI
) -> None:
    url = "https://blob.example.invalid/train.jsonl?sv=2024&sig=x"
    fake.serve_url(url, LINES)
    response = call(
        fake,
        "POST",
        dated_url("/files/import"),
        {"purpose": "fine-tune", "filename": "train.jsonl", "content_url": url},
    )
    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"].endswith(f"/openai/files/{body['id']}")
    assert body["status"] == "pending"
    assert_dated(body, FILE_PROPERTIES)
    fake.advance(10)
    assert client.files.retrieve(body["id"]).status == "processed"
    assert fake.file_content(body["id"]) == LINES
    job = client.fine_tuning.jobs.create(model=BASE, training_file=body["id"])
    assert job.status == "pending"


def test_an_import_the_fake_cannot_download_ends_in_error(
    fake: FakeFineTuningAPI, client: openai.AzureOpenAI
) -> None:
    imported = client.post(
        "/files/import",
        body={
            "purpose": "fine-tune",
            "filename": "train.jsonl",
            "content_url": "https://blob.example.invalid/nowhere.jsonl",
        },
        cast_to=FileObject,
    )
    assert imported.status == "pending"
    done = client.files.wait_for_processing(imported.id)  # sleeps on the virtual clock
    assert done.status == "error"
    assert done.status_details and "Import of file failed" in done.status_details
    with pytest.raises(openai.BadRequestError, match="could not be processed") as refused:
        client.fine_tuning.jobs.create(model=BASE, training_file=imported.id)
    assert refused.value.param == "training_file"
    with pytest.raises(openai.BadRequestError) as caught:
        client.post(
            "/files/import",
            body={"purpose": "fine-tune", "filename": "t.jsonl", "content_url": "ftp://x/t"},
            cast_to=FileObject,
        )
    assert caught.value.param == "content_url"


# ------------------------------------------------------------------ uploads
def test_uploads_take_nine_gigabytes_for_two_hours(
    fake: FakeFineTuningAPI, client: openai.AzureOpenAI
) -> None:
    gib = 1024**3
    started = client.uploads.create(
        bytes=9 * gib, filename="big.jsonl", mime_type="application/json", purpose="fine-tune"
    )
    assert started.expires_at == started.created_at + 7200
    with pytest.raises(openai.BadRequestError) as caught:
        client.uploads.create(
            bytes=9 * gib + 1, filename="big.jsonl", mime_type="text/jsonl", purpose="fine-tune"
        )
    assert caught.value.param == "bytes"
    fake.advance(7200)
    assert fake.uploads[0]["status"] == "expired"


def test_a_chunked_upload_through_the_dated_api(
    fake: FakeFineTuningAPI, client: openai.AzureOpenAI
) -> None:
    upload = client.uploads.upload_file_chunked(
        file=LINES,
        filename="train.jsonl",
        bytes=len(LINES),
        mime_type="text/jsonl",
        purpose="fine-tune",
        part_size=256,
    )
    assert upload.status == "completed" and upload.file is not None
    assert upload.file.status == "pending"
    assert len(fake.calls("uploads.parts.create")) == 4
    fake.advance(10)
    assert fake.file_content(upload.file.id) == LINES
    started = client.uploads.create(
        bytes=1, filename="a.jsonl", mime_type="application/json", purpose="fine-tune"
    )
    part = client.uploads.parts.create(started.id, data=b"x")
    # ``UploadPartResource`` names the storage block the part became.
    assert part.model_extra is not None and part.model_extra["azure_block_id"]
    assert fake.uploads[-1]["status"] == "pending" and "file" not in fake.uploads[-1]


# --------------------------------------------------------------------- jobs
def test_a_job_in_the_dated_apis_words(fake: FakeFineTuningAPI, client: openai.AzureOpenAI) -> None:
    train = processed_file(fake, client)
    response = call(
        fake,
        "POST",
        dated_url("/fine_tuning/jobs"),
        {"model": BASE, "training_file": train, "suffix": "demo_v1", "seed": 7},
    )
    assert response.status_code == 201
    created = response.json()
    assert response.headers["location"].endswith(f"/openai/fine_tuning/jobs/{created['id']}")
    assert re.fullmatch(f"ftjob-{HEX32}", created["id"])
    assert created["status"] == "pending"
    assert created["suffix"] == "demo_v1"
    assert created["organisation_id"] == "org-fake"
    assert created["method"] == {"type": "supervised"}
    assert created["hyperparameters"] == {
        "n_epochs": -1,  # not chosen yet: the spec's examples say -1
        "batch_size": -1,
        "learning_rate_multiplier": -1,
    }
    for absent in ("metadata", "user_provided_suffix", "organization_id", "error"):
        assert absent not in created
    assert "fine_tuned_model" not in created and "result_files" not in created
    assert_dated(created, JOB_PROPERTIES)

    typed = client.fine_tuning.jobs.retrieve(created["id"])
    assert typed.status == "pending" and typed.error is None and typed.result_files is None
    assert typed.model_extra == {"organisation_id": "org-fake", "suffix": "demo_v1"}

    fake.advance(31)  # files validated: queued, still "pending" in Azure's words
    assert raw_job(fake, created["id"])["status"] == "pending"
    assert raw_job(fake, created["id"])["hyperparameters"]["n_epochs"] >= 1
    fake.advance(60)
    running = raw_job(fake, created["id"])
    assert running["status"] == "running" and running["estimated_finish"] > 0
    fake.advance(10_000)
    done = raw_job(fake, created["id"])
    assert done["status"] == "succeeded"
    assert done["fine_tuned_model"] == f"{BASE}.ft-{created['id'][len('ftjob-') :]}-demo_v1"
    assert done["result_files"] and done["trained_tokens"] > 0 and done["finished_at"] > 0
    assert done["fine_tuned_model"] in fake.fine_tuned_models
    assert fake.jobs == [done]  # what the fake shows is the dated API's shape


def test_pause_resume_and_cancel(fake: FakeFineTuningAPI, client: openai.AzureOpenAI) -> None:
    job = client.fine_tuning.jobs.create(model=BASE, training_file=processed_file(fake, client))
    fake.advance(95)
    assert client.fine_tuning.jobs.retrieve(job.id).status == "running"
    assert client.fine_tuning.jobs.pause(job.id).status == "paused"
    fake.advance(1000)
    assert client.fine_tuning.jobs.retrieve(job.id).status == "paused"
    assert client.fine_tuning.jobs.resume(job.id).status == "resuming"
    fake.advance(60)
    assert client.fine_tuning.jobs.retrieve(job.id).status == "running"
    assert client.fine_tuning.jobs.cancel(job.id).status == "cancelled"
    with pytest.raises(openai.BadRequestError) as caught:
        client.fine_tuning.jobs.cancel(job.id)
    assert caught.value.code == "invalidPayload"


def test_a_scripted_job_reads_in_azures_words(
    fake: FakeFineTuningAPI, client: openai.AzureOpenAI
) -> None:
    fake.script_next_job(["validating_files", "queued", "pausing", "paused", "succeeded"])
    job = client.fine_tuning.jobs.create(model=BASE, training_file=processed_file(fake, client))
    seen = [client.fine_tuning.jobs.retrieve(job.id).status for _ in range(5)]
    assert seen == ["pending", "pending", "pausing", "paused", "succeeded"]


def test_metadata_is_refused_by_the_dated_api(
    fake: FakeFineTuningAPI, client: openai.AzureOpenAI
) -> None:
    train = processed_file(fake, client)
    with pytest.raises(openai.BadRequestError) as caught:
        client.fine_tuning.jobs.create(model=BASE, training_file=train, metadata={"run": "r1"})
    assert caught.value.code == "invalidPayload" and caught.value.param == "metadata"
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["target"] == "metadata"  # Microsoft's REST error shape
    assert fake.jobs == []


@pytest.mark.parametrize(
    ("suffix", "ok"),
    [("a" * 40, True), ("a" * 41, False), ("run.1", False), ("ftk-abc_DEF9", True), ("é", False)],
)
def test_the_dated_suffix_rule(
    fake: FakeFineTuningAPI, client: openai.AzureOpenAI, suffix: str, ok: bool
) -> None:
    train = processed_file(fake, client)
    if ok:
        assert client.fine_tuning.jobs.create(model=BASE, training_file=train, suffix=suffix)
        return
    with pytest.raises(openai.BadRequestError) as caught:
        client.fine_tuning.jobs.create(model=BASE, training_file=train, suffix=suffix)
    assert caught.value.param == "suffix" and "40 characters" in caught.value.message


def test_supervised_hyperparameters_sit_beside_the_method(
    fake: FakeFineTuningAPI, client: openai.AzureOpenAI
) -> None:
    job = client.fine_tuning.jobs.create(
        model=BASE,
        training_file=processed_file(fake, client),
        method={"type": "supervised"},
        hyperparameters={"n_epochs": 2, "learning_rate_multiplier": 0.5},
    )
    assert job.hyperparameters.n_epochs == 2
    assert job.hyperparameters.learning_rate_multiplier == 0.5
    assert job.method is not None and job.method.type == "supervised"
    # OpenAI's nested form is not the dated API's: refused, so a client sending it shows.
    with pytest.raises(openai.BadRequestError, match=r"method\.supervised"):
        client.fine_tuning.jobs.create(
            model=BASE,
            training_file=processed_file(fake, client),
            method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3}}},
        )


def test_dpo_takes_beta_and_l2_multiplier(
    fake: FakeFineTuningAPI, client: openai.AzureOpenAI
) -> None:
    train = processed_file(fake, client, DPO_LINES)
    hyper = {"beta": 0.2, "l2_multiplier": 0.1, "n_epochs": 1}
    job = client.fine_tuning.jobs.create(
        model=BASE, training_file=train, method={"type": "dpo", "dpo": {"hyperparameters": hyper}}
    )
    body = raw_job(fake, job.id)
    assert body["method"]["type"] == "dpo"
    shown = body["method"]["dpo"]["hyperparameters"]
    assert shown["beta"] == 0.2 and shown["l2_multiplier"] == 0.1 and shown["n_epochs"] == 1
    fake.advance(10_000)
    assert client.fine_tuning.jobs.retrieve(job.id).status == "succeeded"
    with pytest.raises(openai.BadRequestError) as caught:
        client.fine_tuning.jobs.create(
            model=BASE,
            training_file=train,
            method={"type": "dpo", "dpo": {"hyperparameters": {"l2_multiplier": -1}}},
        )
    assert caught.value.param == "method.dpo.hyperparameters.l2_multiplier"


def test_reinforcement_is_not_a_dated_method(
    fake: FakeFineTuningAPI, client: openai.AzureOpenAI
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.fine_tuning.jobs.create(
            model="o4-mini-2025-04-16",
            training_file=processed_file(fake, client),
            method={"type": "reinforcement", "reinforcement": {"grader": {"type": "multi"}}},
        )
    assert caught.value.param == "method.type"


def test_the_job_list_takes_after_and_limit_and_ignores_a_metadata_filter(
    fake: FakeFineTuningAPI, client: openai.AzureOpenAI
) -> None:
    train = processed_file(fake, client)
    ids = [client.fine_tuning.jobs.create(model=BASE, training_file=train).id for _ in range(3)]
    page = client.fine_tuning.jobs.list(limit=2, extra_query={"metadata[run]": "r1"})
    assert [j.id for j in page.data] == ids[::-1][:2] and page.has_more
    assert [j.id for j in client.fine_tuning.jobs.list(limit=2, after=ids[1]).data] == [ids[0]]
    body = call(fake, "GET", dated_url("/fine_tuning/jobs") + "&metadata[run]=r1").json()
    assert set(body) == {"object", "data", "has_more"} and len(body["data"]) == 3


def test_events_say_warning_and_checkpoints_are_azures(
    fake: FakeFineTuningAPI, client: openai.AzureOpenAI
) -> None:
    long_line = (
        b'{"messages": [{"role": "user", "content": "'
        + b"word " * 70_000
        + b'"}, {"role": "assistant", "content": "a"}]}\n'
    )
    job = client.fine_tuning.jobs.create(
        model=BASE, training_file=processed_file(fake, client, LINES + b"\n" + long_line)
    )
    fake.advance(100_000)
    body = call(fake, "GET", dated_url(f"/fine_tuning/jobs/{job.id}/events")).json()
    assert set(body) == {"object", "data", "has_more"}  # no first_id / last_id
    for event in body["data"]:
        assert re.fullmatch(f"ftevent-{HEX32}", event["id"])
        assert_typed(event, FineTuningJobEvent, lenient={"level"})
    levels = {e.level for e in client.fine_tuning.jobs.list_events(job.id, limit=100)}
    assert "warning" in levels and "warn" not in levels  # the truncation warning
    checkpoints = call(fake, "GET", dated_url(f"/fine_tuning/jobs/{job.id}/checkpoints")).json()
    assert set(checkpoints) == {"object", "data", "has_more"}
    assert checkpoints["data"]
    for checkpoint in checkpoints["data"]:
        assert re.fullmatch(f"ftchkpt-{HEX32}", checkpoint["id"])
        assert re.fullmatch(
            rf"{re.escape(BASE)}\.ft-{HEX32}:ckpt-step-\d+",
            checkpoint["fine_tuned_model_checkpoint"],
        )


def test_a_finished_job_can_be_deleted(fake: FakeFineTuningAPI, client: openai.AzureOpenAI) -> None:
    job = client.fine_tuning.jobs.create(model=BASE, training_file=processed_file(fake, client))
    with pytest.raises(openai.BadRequestError):
        client.delete(f"/fine_tuning/jobs/{job.id}", cast_to=type(None))
    fake.advance(10_000)
    assert client.delete(f"/fine_tuning/jobs/{job.id}", cast_to=type(None)) is None
    assert fake.calls("jobs.delete")[-1].status == 204
    with pytest.raises(openai.NotFoundError) as caught:
        client.fine_tuning.jobs.retrieve(job.id)
    assert caught.value.code == "notFound"


# ------------------------------------------------------------------- models
def test_models_carry_capabilities_lifecycle_and_deprecation() -> None:
    dated = ModelInfo(
        name="gpt-test-2026-01-01",
        provider="azure",
        tokenizer="o200k_base",
        methods=frozenset({"sft"}),
        shutdown="2027-10-01",
        created=1767225600,
    )
    oss = ftkit.model_info("gpt-oss-20b", provider="azure")
    fake = FakeFineTuningAPI(provider="azure", models=[dated, oss])
    client = fake.azure_client(max_retries=0)
    listing = call(fake, "GET", dated_url("/models")).json()
    assert set(listing) == {"object", "data"}
    by_id = {m["id"]: m for m in listing["data"]}
    base = by_id[dated.name]
    assert_dated(base, MODEL_PROPERTIES)
    assert base["capabilities"] == {
        "fine_tune": True,
        "inference": True,
        "completion": False,
        "chat_completion": True,
        "embeddings": False,
    }
    assert base["lifecycle_status"] == "generally-available"
    shutdown = int(datetime(2027, 10, 1, tzinfo=timezone.utc).timestamp())
    assert base["deprecation"] == {"fine_tune": shutdown, "inference": shutdown}
    assert base["created_at"] == 1767225600
    # Microsoft's notes: the catalog says fine_tune=false for the open-source models.
    assert by_id["gpt-oss-20b"]["capabilities"]["fine_tune"] is False
    typed = client.models.retrieve(dated.name)
    assert typed.id == dated.name and typed.model_extra is not None
    assert typed.model_extra["lifecycle_status"] == "generally-available"

    job = client.fine_tuning.jobs.create(
        model=dated.name, training_file=processed_file(fake, client)
    )
    fake.advance(10_000)
    tuned = client.fine_tuning.jobs.retrieve(job.id).fine_tuned_model
    assert tuned is not None
    shown = call(fake, "GET", dated_url(f"/models/{tuned}")).json()
    assert_dated(shown, MODEL_PROPERTIES)
    assert shown["model"] == dated.name and shown["fine_tune"] == job.id
    assert shown["capabilities"]["fine_tune"] is False  # as the spec's example shows
    assert shown["deprecation"] == {"inference": shutdown}
    assert_typed(shown, Model, lenient=set())


# ------------------------------------------------------------------- errors
def test_errors_carry_azures_envelope(fake: FakeFineTuningAPI) -> None:
    missing = call(fake, "GET", dated_url("/fine_tuning/jobs/ftjob-missing"))
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "notFound"
    unknown = call(fake, "GET", dated_url("/fine_tuning/alpha/graders"))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "404"
    permissions = call(fake, "GET", dated_url("/fine_tuning/checkpoints/x/permissions"))
    assert permissions.status_code == 404  # OpenAI's checkpoint permissions are not Azure's
    no_version = fake.handle(
        httpx2.Request(
            "GET", "https://res.openai.azure.invalid/openai/files", headers={"api-key": "k"}
        )
    )
    assert no_version.status_code == 400
    openai_path = call(fake, "GET", "https://res.openai.azure.invalid/v1/files")
    assert openai_path.status_code == 404
    assert "provider='openai'" in openai_path.json()["error"]["message"]
    for response in (missing, unknown, no_version, openai_path):
        assert set(response.json()) == {"error"}
        assert {"code", "message"} <= set(response.json()["error"])
        assert "apim-request-id" in response.headers


def test_keys_go_in_the_api_key_header(fake: FakeFineTuningAPI) -> None:
    files = dated_url("/files")
    missing = fake.handle(httpx2.Request("GET", files))
    assert missing.status_code == 401
    assert missing.json()["error"] == {
        "code": "401",
        "message": "Access denied due to missing subscription key. Make sure to include "
        "subscription key when making requests to an API.",
    }
    keyed = FakeFineTuningAPI(provider="azure", api_keys=["azure-key-right"])
    client = keyed.azure_client(max_retries=0)
    assert client.files.list().data == []
    with pytest.raises(openai.AuthenticationError) as caught:
        keyed.azure_client(api_key="azure-key-wrong", max_retries=0).files.list()
    assert caught.value.code == "401" and "azure-key-wrong" not in caught.value.response.text


def test_limits_replace_azures(fake: FakeFineTuningAPI) -> None:
    small = FakeFineTuningAPI(provider="azure", limits=Limits(upload_bytes=100))
    with pytest.raises(openai.BadRequestError):
        small.azure_client(max_retries=0).uploads.create(
            bytes=101, filename="a.jsonl", mime_type="text/jsonl", purpose="fine-tune"
        )


# -------------------------------------------------------------------- async
def test_the_async_dated_client_runs_a_job(fake: FakeFineTuningAPI) -> None:
    async def scenario() -> tuple[str, str | None]:
        client = fake.async_client(max_retries=0)
        assert isinstance(client, openai.AsyncAzureOpenAI)
        train = await client.files.create(file=("train.jsonl", LINES), purpose="fine-tune")
        assert train.status == "pending"
        train = await client.files.wait_for_processing(train.id)
        job = await client.fine_tuning.jobs.create(
            model=BASE,
            training_file=train.id,
            suffix="async",
            extra_body={"trainingType": "developerTier"},
        )
        first = job.status
        while job.status not in ("succeeded", "failed", "cancelled"):
            fake.clock.sleep(60)
            job = await client.fine_tuning.jobs.retrieve(job.id)
        events = [e async for e in client.fine_tuning.jobs.list_events(job.id, limit=50)]
        assert events and events[0].message == "The job has successfully completed"
        await client.close()
        return first, job.fine_tuned_model

    first, tuned = asyncio.run(scenario())
    assert first == "pending"
    assert tuned is not None and tuned.endswith("-async") and ".ft-" in tuned
    assert fake.training_type(fake.jobs[0]["id"]) == "developer"

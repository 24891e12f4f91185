"""An Azure fake's v1 API (``openai.OpenAI(base_url="<endpoint>/openai/v1/")``).

OpenAI's shapes over the same resource as the dated API, with Azure's ids,
model names and file statuses; no Uploads API, no file import, no job deletion.
"""

from __future__ import annotations

import asyncio
import re

import httpx2
import openai
import pytest
from azure_support import BASE, HEX32, call, dated_url, processed_file, v1_url
from fake_support import LINES
from openai.types import FileObject, Model
from openai.types.fine_tuning import FineTuningJob, FineTuningJobEvent
from openai.types.fine_tuning.jobs import FineTuningJobCheckpoint

from ftkit.testing import FakeFineTuningAPI


@pytest.fixture
def fake() -> FakeFineTuningAPI:
    return FakeFineTuningAPI(provider="azure")


@pytest.fixture
def client(fake: FakeFineTuningAPI) -> openai.OpenAI:
    return fake.client(api="v1", max_retries=0)


def test_the_v1_client_is_a_plain_openai_client(
    fake: FakeFineTuningAPI, client: openai.OpenAI
) -> None:
    assert type(client).__mro__[1] is openai.OpenAI
    assert not isinstance(client, openai.AzureOpenAI)
    assert str(client.base_url).endswith("/openai/v1/")
    assert isinstance(fake.async_client(api="v1"), openai.AsyncOpenAI)
    assert not isinstance(fake.async_client(api="v1"), openai.AsyncAzureOpenAI)
    client.files.list()
    recorded = fake.requests[-1]
    assert recorded.api == "v1" and recorded.azure and recorded.path == "/openai/v1/files"
    assert "api-version" not in recorded.query


def test_a_job_in_openais_shapes_with_azures_names(
    fake: FakeFineTuningAPI, client: openai.OpenAI
) -> None:
    train = client.files.create(file=("train.jsonl", LINES), purpose="fine-tune")
    assert train.status == "pending" and re.fullmatch(f"file-{HEX32}", train.id)
    assert fake.calls("files.create")[-1].status == 200
    fake.advance(10)
    job = client.fine_tuning.jobs.create(
        model=BASE, training_file=train.id, suffix="v1run", metadata={"run": "r1"}
    )
    assert fake.calls("jobs.create")[-1].status == 200  # not the dated API's 201
    assert job.status == "validating_files"
    assert job.metadata == {"run": "r1"}
    assert job.organization_id == "org-fake"
    assert job.model_extra == {"user_provided_suffix": "v1run"}
    assert re.fullmatch(f"ftjob-{HEX32}", job.id)
    body = call(fake, "GET", v1_url(f"/fine_tuning/jobs/{job.id}")).json()
    FineTuningJob.model_validate(body)  # the SDK's type, in full
    assert "suffix" not in body and "organisation_id" not in body

    statuses = []
    while job.status not in ("succeeded", "failed", "cancelled"):
        statuses.append(job.status)
        fake.advance(30)
        job = client.fine_tuning.jobs.retrieve(job.id)
    assert job.status == "succeeded"
    assert statuses[0] == "validating_files" and "queued" in statuses and "running" in statuses
    assert job.fine_tuned_model == f"{BASE}.ft-{job.id.removeprefix('ftjob-')}-v1run"
    FineTuningJob.model_validate(call(fake, "GET", v1_url(f"/fine_tuning/jobs/{job.id}")).json())
    for event in call(fake, "GET", v1_url(f"/fine_tuning/jobs/{job.id}/events")).json()["data"]:
        FineTuningJobEvent.model_validate(event)
    checkpoints = call(fake, "GET", v1_url(f"/fine_tuning/jobs/{job.id}/checkpoints")).json()
    assert {"first_id", "last_id", "has_more"} <= set(checkpoints)
    for checkpoint in checkpoints["data"]:
        FineTuningJobCheckpoint.model_validate(checkpoint)
    Model.model_validate(call(fake, "GET", v1_url(f"/models/{job.fine_tuned_model}")).json())
    for item in call(fake, "GET", v1_url("/files")).json()["data"]:
        FileObject.model_validate(item)

    # One resource: the dated API sees the same job, without its metadata.
    dated = fake.azure_client(max_retries=0).fine_tuning.jobs.retrieve(job.id)
    assert dated.status == "succeeded" and dated.metadata is None
    assert fake.job(job.id, api="v1")["metadata"] == {"run": "r1"}
    assert "metadata" not in fake.job(job.id)


def test_the_job_list_ignores_a_metadata_filter(
    fake: FakeFineTuningAPI, client: openai.OpenAI
) -> None:
    train = processed_file(fake, client)
    mine = client.fine_tuning.jobs.create(model=BASE, training_file=train, metadata={"run": "r1"})
    other = client.fine_tuning.jobs.create(model=BASE, training_file=train, metadata={"run": "r2"})
    listed = client.fine_tuning.jobs.list(metadata={"run": "r1"})
    # Azure's v1 list takes only after and limit: both jobs come back, to filter locally.
    assert [j.id for j in listed.data] == [other.id, mine.id]
    assert [j.id for j in client.fine_tuning.jobs.list(limit=1, after=other.id).data] == [mine.id]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/uploads"),
        ("POST", "/files/import"),
        ("DELETE", "/fine_tuning/jobs/ftjob-x"),
        ("GET", "/fine_tuning/checkpoints/x/permissions"),
    ],
)
def test_what_the_v1_api_does_not_have(fake: FakeFineTuningAPI, method: str, path: str) -> None:
    response = call(fake, method, v1_url(path), {})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "404"
    assert response.json()["error"]["message"].startswith("Resource not found")


def test_no_uploads_through_the_sdk(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        client.uploads.create(
            bytes=10, filename="a.jsonl", mime_type="text/jsonl", purpose="fine-tune"
        )


def test_a_dated_api_version_is_refused_on_v1(fake: FakeFineTuningAPI) -> None:
    # An openai.AzureOpenAI pointed at the v1 base URL sends a dated api-version.
    misused = openai.AzureOpenAI(
        base_url="https://res.openai.azure.invalid/openai/v1",
        api_key="k",
        api_version="2025-04-01-preview",
        http_client=httpx2.Client(transport=httpx2.MockTransport(fake.handle)),
        max_retries=0,
    )
    with pytest.raises(openai.BadRequestError) as caught:
        misused.files.list()
    assert caught.value.code == "BadRequest"
    assert "API version not supported" in caught.value.message
    for version in ("v1", "preview"):
        assert call(fake, "GET", v1_url(f"/files?api-version={version}")).status_code == 200


def test_a_foundry_project_endpoint_is_the_v1_api(fake: FakeFineTuningAPI) -> None:
    project = openai.OpenAI(
        base_url="https://acct.services.ai.azure.invalid/api/projects/proj/openai/v1/",
        api_key="k",
        http_client=httpx2.Client(transport=httpx2.MockTransport(fake.handle)),
        max_retries=0,
    )
    assert project.files.list().data == []
    assert fake.requests[-1].api == "v1"


def test_keys_by_header_or_bearer(fake: FakeFineTuningAPI) -> None:
    assert call(fake, "GET", v1_url("/files")).status_code == 200  # api-key
    bearer = fake.handle(
        httpx2.Request("GET", v1_url("/files"), headers={"authorization": "Bearer entra-token"})
    )
    assert bearer.status_code == 200
    missing = fake.handle(httpx2.Request("GET", v1_url("/files")))
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "401"


def test_errors_keep_openais_envelope_with_a_code(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.fine_tuning.jobs.retrieve("ftjob-missing")
    assert caught.value.code == "notFound" and caught.value.param == "fine_tuning_job_id"
    assert caught.value.type == "invalid_request_error"


def test_the_async_v1_client_runs_a_job(fake: FakeFineTuningAPI) -> None:
    async def scenario() -> FineTuningJob:
        client = fake.async_client(api="v1", max_retries=0)
        train = await client.files.create(file=("train.jsonl", LINES), purpose="fine-tune")
        await client.files.wait_for_processing(train.id)
        job = await client.fine_tuning.jobs.create(
            model=BASE,
            training_file=train.id,
            metadata={"run": "async"},
            extra_body={"trainingType": "GlobalStandard"},
        )
        while job.status not in ("succeeded", "failed", "cancelled"):
            fake.clock.sleep(60)
            job = await client.fine_tuning.jobs.retrieve(job.id)
        listed = [j async for j in client.fine_tuning.jobs.list(limit=1)]
        assert [j.id for j in listed] == [job.id]
        await client.close()
        return job

    job = asyncio.run(scenario())
    assert job.status == "succeeded" and job.metadata == {"run": "async"}
    assert fake.training_type(job.id) == "globalstandard"
    assert call(fake, "GET", dated_url(f"/fine_tuning/jobs/{job.id}")).json()["status"] == (
        "succeeded"
    )

"""The other clients: AzureOpenAI (``/openai/...?api-version=``), AsyncOpenAI, with_options.

Azure's own shapes and rules are tested in ``test_fake_azure_*``; here, only that
each client reaches the fake it belongs to.
"""

from __future__ import annotations

import asyncio

import httpx2
import openai
import pytest
from fake_support import LINES

from ftkit.testing import FakeFineTuningAPI


def test_azure_client_runs_a_job() -> None:
    fake = FakeFineTuningAPI(provider="azure")
    client = fake.azure_client(api_version="2025-04-01-preview", max_retries=0)
    assert isinstance(client, openai.AzureOpenAI)
    train = client.files.create(file=("t.jsonl", LINES), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(model="gpt-4.1-mini-2025-04-14", training_file=train.id)
    fake.advance(10_000)
    done = client.fine_tuning.jobs.retrieve(job.id)
    assert done.status == "succeeded" and done.fine_tuned_model
    assert [e.message for e in client.fine_tuning.jobs.list_events(job.id, limit=1).data] == [
        "The job has successfully completed"
    ]
    for recorded in fake.requests:
        assert recorded.azure
        assert recorded.path.startswith("/openai/")
        assert recorded.query["api-version"] == "2025-04-01-preview"


def test_azure_paths_need_an_api_version() -> None:
    fake = FakeFineTuningAPI(provider="azure")
    response = fake.handle(
        httpx2.Request("GET", "https://r.invalid/openai/files", headers={"api-key": "k"})
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "missing_api_version"
    v1 = fake.handle(
        httpx2.Request("GET", "https://r.invalid/openai/v1/files", headers={"api-key": "k"})
    )
    assert v1.status_code == 200  # the Azure v1 surface needs none


def test_a_default_fake_does_not_pretend_to_be_azure() -> None:
    fake = FakeFineTuningAPI()
    for url in (
        "https://r.invalid/openai/files?api-version=2025-04-01-preview",
        "https://r.invalid/openai/v1/files",
    ):
        response = fake.handle(httpx2.Request("GET", url, headers={"api-key": "k"}))
        assert response.status_code == 404
        assert "provider='azure'" in response.json()["error"]["message"]
    with pytest.raises(ValueError, match="provider='azure'"):
        fake.azure_client()


def test_azure_client_gets_the_same_refusals() -> None:
    fake = FakeFineTuningAPI(provider="azure")
    client = fake.azure_client(max_retries=0)
    with pytest.raises(openai.NotFoundError):
        client.fine_tuning.jobs.retrieve("ftjob-missing")
    fake.refuse_training()
    train = client.files.create(file=("t.jsonl", LINES), purpose="fine-tune")
    with pytest.raises(openai.PermissionDeniedError) as caught:
        client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=train.id)
    assert caught.value.code == "training_not_available"


def test_async_client_full_job_and_virtual_retries() -> None:
    fake = FakeFineTuningAPI()

    async def scenario() -> openai.types.fine_tuning.FineTuningJob:
        client = fake.async_client(max_retries=3)
        assert isinstance(client, openai.AsyncOpenAI)
        train = await client.files.create(file=("t.jsonl", LINES), purpose="fine-tune")
        fake.faults.inject("jobs.create", "429", retry_after=5)
        fake.faults.inject("jobs.retrieve", "reset")
        job = await client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=train.id)
        while job.status not in ("succeeded", "failed", "cancelled"):
            fake.clock.sleep(60)
            job = await client.fine_tuning.jobs.retrieve(job.id)
        events = [e async for e in client.fine_tuning.jobs.list_events(job.id, limit=7)]
        assert len(events) == len(fake.events(job.id))
        await client.close()
        return job

    job = asyncio.run(scenario())
    assert job.status == "succeeded"
    assert fake.clock.slept[0] == 5.0  # the async SDK's retry wait was virtual too
    assert [r.status for r in fake.calls("jobs.create")] == [429, 200]


def test_with_options_keeps_virtual_retry_sleeps() -> None:
    fake = FakeFineTuningAPI()
    base = fake.client(max_retries=0)
    fake.faults.inject("files.list", "503")
    with pytest.raises(openai.InternalServerError):
        base.files.list()
    fake.faults.inject("files.list", "429", retry_after=4)
    base.with_options(max_retries=1).files.list()
    assert fake.clock.slept == [4.0]
    assert type(base.with_options(timeout=5)) is type(base)

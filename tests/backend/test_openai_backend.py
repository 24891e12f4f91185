"""OpenAIBackend at the HTTP level: one request per attempt, translated errors, request shapes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import openai
import pytest
import respx

from ftkit import APIError, RetryExhausted, TrainingUnavailable, UsageError
from ftkit.backend import Backend, Job, JobSpec, OpenAIBackend
from ftkit.retry import RetryPolicy

JOB_URL = "https://api.test/v1/fine_tuning/jobs"


def policy(sleeps: list[float], **kwargs: Any) -> RetryPolicy:
    return RetryPolicy(sleep=sleeps.append, jitter=0.0, **kwargs)


def job_answers(router: respx.Router, *responses: httpx.Response) -> respx.Route:
    """``GET .../jobs/ftjob-1`` answers ``responses``, one per request, in order."""
    return router.get(f"{JOB_URL}/ftjob-1").mock(side_effect=list(responses))


def test_adapters_satisfy_the_protocols(
    client: openai.OpenAI, async_client: openai.AsyncOpenAI
) -> None:
    assert isinstance(OpenAIBackend(client), Backend)
    assert isinstance(OpenAIBackend(async_client), Backend)


def test_client_retries_are_off_and_the_original_is_untouched(client: openai.OpenAI) -> None:
    backend = OpenAIBackend(client)
    assert backend.client.max_retries == 0
    assert client.max_retries == 3


def test_one_http_request_per_policy_attempt(
    httpx2_mock: respx.Router, client: openai.OpenAI, api: Any
) -> None:
    route = job_answers(
        httpx2_mock,
        httpx.Response(500, json=api.error("server error")),
        httpx.Response(503, json=api.error("overloaded")),
        httpx.Response(200, json=api.job(status="running")),
    )
    sleeps: list[float] = []
    job = policy(sleeps).call(OpenAIBackend(client).retrieve_job("ftjob-1").run)
    assert job.status == "running"
    assert route.call_count == 3
    assert sleeps == [0.5, 1.0]
    assert {c.request.headers["x-stainless-retry-count"] for c in route.calls} == {"0"}


def test_without_a_policy_a_5xx_is_one_request_and_an_ambiguous_error(
    httpx2_mock: respx.Router, client: openai.OpenAI, api: Any
) -> None:
    route = httpx2_mock.post(JOB_URL).mock(
        return_value=httpx.Response(500, json=api.error("oops"), headers={"x-request-id": "req_9"})
    )
    with pytest.raises(APIError) as info:
        OpenAIBackend(client).create_job(JobSpec(model="m", training_file="file-1")).run()
    assert route.call_count == 1
    exc = info.value
    assert (exc.status_code, exc.request_id, exc.retryable, exc.ambiguous) == (
        500,
        "req_9",
        True,
        True,
    )
    assert isinstance(exc.__cause__, openai.InternalServerError)


def test_retry_after_header_is_honoured(
    httpx2_mock: respx.Router, client: openai.OpenAI, api: Any
) -> None:
    job_answers(
        httpx2_mock,
        httpx.Response(429, json=api.error("slow down"), headers={"retry-after": "2"}),
        httpx.Response(429, json=api.error("slow down"), headers={"retry-after-ms": "750"}),
        httpx.Response(200, json=api.job()),
    )
    sleeps: list[float] = []
    policy(sleeps).call(OpenAIBackend(client).retrieve_job("ftjob-1").run)
    assert sleeps == [2.0, 0.75]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_final_client_errors_are_sent_once(
    httpx2_mock: respx.Router, client: openai.OpenAI, api: Any, status: int
) -> None:
    route = httpx2_mock.post(JOB_URL).mock(
        return_value=httpx.Response(status, json=api.error("no", code="some_code", param="model"))
    )
    sleeps: list[float] = []
    with pytest.raises(APIError) as info:
        policy(sleeps, max_attempts=5).call(
            OpenAIBackend(client).create_job(JobSpec(model="m", training_file="file-1")).run
        )
    assert route.call_count == 1
    assert sleeps == []
    assert (info.value.status_code, info.value.code, info.value.param) == (
        status,
        "some_code",
        "model",
    )


def test_timeouts_are_retried_then_exhausted(
    httpx2_mock: respx.Router, client: openai.OpenAI
) -> None:
    route = httpx2_mock.get(f"{JOB_URL}/ftjob-1").mock(side_effect=httpx.ReadTimeout("slow"))
    sleeps: list[float] = []
    with pytest.raises(RetryExhausted) as info:
        policy(sleeps, max_attempts=3).call(OpenAIBackend(client).retrieve_job("ftjob-1").run)
    assert route.call_count == 3
    assert info.value.attempts == 3
    assert info.value.last_error is not None and info.value.last_error.ambiguous


def test_training_refusal_on_create(
    httpx2_mock: respx.Router, client: openai.OpenAI, api: Any
) -> None:
    httpx2_mock.post(JOB_URL).mock(
        return_value=httpx.Response(
            403, json=api.error("Fine-tuning is not available.", code="training_not_available")
        )
    )
    with pytest.raises(TrainingUnavailable, match="AzureOpenAI"):
        OpenAIBackend(client).create_job(JobSpec(model="m", training_file="file-1")).run()


def test_create_job_sends_the_spec_with_metadata(
    httpx2_mock: respx.Router, client: openai.OpenAI, api: Any
) -> None:
    route = httpx2_mock.post(JOB_URL).mock(return_value=httpx.Response(200, json=api.job()))
    spec = JobSpec(
        model="gpt-4.1-mini-2025-04-14",
        training_file="file-train",
        validation_file="file-val",
        method={"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.1}}},
        suffix="demo",
        seed=7,
        metadata={"ftkit_run": "run-1", "ftkit_stage": "dpo"},
    )
    OpenAIBackend(client).create_job(spec).run()
    sent = json.loads(route.calls.last.request.content)
    assert sent == {
        "model": "gpt-4.1-mini-2025-04-14",
        "training_file": "file-train",
        "validation_file": "file-val",
        "method": {"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.1}}},
        "suffix": "demo",
        "seed": 7,
        "metadata": {"ftkit_run": "run-1", "ftkit_stage": "dpo"},
    }


def test_list_jobs_filters_by_metadata_and_pages(
    httpx2_mock: respx.Router, client: openai.OpenAI, api: Any
) -> None:
    route = httpx2_mock.get(JOB_URL).mock(
        return_value=httpx.Response(
            200, json=api.listing([api.job("ftjob-a"), api.job("ftjob-b")], True)
        )
    )
    backend = OpenAIBackend(client)
    page = backend.list_jobs(metadata={"ftkit_run": "r1"}, after="ftjob-z", limit=2).run()
    params = route.calls.last.request.url.params
    assert params["metadata[ftkit_run]"] == "r1"
    assert (params["after"], params["limit"]) == ("ftjob-z", "2")
    assert page.has_more and page.last_id == "ftjob-b"


def test_events_checkpoints_files_and_models(
    httpx2_mock: respx.Router, client: openai.OpenAI, api: Any
) -> None:
    event = {
        "id": "ftevent-1",
        "object": "fine_tuning.job.event",
        "created_at": 1,
        "level": "info",
        "message": "Step 1/10: training loss=1.2",
        "type": "metrics",
        "data": {"step": 1, "total_steps": 10, "train_loss": 1.2},
    }
    events = httpx2_mock.get(f"{JOB_URL}/ftjob-1/events").mock(
        return_value=httpx.Response(200, json=api.listing([event]))
    )
    httpx2_mock.get(f"{JOB_URL}/ftjob-1/checkpoints").mock(
        return_value=httpx.Response(200, json=api.listing([]))
    )
    httpx2_mock.get("https://api.test/v1/files/file-r/content").mock(
        return_value=httpx.Response(200, content=b"step,train_loss\n1,1.2\n")
    )
    httpx2_mock.delete("https://api.test/v1/files/file-r").mock(
        return_value=httpx.Response(200, json={"id": "file-r", "object": "file", "deleted": True})
    )
    httpx2_mock.get("https://api.test/v1/models/gpt-4o-mini-2024-07-18").mock(
        return_value=httpx.Response(
            200,
            json={
                "id": "gpt-4o-mini-2024-07-18",
                "object": "model",
                "created": 1,
                "owned_by": "system",
                "shutdown_date": "2027-01-14",
            },
        )
    )
    backend = OpenAIBackend(client)
    page = backend.list_job_events("ftjob-1", after="ftevent-9", limit=50).run()
    assert page.data[0].data == {"step": 1, "total_steps": 10, "train_loss": 1.2}
    assert dict(events.calls.last.request.url.params) == {"after": "ftevent-9", "limit": "50"}
    assert backend.list_job_checkpoints("ftjob-1").run().data == []
    assert backend.file_content("file-r").run() == b"step,train_loss\n1,1.2\n"
    assert backend.delete_file("file-r").run() is True
    assert backend.retrieve_model("gpt-4o-mini-2024-07-18").run().retires_on == "2027-01-14"


def test_azure_client_goes_through_the_same_adapter(httpx2_mock: respx.Router, api: Any) -> None:
    azure = openai.AzureOpenAI(
        api_key="azure-key-0123456789abcdef",
        azure_endpoint="https://res.openai.azure.com",
        api_version="2025-04-01-preview",
    )
    route = httpx2_mock.post(
        url__regex=r"https://res\.openai\.azure\.com/openai/fine_tuning/jobs.*"
    ).mock(
        side_effect=[
            httpx.Response(500, json=api.error("oops")),
            httpx.Response(200, json=api.job()),
        ]
    )
    sleeps: list[float] = []
    spec = JobSpec(model="m", training_file="f")
    policy(sleeps).call(OpenAIBackend(azure).create_job(spec).run)
    assert route.call_count == 2
    assert route.calls.last.request.url.params["api-version"] == "2025-04-01-preview"


def test_the_key_never_shows(httpx2_mock: respx.Router, client: openai.OpenAI, api: Any) -> None:
    httpx2_mock.get(f"{JOB_URL}/ftjob-1").mock(
        return_value=httpx.Response(
            401, json=api.error(f"Incorrect API key provided: {api.key}", code="invalid_api_key")
        )
    )
    backend = OpenAIBackend(client)
    assert api.key not in repr(backend)
    with pytest.raises(APIError) as info:
        backend.retrieve_job("ftjob-1").run()
    assert api.key not in str(info.value)
    assert "0123456789" not in str(info.value)


def test_async_backend(
    httpx2_mock: respx.Router, async_client: openai.AsyncOpenAI, api: Any
) -> None:
    bad_gateway = httpx.Response(502, json=api.error("bad gateway"))
    route = job_answers(
        httpx2_mock, bad_gateway, bad_gateway, httpx.Response(200, json=api.job(status="succeeded"))
    )
    backend = OpenAIBackend(async_client)
    sleeps: list[float] = []

    async def main() -> Any:
        with pytest.raises(APIError):
            await backend.retrieve_job("ftjob-1").arun()
        return await policy(sleeps).acall(backend.retrieve_job("ftjob-1").arun)

    job = asyncio.run(main())
    assert job.status == "succeeded"
    assert route.call_count == 3
    assert sleeps == [0.5]


@pytest.mark.parametrize(
    ("raw_status", "status"),
    [
        ("validating_files", "validating"),
        ("queued", "queued"),
        ("running", "running"),
        ("pausing", "paused"),
        ("paused", "paused"),
        ("succeeded", "succeeded"),
        ("failed", "failed"),
        ("cancelled", "cancelled"),
        ("reticulating_splines", "unknown"),
    ],
)
def test_jobs_come_back_as_ftkit_jobs_with_a_normalised_status(
    httpx2_mock: respx.Router, client: openai.OpenAI, api: Any, raw_status: str, status: str
) -> None:
    body = api.job(status=raw_status, metadata={"ftkit_run": "r1"}, trained_tokens=1200)
    job_answers(httpx2_mock, httpx.Response(200, json=body))
    job = OpenAIBackend(client).retrieve_job("ftjob-1").run()
    assert isinstance(job, Job)
    assert (job.status, job.raw_status, job.provider) == (status, raw_status, "openai")
    assert (job.model, job.trained_tokens, dict(job.metadata)) == (
        "gpt-4.1-mini-2025-04-14",
        1200,
        {"ftkit_run": "r1"},
    )
    assert (job.method, dict(job.hyperparameters)) == ("supervised", {"n_epochs": "auto"})
    assert job.error is None  # the all-null error object of a job that did not fail
    assert job.raw.status == raw_status
    assert " raw=" not in repr(job) and "FineTuningJob" not in repr(job)


def test_a_request_runs_only_the_way_its_client_allows(
    httpx2_mock: respx.Router, client: openai.OpenAI, async_client: openai.AsyncOpenAI, api: Any
) -> None:
    route = job_answers(httpx2_mock, httpx.Response(200, json=api.job()))
    awaited_only = OpenAIBackend(async_client).retrieve_job("ftjob-1")
    blocking_only = OpenAIBackend(client).retrieve_job("ftjob-1")
    with pytest.raises(UsageError, match=r"async client.*await request\.arun\(\)"):
        awaited_only.run()
    with pytest.raises(UsageError, match=r"blocking client.*request\.run\(\)"):
        asyncio.run(blocking_only.arun())
    assert route.call_count == 0  # refused before anything was sent
    assert blocking_only.run().id == "ftjob-1"

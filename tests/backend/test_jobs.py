"""Exactly-once job creation over HTTP, and the retired-model check."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import httpx
import openai
import pytest
import respx

from ftkit import TrainingUnavailable, UsageError
from ftkit._steps import run
from ftkit.backend import (
    JobSpec,
    OpenAIBackend,
    acreate_job_once,
    create_job_once,
    ensure_trainable,
)
from ftkit.backend._jobs import finding_job
from ftkit.backend._openai import to_model
from ftkit.retry import RetryPolicy

JOB_URL = "https://api.test/v1/fine_tuning/jobs"
META = {"ftkit_run": "run-1", "ftkit_stage": "sft"}
SPEC = JobSpec(model="gpt-4.1-mini-2025-04-14", training_file="file-train", metadata=META)


def quiet(sleeps: list[float] | None = None) -> RetryPolicy:
    return RetryPolicy(sleep=(sleeps if sleeps is not None else []).append, jitter=0.0)


def test_ambiguous_create_is_reconciled_by_metadata_not_repeated(
    httpx2_mock: respx.Router, client: openai.OpenAI, api: Any
) -> None:
    # The first POST reached the server and created the job, but the answer was a 502.
    created = api.job("ftjob-made", metadata=META)
    lists = httpx2_mock.get(JOB_URL).mock(
        side_effect=[
            httpx.Response(200, json=api.listing([])),  # look before creating
            httpx.Response(200, json=api.listing([created])),  # look after the 502
        ]
    )
    posts = httpx2_mock.post(JOB_URL).mock(
        side_effect=[
            httpx.Response(502, json=api.error("bad gateway")),
            httpx.Response(200, json=api.job("ftjob-dup")),
        ]
    )
    job = create_job_once(OpenAIBackend(client), SPEC, retry=quiet())
    assert job.id == "ftjob-made"
    assert posts.call_count == 1
    assert lists.call_count == 2
    assert lists.calls.last.request.url.params["metadata[ftkit_stage]"] == "sft"
    assert json.loads(posts.calls.last.request.content)["metadata"] == META


def test_timeout_with_nothing_created_creates_again(
    httpx2_mock: respx.Router, client: openai.OpenAI, api: Any
) -> None:
    httpx2_mock.get(JOB_URL).mock(return_value=httpx.Response(200, json=api.listing([])))
    posts = httpx2_mock.post(JOB_URL).mock(
        side_effect=[
            httpx.ReadTimeout("slow"),
            httpx.Response(200, json=api.job("ftjob-2", metadata=META)),
        ]
    )
    sleeps: list[float] = []
    job = create_job_once(OpenAIBackend(client), SPEC, retry=quiet(sleeps))
    assert job.id == "ftjob-2"
    assert posts.call_count == 2
    assert sleeps == [0.5]


def test_rate_limited_create_is_retried_without_a_lookup(
    httpx2_mock: respx.Router, client: openai.OpenAI, api: Any
) -> None:
    lists = httpx2_mock.get(JOB_URL).mock(return_value=httpx.Response(200, json=api.listing([])))
    httpx2_mock.post(JOB_URL).mock(
        side_effect=[
            httpx.Response(429, json=api.error("slow down"), headers={"retry-after": "3"}),
            httpx.Response(200, json=api.job("ftjob-3", metadata=META)),
        ]
    )
    sleeps: list[float] = []
    assert create_job_once(OpenAIBackend(client), SPEC, retry=quiet(sleeps)).id == "ftjob-3"
    assert lists.call_count == 1  # only the look before creating
    assert sleeps == [3.0]


def test_an_existing_job_is_adopted_before_any_create(
    httpx2_mock: respx.Router, client: openai.OpenAI, api: Any
) -> None:
    # No POST route: any create would hit respx's "not mocked" error.
    httpx2_mock.get(JOB_URL).mock(
        return_value=httpx.Response(200, json=api.listing([api.job("ftjob-old", metadata=META)]))
    )
    assert create_job_once(OpenAIBackend(client), SPEC, retry=quiet()).id == "ftjob-old"
    assert [c.request.method for c in httpx2_mock.calls] == ["GET"]


def test_a_server_ignoring_the_filter_cannot_make_us_adopt_a_stranger(
    httpx2_mock: respx.Router, client: openai.OpenAI, api: Any
) -> None:
    strangers = [
        api.job("ftjob-x", metadata={"ftkit_run": "run-1", "ftkit_stage": "dpo"}),
        api.job("ftjob-y", metadata=None),
    ]
    httpx2_mock.get(JOB_URL).mock(return_value=httpx.Response(200, json=api.listing(strangers)))
    posts = httpx2_mock.post(JOB_URL).mock(
        return_value=httpx.Response(200, json=api.job("ftjob-new", metadata=META))
    )
    assert create_job_once(OpenAIBackend(client), SPEC, retry=quiet()).id == "ftjob-new"
    assert posts.call_count == 1


def test_find_job_walks_pages(httpx2_mock: respx.Router, client: openai.OpenAI, api: Any) -> None:
    route = httpx2_mock.get(JOB_URL).mock(
        side_effect=[
            httpx.Response(200, json=api.listing([api.job("ftjob-a")], has_more=True)),
            httpx.Response(200, json=api.listing([api.job("ftjob-b", metadata=META)])),
        ]
    )
    found = run(finding_job(OpenAIBackend(client), SPEC, retry=quiet()))
    assert found.id == "ftjob-b"  # type: ignore[union-attr]
    assert route.calls.last.request.url.params["after"] == "ftjob-a"


@pytest.mark.parametrize(
    "metadata",
    [{}, {f"k{i}": "v" for i in range(17)}, {"k": "v" * 513}],
)
def test_metadata_must_identify_the_job(client: openai.OpenAI, metadata: dict[str, str]) -> None:
    with pytest.raises(UsageError):
        create_job_once(
            OpenAIBackend(client), JobSpec(model="m", training_file="f", metadata=metadata)
        )


def test_async_create_job_once(
    httpx2_mock: respx.Router, async_client: openai.AsyncOpenAI, api: Any
) -> None:
    httpx2_mock.get(JOB_URL).mock(
        side_effect=[
            httpx.Response(200, json=api.listing([])),
            httpx.Response(200, json=api.listing([api.job("ftjob-made", metadata=META)])),
        ]
    )
    posts = httpx2_mock.post(JOB_URL).mock(side_effect=httpx.ConnectError("reset"))
    job = asyncio.run(acreate_job_once(OpenAIBackend(async_client), SPEC, retry=quiet()))
    assert job.id == "ftjob-made"
    assert posts.call_count == 1


def model_body(**extra: Any) -> dict[str, Any]:
    return {
        "id": "gpt-4o-mini-2024-07-18",
        "object": "model",
        "created": 1,
        "owned_by": "system",
        **extra,
    }


@pytest.mark.parametrize(
    ("body", "refused"),
    [
        (model_body(shutdown_date="2026-10-23"), True),
        (model_body(shutdown_date="2027-01-14"), False),
        (model_body(shutdown_date=None), False),
        (model_body(deprecation={"fine_tune": 1_700_000_000, "inference": 1_800_000_000}), True),
    ],
)
def test_ensure_trainable(
    httpx2_mock: respx.Router, client: openai.OpenAI, body: dict[str, Any], refused: bool
) -> None:
    httpx2_mock.get("https://api.test/v1/models/gpt-4o-mini-2024-07-18").mock(
        return_value=httpx.Response(200, json=body)
    )
    backend = OpenAIBackend(client)
    today = dt.date(2026, 11, 1)
    if refused:
        with pytest.raises(TrainingUnavailable, match="AzureOpenAI") as info:
            ensure_trainable(backend, "gpt-4o-mini-2024-07-18", today=today, retry=quiet())
        assert info.value.code == "model_retired"
    else:
        ensure_trainable(backend, "gpt-4o-mini-2024-07-18", today=today, retry=quiet())


def test_model_retirement_reads_both_providers() -> None:
    def retirement(body: dict[str, Any]) -> str | None:
        return to_model(openai.types.Model.construct(**body)).retires_on

    assert retirement(model_body(shutdown_date="2027-01-14")) == "2027-01-14"
    assert retirement(model_body(deprecation={"fine_tune": 1_798_761_600})) == "2027-01-01"
    assert retirement(model_body()) is None

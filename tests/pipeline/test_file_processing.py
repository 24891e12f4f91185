"""The pipeline creates a job only once its files are processed, under both drivers.

Against the in-process fake with the real openai client: a new file is ``uploaded``
for ``Timings.file_processing`` virtual seconds, and the run must look at it until
it is ``processed`` before ``jobs.create`` names it; a file the provider reports
``error`` stops the run with a clear error and no job.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
from pipeline_support import EXAMPLES

import ftkit
from ftkit.polling import PollPolicy
from ftkit.retry import RetryPolicy
from ftkit.testing import FakeFineTuningAPI, Timings

MODEL = "gpt-4.1-mini-2025-04-14"
SFT = EXAMPLES / "sarcasm_sft.jsonl"
VALIDATION = EXAMPLES / "sarcasm_sft_validation.jsonl"
PROCESSING = 45.0  # virtual seconds each new file is "uploaded"


def _run(fake: FakeFineTuningAPI, state: Path, driver: str) -> ftkit.RunResult:
    if driver == "sync":
        builder = ftkit.FineTune(fake.client(max_retries=0))
        return builder.model(MODEL).sft(SFT, validation=VALIDATION).state_dir(state).run()

    async def run() -> ftkit.RunResult:
        builder = ftkit.AsyncFineTune(fake.async_client(max_retries=0))
        return await builder.model(MODEL).sft(SFT, validation=VALIDATION).state_dir(state).run()

    return asyncio.run(run())


@pytest.mark.parametrize("driver", ["sync", "async"])
def test_the_job_is_created_once_both_files_are_processed(tmp_path: Path, driver: str) -> None:
    fake = FakeFineTuningAPI(timings=Timings(file_processing=PROCESSING))
    result = _run(fake, tmp_path, driver)
    assert result.stages[0].status == "succeeded"
    routes = [r.route for r in fake.requests]
    created = fake.calls("jobs.create")[0]
    uploaded = [r.at for r in fake.calls("files.create")]
    assert len(uploaded) == 2 and created.at >= max(uploaded) + PROCESSING
    looks = [r for r in fake.calls("files.retrieve") if r.at < created.at]
    assert looks, "the run looked at its files before naming them"
    assert routes.index("files.retrieve") < routes.index("jobs.create")
    job = fake.job(result.stages[0].job_id or "")
    assert job["training_file"] == created.json["training_file"]  # type: ignore[index]


def test_files_processed_at_once_cost_no_look(tmp_path: Path) -> None:
    fake = FakeFineTuningAPI(timings=Timings(file_processing=0))
    _run(fake, tmp_path, "sync")
    assert fake.calls("files.retrieve") == []  # the upload's answer already said "processed"


def _reporting_error(fake: FakeFineTuningAPI) -> Any:
    """A transport to ``fake`` whose file lookups report the file ``error``."""

    def handle(request: httpx2.Request) -> httpx2.Response:
        response = fake.handle(request)
        if request.method == "GET" and "/files/file-" in request.url.path:
            body = json.loads(response.content)
            body["status"] = "error"
            return httpx2.Response(response.status_code, json=body)
        return response

    return httpx2.MockTransport(handle)


@pytest.mark.parametrize("driver", ["sync", "async"])
def test_a_file_the_provider_cannot_process_stops_the_run(tmp_path: Path, driver: str) -> None:
    fake = FakeFineTuningAPI()
    transport = _reporting_error(fake)
    options: dict[str, Any] = {"api_key": "sk-test", "base_url": "https://x.invalid/v1"}
    poll = PollPolicy(sleep=fake.clock.sleep, clock=fake.clock.now)
    retry = RetryPolicy(max_attempts=2, sleep=fake.clock.sleep)
    with pytest.raises(ftkit.DatasetError, match=r"file file-\S+ \(.+\.jsonl\).*'error'"):
        if driver == "sync":
            client = openai.OpenAI(http_client=httpx2.Client(transport=transport), **options)
            ftkit.FineTune(client).model(MODEL).sft(SFT).poll(poll).retry(retry).state_dir(
                tmp_path
            ).run()
        else:
            aclient = openai.AsyncOpenAI(
                http_client=httpx2.AsyncClient(transport=transport), **options
            )
            run = (
                ftkit.AsyncFineTune(aclient)
                .model(MODEL)
                .sft(SFT)
                .poll(poll)
                .retry(retry)
                .state_dir(tmp_path)
                .run()
            )
            asyncio.run(run)
    assert fake.jobs == []
    assert fake.calls("files.retrieve")

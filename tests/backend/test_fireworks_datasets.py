"""Datasets on the Fireworks fake, through the real fireworks client: each file stored once.

The upload program (:mod:`ftkit.backend._datasets`) names a dataset after its content,
so everything it does can be counted on the fake: one dataset per file, the bytes sent
once unless an earlier attempt never finished, the server's refusal as findings.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

pytest.importorskip("fireworks")

from ftkit import APIError, DatasetError
from ftkit.backend import FireworksBackend, upload_file
from ftkit.backend._datasets import dataset_id
from ftkit.backend._processing import processing
from ftkit.backend._program import run
from ftkit.retry import RetryPolicy
from ftkit.testing import FakeFineTuningAPI

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"
SFT = EXAMPLES / "sarcasm_sft.jsonl"


@pytest.fixture
def fake() -> FakeFineTuningAPI:
    return FakeFineTuningAPI(provider="fireworks")


def _datasets(fake: FakeFineTuningAPI) -> list[dict[str, object]]:
    return [f for f in fake.files if "name" in f]


def _wait(backend: FireworksBackend, fake: FakeFineTuningAPI, file: object) -> object:
    policy = RetryPolicy(max_attempts=3, sleep=fake.clock.sleep, clock=fake.clock.now)
    return run(processing(backend, file, retry=policy, sleep=fake.clock.sleep))  # type: ignore[arg-type]


def test_a_file_becomes_one_dataset_named_after_its_content(fake: FakeFineTuningAPI) -> None:
    backend = FireworksBackend(fake.client(max_retries=0))
    first = upload_file(backend, SFT)
    sha = hashlib.sha256(SFT.read_bytes()).hexdigest()
    assert first.file.id == f"accounts/fake-account/datasets/{dataset_id(sha)}"
    assert not first.reused
    ready = _wait(backend, fake, first.file)
    assert ready.status == "processed"  # type: ignore[attr-defined]
    (create,) = fake.calls("datasets.create")
    assert create.json["dataset"]["exampleCount"] == "30"
    # Again: the create is refused (409), the ready dataset reused, no bytes sent.
    again = upload_file(backend, SFT)
    assert again.reused and again.file.id == first.file.id
    assert [r.status for r in fake.calls("datasets.create")] == [200, 409]
    assert len(fake.calls("datasets.upload")) == 1
    assert len(_datasets(fake)) == 1


def test_a_dataset_that_never_got_its_bytes_gets_them_and_no_second_dataset(
    fake: FakeFineTuningAPI,
) -> None:
    client = fake.client(max_retries=0)
    sha = hashlib.sha256(SFT.read_bytes()).hexdigest()
    # An earlier process created the dataset and died before uploading its bytes.
    client.datasets.create(
        dataset_id=dataset_id(sha), dataset={"user_uploaded": {}, "example_count": "30"}
    )
    backend = FireworksBackend(client)
    sent = upload_file(backend, SFT)
    assert sent.reused  # the dataset existed: it was completed, not duplicated
    assert _wait(backend, fake, sent.file).status == "processed"  # type: ignore[attr-defined]
    assert len(fake.calls("datasets.upload")) == 1
    assert len(_datasets(fake)) == 1


def test_a_large_file_goes_through_a_signed_url_streamed_from_disk(
    fake: FakeFineTuningAPI,
) -> None:
    backend = FireworksBackend(fake.client(max_retries=0))
    sent = upload_file(backend, SFT, files_api_limit=1024)  # below the file's size
    assert _wait(backend, fake, sent.file).status == "processed"  # type: ignore[attr-defined]
    routes = [r.route for r in fake.requests]
    assert routes[:4] == [
        "datasets.create",
        "datasets.get_upload_endpoint",
        "datasets.upload_put",
        "datasets.validate_upload",
    ]
    (put,) = fake.calls("datasets.upload_put")
    assert put.body_bytes == SFT.stat().st_size
    assert "authorization" not in {k.lower() for k in put.headers}  # no Fireworks key there
    assert "datasets.upload" not in routes


def test_the_server_s_refusal_becomes_findings_with_line_numbers(
    fake: FakeFineTuningAPI, tmp_path: Path
) -> None:
    row = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([json.dumps(row), json.dumps(row), json.dumps({"text": "x"})]) + "\n")
    backend = FireworksBackend(fake.client(max_retries=0))
    sent = upload_file(backend, bad)
    with pytest.raises(DatasetError, match="line 3") as caught:
        _wait(backend, fake, sent.file)
    (issue,) = caught.value.issues
    assert (issue.code, issue.line, issue.severity.value) == ("provider_refused", 3, "error")
    assert "messages" in issue.message
    assert issue.file == sent.file.filename


def test_a_job_is_cancelled_then_resumed_through_the_backend(fake: FakeFineTuningAPI) -> None:
    from ftkit.backend import JobSpec, create_job_once

    backend = FireworksBackend(fake.client(max_retries=0))
    sent = upload_file(backend, SFT)
    ready = _wait(backend, fake, sent.file)
    spec = JobSpec(
        model="accounts/fireworks/models/llama-v3p1-8b-instruct",
        training_file=ready.id,  # type: ignore[attr-defined]
        metadata={"ftkit_run": "ftr-test", "ftkit_stage": "sft"},
    )
    job = create_job_once(backend, spec)
    assert job.id == backend.job_name(spec)
    assert create_job_once(backend, spec).id == job.id  # found, not created again
    assert len(fake.calls("sft_jobs.create")) == 1
    fake.advance(30)
    stopping = backend.cancel_job(job.id).run()
    assert stopping.raw_status in ("JOB_STATE_CANCELLING", "JOB_STATE_CANCELLED")
    fake.advance(120)
    assert backend.retrieve_job(job.id).run().status == "cancelled"
    resumed = backend.resume_job(job.id).run()
    assert resumed.status in ("running", "queued")
    with pytest.raises(APIError, match="400"):
        backend.resume_job(job.id).run()  # a running job cannot be resumed


def test_a_refused_dataset_gets_its_bytes_again_rather_than_staying_refused(
    fake: FakeFineTuningAPI, tmp_path: Path
) -> None:
    row = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}
    two = tmp_path / "two.jsonl"
    two.write_text(json.dumps(row) + "\n" + json.dumps(row) + "\n")  # below the minimum
    backend = FireworksBackend(fake.client(max_retries=0))
    for attempt in (1, 2):
        sent = upload_file(backend, two)
        with pytest.raises(DatasetError, match="at least 3"):
            _wait(backend, fake, sent.file)
        assert len(fake.calls("datasets.upload")) == attempt  # sent again, not reused
    assert len(_datasets(fake)) == 1


def test_the_signed_url_is_not_in_httpx_s_request_log(
    fake: FakeFineTuningAPI, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.INFO, logger="httpx")
    upload_file(FireworksBackend(fake.client(max_retries=0)), SFT, files_api_limit=1024)
    puts = [r.getMessage() for r in caplog.records if "PUT" in r.getMessage()]
    assert puts and all("?<signed query>" in line for line in puts)
    assert "Signature" not in caplog.text and "X-Goog-Credential" not in caplog.text

"""``provider="fireworks"``: datasets, jobs, models, deployments and chat, with the real SDK.

Every JSON answer is checked with :func:`fireworks_support.strict`: parsed with the
fireworks SDK type it is cast to, with no key that type does not know.
"""

from __future__ import annotations

import json
import re
from typing import Any

import fireworks
import httpx
import pytest
from fireworks.types import (
    Dataset,
    DatasetGetUploadEndpointResponse,
    DatasetUploadResponse,
    Deployment,
    DpoJob,
    DpoJobGetMetricsFileEndpointResponse,
    Model,
    SupervisedFineTuningJob,
)
from fireworks.types.chat.chat_completion_chunk import ChatCompletionChunk
from fireworks.types.chat.completion_create_response import CompletionCreateResponse
from fireworks_support import (
    ACCOUNT,
    BASE,
    account_path,
    completed_sft,
    dpo_rows,
    jsonl,
    new_fake,
    raw,
    ready_dataset,
    sft_rows,
    strict,
)

from ftkit.providers import ModelInfo, TrainingPrice
from ftkit.testing import ROUTE_NAMES, FakeFineTuningAPI, Limits
from ftkit.testing._fireworks_jobs import FAKE_RATE_PER_1M
from ftkit.testing._fireworks_serving import DEPLOYMENT_SECONDS
from ftkit.testing._fireworks_shapes import CANCELLING_SECONDS, WRITING_RESULTS_SECONDS

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"


def envelope(error: fireworks.APIStatusError) -> dict[str, Any]:
    body = error.body
    assert isinstance(body, dict)
    return body


def chat_messages(text: str) -> Any:
    """A one-question conversation (typed loosely: the SDK types messages as its own)."""
    return [{"role": "user", "content": text}]


def sft_get(client: fireworks.Fireworks, job_id: str) -> SupervisedFineTuningJob:
    return strict(
        SupervisedFineTuningJob,
        raw(client, "get", account_path(f"supervisedFineTuningJobs/{job_id}")).json(),
    )


# -------------------------------------------------------- the strict check
def test_the_strict_check_fails_on_a_misspelt_field_anywhere() -> None:
    with pytest.raises(AssertionError, match="stat"):
        strict(Dataset, {"name": "accounts/a/datasets/d", "stat": "READY"})
    with pytest.raises(AssertionError, match=r"job_progress\.percnt"):
        strict(SupervisedFineTuningJob, {"dataset": "d", "jobProgress": {"percnt": 5}})
    with pytest.raises(AssertionError, match=r"peft_details\.rank"):
        strict(Model, {"peftDetails": {"baseModel": "b", "r": 8, "targetModules": [], "rank": 8}})
    strict(Dataset, {"name": "accounts/a/datasets/d", "state": "READY"})


# ----------------------------------------------------------------- datasets
def test_a_dataset_is_created_uploaded_and_ready_after_validation() -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    answer = raw(
        client,
        "post",
        account_path("datasets"),
        body={"datasetId": "train", "dataset": {"userUploaded": {}, "exampleCount": "12"}},
    )
    created = strict(Dataset, answer.json())
    assert created.name == f"accounts/{ACCOUNT}/datasets/train"
    assert created.state == "UPLOADING" and created.example_count == "12"
    uploaded = client.datasets.with_raw_response.upload(
        "train", file=("train.jsonl", jsonl(sft_rows(5)))
    )
    shown = strict(DatasetUploadResponse, uploaded.http_response.json())
    assert (shown.id, shown.filename, shown.bytes) == (
        "train",
        "train.jsonl",
        len(jsonl(sft_rows(5))),
    )
    during = strict(Dataset, raw(client, "get", account_path("datasets/train")).json())
    assert during.state == "UPLOADING" and during.status is None
    fake.advance(3)
    ready = strict(Dataset, raw(client, "get", account_path("datasets/train")).json())
    assert ready.state == "READY" and ready.format == "CHAT"
    assert ready.example_count == "5" and int(ready.estimated_token_count or 0) > 0
    assert ready.status is not None and ready.status.code == "OK"


def test_a_duplicate_or_malformed_dataset_id_is_refused_in_grpc_envelopes() -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    client.datasets.create(dataset_id="d1", dataset={"user_uploaded": {}})
    with pytest.raises(fireworks.ConflictError) as conflict:
        client.datasets.create(dataset_id="d1", dataset={"user_uploaded": {}})
    assert envelope(conflict.value) == {
        "code": 6,
        "message": f"accounts/{ACCOUNT}/datasets/d1 already exists",
        "details": [],
    }
    for bad in ("1abc", "Abc", "abc-", "a" * 64, "a_b", ""):
        with pytest.raises(fireworks.BadRequestError) as refused:
            client.datasets.create(dataset_id=bad, dataset={"user_uploaded": {}})
        assert envelope(refused.value)["code"] == 3
    client.datasets.create(dataset_id="a" * 63, dataset={"user_uploaded": {}})
    client.datasets.create(dataset_id="a", dataset={"user_uploaded": {}})


def test_validation_failure_names_the_line_and_a_new_upload_revalidates() -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    client.datasets.create(dataset_id="bad", dataset={"user_uploaded": {}})
    content = jsonl(sft_rows(3)[:1]) + b'{"prompt": "x"}\n' + jsonl(sft_rows(3)[1:])
    client.datasets.upload("bad", file=("bad.jsonl", content))
    fake.advance(5)
    shown = strict(Dataset, raw(client, "get", account_path("datasets/bad")).json())
    assert shown.state == "UPLOADING"
    assert shown.status is not None and shown.status.code == "INVALID_ARGUMENT"
    assert (shown.status.message or "").startswith("line 2: a line needs 'messages'")
    client.datasets.upload("bad", file=("bad.jsonl", jsonl(sft_rows(2))))
    fake.advance(5)
    few = client.datasets.get("bad")
    assert few.status is not None and "at least 3" in (few.status.message or "")
    client.datasets.upload("bad", file=("bad.jsonl", jsonl(sft_rows(4))))
    fake.advance(5)
    assert client.datasets.get("bad").state == "READY"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"not json", "line 1: invalid JSON"),
        (b"[1, 2]", "line 1: each line must be a JSON object"),
        (b'{"messages": []}', "line 1: 'messages' must be a non-empty list"),
        (b'{"messages": [{"role": "robot", "content": "x"}]}', "line 1: messages[0].role"),
        (b'{"messages": [{"role": "user", "content": "x"}]}', "no assistant message"),
        (
            b'{"messages": [{"role": "assistant", "content": "x", "weight": 2}]}',
            "messages[0].weight must be 0 or 1",
        ),
    ],
)
def test_each_refused_line_is_named(line: bytes, message: str) -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    client.datasets.create(dataset_id="d", dataset={"user_uploaded": {}})
    client.datasets.upload("d", file=("d.jsonl", line + b"\n" + jsonl(sft_rows(3))))
    fake.advance(5)
    status = client.datasets.get("d").status
    assert status is not None and message in (status.message or "")


def test_a_direct_upload_above_the_limit_is_400() -> None:
    fake = new_fake(limits=Limits(file_bytes=100))
    client = fake.fireworks_client(max_retries=0)
    client.datasets.create(dataset_id="big", dataset={"user_uploaded": {}})
    with pytest.raises(fireworks.BadRequestError, match="at most 100 bytes"):
        client.datasets.upload("big", file=("big.jsonl", jsonl(sft_rows(3))))


def test_datasets_list_pages_by_name_and_delete_answers_empty() -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    for dataset_id in ("c", "a", "b"):
        client.datasets.create(dataset_id=dataset_id, dataset={"user_uploaded": {}})
    first = raw(client, "get", account_path("datasets"), params={"pageSize": 2}).json()
    assert [d["name"].rsplit("/", 1)[-1] for d in first["datasets"]] == ["a", "b"]
    assert first["totalSize"] == 3 and first["nextPageToken"]
    for item in first["datasets"]:
        strict(Dataset, item)
    rest = raw(
        client, "get", account_path("datasets"), params={"pageToken": first["nextPageToken"]}
    ).json()
    assert [d["name"].rsplit("/", 1)[-1] for d in rest["datasets"]] == ["c"]
    assert "nextPageToken" not in rest
    assert [d.name for d in client.datasets.list(page_size=1)] == [
        f"accounts/{ACCOUNT}/datasets/{x}" for x in "abc"
    ]
    assert raw(client, "delete", account_path("datasets/b")).json() == {}
    with pytest.raises(fireworks.NotFoundError):
        client.datasets.get("b")
    with pytest.raises(fireworks.BadRequestError):
        client.datasets.list(page_token="garbage!")


# ---------------------------------------------------------- signed uploads
def signed(client: fireworks.Fireworks, dataset_id: str, files: dict[str, bytes]) -> dict[str, str]:
    answer = client.datasets.with_raw_response.get_upload_endpoint(
        dataset_id, filename_to_size={name: str(len(data)) for name, data in files.items()}
    )
    return (
        strict(
            DatasetGetUploadEndpointResponse, answer.http_response.json()
        ).filename_to_signed_urls
        or {}
    )


def put(client: fireworks.Fireworks, url: str, data: bytes, **headers: str) -> httpx.Response:
    sent = {
        "Content-Type": "application/octet-stream",
        "X-Goog-Content-Length-Range": f"{len(data)},{len(data)}",
        **headers,
    }
    return client._client.put(url, content=data, headers={k: v for k, v in sent.items() if v})


def test_signed_urls_take_the_shards_then_validate_upload_makes_it_ready() -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    client.datasets.create(dataset_id="shards", dataset={"user_uploaded": {}})
    files = {"a.jsonl": jsonl(sft_rows(2)), "b.jsonl": jsonl(sft_rows(2, tag="b"))}
    urls = signed(client, "shards", files)
    assert set(urls) == set(files)
    assert all(
        url.startswith("https://fake-fireworks-storage.invalid/fireworks-storage/")
        for url in urls.values()
    )
    assert put(client, urls["a.jsonl"], files["a.jsonl"]).status_code == 200
    with pytest.raises(fireworks.BadRequestError, match=r"b\.jsonl"):
        client.datasets.validate_upload("shards", body={})
    assert put(client, urls["b.jsonl"], files["b.jsonl"]).status_code == 200
    answer = client.datasets.with_raw_response.validate_upload("shards", body={})
    assert answer.http_response.json() == {}
    fake.advance(5)
    ready = client.datasets.get("shards")
    assert ready.state == "READY" and ready.example_count == "4"
    put_call = fake.calls("datasets.upload_put")[-1]
    assert put_call.api == "storage" and "authorization" not in put_call.headers


def test_a_put_must_match_what_was_signed() -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    client.datasets.create(dataset_id="d", dataset={"user_uploaded": {}})
    data = jsonl(sft_rows(3))
    url = signed(client, "d", {"d.jsonl": data})["d.jsonl"]

    def refused(answer: httpx.Response, status: int, code: str) -> None:
        assert answer.status_code == status
        assert f"<Code>{code}</Code>" in answer.text

    refused(put(client, url, data, **{"Content-Type": "text/plain"}), 403, "SignatureDoesNotMatch")
    refused(
        put(client, url, data, **{"X-Goog-Content-Length-Range": ""}), 403, "SignatureDoesNotMatch"
    )
    refused(
        put(client, url, data, **{"X-Goog-Content-Length-Range": "1,999"}),
        403,
        "SignatureDoesNotMatch",
    )
    refused(
        put(
            client, url, data + b"\n", **{"X-Goog-Content-Length-Range": f"{len(data)},{len(data)}"}
        ),
        400,
        "EntityTooLarge",
    )
    forged = re.sub(r"X-Goog-Signature=\w+", "X-Goog-Signature=0000", url)
    refused(put(client, forged, data), 403, "SignatureDoesNotMatch")
    fake.advance(3601)
    refused(put(client, url, data), 400, "ExpiredToken")
    fresh = signed(client, "d", {"d.jsonl": data})["d.jsonl"]
    assert fresh != url
    refused(put(client, url, data), 403, "SignatureDoesNotMatch")  # replaced
    assert put(client, fresh, data).status_code == 200


def test_registering_again_keeps_the_shards_already_put() -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    client.datasets.create(dataset_id="d", dataset={"user_uploaded": {}})
    files = {"a.jsonl": jsonl(sft_rows(2)), "b.jsonl": jsonl(sft_rows(2, tag="b"))}
    assert put(client, signed(client, "d", files)["a.jsonl"], files["a.jsonl"]).status_code == 200
    again = signed(client, "d", files)  # the SDK's helper re-signs the set, then puts only b
    assert put(client, again["b.jsonl"], files["b.jsonl"]).status_code == 200
    client.datasets.validate_upload("d", body={})
    fake.advance(5)
    assert client.datasets.get("d").example_count == "4"
    signed(client, "d", {"c.jsonl": files["a.jsonl"]})  # a new set drops a and b
    with pytest.raises(fireworks.BadRequestError, match=r"c\.jsonl"):
        client.datasets.validate_upload("d", body={})


# -------------------------------------------------------------- SFT jobs
def test_a_supervised_job_moves_through_its_states_on_the_virtual_clock() -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    name = ready_dataset(fake, client, "train")
    created = raw(
        client,
        "post",
        account_path("supervisedFineTuningJobs"),
        params={"supervisedFineTuningJobId": "job-1"},
        body={"dataset": name, "baseModel": BASE, "epochs": 2, "learningRate": 0.0002},
    ).json()
    job = strict(SupervisedFineTuningJob, created)
    assert job.name == f"accounts/{ACCOUNT}/supervisedFineTuningJobs/job-1"
    assert (
        job.state == "JOB_STATE_CREATING" and job.output_model == f"accounts/{ACCOUNT}/models/job-1"
    )
    assert (job.epochs, job.learning_rate, job.lora_rank) == (2, 0.0002, 8)
    seen: list[str] = []
    percents: list[int] = []
    while True:
        now = sft_get(client, "job-1")
        if not seen or seen[-1] != now.state:
            seen.append(str(now.state))
        if now.state == "JOB_STATE_RUNNING":
            assert now.job_progress is not None and now.metrics_file_signed_url
            percents.append(int(now.job_progress.percent or 0))
        if now.state == "JOB_STATE_COMPLETED":
            break
        fake.advance(7)
    assert seen == [
        "JOB_STATE_CREATING",
        "JOB_STATE_VALIDATING",
        "JOB_STATE_PENDING",
        "JOB_STATE_RUNNING",
        "JOB_STATE_WRITING_RESULTS",
        "JOB_STATE_COMPLETED",
    ]
    assert percents == sorted(percents) and percents[0] < percents[-1]
    assert now.job_progress is not None and now.job_progress.percent == 100
    assert now.completed_time is not None and now.status is not None and now.status.code == "OK"


def test_the_output_model_exists_once_the_job_completes() -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    name = ready_dataset(fake, client, "train")
    client.supervised_fine_tuning_jobs.create(
        dataset=name,
        base_model=BASE,
        supervised_fine_tuning_job_id="j",
        output_model="my-lora",
        lora_rank=16,
    )
    with pytest.raises(fireworks.NotFoundError):
        client.models.get("my-lora")
    fake.advance(3600)
    assert (
        client.supervised_fine_tuning_jobs.get("j").output_model
        == f"accounts/{ACCOUNT}/models/my-lora"
    )
    model = strict(Model, raw(client, "get", account_path("models/my-lora")).json())
    assert model.kind == "HF_PEFT_ADDON" and model.state == "READY"
    assert model.peft_details is not None and model.peft_details.base_model == BASE
    assert model.peft_details.r == 16
    assert model.fine_tuning_job == f"accounts/{ACCOUNT}/supervisedFineTuningJobs/j"


def test_writing_results_lasts_its_time_before_completed() -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    name = ready_dataset(fake, client, "train")
    client.supervised_fine_tuning_jobs.create(
        dataset=name, base_model=BASE, supervised_fine_tuning_job_id="j"
    )
    while client.supervised_fine_tuning_jobs.get("j").state != "JOB_STATE_WRITING_RESULTS":
        fake.advance(1)
    fake.advance(WRITING_RESULTS_SECONDS - 1)
    assert client.supervised_fine_tuning_jobs.get("j").state == "JOB_STATE_WRITING_RESULTS"
    fake.advance(1)
    assert client.supervised_fine_tuning_jobs.get("j").state == "JOB_STATE_COMPLETED"


def test_estimated_cost_is_tokens_times_epochs_times_the_catalog_rate_or_the_fakes() -> None:
    priced = ModelInfo(
        name=BASE,
        provider="fireworks",
        methods=frozenset({"sft", "dpo"}),
        training_prices={"sft": TrainingPrice(per_1m_tokens=2.0)},
    )
    unpriced = ModelInfo(
        name="accounts/fireworks/models/unpriced", provider="fireworks", methods=frozenset({"sft"})
    )
    fake = new_fake(models=[priced, unpriced])
    client = fake.fireworks_client(max_retries=0)
    name = ready_dataset(fake, client, "train", sft_rows(60))
    costs = {}
    for job_id, base, rate in (
        ("priced", BASE, 2.0),
        ("unpriced", unpriced.name, FAKE_RATE_PER_1M),
    ):
        job = client.supervised_fine_tuning_jobs.create(
            dataset=name, base_model=base, supervised_fine_tuning_job_id=job_id, epochs=3
        )
        cost = job.estimated_cost
        assert cost is not None and cost.currency_code == "USD"
        costs[job_id] = (int(cost.units or 0) + (cost.nanos or 0) / 1e9, rate)
    fake.advance(3600)
    for job_id, (dollars, rate) in costs.items():
        # The tokens the job trained on (3 epochs), as the trainer counted them.
        progress = client.supervised_fine_tuning_jobs.get(job_id).job_progress
        trained = progress.input_tokens if progress else None
        assert trained
        assert dollars == pytest.approx(trained / 1_000_000 * rate, rel=1e-6)


def test_a_job_without_an_id_gets_a_random_uuid() -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    name = ready_dataset(fake, client, "train")
    job = client.supervised_fine_tuning_jobs.create(dataset=name, base_model=BASE)
    assert re.fullmatch(f"accounts/{ACCOUNT}/supervisedFineTuningJobs/{UUID}", job.name or "")
    assert (
        client.supervised_fine_tuning_jobs.get((job.name or "").rsplit("/", 1)[-1]).name == job.name
    )


def test_a_duplicate_job_id_is_409_even_after_the_first_failed() -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    name = ready_dataset(fake, client, "train")
    client.supervised_fine_tuning_jobs.create(
        dataset=name, base_model=BASE, supervised_fine_tuning_job_id="once"
    )
    fake.fail_job(f"accounts/{ACCOUNT}/supervisedFineTuningJobs/once")
    with pytest.raises(fireworks.ConflictError) as conflict:
        client.supervised_fine_tuning_jobs.create(
            dataset=name, base_model=BASE, supervised_fine_tuning_job_id="once"
        )
    assert envelope(conflict.value) == {
        "code": 6,
        "message": f"accounts/{ACCOUNT}/supervisedFineTuningJobs/once already exists",
        "details": [],
    }
    assert len(fake.jobs) == 1
    with pytest.raises(fireworks.ConflictError, match="models/once already exists"):
        client.supervised_fine_tuning_jobs.create(
            dataset=name,
            base_model=BASE,
            supervised_fine_tuning_job_id="other",
            output_model="once",
        )


@pytest.mark.parametrize(
    ("body", "error", "code", "text"),
    [
        (
            {"baseModel": None},
            fireworks.BadRequestError,
            3,
            "exactly one of baseModel and warmStartFrom",
        ),
        (
            {"warmStartFrom": "accounts/fake-account/models/x"},
            fireworks.BadRequestError,
            3,
            "exactly one",
        ),
        (
            {"baseModel": "accounts/fireworks/models/nope"},
            fireworks.NotFoundError,
            5,
            "nope not found",
        ),
        ({"epochs": 0}, fireworks.BadRequestError, 3, "epochs must be an integer"),
        ({"learningRate": 0}, fireworks.BadRequestError, 3, "learningRate"),
        ({"loraRank": 128}, fireworks.BadRequestError, 3, "loraRank"),
        ({"maxContextLength": 10**7}, fireworks.BadRequestError, 3, "maxContextLength"),
        ({"epoch": 2}, fireworks.BadRequestError, 3, 'unknown field "epoch"'),
        ({"outputModel": "Bad_Id"}, fireworks.BadRequestError, 3, "invalid outputModel"),
    ],
)
def test_a_bad_supervised_request_is_refused(
    body: dict[str, Any], error: type[fireworks.APIStatusError], code: int, text: str
) -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    name = ready_dataset(fake, client, "train")
    full = {"dataset": name, "baseModel": BASE, **body}
    with pytest.raises(error) as refused:
        raw(
            client,
            "post",
            account_path("supervisedFineTuningJobs"),
            body={k: v for k, v in full.items() if v is not None},
        )
    assert envelope(refused.value)["code"] == code and text in envelope(refused.value)["message"]
    assert fake.jobs == []


def test_the_dataset_must_exist_be_ready_and_of_the_right_kind() -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    sft = client.supervised_fine_tuning_jobs
    with pytest.raises(fireworks.NotFoundError):
        sft.create(dataset=f"accounts/{ACCOUNT}/datasets/none", base_model=BASE)
    client.datasets.create(dataset_id="pending", dataset={"user_uploaded": {}})
    with pytest.raises(fireworks.BadRequestError) as refused:
        sft.create(dataset=f"accounts/{ACCOUNT}/datasets/pending", base_model=BASE)
    assert envelope(refused.value)["code"] == 9  # FAILED_PRECONDITION
    pairs = ready_dataset(fake, client, "pairs", dpo_rows())
    with pytest.raises(fireworks.BadRequestError, match="preference examples"):
        sft.create(dataset=pairs, base_model=BASE)
    with pytest.raises(fireworks.BadRequestError, match="not a dataset of account"):
        sft.create(dataset="accounts/other/datasets/x", base_model=BASE)


def test_cancel_then_resume_continues_from_where_it_stopped() -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    name = ready_dataset(fake, client, "train", sft_rows(200))
    sft = client.supervised_fine_tuning_jobs
    sft.create(dataset=name, base_model=BASE, supervised_fine_tuning_job_id="j", epochs=2)
    while sft.get("j").state != "JOB_STATE_RUNNING":
        fake.advance(5)
    fake.advance(40)
    before = sft.get("j").job_progress
    assert before is not None and 0 < (before.percent or 0) < 100
    with pytest.raises(fireworks.BadRequestError) as running:
        sft.resume("j", body={})
    assert envelope(running.value)["code"] == 9
    assert (
        raw(client, "post", account_path("supervisedFineTuningJobs/j:cancel"), body={}).json() == {}
    )
    assert sft.get("j").state == "JOB_STATE_CANCELLING"
    fake.advance(CANCELLING_SECONDS)
    stopped = sft.get("j")
    assert stopped.state == "JOB_STATE_CANCELLED" and stopped.completed_time is not None
    fake.advance(500)
    resumed = strict(
        SupervisedFineTuningJob,
        raw(client, "post", account_path("supervisedFineTuningJobs/j:resume"), body={}).json(),
    )
    assert resumed.state == "JOB_STATE_RUNNING" and resumed.completed_time is None
    assert resumed.job_progress is not None and resumed.job_progress.percent == before.percent
    fake.advance(3600)
    assert sft.get("j").state == "JOB_STATE_COMPLETED"
    with pytest.raises(fireworks.BadRequestError):
        sft.resume("j", body={})
    with pytest.raises(fireworks.BadRequestError):
        sft.cancel("j", body={})


def test_fail_job_reads_failed_with_a_status_and_resume_retrains() -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    name = ready_dataset(fake, client, "train")
    sft = client.supervised_fine_tuning_jobs
    sft.create(dataset=name, base_model=BASE, supervised_fine_tuning_job_id="j")
    fake.advance(100)
    fake.fail_job(
        f"accounts/{ACCOUNT}/supervisedFineTuningJobs/j",
        code="RESOURCE_EXHAUSTED",
        message="out of GPUs",
    )
    failed = sft_get(client, "j")
    assert failed.state == "JOB_STATE_FAILED"
    assert failed.status is not None and (failed.status.code, failed.status.message) == (
        "RESOURCE_EXHAUSTED",
        "out of GPUs",
    )
    assert sft.resume("j", body={}).state == "JOB_STATE_RUNNING"
    fake.advance(3600)
    assert sft_get(client, "j").state == "JOB_STATE_COMPLETED"
    name2 = ready_dataset(fake, client, "early")
    sft.create(dataset=name2, base_model=BASE, supervised_fine_tuning_job_id="early")
    fake.fail_job(f"accounts/{ACCOUNT}/supervisedFineTuningJobs/early")  # while creating
    assert sft_get(client, "early").status.code == "INTERNAL"  # type: ignore[union-attr]
    assert sft.resume("early", body={}).state in ("JOB_STATE_CREATING", "JOB_STATE_VALIDATING")
    fake.advance(3600)
    assert sft.get("early").state == "JOB_STATE_COMPLETED"


def test_jobs_list_honours_order_by_and_pages_and_delete_answers_empty() -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    name = ready_dataset(fake, client, "train")
    for job_id in ("b", "a", "c"):
        client.supervised_fine_tuning_jobs.create(
            dataset=name, base_model=BASE, supervised_fine_tuning_job_id=job_id
        )
        fake.advance(1)
    path = account_path("supervisedFineTuningJobs")
    by_name = raw(client, "get", path).json()
    assert [j["name"][-1] for j in by_name["supervisedFineTuningJobs"]] == ["a", "b", "c"]
    assert by_name["totalSize"] == 3
    newest = raw(client, "get", path, params={"orderBy": "createTime desc", "pageSize": 2}).json()
    assert [j["name"][-1] for j in newest["supervisedFineTuningJobs"]] == ["c", "a"]
    for item in newest["supervisedFineTuningJobs"]:
        strict(SupervisedFineTuningJob, item)
    listed = client.supervised_fine_tuning_jobs.list(order_by="createTime desc", page_size=1)
    assert [j.name[-1] for j in listed if j.name] == ["c", "a", "b"]
    with pytest.raises(fireworks.BadRequestError):
        raw(client, "get", path, params={"orderBy": "colour"})
    assert raw(client, "delete", account_path("supervisedFineTuningJobs/a")).json() == {}
    with pytest.raises(fireworks.NotFoundError):
        client.supervised_fine_tuning_jobs.get("a")
    assert len(fake.jobs) == 2


# --------------------------------------------------------------- DPO jobs
def test_dpo_warm_starts_from_the_sft_model_and_echoes_its_loss() -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    name = ready_dataset(fake, client, "train")
    client.supervised_fine_tuning_jobs.create(
        dataset=name, base_model=BASE, supervised_fine_tuning_job_id="sft"
    )
    pairs = ready_dataset(fake, client, "pairs", dpo_rows())
    lora = f"accounts/{ACCOUNT}/models/sft"
    config = {"warmStartFrom": lora, "epochs": 1, "loraRank": 8}
    with pytest.raises(fireworks.BadRequestError) as early:
        client.dpo_jobs.create(
            dataset=pairs, dpo_job_id="dpo", training_config={"warm_start_from": lora}
        )
    assert envelope(early.value)["code"] == 9
    fake.advance(3600)
    created = raw(
        client,
        "post",
        account_path("dpoJobs"),
        params={"dpoJobId": "dpo"},
        body={
            "dataset": pairs,
            "trainingConfig": {**config, "outputModel": "dpo-lora"},
            "lossConfig": {"method": "DPO", "dpo": {"beta": 0.1}},
        },
    ).json()
    job = strict(DpoJob, created)
    assert job.training_config is not None and job.training_config.warm_start_from == lora
    assert job.training_config.output_model == f"accounts/{ACCOUNT}/models/dpo-lora"
    assert job.loss_config is not None and job.loss_config.method == "DPO"
    assert job.loss_config.dpo is not None and job.loss_config.dpo.beta == 0.1
    fake.advance(3600)
    done = strict(DpoJob, raw(client, "get", account_path("dpoJobs/dpo")).json())
    assert done.state == "JOB_STATE_COMPLETED" and done.completed_time is not None
    model = client.models.get("dpo-lora")
    assert model.peft_details is not None and model.peft_details.base_model == BASE


def test_dpo_without_a_method_trains_grpo_and_beta_must_be_below_half() -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    pairs = ready_dataset(fake, client, "pairs", dpo_rows())
    job = client.dpo_jobs.create(
        dataset=pairs, dpo_job_id="plain", training_config={"base_model": BASE}
    )
    assert job.loss_config is not None and job.loss_config.method == "GRPO"
    unspecified = client.dpo_jobs.create(
        dataset=pairs,
        dpo_job_id="unspecified",
        training_config={"base_model": BASE},
        loss_config={"method": "METHOD_UNSPECIFIED"},
    )
    assert unspecified.loss_config is not None and unspecified.loss_config.method == "GRPO"
    for beta in (0.5, 0, -1):
        with pytest.raises(fireworks.BadRequestError, match="beta"):
            client.dpo_jobs.create(
                dataset=pairs,
                training_config={"base_model": BASE},
                loss_config={"method": "DPO", "dpo": {"beta": beta}},
            )
    train = ready_dataset(fake, client, "train")
    with pytest.raises(fireworks.BadRequestError, match="supervised"):
        client.dpo_jobs.create(dataset=train, training_config={"base_model": BASE})


def test_metrics_files_are_signed_json_lines() -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    pairs = ready_dataset(fake, client, "pairs", dpo_rows())
    client.dpo_jobs.create(dataset=pairs, dpo_job_id="dpo", training_config={"base_model": BASE})
    early = client.dpo_jobs.with_raw_response.get_metrics_file_endpoint("dpo").http_response.json()
    assert early == {}
    fake.advance(3600)
    answer = client.dpo_jobs.with_raw_response.get_metrics_file_endpoint("dpo").http_response.json()
    url = strict(DpoJobGetMetricsFileEndpointResponse, answer).signed_url or ""
    got = client._client.get(url)
    rows = [json.loads(line) for line in got.text.splitlines()]
    assert rows and rows[0]["step"] == 1 and {"epoch", "train_loss"} <= set(rows[0])
    assert client._client.get(url.replace("Signature=", "Signature=x")).status_code == 403
    sft_job = completed_sft(fake, client)
    sft_rows_got = client._client.get(
        client.supervised_fine_tuning_jobs.get("sft-1").metrics_file_signed_url or ""
    )
    assert sft_rows_got.status_code == 200 and sft_job.name


# ---------------------------------------------------------- serving, chat
def test_a_lora_answers_chat_only_through_a_ready_deployment() -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    completed_sft(fake, client)
    lora = f"accounts/{ACCOUNT}/models/sft-1"
    question: Any = [{"role": "user", "content": "What is 3?"}]
    with pytest.raises(fireworks.NotFoundError) as missing:
        client.chat.completions.create(model=lora, messages=question)
    assert envelope(missing.value) == {
        "message": "Model not found, inaccessible, and/or not deployed",
        "param": "model",
        "code": "NOT_FOUND",
        "type": "error",
    }
    created = raw(
        client,
        "post",
        account_path("deployments"),
        params={"deploymentId": "serve"},
        body={
            "baseModel": lora,
            "minReplicaCount": 1,
            "maxReplicaCount": 2,
            "acceleratorType": "NVIDIA_H100_80GB",
        },
    ).json()
    deployment = strict(Deployment, created)
    assert deployment.state == "CREATING" and deployment.base_model == lora
    with pytest.raises(fireworks.NotFoundError):
        client.chat.completions.create(model=lora, messages=question)
    fake.advance(DEPLOYMENT_SECONDS)
    ready = strict(Deployment, raw(client, "get", account_path("deployments/serve")).json())
    assert ready.state == "READY" and ready.replica_count == 1
    answer = client.chat.completions.with_raw_response.create(model=lora, messages=question)
    completion = strict(CompletionCreateResponse, answer.http_response.json())
    assert completion.model == lora and completion.choices[0].message.content
    assert completion.usage is not None and completion.usage.total_tokens > 0
    named = client.chat.completions.create(
        model=f"{lora}#accounts/{ACCOUNT}/deployments/serve", messages=question
    )
    assert named.choices[0].message.content == completion.choices[0].message.content
    with pytest.raises(fireworks.NotFoundError):
        client.chat.completions.create(
            model=f"{lora}#accounts/{ACCOUNT}/deployments/other", messages=question
        )
    with pytest.raises(fireworks.ConflictError):
        client.deployments.create(base_model=lora, deployment_id="serve")
    assert raw(client, "delete", account_path("deployments/serve")).json() == {}
    with pytest.raises(fireworks.NotFoundError):
        client.chat.completions.create(model=lora, messages=question)


def test_the_fine_tuned_model_recalls_its_training_data() -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    completed_sft(fake, client)
    lora = f"accounts/{ACCOUNT}/models/sft-1"
    client.deployments.create(base_model=lora, deployment_id="serve")
    fake.advance(DEPLOYMENT_SECONDS)
    fake.chat = type(fake.chat)(error_rate=0.0)
    answer = client.chat.completions.create(model=lora, messages=chat_messages("What is 4?"))
    assert answer.choices[0].message.content == "It is 4."
    base = client.chat.completions.create(model=BASE, messages=chat_messages("What is 4?"))
    assert base.choices[0].message.content != "It is 4."


def test_a_streamed_answer_is_fireworks_chunks() -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    response = raw(
        client,
        "post",
        "/v1/chat/completions",
        body={
            "model": BASE,
            "messages": [{"role": "user", "content": "Hello there"}],
            "stream": True,
        },
    )
    datas = [
        e.removeprefix("data: ") for e in response.text.split("\n\n") if e.startswith("data: ")
    ]
    assert datas[-1] == "[DONE]"
    chunks = [strict(ChatCompletionChunk, json.loads(d)) for d in datas[:-1]]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop" and chunks[-1].usage is not None
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    streamed = list(
        client.chat.completions.create(
            model=BASE, messages=chat_messages("Hello there"), stream=True
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in streamed) == text


def test_base_models_are_readable_from_the_fireworks_account() -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    shown = raw(client, "get", "/v1/accounts/fireworks/models/qwen3-8b").json()
    model = strict(Model, shown)
    assert model.name == BASE and model.kind == "HF_BASE_MODEL" and model.tunable
    assert client.models.get("qwen3-8b", account_id="fireworks").name == BASE
    with pytest.raises(fireworks.NotFoundError):
        client.models.get("no-such-model", account_id="fireworks")


def test_a_deployment_needs_a_known_servable_model() -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    with pytest.raises(fireworks.NotFoundError):
        client.deployments.create(base_model=f"accounts/{ACCOUNT}/models/none")
    with pytest.raises(fireworks.BadRequestError, match="maxReplicaCount"):
        client.deployments.create(base_model=BASE, min_replica_count=2, max_replica_count=1)
    made = client.deployments.create(base_model=BASE)
    assert re.fullmatch(f"accounts/{ACCOUNT}/deployments/d[0-9a-f]{{10}}", made.name or "")
    assert [d.name for d in client.deployments.list()] == [made.name]


# ------------------------------------------------------- auth and accounts
def test_a_missing_or_wrong_key_is_401_without_quoting_it() -> None:
    fake = new_fake(api_keys=["fw_right"])
    assert list(fake.fireworks_client().datasets.list()) == []
    with pytest.raises(fireworks.AuthenticationError) as wrong:
        fake.fireworks_client(api_key="fw_wrong-secret", max_retries=0).datasets.list()
    assert envelope(wrong.value)["code"] == 16
    assert "wrong-secret" not in json.dumps(envelope(wrong.value))
    from ftkit.testing._clients import _bridge

    bare = httpx.Client(transport=httpx.MockTransport(_bridge(fake.handle)))
    missing = bare.get(f"https://fake-fireworks.invalid/v1/accounts/{ACCOUNT}/datasets")
    assert missing.status_code == 401 and missing.json()["code"] == 16


def test_another_accounts_paths_are_403() -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    with pytest.raises(fireworks.PermissionDeniedError) as denied:
        client.datasets.list(account_id="someone-else")
    assert envelope(denied.value)["code"] == 7
    with pytest.raises(fireworks.PermissionDeniedError):
        client.supervised_fine_tuning_jobs.get("x", account_id="someone-else")
    other = FakeFineTuningAPI(provider="fireworks", org_name="acme")
    assert other.fireworks_client().account_id == "acme"
    assert (
        other.fireworks_client().datasets.create(dataset_id="d", dataset={"user_uploaded": {}}).name
        == "accounts/acme/datasets/d"
    )


def test_unknown_paths_are_404_in_the_grpc_envelope() -> None:
    client = new_fake().fireworks_client(max_retries=0)
    with pytest.raises(fireworks.NotFoundError) as missing:
        raw(client, "get", account_path("checkpoints"))
    assert envelope(missing.value)["code"] == 5
    with pytest.raises(fireworks.NotFoundError):
        raw(client, "get", account_path("supervisedFineTuningJobs/x/events"))


# ------------------------------------------------------ faults, recording
def test_faults_reach_fireworks_routes_and_retries_wait_on_the_clock() -> None:
    fake = new_fake()
    client = fake.fireworks_client()  # the SDK's 2 retries
    name = ready_dataset(fake, client, "train")
    fault = fake.faults.inject("sft_jobs.create", "503")
    slept = len(fake.clock.slept)
    client.supervised_fine_tuning_jobs.create(
        dataset=name, base_model=BASE, supervised_fine_tuning_job_id="j"
    )
    assert fault.fired == 1 and len(fake.clock.slept) == slept + 1
    assert [r.status for r in fake.calls("sft_jobs.create")] == [503, 200]
    fake.faults.inject("sft_jobs.get", "429", retry_after=7)
    client.supervised_fine_tuning_jobs.get("j")
    assert 7.0 in fake.clock.slept
    fake.faults.inject("datasets.get", "status", status=500)
    no_retry = fake.fireworks_client(max_retries=0)
    with pytest.raises(fireworks.InternalServerError) as caught:
        no_retry.datasets.get("train")
    assert envelope(caught.value)["code"] == 13


def test_a_lost_create_answer_is_found_again_by_its_id() -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    name = ready_dataset(fake, client, "train")
    fake.faults.inject("sft_jobs.create", "applied_but_lost")
    with pytest.raises(fireworks.APITimeoutError):
        client.supervised_fine_tuning_jobs.create(
            dataset=name, base_model=BASE, supervised_fine_tuning_job_id="j"
        )
    with pytest.raises(fireworks.ConflictError):
        client.supervised_fine_tuning_jobs.create(
            dataset=name, base_model=BASE, supervised_fine_tuning_job_id="j"
        )
    assert client.supervised_fine_tuning_jobs.get("j").dataset == name
    assert len(fake.jobs) == 1 and len(fake.calls("sft_jobs.create")) == 2
    fake.faults.inject("datasets.upload_put", "reset")
    client.datasets.create(dataset_id="shards", dataset={"user_uploaded": {}})
    url = signed(client, "shards", {"a.jsonl": b"{}\n"})["a.jsonl"]
    with pytest.raises(httpx.ConnectError):
        put(client, url, b"{}\n")


def test_fireworks_names_its_own_routes() -> None:
    names = set(new_fake().route_names)
    expected = {
        "datasets.create",
        "datasets.list",
        "datasets.get",
        "datasets.delete",
        "datasets.upload",
        "datasets.get_upload_endpoint",
        "datasets.validate_upload",
        "datasets.upload_put",
        "sft_jobs.create",
        "sft_jobs.list",
        "sft_jobs.get",
        "sft_jobs.delete",
        "sft_jobs.cancel",
        "sft_jobs.resume",
        "dpo_jobs.create",
        "dpo_jobs.list",
        "dpo_jobs.get",
        "dpo_jobs.delete",
        "dpo_jobs.cancel",
        "dpo_jobs.resume",
        "dpo_jobs.get_metrics_file_endpoint",
        "jobs.metrics_file",
        "models.get",
        "deployments.create",
        "deployments.list",
        "deployments.get",
        "deployments.delete",
        "chat.completions.create",
    }
    assert names == expected
    assert expected <= set(ROUTE_NAMES)
    with pytest.raises(ValueError, match="provider='fireworks'"):
        FakeFineTuningAPI().fireworks_client()
    assert new_fake().apis == ("fireworks", "inference", "storage")


def test_dpo_jobs_list_cancel_resume_and_delete() -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    pairs = ready_dataset(fake, client, "pairs", dpo_rows())
    for job_id in ("one", "two"):
        client.dpo_jobs.create(
            dataset=pairs, dpo_job_id=job_id, training_config={"base_model": BASE}
        )
    listed = raw(client, "get", account_path("dpoJobs"), params={"orderBy": "name desc"}).json()
    assert [j["name"].rsplit("/", 1)[-1] for j in listed["dpoJobs"]] == ["two", "one"]
    for item in listed["dpoJobs"]:
        strict(DpoJob, item)
    assert raw(client, "post", account_path("dpoJobs/one:cancel"), body={}).json() == {}
    fake.advance(CANCELLING_SECONDS)
    assert client.dpo_jobs.get("one").state == "JOB_STATE_CANCELLED"
    resumed = raw(client, "post", account_path("dpoJobs/one:resume"), body={}).json()
    assert strict(DpoJob, resumed).state in ("JOB_STATE_CREATING", "JOB_STATE_VALIDATING")
    assert raw(client, "delete", account_path("dpoJobs/two")).json() == {}
    assert [j.name for j in client.dpo_jobs.list()] == [f"accounts/{ACCOUNT}/dpoJobs/one"]
    filtered = raw(
        client, "get", account_path("dpoJobs"), params={"filter": 'state="JOB_STATE_FAILED"'}
    ).json()
    assert filtered == {"dpoJobs": [], "totalSize": 0}
    with pytest.raises(fireworks.BadRequestError, match="unsupported filter"):
        raw(client, "get", account_path("dpoJobs"), params={"filter": "state > 3"})


def test_the_fakes_own_views_and_controls_name_jobs_in_full() -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    name = ready_dataset(fake, client, "train")
    client.supervised_fine_tuning_jobs.create(
        dataset=name, base_model=BASE, supervised_fine_tuning_job_id="j"
    )
    full = f"accounts/{ACCOUNT}/supervisedFineTuningJobs/j"
    assert fake.job(full)["state"] == "JOB_STATE_CREATING"
    assert [j["name"] for j in fake.jobs] == [full]
    assert fake.events(full)[0]["message"].startswith("Created fine-tuning job")
    strict(SupervisedFineTuningJob, fake.job(full))
    assert [f["name"] for f in fake.files] == [name]


def test_refuse_training_and_the_active_job_limit_refuse_creates() -> None:
    fake = new_fake(max_active_jobs=1)
    client = fake.fireworks_client(max_retries=0)
    name = ready_dataset(fake, client, "train")
    client.supervised_fine_tuning_jobs.create(dataset=name, base_model=BASE)
    with pytest.raises(fireworks.RateLimitError) as limited:
        client.supervised_fine_tuning_jobs.create(dataset=name, base_model=BASE)
    assert envelope(limited.value)["code"] == 8  # RESOURCE_EXHAUSTED
    fake.refuse_training()
    pairs = ready_dataset(fake, client, "pairs", dpo_rows())
    with pytest.raises(fireworks.PermissionDeniedError) as refused:
        client.dpo_jobs.create(dataset=pairs, training_config={"base_model": BASE})
    assert envelope(refused.value)["code"] == 7
    fake.refuse_training(False)
    fake.advance(3600)
    client.dpo_jobs.create(dataset=pairs, training_config={"base_model": BASE})

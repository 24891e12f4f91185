"""``provider="together"``: files, jobs, prices and chat, driven by the real together SDK.

Every answer is checked against the together SDK's own pydantic types by validating
the JSON the fake sent (``Model.model_validate(raw_json)``), not the SDK's lenient
construction, so a field the fake misspells or mistypes fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import together
from pydantic import TypeAdapter
from together.types import (
    FileResponse,
    FinetuneModelLimits,
    FinetuneResponse,
    FineTuningCancelResponse,
    FineTuningDeleteResponse,
    FineTuningListCheckpointsResponse,
    FineTuningListEventsResponse,
    FineTuningListMetricsResponse,
    FineTuningListResponse,
)
from together.types.chat import ChatCompletion
from together.types.file_delete_response import FileDeleteResponse
from together.types.file_list import FileList
from together.types.fine_tuning_estimate_price_response import FineTuningEstimatePriceResponse

from ftkit.providers import models
from ftkit.testing import DEFAULT_START, FakeClock, FakeFineTuningAPI
from ftkit.testing._together_jobs import FAKE_RATES_PER_1M
from ftkit.testing._together_shapes import COMPRESSING_SECONDS, UPLOADING_SECONDS

BASE = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
ESTIMATE = TypeAdapter(FineTuningEstimatePriceResponse)


def sft_rows(n: int = 12, tag: str = "") -> list[dict[str, Any]]:
    return [
        {
            "messages": [
                {"role": "user", "content": f"What is {i}{tag}?"},
                {"role": "assistant", "content": f"It is {i}{tag}."},
            ]
        }
        for i in range(n)
    ]


def dpo_rows(n: int = 12) -> list[dict[str, Any]]:
    return [
        {
            "input": {"messages": [{"role": "user", "content": f"Say {i}"}]},
            "preferred_output": [{"role": "assistant", "content": f"{i}!"}],
            "non_preferred_output": [{"role": "assistant", "content": "no"}],
        }
        for i in range(n)
    ]


def write(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def new_fake(**options: Any) -> FakeFineTuningAPI:
    return FakeFineTuningAPI(
        provider="together", seed=7, clock=FakeClock(start=DEFAULT_START), **options
    )


def raw(
    client: together.Together,
    method: str,
    path: str,
    *,
    params: dict[str, Any] | None = None,
    json_data: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """The HTTP answer itself, through the client (its JSON is what the tests validate)."""
    options: Any = {}
    if params:
        options["params"] = params
    if headers:
        options["headers"] = headers
    if method == "get":
        return client.get(path, cast_to=httpx.Response, options=options)
    if method == "post":
        return client.post(path, cast_to=httpx.Response, body=json_data, options=options)
    return client.delete(path, cast_to=httpx.Response, options=options)


def get_json(client: together.Together, path: str, **params: Any) -> Any:
    return raw(client, "get", path, params=params).json()


def uploaded(fake: FakeFineTuningAPI, client: together.Together, path: Path) -> str:
    """Upload through the SDK's own upload manager and let validation finish."""
    file_id = client.files.upload(file=path).id
    fake.advance(10)
    return file_id


def completed_job(
    fake: FakeFineTuningAPI, client: together.Together, tmp_path: Path, **options: Any
) -> Any:
    file_id = uploaded(fake, client, write(tmp_path / "train.jsonl", sft_rows()))
    job = client.fine_tuning.create(training_file=file_id, model=BASE, **options)
    fake.advance(3600)
    return job


# ------------------------------------------------------------------- files
def test_upload_goes_post_302_put_preprocess_and_validates_over_virtual_time(
    tmp_path: Path,
) -> None:
    fake = new_fake()
    client = fake.together_client()
    assert isinstance(client, together.Together)
    shown = client.files.upload(file=write(tmp_path / "train.jsonl", sft_rows()))

    routes = [(r.route, r.status) for r in fake.requests]
    assert routes == [("files.create", 302), ("files.upload_put", 200), ("files.preprocess", 200)]
    put = fake.requests[1]
    assert put.path.startswith("/together-uploads/")
    assert "authorization" not in put.headers  # the URL's signature is the credential
    assert re.fullmatch(f"file-{UUID}", shown.id)

    statuses = []
    for step in (0, 2, 1, 10):  # Timings.file_processing: 3 virtual seconds
        fake.advance(step)
        body = get_json(client, f"/v1/files/{shown.id}")
        FileResponse.model_validate(body)
        statuses.append(body["processing_status"])
    assert statuses == ["QUEUED", "RUNNING", "COMPLETED", "COMPLETED"]
    report = body["validation_report"]
    assert report["valid"] is True
    assert report["dataset_format"] == "CONVERSATION"
    assert report["nlines"] == 12
    assert body["bytes"] == (tmp_path / "train.jsonl").stat().st_size
    assert body["created_at"] == int(DEFAULT_START)

    listed = get_json(client, "/v1/files")
    FileList.model_validate(listed)
    assert [f["id"] for f in listed["data"]] == [shown.id]
    assert client.files.content(shown.id).read() == (tmp_path / "train.jsonl").read_bytes()
    assert fake.files[0]["processing_status"] == "COMPLETED"


def test_identical_content_is_answered_409_and_the_sdk_reuses_the_file(tmp_path: Path) -> None:
    fake = new_fake()
    client = fake.together_client()
    path = write(tmp_path / "train.jsonl", sft_rows())
    first = uploaded(fake, client, path)
    again = client.files.upload(file=write(tmp_path / "copy.jsonl", sft_rows()))
    assert again.id == first
    conflicts = [r for r in fake.requests if r.route == "files.create" and r.status == 409]
    assert conflicts  # the SDK retries a 409 as a lock timeout, then reuses the file
    assert len(fake.files) == 1

    other = client.files.upload(file=write(tmp_path / "other.jsonl", sft_rows(tag="b")))
    assert other.id != first


def test_the_409_body_names_the_existing_file(tmp_path: Path) -> None:
    from together.lib.resources.files import FileAlreadyExistsError

    fake = new_fake()
    client = fake.together_client(max_retries=0)
    path = write(tmp_path / "train.jsonl", sft_rows())
    first = uploaded(fake, client, path)
    with pytest.raises(FileAlreadyExistsError) as caught:
        client.files.upload(file=path, raise_if_already_exists=True)
    assert caught.value.file_id == first
    assert [r.status for r in fake.calls("files.create")] == [302, 409]


def test_a_malformed_line_is_invalid_format_naming_the_line(tmp_path: Path) -> None:
    fake = new_fake()
    client = fake.together_client()
    path = tmp_path / "bad.jsonl"
    lines = [json.dumps(r) for r in sft_rows()]
    lines[2] = '{"messages": [ not json'
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    file_id = client.files.upload(file=path, check=False).id
    fake.advance(10)
    body = get_json(client, f"/v1/files/{file_id}")
    FileResponse.model_validate(body)
    assert body["processing_status"] == "INVALID_FORMAT"
    report = body["validation_report"]
    assert report["valid"] is False and report["error_type"] == "INVALID_FORMAT"
    assert "Line 3" in report["error"]

    estimate = client.fine_tuning.estimate_price(training_file=file_id, model=BASE)
    assert estimate.estimation_available is False
    assert estimate.unavailable_reason == "train_file_invalid"
    with pytest.raises(together.BadRequestError, match="failed validation"):
        client.post(
            "/v1/fine-tunes",
            body={"training_file": file_id, "model": BASE, "n_epochs": 1},
            cast_to=httpx.Response,
        )


@pytest.mark.parametrize(
    ("row", "words"),
    [
        ({"messages": [{"role": "robot", "content": "x"}]}, "role"),
        ({"messages": [{"role": "user", "content": "q"}]}, "no assistant"),
        (
            {
                "messages": [
                    {"role": "user", "content": "q"},
                    {"role": "assistant", "content": "a", "weight": 2},
                ]
            },
            "weight must be 0 or 1",
        ),
        ({"question": "q"}, "unknown dataset format"),
    ],
)
def test_server_side_validation_refuses_what_together_refuses(
    tmp_path: Path, row: dict[str, Any], words: str
) -> None:
    fake = new_fake()
    client = fake.together_client()
    file_id = client.files.upload(
        file=write(tmp_path / "f.jsonl", [*sft_rows(3), row]), check=False
    ).id
    fake.advance(10)
    report = client.files.retrieve(file_id).validation_report
    assert report is not None and report.valid is False
    assert words in str(report.error) and "Line 4" in str(report.error)


def test_a_preference_file_is_preference_openai(tmp_path: Path) -> None:
    fake = new_fake()
    client = fake.together_client()
    file_id = uploaded(fake, client, write(tmp_path / "dpo.jsonl", dpo_rows()))
    report = client.files.retrieve(file_id).validation_report
    assert report is not None and report.dataset_format == "PREFERENCE_OPENAI"


def test_files_delete(tmp_path: Path) -> None:
    fake = new_fake()
    client = fake.together_client()
    file_id = uploaded(fake, client, write(tmp_path / "train.jsonl", sft_rows()))
    body = raw(client, "delete", f"/v1/files/{file_id}").json()
    FileDeleteResponse.model_validate(body)
    assert body == {"id": file_id, "deleted": True}
    with pytest.raises(together.NotFoundError):
        client.files.retrieve(file_id)


# -------------------------------------------------------------------- jobs
def test_a_job_moves_through_togethers_statuses_on_the_virtual_clock(tmp_path: Path) -> None:
    fake = new_fake()
    client = fake.together_client()
    file_id = uploaded(fake, client, write(tmp_path / "train.jsonl", sft_rows()))
    job = client.fine_tuning.create(training_file=file_id, model=BASE, suffix="demo-ftkabcdefgh")
    assert [r.route for r in fake.requests[-3:]] == [
        "models.limits",
        "jobs.estimate_price",
        "jobs.create",
    ]
    assert re.fullmatch(f"ft-{UUID}", job.id)

    seen: list[str] = []
    for _ in range(60):
        body = get_json(client, f"/v1/fine-tunes/{job.id}")
        FinetuneResponse.model_validate(body)
        if not seen or seen[-1] != body["status"]:
            seen.append(body["status"])
        if body["status"] == "completed":
            break
        fake.advance(10)
    assert seen == ["pending", "queued", "running", "compressing", "uploading", "completed"]
    assert body["suffix"] == "demo-ftkabcdefgh"
    assert body["training_file"] == file_id
    assert body["model"] == BASE
    assert re.fullmatch(
        r"fake/Meta-Llama-3\.1-8B-Instruct-Reference-demo-ftkabcdefgh-[0-9a-f]{6}",
        body["model_output_name"],
    )
    assert body["training_type"]["type"] == "Lora"
    assert body["training_method"] == {"method": "sft", "train_on_inputs": "auto"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["created_at"])
    assert body["token_count"] > 0 and body["total_steps"] >= 1


def test_events_checkpoints_metrics_and_download(tmp_path: Path) -> None:
    fake = new_fake()
    client = fake.together_client()
    job = completed_job(fake, client, tmp_path, n_epochs=3, n_checkpoints=3)

    events = get_json(client, f"/v1/fine-tunes/{job.id}/events")
    FineTuningListEventsResponse.model_validate(events)
    kinds = [e["type"] for e in events["data"]]
    assert kinds[:3] == ["job_pending", "job_start", "training_start"]
    assert kinds.count("epoch_complete") == 3
    assert kinds.count("checkpoint_save") == 2  # the third is the final model
    assert kinds[-5:] == [
        "training_complete",
        "model_compressing",
        "model_uploading",
        "model_upload_complete",
        "job_complete",
    ]
    assert all("id" not in e for e in events["data"])
    times = [e["created_at"] for e in events["data"]]
    assert times == sorted(times)  # oldest first
    epoch = next(e for e in events["data"] if e["type"] == "epoch_complete")
    assert epoch["step"] >= 1 and epoch["total_steps"] >= epoch["step"]

    saved = get_json(client, f"/v1/fine-tunes/{job.id}/checkpoints")
    FineTuningListCheckpointsResponse.model_validate(saved)
    kinds = [c["checkpoint_type"] for c in saved["data"]]
    assert kinds == ["Intermediate", "Intermediate", "Final"]
    steps = [c["step"] for c in saved["data"]]
    assert steps == sorted(steps)

    metrics = get_json(client, f"/v1/fine-tunes/{job.id}/metrics")
    FineTuningListMetricsResponse.model_validate(metrics)
    rows = metrics["metrics"]
    assert [r["global_step"] for r in rows] == [float(s) for s in range(1, steps[-1] + 1)]
    assert all(isinstance(v, float) for r in rows for v in r.values())
    some = client.fine_tuning.list_metrics(job.id, global_step_from=2, global_step_to=2)
    assert [r["global_step"] for r in some.metrics or []] == [2.0]

    download = raw(
        client, "get", "/v1/finetune/download", params={"ft_id": job.id, "checkpoint": "adapter"}
    )
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"].endswith('.tar.zst"')
    assert download.content.startswith(b"FTKIT-FAKE-WEIGHTS")
    ranged = raw(
        client,
        "get",
        "/v1/finetune/download",
        params={"ft_id": job.id, "checkpoint": "adapter"},
        headers={"Range": "bytes=0-1"},
    )
    assert ranged.status_code == 206 and len(ranged.content) == 2
    assert ranged.headers["content-range"] == f"bytes 0-1/{len(download.content)}"
    stepped = client.fine_tuning.content(ft_id=job.id, checkpoint_step=steps[0]).read()
    assert stepped != download.content
    with pytest.raises(together.BadRequestError):
        client.fine_tuning.content(ft_id=job.id, checkpoint_step=999)


def test_the_list_echoes_suffix_and_training_file_exactly(tmp_path: Path) -> None:
    fake = new_fake()
    client = fake.together_client()
    file_id = uploaded(fake, client, write(tmp_path / "train.jsonl", sft_rows()))
    made = [
        client.fine_tuning.create(training_file=file_id, model=BASE, suffix=suffix).id
        for suffix in ("a-ftk23456789", "b_ftk23456789")
    ]
    body = get_json(client, "/v1/fine-tunes")
    FineTuningListResponse.model_validate(body)
    assert [j["id"] for j in body["data"]] == made  # oldest first
    assert [j["suffix"] for j in body["data"]] == ["a-ftk23456789", "b_ftk23456789"]
    assert {j["training_file"] for j in body["data"]} == {file_id}
    assert [j["id"] for j in fake.jobs] == made
    assert fake.job(made[0])["status"] == "pending"


def test_a_fine_tuned_model_answers_chat_once_completed(tmp_path: Path) -> None:
    fake = new_fake()
    client = fake.together_client()
    file_id = uploaded(fake, client, write(tmp_path / "train.jsonl", sft_rows()))
    job = client.fine_tuning.create(training_file=file_id, model=BASE)
    name = client.fine_tuning.retrieve(job.id).x_model_output_name
    assert name is not None
    messages = [{"role": "user", "content": "What is 3?"}]
    while client.fine_tuning.retrieve(job.id).status != "compressing":
        fake.advance(10)
    with pytest.raises(together.NotFoundError):
        client.chat.completions.create(model=name, messages=messages)  # type: ignore[arg-type]
    fake.advance(COMPRESSING_SECONDS + UPLOADING_SECONDS)
    answer = raw(
        client, "post", "/v1/chat/completions", json_data={"model": name, "messages": messages}
    ).json()
    ChatCompletion.model_validate(answer)
    assert answer["model"] == name
    base = client.chat.completions.create(model=BASE, messages=messages)  # type: ignore[arg-type]
    assert base.model == BASE


def test_dpo_continues_from_the_sft_job(tmp_path: Path) -> None:
    fake = new_fake()
    client = fake.together_client()
    sft = completed_job(fake, client, tmp_path, n_checkpoints=1)
    dpo_file = uploaded(fake, client, write(tmp_path / "dpo.jsonl", dpo_rows()))
    dpo = client.fine_tuning.create(
        training_file=dpo_file, from_checkpoint=sft.id, training_method="dpo", dpo_beta=0.2
    )
    body = get_json(client, f"/v1/fine-tunes/{dpo.id}")
    FinetuneResponse.model_validate(body)
    assert body["from_checkpoint"] == sft.id
    assert body["model"] == BASE
    assert body["training_method"]["method"] == "dpo"
    assert body["training_type"] == get_json(client, f"/v1/fine-tunes/{sft.id}")["training_type"]
    create = fake.calls("jobs.create")[-1]
    assert "model" not in create.json and create.json["from_checkpoint"] == sft.id
    fake.advance(3600)
    assert client.fine_tuning.retrieve(dpo.id).status == "completed"

    step = client.fine_tuning.list_checkpoints(sft.id).data[-1].step
    output = client.fine_tuning.retrieve(sft.id).x_model_output_name
    for start in (f"{sft.id}:{step}", output, f"{output}:{step}"):
        client.fine_tuning.create(
            training_file=dpo_file, from_checkpoint=start, training_method="dpo"
        )
    with pytest.raises(together.BadRequestError, match="no checkpoint at step"):
        client.fine_tuning.create(
            training_file=dpo_file, from_checkpoint=f"{sft.id}:9999", training_method="dpo"
        )
    running = client.fine_tuning.create(
        training_file=dpo_file, from_checkpoint=sft.id, training_method="dpo"
    )
    with pytest.raises(together.BadRequestError, match="only completed jobs"):
        client.fine_tuning.create(
            training_file=dpo_file, from_checkpoint=running.id, training_method="dpo"
        )
    with pytest.raises(together.BadRequestError, match="format"):
        client.fine_tuning.create(training_file=dpo_file, model=BASE)  # SFT on a DPO file


def test_model_and_from_checkpoint_together_or_neither_are_400(tmp_path: Path) -> None:
    fake = new_fake()
    client = fake.together_client()
    sft = completed_job(fake, client, tmp_path)
    file_id = sft.training_file
    for extra in ({"model": BASE, "from_checkpoint": sft.id}, {}):
        with pytest.raises(together.BadRequestError) as caught:
            client.post(
                "/v1/fine-tunes",
                body={"training_file": file_id, "n_epochs": 1, **extra},
                cast_to=httpx.Response,
            )
        body = caught.value.body
        assert isinstance(body, dict) and set(body["error"]) == {"message", "type", "param", "code"}


def test_cancel_is_requested_then_cancelled(tmp_path: Path) -> None:
    fake = new_fake()
    client = fake.together_client()
    file_id = uploaded(fake, client, write(tmp_path / "train.jsonl", sft_rows()))
    job = client.fine_tuning.create(training_file=file_id, model=BASE)
    fake.advance(100)
    body = raw(client, "post", f"/v1/fine-tunes/{job.id}/cancel").json()
    FineTuningCancelResponse.model_validate(body)
    assert body["status"] == "cancel_requested"
    fake.advance(60)
    assert client.fine_tuning.retrieve(job.id).status == "cancelled"
    kinds = [e.type for e in client.fine_tuning.list_events(job.id).data]
    assert kinds[-2:] == ["cancel_requested", "job_stopped"]
    deleted = raw(client, "delete", f"/v1/fine-tunes/{job.id}").json()
    FineTuningDeleteResponse.model_validate(deleted)
    assert job.id in deleted["message"]
    with pytest.raises(together.NotFoundError):
        client.fine_tuning.retrieve(job.id)


def test_fail_job_shows_error_with_a_job_error_event(tmp_path: Path) -> None:
    fake = new_fake()
    client = fake.together_client()
    file_id = uploaded(fake, client, write(tmp_path / "train.jsonl", sft_rows()))
    job = client.fine_tuning.create(training_file=file_id, model=BASE)
    fake.advance(100)
    fake.fail_job(job.id, message="The job failed: out of memory.")
    assert client.fine_tuning.retrieve(job.id).status == "error"
    last = client.fine_tuning.list_events(job.id).data[-1]
    assert (last.type, last.level, last.message) == (
        "job_error",
        "error",
        "The job failed: out of memory.",
    )
    assert fake.job(job.id)["status"] == "error"


# ------------------------------------------------------------ prices, limits
def test_estimate_price_is_the_fakes_rate_times_tokens(tmp_path: Path) -> None:
    fake = new_fake()
    client = fake.together_client()
    file_id = uploaded(fake, client, write(tmp_path / "train.jsonl", sft_rows()))
    one = raw(
        client,
        "post",
        "/v1/fine-tunes/estimate-price",
        json_data={"training_file": file_id, "model": BASE, "n_epochs": 1},
    ).json()
    ESTIMATE.validate_python(one)
    tokens = one["estimated_train_token_count"]
    assert tokens > 0
    assert one["estimated_total_price"] == round(
        tokens / 1e6 * FAKE_RATES_PER_1M[("sft", "Lora")], 6
    )
    assert (one["allowed_to_proceed"], one.get("user_limit")) == (True, None)
    three = client.fine_tuning.estimate_price(
        training_file=file_id,
        model=BASE,
        n_epochs=3,
        training_type={"type": "Full"},
    )
    assert three.estimated_train_token_count == 3 * tokens  # type: ignore[union-attr]

    fake.set_credit_limit(one["estimated_total_price"] / 2)
    refused = client.fine_tuning.estimate_price(training_file=file_id, model=BASE)
    assert refused.allowed_to_proceed is False  # type: ignore[union-attr]
    assert refused.user_limit == one["estimated_total_price"] / 2  # type: ignore[union-attr]
    fake.set_credit_limit(None)
    lifted = client.fine_tuning.estimate_price(training_file=file_id, model=BASE)
    assert lifted.allowed_to_proceed  # type: ignore[union-attr]


def test_an_unvalidated_file_has_no_estimate(tmp_path: Path) -> None:
    fake = new_fake()
    client = fake.together_client()
    file_id = client.files.upload(file=write(tmp_path / "train.jsonl", sft_rows())).id
    body = raw(
        client,
        "post",
        "/v1/fine-tunes/estimate-price",
        json_data={"training_file": file_id, "model": BASE},
    ).json()
    ESTIMATE.validate_python(body)
    assert body == {"estimation_available": False, "unavailable_reason": "train_file_not_validated"}


def test_model_limits_for_every_catalog_model_and_404_for_others() -> None:
    fake = new_fake()
    client = fake.together_client()
    for info in models("together"):
        body = get_json(client, "/v1/fine-tunes/models/limits", model_name=info.name)
        FinetuneModelLimits.model_validate(body)
        assert body["model_name"] == info.name
        if info.example_limits.get("sft"):
            assert body["max_seq_length_sft"] == info.example_limits["sft"]
    with pytest.raises(together.NotFoundError):
        client.fine_tuning.model_limits(model_name="acme/no-such-model")


# -------------------------------------------------------------- keys, faults
def test_a_wrong_key_is_401_in_togethers_envelope_without_the_key() -> None:
    fake = new_fake(api_keys=["tgp_v1_right"])
    assert fake.together_client().files.list().data == []
    with pytest.raises(together.AuthenticationError) as caught:
        fake.together_client(api_key="tgp_v1_wrong-secret").files.list()
    body = caught.value.body
    assert isinstance(body, dict) and body["error"]["code"] == "invalid_api_key"
    assert "wrong-secret" not in json.dumps(body)


def test_faults_reach_togethers_routes(tmp_path: Path) -> None:
    fake = new_fake()
    client = fake.together_client()
    file_id = uploaded(fake, client, write(tmp_path / "train.jsonl", sft_rows()))
    fault = fake.faults.inject("jobs.create", "500")
    slept = len(fake.clock.slept)
    job = client.fine_tuning.create(training_file=file_id, model=BASE)
    assert fault.fired == 1
    assert [r.status for r in fake.calls("jobs.create")] == [500, 200]
    assert len(fake.clock.slept) == slept + 1  # the SDK's retry waited on the virtual clock
    assert len(fake.jobs) == 1 and fake.jobs[0]["id"] == job.id

    fake.faults.inject("files.upload_put", "reset")
    with pytest.raises(httpx.ConnectError):
        client.files.upload(file=write(tmp_path / "new.jsonl", sft_rows(tag="x")))
    fake.faults.inject("jobs.estimate_price", "status", status=402, code="insufficient_balance")
    with pytest.raises(together.APIStatusError) as caught:
        client.fine_tuning.estimate_price(training_file=file_id, model=BASE)
    assert caught.value.status_code == 402


def test_together_names_its_own_routes() -> None:
    names = set(new_fake().route_names)
    assert {
        "files.create",
        "files.upload_put",
        "files.preprocess",
        "jobs.create",
        "jobs.delete",
        "jobs.metrics",
        "jobs.download",
        "jobs.estimate_price",
        "models.limits",
        "jobs.list_events",
        "jobs.checkpoints.list",
        "chat.completions.create",
    } <= names
    assert new_fake().provider == "together"
    with pytest.raises(ValueError, match="provider='together'"):
        FakeFineTuningAPI().set_credit_limit(1.0)
    with pytest.raises(ValueError):
        FakeFineTuningAPI().together_client()

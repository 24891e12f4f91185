"""Jobs on the fake, driven with the plain openai SDK: lifecycle, refusals, scripting."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import openai
import pytest
from fake_support import sft_lines

from ftkit.testing import DEFAULT_START, FakeClock, FakeFineTuningAPI, Timings
from ftkit.testing._serverside import count_example_tokens

TERMINAL = ("succeeded", "failed", "cancelled")


def upload(client: openai.OpenAI, name: str, content: bytes) -> str:
    return client.files.create(file=(name, content), purpose="fine-tune").id


def wait(client: openai.OpenAI, fake: FakeFineTuningAPI, job_id: str, every: float = 30.0) -> Any:
    """A user's polling loop with the fake clock's sleep injected; returns statuses seen."""
    seen = []
    for _ in range(10_000):
        job = client.fine_tuning.jobs.retrieve(job_id)
        if not seen or seen[-1] != job.status:
            seen.append(job.status)
        if job.status in TERMINAL:
            return job, seen
        fake.clock.sleep(every)
    raise AssertionError("job never finished")


def test_sft_then_dpo_on_the_fine_tuned_model(
    fake: FakeFineTuningAPI, client: openai.OpenAI, real_datasets: Path
) -> None:
    train_bytes = (real_datasets / "foundry_sft_gsm8k_train.jsonl").read_bytes()
    train = upload(client, "gsm8k.jsonl", train_bytes)
    job = client.fine_tuning.jobs.create(
        model="gpt-4.1-mini-2025-04-14",
        training_file=train,
        suffix="math",
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2}}},
    )
    assert job.status == "validating_files"
    assert job.error is not None and job.error.code is None  # the real all-null error object
    assert job.fine_tuned_model is None and job.trained_tokens is None

    sft, statuses = wait(client, fake, job.id)
    assert statuses == ["validating_files", "queued", "running", "succeeded"]
    model = sft.fine_tuned_model
    assert model is not None and model.startswith("ft:gpt-4.1-mini-2025-04-14:fake:math:")
    assert len(model.split(":")[-1]) == 8
    assert sft.hyperparameters.n_epochs == 2
    per_epoch = sum(
        count_example_tokens(json.loads(line), model="gpt-4.1-mini-2025-04-14")
        for line in train_bytes.decode().splitlines()
        if line.strip()
    )
    assert sft.trained_tokens == 2 * per_epoch
    assert sft.finished_at is not None and sft.finished_at > sft.created_at

    events = list(client.fine_tuning.jobs.list_events(sft.id, limit=100))  # cursor pages
    times = [e.created_at for e in events]
    assert times == sorted(times, reverse=True), "events come newest first"
    assert len({e.id for e in events}) == len(events) == len(fake.events(sft.id))
    metrics = [e for e in events if e.type == "metrics"]
    steps_per_epoch = 449  # auto batch size is 1 for 449 examples
    assert len(metrics) == 2 * steps_per_epoch
    assert metrics[0].data["step"] == metrics[0].data["total_steps"] == 2 * steps_per_epoch
    assert events[0].message == "The job has successfully completed"

    checkpoints = client.fine_tuning.jobs.checkpoints.list(sft.id).data
    assert [c.step_number for c in checkpoints] == [898, 449]
    assert checkpoints[0].fine_tuned_model_checkpoint == f"{model}:ckpt-step-898"
    csv = client.files.content(sft.result_files[0]).text.splitlines()
    assert csv[0] == "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"
    assert len(csv) == 1 + 2 * steps_per_epoch
    assert client.files.retrieve(sft.result_files[0]).purpose == "fine-tune-results"

    prefs = upload(
        client,
        "orca.jsonl",
        (real_datasets / "foundry_dpo_orca_pairs_validation.jsonl").read_bytes(),
    )
    dpo = client.fine_tuning.jobs.create(
        model=model,
        training_file=prefs,
        method={"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.1, "n_epochs": 1}}},
    )
    assert dpo.model == model
    done, _ = wait(client, fake, dpo.id, every=120)
    assert done.status == "succeeded", done.error
    assert done.fine_tuned_model.startswith("ft:gpt-4.1-mini-2025-04-14:fake::")
    assert done.hyperparameters is None  # DPO jobs report them under method only
    assert done.method.dpo.hyperparameters.beta == 0.1
    assert done.trained_tokens > 0
    assert client.models.retrieve(done.fine_tuned_model).shutdown_date == "2027-01-14"


@pytest.mark.parametrize(
    ("dataset", "model", "method", "needle"),
    [
        (
            "openai-cookbook_toy_chat_fine_tuning.jsonl",
            "gpt-4o-mini-2024-07-18",
            "supervised",
            "at least 10 examples",
        ),
        (
            "foundry_distilling_sarcasm_qa.jsonl",
            "gpt-4o-mini-2024-07-18",
            "supervised",
            "question/answer",
        ),
        (
            "foundry_sft_chartqa_vision_train.jsonl",
            "gpt-4.1-mini-2025-04-14",
            "supervised",
            "images are not supported",
        ),
        ("foundry_sft_gsm8k_train.jsonl", "gpt-4o-mini-2024-07-18", "dpo", "Line 1"),
        ("foundry_rft_medmcq_validation.jsonl", "gpt-4o-mini-2024-07-18", "supervised", "Line 1"),
    ],
)
def test_bad_training_files_fail_the_job_like_the_service(
    fake: FakeFineTuningAPI,
    client: openai.OpenAI,
    real_datasets: Path,
    dataset: str,
    model: str,
    method: str,
    needle: str,
) -> None:
    train = upload(client, dataset, (real_datasets / dataset).read_bytes())
    job = client.fine_tuning.jobs.create(model=model, training_file=train, method={"type": method})  # type: ignore[typeddict-item]
    done, statuses = wait(client, fake, job.id)
    assert statuses == ["validating_files", "failed"]
    assert done.error.code == "invalid_training_file"
    assert done.error.param == "training_file"
    assert needle in done.error.message
    assert done.error.message.startswith("The job failed due to an invalid training file.")
    assert done.fine_tuned_model is None and done.trained_tokens is None
    assert fake.events(job.id)[-1]["level"] == "error"


def test_vision_file_trains_on_the_vision_model(
    fake: FakeFineTuningAPI, client: openai.OpenAI, real_datasets: Path
) -> None:
    data = (real_datasets / "foundry_sft_chartqa_vision_train.jsonl").read_bytes()
    job = client.fine_tuning.jobs.create(
        model="gpt-4o-2024-08-06", training_file=upload(client, "v.jsonl", data)
    )
    done, _ = wait(client, fake, job.id)
    assert done.status == "succeeded"


def test_a_bad_validation_file_is_blamed_on_validation_file(
    fake: FakeFineTuningAPI, client: openai.OpenAI
) -> None:
    train = upload(client, "t.jsonl", sft_lines(10))
    valid = upload(client, "v.jsonl", b'{"messages": [{"role": "user", "content": "hi"}]}\n')
    job = client.fine_tuning.jobs.create(
        model="gpt-4o-mini", training_file=train, validation_file=valid
    )
    assert job.model == "gpt-4o-mini-2024-07-18"  # aliases resolve to the snapshot
    done, _ = wait(client, fake, job.id)
    assert done.error.code == "invalid_validation_file"
    assert done.error.param == "validation_file"


def test_validation_metrics_appear_when_a_validation_file_is_given(
    fake: FakeFineTuningAPI, client: openai.OpenAI
) -> None:
    job = client.fine_tuning.jobs.create(
        model="gpt-4o-mini-2024-07-18",
        training_file=upload(client, "t.jsonl", sft_lines(10)),
        validation_file=upload(client, "v.jsonl", sft_lines(2, offset=50)),
    )
    done, _ = wait(client, fake, job.id)
    last = client.fine_tuning.jobs.list_events(done.id, limit=20).data
    final = next(e for e in last if e.type == "metrics")
    assert {"valid_loss", "full_valid_loss"} <= set(final.data)
    rows = client.files.content(done.result_files[0]).text.splitlines()
    assert rows[-1].split(",")[3] != ""


GOOD = {"model": "gpt-4.1-mini-2025-04-14"}


def hyper(method: str, **values: Any) -> dict[str, Any]:
    """The changes that give a job body a ``method`` with these hyperparameters."""
    return {"method": {"type": method, method: {"hyperparameters": values}}}


@pytest.mark.parametrize(
    ("changes", "param", "code"),
    [
        ({"model": "gpt-9-ultra"}, "model", "model_not_available"),
        ({"model": "gpt-3.5-turbo-0125"}, "model", "model_not_available"),  # retired 2026-10-23
        ({"model": "ft:gpt-4.1-mini-2025-04-14:fake::nope1234"}, "model", "model_not_available"),
        ({"method": {"type": "reinforcement"}}, "method.reinforcement.grader", None),
        (
            {
                "method": {
                    "type": "reinforcement",
                    "reinforcement": {"grader": {"type": "string_check"}},
                }
            },
            "method.type",
            "invalid_method",
        ),
        ({"method": {"type": "unsupervised"}}, "method.type", None),
        ({"method": {"type": "supervised", "dpo": {}}}, "method.dpo", None),
        (hyper("supervised", n_epochs=0), "method.supervised.hyperparameters.n_epochs", None),
        (hyper("supervised", n_epochs=51), "method.supervised.hyperparameters.n_epochs", None),
        (hyper("supervised", batch_size=257), "method.supervised.hyperparameters.batch_size", None),
        (
            hyper("supervised", learning_rate_multiplier=0),
            "method.supervised.hyperparameters.learning_rate_multiplier",
            None,
        ),
        (hyper("supervised", beta=0.1), "method.supervised.hyperparameters.beta", None),
        (hyper("dpo", beta=2.5), "method.dpo.hyperparameters.beta", None),
        (hyper("dpo", beta=0), "method.dpo.hyperparameters.beta", None),
        (
            {"hyperparameters": {"n_epochs": 3}, "method": {"type": "supervised"}},
            "hyperparameters",
            None,
        ),
        ({"suffix": "x" * 65}, "suffix", None),
        ({"suffix": ""}, "suffix", None),
        ({"seed": -1}, "seed", None),
        ({"seed": 2_147_483_648}, "seed", None),
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata", None),
        ({"metadata": {"k" * 65: "v"}}, "metadata", None),
        ({"metadata": {"k": "v" * 513}}, "metadata.k", None),
        ({"integrations": [{"type": "slack"}]}, "integrations[0].type", None),
        ({"integrations": [{"type": "wandb", "wandb": {}}]}, "integrations[0].wandb.project", None),
        ({"training_file": "file-doesnotexist"}, "training_file", None),
        ({"validation_file": "SAME"}, "validation_file", None),
    ],
)
def test_job_creation_is_refused_with_the_documented_ranges(
    client: openai.OpenAI, changes: dict[str, Any], param: str, code: str | None
) -> None:
    train = upload(client, "t.jsonl", sft_lines(10))
    body: dict[str, Any] = {**GOOD, "training_file": train, **changes}
    if body.get("validation_file") == "SAME":
        body["validation_file"] = train
    with pytest.raises(openai.BadRequestError) as caught:
        client.fine_tuning.jobs.create(**body)
    assert caught.value.param == param
    assert caught.value.code == code


def test_boundary_values_are_accepted(client: openai.OpenAI) -> None:
    train = upload(client, "t.jsonl", sft_lines(10))
    job = client.fine_tuning.jobs.create(
        model="gpt-4.1-mini-2025-04-14",
        training_file=train,
        suffix="x" * 64,
        seed=2_147_483_647,
        metadata={f"k{i}": "v" * 512 for i in range(16)},
        method={
            "type": "dpo",
            "dpo": {
                "hyperparameters": {
                    "beta": 2,
                    "n_epochs": 50,
                    "batch_size": 256,
                    "learning_rate_multiplier": 0.01,
                }
            },
        },
    )
    assert job.seed == 2_147_483_647 and job.user_provided_suffix == "x" * 64  # type: ignore[attr-defined]


def test_unknown_arguments_and_wrong_purposes_are_refused(client: openai.OpenAI) -> None:
    train = upload(client, "t.jsonl", sft_lines(10))
    with pytest.raises(openai.BadRequestError, match="Unrecognized request argument"):
        client.fine_tuning.jobs.create(
            model="gpt-4o-mini", training_file=train, extra_body={"idempotency_key": "k"}
        )
    batch = client.files.create(file=("b.jsonl", b"{}\n"), purpose="batch").id
    with pytest.raises(openai.BadRequestError) as caught:
        client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=batch)
    assert caught.value.param == "training_file"


def test_method_support_follows_the_model_before_its_retirement() -> None:
    fake = FakeFineTuningAPI(clock=FakeClock(start=1_760_000_000))  # 2025-10-09
    client = fake.client(max_retries=0)
    train = upload(client, "t.jsonl", sft_lines(10))
    client.fine_tuning.jobs.create(model="gpt-3.5-turbo-0125", training_file=train)
    with pytest.raises(openai.BadRequestError) as caught:
        client.fine_tuning.jobs.create(
            model="gpt-3.5-turbo-0125", training_file=train, method={"type": "dpo"}
        )
    assert caught.value.code == "invalid_method"
    assert client.models.retrieve("gpt-3.5-turbo-0125").shutdown_date == "2026-10-23"


def test_reinforcement_job_needs_a_grader_and_trains_on_o4_mini(real_datasets: Path) -> None:
    fake = FakeFineTuningAPI(clock=FakeClock(start=1_760_000_000))  # before o4-mini retired
    client = fake.client(max_retries=0)
    data = (real_datasets / "foundry_rft_medmcq_validation.jsonl").read_bytes()
    train = upload(client, "rft.jsonl", data)
    grader = {
        "type": "string_check",
        "name": "match",
        "input": "{{sample.output_text}}",
        "reference": "{{item.answer}}",
        "operation": "eq",
    }
    job = client.fine_tuning.jobs.create(
        model="o4-mini-2025-04-16",
        training_file=train,
        method={
            "type": "reinforcement",
            "reinforcement": {"grader": grader, "hyperparameters": {"reasoning_effort": "low"}},
        },
    )
    assert job.method.reinforcement.grader.type == "string_check"
    done, _ = wait(client, fake, job.id, every=600)
    assert done.status == "succeeded"
    assert done.method.reinforcement.hyperparameters.reasoning_effort == "low"
    with pytest.raises(openai.BadRequestError) as caught:
        client.fine_tuning.jobs.create(
            model="o4-mini-2025-04-16",
            training_file=train,
            method={
                "type": "reinforcement",
                "reinforcement": {"grader": grader, "hyperparameters": {"compute_multiplier": 11}},
            },
        )
    assert caught.value.param == "method.reinforcement.hyperparameters.compute_multiplier"


def test_a_file_built_with_the_uploads_api_trains(
    fake: FakeFineTuningAPI, client: openai.OpenAI
) -> None:
    data = sft_lines(10)
    created = client.uploads.create(
        bytes=len(data), filename="big.jsonl", mime_type="text/jsonl", purpose="fine-tune"
    )
    parts = [
        client.uploads.parts.create(created.id, data=data[i : i + 100]).id
        for i in range(0, len(data), 100)
    ]
    done_upload = client.uploads.complete(created.id, part_ids=parts)
    assert done_upload.file is not None
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=done_upload.file.id)
    done, _ = wait(client, fake, job.id)
    assert done.status == "succeeded"


def test_list_jobs_paginates_newest_first_and_filters_metadata(client: openai.OpenAI) -> None:
    train = upload(client, "t.jsonl", sft_lines(10))
    ids = [
        client.fine_tuning.jobs.create(
            model="gpt-4o-mini", training_file=train, metadata={"run": "a" if i % 2 else "b"}
        ).id
        for i in range(5)
    ]
    plain = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=train).id
    first = client.fine_tuning.jobs.list(limit=2)
    assert [j.id for j in first.data] == [plain, ids[4]] and first.has_more
    assert [j.id for j in client.fine_tuning.jobs.list(limit=2)] == [plain, *ids[::-1]]
    runs_a = [j.id for j in client.fine_tuning.jobs.list(metadata={"run": "a"})]
    assert runs_a == [ids[3], ids[1]]
    null_meta = client.fine_tuning.jobs.list(extra_query={"metadata": "null"}).data
    assert [j.id for j in null_meta] == [plain]
    assert client.fine_tuning.jobs.list(metadata={"run": "zzz"}).data == []


def test_cancel_pause_and_resume(fake: FakeFineTuningAPI, client: openai.OpenAI) -> None:
    train = upload(client, "t.jsonl", sft_lines(10))
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=train)
    with pytest.raises(openai.BadRequestError):
        client.fine_tuning.jobs.pause(job.id)  # only running jobs pause
    fake.advance(100)
    running = client.fine_tuning.jobs.retrieve(job.id)
    assert running.status == "running" and running.estimated_finish is not None
    # OpenAI's API reference: the pause answer is the job already ``paused``; it stays so.
    paused = client.fine_tuning.jobs.pause(job.id)
    assert paused.status == "paused" and paused.estimated_finish is None
    fake.advance(10)
    assert client.fine_tuning.jobs.retrieve(job.id).status == "paused"
    assert fake.events(job.id)[-1]["message"] == "Fine-tuning job paused"
    with pytest.raises(openai.BadRequestError):
        client.fine_tuning.jobs.pause(job.id)  # already paused
    fake.advance(5000)  # time passes; a paused job does not train
    assert client.fine_tuning.jobs.retrieve(job.id).status == "paused"
    assert client.fine_tuning.jobs.resume(job.id).status == "queued"
    with pytest.raises(openai.BadRequestError):
        client.fine_tuning.jobs.resume(job.id)
    _done, statuses = wait(client, fake, job.id, every=10)
    assert statuses == ["queued", "running", "succeeded"]
    steps = [e["data"]["step"] for e in fake.events(job.id) if e["type"] == "metrics"]
    assert steps == list(range(1, len(steps) + 1)), "no step lost or repeated across the pause"

    other = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=train)
    cancelled = client.fine_tuning.jobs.cancel(other.id)
    assert cancelled.status == "cancelled" and cancelled.finished_at is not None
    with pytest.raises(openai.BadRequestError):
        client.fine_tuning.jobs.cancel(other.id)
    fake.advance(10_000)
    assert client.fine_tuning.jobs.retrieve(other.id).status == "cancelled"


def test_scripted_statuses_pass_through_unknown_values(
    fake: FakeFineTuningAPI, client: openai.OpenAI
) -> None:
    fake.script_next_job(["queued", "pausing", "quarantined", "running", "succeeded"])
    job = client.fine_tuning.jobs.create(
        model="gpt-4o-mini", training_file=upload(client, "t.jsonl", sft_lines(10))
    )
    seen = [client.fine_tuning.jobs.retrieve(job.id).status for _ in range(6)]
    assert seen == ["queued", "pausing", "quarantined", "running", "succeeded", "succeeded"]
    done = client.fine_tuning.jobs.retrieve(job.id)
    assert done.fine_tuned_model and done.trained_tokens and done.result_files


def test_scripted_failure_reports_the_given_error(
    fake: FakeFineTuningAPI, client: openai.OpenAI
) -> None:
    fake.script_next_job(
        ["running", "failed"],
        error={"code": "safety_check_failed", "message": "blocked", "param": None},
    )
    job = client.fine_tuning.jobs.create(
        model="gpt-4o-mini", training_file=upload(client, "t.jsonl", sft_lines(10))
    )
    client.fine_tuning.jobs.retrieve(job.id)
    failed = client.fine_tuning.jobs.retrieve(job.id)
    assert failed.status == "failed" and failed.error.code == "safety_check_failed"


def test_fail_job_interrupts_a_running_job(fake: FakeFineTuningAPI, client: openai.OpenAI) -> None:
    job = client.fine_tuning.jobs.create(
        model="gpt-4o-mini", training_file=upload(client, "t.jsonl", sft_lines(10))
    )
    fake.advance(100)
    fake.fail_job(job.id, code="server_error", message="GPU on fire")
    fake.advance(10_000)
    failed = client.fine_tuning.jobs.retrieve(job.id)
    assert (failed.status, failed.error.code, failed.error.message) == (
        "failed",
        "server_error",
        "GPU on fire",
    )


def test_models_lifecycle(fake: FakeFineTuningAPI, client: openai.OpenAI) -> None:
    assert client.models.retrieve("gpt-4o-2024-08-06").shutdown_date == "2027-01-14"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-9")
    job = client.fine_tuning.jobs.create(
        model="gpt-4o-mini", training_file=upload(client, "t.jsonl", sft_lines(10))
    )
    done, _ = wait(client, fake, job.id)
    ids = {m.id for m in client.models.list()}
    assert done.fine_tuned_model in ids
    checkpoint = f"{done.fine_tuned_model}:ckpt-step-100"  # 10 examples: 10 epochs of 10 steps
    assert checkpoint in fake.fine_tuned_models
    again = client.fine_tuning.jobs.create(model=checkpoint, training_file=job.training_file)
    assert again.model == checkpoint  # a checkpoint is a valid base too
    assert client.models.delete(done.fine_tuned_model).deleted
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve(done.fine_tuned_model)
    with pytest.raises(openai.PermissionDeniedError):
        client.models.delete("gpt-4o-mini-2024-07-18")


def test_unconfirmed_dates_are_served_but_enforced_only_when_asked() -> None:
    # o4-mini's 2026-10-23 shutdown comes from secondary sources only (the catalog says
    # so); gpt-3.5-turbo-0125's from OpenAI's deprecations page. 2026-11-02 is past both.
    for enforce in (None, False, True):  # None: the default
        options = {} if enforce is None else {"enforce_unconfirmed_dates": enforce}
        fake = FakeFineTuningAPI(clock=FakeClock(start=DEFAULT_START), **options)
        client = fake.client(max_retries=0)
        train = upload(client, "t.jsonl", sft_lines(10))
        assert client.models.retrieve("o4-mini-2025-04-16").shutdown_date == "2026-10-23"
        with pytest.raises(openai.BadRequestError) as retired:
            client.fine_tuning.jobs.create(model="gpt-3.5-turbo-0125", training_file=train)
        assert retired.value.code == "model_not_available"
        try:
            client.fine_tuning.jobs.create(model="gpt-4.1-nano-2025-04-14", training_file=train)
        except openai.BadRequestError as refused:
            assert enforce and refused.code == "model_not_available"
            assert "2026-10-23" in str(refused.message)
        else:
            assert not enforce


def test_the_reported_end_of_new_jobs_is_enforced_only_when_asked() -> None:
    start = datetime(2027, 1, 5, 23, 59, tzinfo=timezone.utc).timestamp()
    lenient = FakeFineTuningAPI(clock=FakeClock(start=start))
    strict = FakeFineTuningAPI(clock=FakeClock(start=start), enforce_unconfirmed_dates=True)
    for fake in (lenient, strict):
        client = fake.client(max_retries=0)
        train = upload(client, "t.jsonl", sft_lines(10))
        client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=train)  # 2027-01-05
        fake.advance(120)  # 2027-01-06
        if fake is lenient:
            client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=train)
            continue
        with pytest.raises(openai.PermissionDeniedError) as refused:
            client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=train)
        assert refused.value.code == "training_not_available"


def test_jobs_stop_being_accepted_once_the_base_model_retires() -> None:
    fake = FakeFineTuningAPI(clock=FakeClock(start=1_798_000_000))  # 2026-12-23
    client = fake.client(max_retries=0)
    train = upload(client, "t.jsonl", sft_lines(10))
    client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=train)
    fake.advance(30 * 86_400)
    with pytest.raises(openai.BadRequestError, match="2027-01-14"):
        client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=train)


def test_result_files_can_be_served_base64() -> None:
    fake = FakeFineTuningAPI(result_files_base64=True)
    client = fake.client(max_retries=0)
    job = client.fine_tuning.jobs.create(
        model="gpt-4o-mini", training_file=upload(client, "t.jsonl", sft_lines(10))
    )
    done, _ = wait(client, fake, job.id)
    raw = client.files.content(done.result_files[0]).content
    assert base64.b64decode(raw).startswith(b"step,train_loss,")


def test_same_seed_same_story() -> None:
    def story() -> list[Any]:
        fake = FakeFineTuningAPI(seed=7, timings=Timings(validating_files=5, queued=5))
        client = fake.client(max_retries=0)
        job = client.fine_tuning.jobs.create(
            model="gpt-4o-mini", training_file=upload(client, "t.jsonl", sft_lines(10))
        )
        done, _ = wait(client, fake, job.id, every=7)
        return [done.model_dump(), fake.events(job.id)]

    assert story() == story()

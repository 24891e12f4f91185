"""The full pipeline against the fake API: SFT → DPO, exactly once, resumable."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from pipeline_support import MODEL, Env, SimulatedCrash

import ftkit
from ftkit.pipeline._manifest import RunLock
from ftkit.testing import FakeFineTuningAPI


def _job_creates(env: Env) -> list[dict[str, object]]:
    return [r.json for r in env.fake.calls("jobs.create")]


def test_sft_then_dpo_end_to_end(
    env: Env, sft_file: Path, sft_validation_file: Path, dpo_file: Path
) -> None:
    result = (
        env.builder()
        .sft(sft_file, validation=sft_validation_file, epochs=2)
        .dpo(dpo_file, beta=0.2)
        .suffix("marv")
        .seed(7)
        .metadata({"team": "support"})
        .run()
    )
    sft, dpo = result.stages
    assert (sft.name, sft.status, dpo.name, dpo.status) == ("sft", "succeeded", "dpo", "succeeded")
    assert sft.base_model == MODEL
    assert sft.fine_tuned_model and sft.fine_tuned_model.startswith(f"ft:{MODEL}:")
    # DPO trains the model SFT produced.
    assert dpo.base_model == sft.fine_tuned_model
    assert result.fine_tuned_model == dpo.fine_tuned_model
    assert sft.trained_tokens and sft.trained_tokens > 0
    assert sft.estimated_trained_tokens and sft.estimated_trained_tokens > 0
    assert sft.metrics and "train_loss" in sft.metrics[0]
    assert sft.checkpoints

    bodies = _job_creates(env)
    assert len(bodies) == 2
    first, second = bodies
    assert first["model"] == MODEL
    assert first["method"] == {
        "type": "supervised",
        "supervised": {"hyperparameters": {"n_epochs": 2}},
    }
    assert first["suffix"] == "marv" and first["seed"] == 7
    assert first["metadata"] == {
        "team": "support",
        "ftkit_run": result.run_id,
        "ftkit_stage": "sft",
    }
    assert "validation_file" in first
    assert second["model"] == sft.fine_tuned_model
    assert second["method"] == {"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.2}}}
    assert len(env.jobs_for(result.run_id, "sft")) == 1
    assert len(env.jobs_for(result.run_id, "dpo")) == 1


def test_events_arrive_in_order_without_duplicates(env: Env, sft_file: Path) -> None:
    env.builder().sft(sft_file).run()
    types = [e.type for e in env.events]
    assert types[0] == "stage_started"
    assert types[-1] == "run_succeeded"
    assert types.index("job_created") < types.index("stage_succeeded")
    job_events = [e.job_event for e in env.events if e.type == "job_event"]
    ids = [e.id for e in job_events if e is not None]
    assert ids and len(ids) == len(set(ids))
    created = [e.created_at for e in job_events if e is not None]
    assert created == sorted(created)
    assert any(isinstance(e, ftkit.MetricsEvent) for e in job_events)


def test_manifest_is_private_and_secret_free(env: Env, sft_file: Path) -> None:
    result = (
        env.builder(env.fake.client(max_retries=0, api_key="sk-test-SECRET-KEY-123456"))
        .sft(sft_file)
        .run()
    )
    assert result.manifest_path is not None
    assert (os.stat(result.manifest_path).st_mode & 0o777) == 0o600
    text = result.manifest_path.read_text()
    assert "SECRET" not in text
    manifest = json.loads(text)
    assert manifest["status"] == "succeeded"
    assert manifest["stages"][0]["job_id"] == result.stages[0].job_id


def test_identical_files_are_reused_not_uploaded_again(env: Env, sft_file: Path) -> None:
    env.builder().sft(sft_file).run()
    uploads_before = len(env.fake.calls("files.create"))
    env.builder().sft(sft_file).run()
    assert len(env.fake.calls("files.create")) == uploads_before == 1
    assert len(env.fake.jobs) == 2  # a new run is a new job, on the same file


def test_large_file_goes_through_the_uploads_api(env: Env, sft_file: Path) -> None:
    size = sft_file.stat().st_size
    result = (
        env.builder()
        .uploads(files_api_limit=1024, part_size=max(1024, size // 3), concurrency=3)
        .sft(sft_file)
        .run()
    )
    assert result.stages[0].status == "succeeded"
    assert not env.fake.calls("files.create")
    assert len(env.fake.calls("uploads.parts.create")) >= 3
    assert len(env.fake.calls("uploads.complete")) == 1


def test_a_part_size_over_the_api_limit_is_refused_before_any_upload(
    env: Env, sft_file: Path
) -> None:
    too_big = 64 * 1024 * 1024 + 1  # the Uploads API takes parts of at most 64 MiB
    with pytest.raises(ftkit.UsageError, match="part_size"):
        env.builder().uploads(files_api_limit=1024, part_size=too_big).sft(sft_file).run()
    assert not env.fake.calls("uploads.create")
    assert not env.fake.calls("files.create")
    assert not list(env.state_dir.rglob("*.json"))  # the refused run leaves no manifest


@pytest.mark.parametrize(
    ("route", "kind"),
    [
        ("jobs.create", "429"),
        ("jobs.create", "500"),
        ("jobs.create", "applied_but_lost"),
        ("jobs.create", "reset"),
        ("jobs.retrieve", "503"),
        ("jobs.list_events", "reset"),
        ("files.create", "applied_but_lost"),
    ],
)
def test_faults_never_duplicate_a_job(
    env: Env, sft_file: Path, dpo_file: Path, route: str, kind: str
) -> None:
    env.fake.faults.inject(route, kind, times=2)
    result = env.builder().sft(sft_file).dpo(dpo_file).run()
    struck = [r for r in env.fake.requests if r.fault]
    assert [r.route for r in struck] == [route, route]
    assert len(env.jobs_for(result.run_id, "sft")) == 1
    assert len(env.jobs_for(result.run_id, "dpo")) == 1
    names = [f["filename"] for f in env.fake.files if f.get("purpose") == "fine-tune"]
    assert len(names) == len(set(names)), "a file was uploaded twice"


@pytest.mark.parametrize("step", ["stage_started", "file_ready", "job_created", "status"])
def test_crash_at_each_step_then_resume(
    env: Env,
    sft_file: Path,
    dpo_file: Path,
    step: str,
    crash_on: Callable[[str, int], Callable[[ftkit.RunEvent], None]],
) -> None:
    builder = env.builder().sft(sft_file).dpo(dpo_file)
    with pytest.raises(SimulatedCrash):
        builder.on_event(crash_on(step, 1)).run()
    run_id = next(e.run_id for e in env.events)
    # Crash again in the DPO stage for good measure, then finish.
    result = env.resume(run_id).wait()
    assert result.stages[-1].status == "succeeded"
    assert len(env.jobs_for(run_id, "sft")) == 1
    assert len(env.jobs_for(run_id, "dpo")) == 1
    assert len(env.fake.calls("files.create")) == 2  # one SFT file, one DPO file


def test_wait_timeout_leaves_the_job_and_resume_finishes(env: Env, sft_file: Path) -> None:
    with pytest.raises(ftkit.WaitTimeout) as info:
        env.builder().poll(deadline=20.0).sft(sft_file).run()
    err = info.value
    assert err.run_id and err.job_id
    assert "resume" in str(err)
    result = env.resume(err.run_id).wait()
    assert result.stages[0].job_id == err.job_id
    assert len(env.fake.jobs) == 1


def test_failed_job_raises_with_evidence(env: Env, sft_file: Path) -> None:
    env.fake.script_next_job(
        ["validating_files", "failed"],
        error={"code": "invalid_training_file", "message": "bad line 3", "param": "training_file"},
    )
    with pytest.raises(ftkit.JobFailed) as info:
        env.builder().sft(sft_file).run()
    err = info.value
    assert (err.code, err.param) == ("invalid_training_file", "training_file")
    assert err.error_message == "bad line 3"
    manifest = json.loads(next((env.state_dir / "runs").glob("*.json")).read_text())
    assert manifest["status"] == "failed"
    assert manifest["stages"][0]["error"]["code"] == "invalid_training_file"


def test_unknown_status_keeps_waiting(env: Env, sft_file: Path) -> None:
    env.fake.script_next_job(["queued", "pausing", "reticulating_splines", "running", "succeeded"])
    result = env.builder().sft(sft_file).run()
    assert result.stages[0].status == "succeeded"
    statuses = [e.status for e in env.events if e.type == "status"]
    assert "reticulating_splines" in statuses


def test_start_returns_once_the_job_exists_then_cancel(env: Env, sft_file: Path) -> None:
    run = env.builder().sft(sft_file).start()
    status = run.status()
    assert status.stages[0].job_id
    assert status.status == "running"
    after = run.cancel()
    assert after.status == "cancelled"
    assert env.fake.job(str(status.stages[0].job_id))["status"] == "cancelled"


def test_second_driver_is_refused_while_the_first_holds_the_run(env: Env, sft_file: Path) -> None:
    run = env.builder().sft(sft_file).start()
    with RunLock(run.manifest_path), pytest.raises(ftkit.RunConflict, match="being driven"):
        ftkit.Run.resume(run.id, env.fake.client(max_retries=0), state_dir=env.state_dir).wait()
    assert run.wait().stages[0].status == "succeeded"


def test_resume_with_another_configuration_is_refused(
    env: Env, sft_file: Path, dpo_file: Path
) -> None:
    run = env.builder().sft(sft_file).start()
    with pytest.raises(ftkit.RunConflict, match="another configuration"):
        env.builder().sft(sft_file, epochs=3).resume(run.id)
    assert env.builder().sft(sft_file).resume(run.id).wait().run_id == run.id


def test_training_unavailable_is_explained(env: Env, sft_file: Path) -> None:
    env.fake.refuse_training()
    with pytest.raises(ftkit.TrainingUnavailable) as info:
        env.builder().sft(sft_file).run()
    assert "Azure" in str(info.value)
    assert not env.fake.jobs


def test_retired_base_model_is_refused_before_upload(env: Env, sft_file: Path) -> None:
    with pytest.raises(ftkit.TrainingUnavailable):
        env.builder().model("gpt-3.5-turbo-0125").sft(sft_file).run()
    assert not env.fake.calls("files.create")


def test_cost_cap_refuses_before_any_request(env: Env, sft_file: Path) -> None:
    with pytest.raises(ftkit.UsageError, match="over max_cost_usd"):
        env.builder().sft(sft_file).run(max_cost_usd=0.0001)
    assert not env.fake.requests


def test_invalid_data_refuses_before_any_request(env: Env, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q", "answer": "a"}\n' * 12)
    with pytest.raises(ftkit.DatasetInvalid) as info:
        env.builder().sft(bad).run()
    assert info.value.report is not None and not info.value.report.ok
    assert not env.fake.requests


def test_azure_client_end_to_end(tmp_path: Path, sft_file: Path, dpo_file: Path) -> None:
    env = Env(fake=FakeFineTuningAPI(provider="azure"), state_dir=tmp_path / "azure-state")
    azure = env.fake.azure_client(max_retries=0)
    run = env.builder(azure).sft(sft_file).dpo(dpo_file).start()
    assert json.loads(run.manifest_path.read_text())["provider"] == "azure"
    openai_client = FakeFineTuningAPI().client(max_retries=0)
    with pytest.raises(ftkit.RunConflict, match="azure"):
        ftkit.Run.resume(run.id, openai_client, state_dir=env.state_dir).wait()
    result = ftkit.Run.resume(
        run.id, azure, state_dir=env.state_dir, retry=env.retry, poll=env.poll
    ).wait()
    assert [s.status for s in result.stages] == ["succeeded", "succeeded"]
    assert env.fake.requests and all(r.azure for r in env.fake.requests)
    assert len(env.fake.jobs) == 2


def test_async_twin_matches_sync(env: Env, sft_file: Path, dpo_file: Path) -> None:
    async def go() -> ftkit.RunResult:
        builder = env.builder(asynchronous=True).sft(sft_file).dpo(dpo_file)
        return await builder.run()  # type: ignore[no-any-return, misc]

    result = asyncio.run(go())
    assert [s.status for s in result.stages] == ["succeeded", "succeeded"]
    assert result.stages[1].base_model == result.stages[0].fine_tuned_model
    assert len(env.jobs_for(result.run_id, "sft")) == 1
    assert len(env.jobs_for(result.run_id, "dpo")) == 1


def test_ctrl_c_stops_waiting_and_resume_reattaches(
    env: Env, sft_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sleeps = 0

    def sleep_then_interrupt(seconds: float) -> None:
        nonlocal sleeps
        sleeps += 1
        if sleeps == 3:
            raise KeyboardInterrupt
        env.fake.clock.sleep(seconds)

    poll = env.poll.with_sleep(sleep_then_interrupt)
    with caplog.at_level("WARNING", logger="ftkit.pipeline"), pytest.raises(KeyboardInterrupt):
        env.builder().poll(poll).sft(sft_file).run()
    run_id = next(e.run_id for e in env.events)
    assert f"ftkit.Run.resume({run_id!r})" in caplog.text
    job_id = env.fake.jobs[0]["id"]
    assert env.fake.job(str(job_id))["status"] not in ("cancelled", "failed")
    result = env.resume(run_id).wait()
    assert result.stages[0].job_id == job_id
    assert len(env.fake.jobs) == 1


def test_waiting_on_a_failed_run_raises_again(env: Env, sft_file: Path) -> None:
    env.fake.script_next_job(
        ["failed"], error={"code": "invalid_training_file", "message": "bad", "param": None}
    )
    with pytest.raises(ftkit.JobFailed) as first:
        env.builder().sft(sft_file).run()
    run_id = first.value.run_id
    assert run_id
    requests = len(env.fake.requests)
    with pytest.raises(ftkit.JobFailed) as again:
        ftkit.Run.resume(run_id, state_dir=env.state_dir).wait()  # no client needed
    assert (again.value.code, again.value.job_id) == ("invalid_training_file", first.value.job_id)
    assert len(env.fake.requests) == requests


def test_base64_result_file_is_read_like_csv(tmp_path: Path, sft_file: Path) -> None:
    from ftkit.testing import FakeFineTuningAPI

    env = Env(fake=FakeFineTuningAPI(result_files_base64=True), state_dir=tmp_path / "state")
    result = env.builder().sft(sft_file).run()
    rows = result.stages[0].metrics
    assert rows and isinstance(rows[0]["step"], int)
    assert isinstance(rows[-1]["train_loss"], float)
    job = env.fake.jobs[0]
    assert env.fake.file_content(str(job["result_files"][0]))[:4] != b"step"  # really base64

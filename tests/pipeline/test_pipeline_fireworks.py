"""SFT → DPO on Fireworks AI, end to end on the Fireworks fake, sync and async.

Driven by the real ``fireworks.Fireworks`` / ``fireworks.AsyncFireworks`` against
``FakeFineTuningAPI(provider="fireworks")``: datasets named after their content,
jobs created under ids ftkit derives from the run and stage (so a create that may have
happened is read by that id, and a 409 means it exists), DPO warm-started from the SFT
model with its loss method set to DPO, progress told as events, and the dedicated
deployment that serves the result.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fireworks")

from pipeline_support import Env

import ftkit
from ftkit.backend import JobSpec
from ftkit.backend._datasets import dataset_id
from ftkit.backend._jobs import caller_job_id
from ftkit.testing import FakeFineTuningAPI

MODEL = "accounts/fireworks/models/llama-v3p1-8b-instruct"
ACCOUNT = "fake-account"


@pytest.fixture
def fw_env(tmp_path: Path) -> Env:
    return Env(fake=FakeFineTuningAPI(provider="fireworks"), state_dir=tmp_path / "state")


def builder(env: Env, *, asynchronous: bool = False) -> Any:
    client = (
        env.fake.async_client(max_retries=0) if asynchronous else env.fake.client(max_retries=0)
    )
    return env.builder(client, asynchronous=asynchronous).model(MODEL)


def chain(env: Env, sft: Path, dpo: Path, *, asynchronous: bool = False, **run: Any) -> Any:
    built = (
        builder(env, asynchronous=asynchronous)
        .sft(sft, epochs=2)
        .dpo(dpo, beta=0.2, epochs=1)
        .suffix("support")
        .options(lora_rank=8, learning_rate=2e-4, early_stop=True)
    )
    return asyncio.run(built.run(**run)) if asynchronous else built.run(**run)


def routes(env: Env) -> list[str]:
    return [r.route for r in env.fake.requests]


def _identity_id(run_id: str, stage: str) -> str:
    spec = JobSpec(
        model=MODEL,
        training_file="-",
        suffix="support",
        metadata={"ftkit_run": run_id, "ftkit_stage": stage},
    )
    return caller_job_id(spec)


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_sft_then_dpo_warm_started_from_the_sft_model(
    fw_env: Env, sft_file: Path, dpo_file: Path, asynchronous: bool
) -> None:
    result = chain(fw_env, sft_file, dpo_file, asynchronous=asynchronous)
    sft, dpo = result.stages
    assert [sft.status, dpo.status] == ["succeeded", "succeeded"]
    # Each job's id is derived from the run and the stage: that is how it is found again.
    sft_id, dpo_id = (_identity_id(result.run_id, s) for s in ("sft", "dpo"))
    assert sft.job_id == f"accounts/{ACCOUNT}/supervisedFineTuningJobs/{sft_id}"
    assert dpo.job_id == f"accounts/{ACCOUNT}/dpoJobs/{dpo_id}"
    assert sft.fine_tuned_model == f"accounts/{ACCOUNT}/models/{sft_id}"
    assert result.fine_tuned_model == dpo.fine_tuned_model == f"accounts/{ACCOUNT}/models/{dpo_id}"
    (sft_create,) = fw_env.fake.calls("sft_jobs.create")
    (dpo_create,) = fw_env.fake.calls("dpo_jobs.create")
    assert sft_create.query["supervisedFineTuningJobId"] == sft_id
    assert dpo_create.query["dpoJobId"] == dpo_id
    first, second = sft_create.json, dpo_create.json
    assert first["baseModel"] == MODEL and "warmStartFrom" not in first
    assert (first["epochs"], first["loraRank"], first["learningRate"]) == (2, 8, 2e-4)
    assert first["earlyStop"] is True  # an SFT-only option, not sent to DPO
    datasets = [f["name"] for f in fw_env.fake.files if "name" in f]
    assert first["dataset"] in datasets and second["dataset"] in datasets
    assert second["trainingConfig"] == {
        "warmStartFrom": sft.fine_tuned_model,
        "epochs": 1,
        "learningRate": 2e-4,
        "loraRank": 8,
    }
    # Set explicitly: an unspecified method would train GRPO.
    assert second["lossConfig"] == {"method": "DPO", "dpo": {"beta": 0.2}}
    assert result.provider == "fireworks" and "dedicated deployment" in result.serving
    manifest = json.loads(Path(result.manifest_path).read_text())
    assert (manifest["provider"], manifest["api"]) == ("fireworks", "fireworks")


def test_datasets_are_named_after_their_content_and_stored_once(
    fw_env: Env, sft_file: Path, dpo_file: Path
) -> None:
    import hashlib

    chain(fw_env, sft_file, dpo_file)
    created = [r.json["datasetId"] for r in fw_env.fake.calls("datasets.create")]
    expected = [
        dataset_id(hashlib.sha256(p.read_bytes()).hexdigest()) for p in (sft_file, dpo_file)
    ]
    assert created == expected
    assert routes(fw_env).count("datasets.upload") == 2
    # A second run of the same files: the creates are refused (409), the datasets reused.
    chain(fw_env, sft_file, dpo_file)
    assert routes(fw_env).count("datasets.upload") == 2
    assert routes(fw_env).count("datasets.create") == 4
    assert len(fw_env.fake.calls("sft_jobs.create")) == 2  # a new run: new jobs


def test_a_job_created_just_before_a_crash_is_read_by_its_id_not_created_again(
    fw_env: Env, sft_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ftkit.pipeline._core as core

    real = core.creating_job

    def dies_after_creating(*args: Any, **kwargs: Any) -> Any:
        yield from real(*args, **kwargs)
        raise KeyboardInterrupt  # the process dies before the job's name is saved

    monkeypatch.setattr(core, "creating_job", dies_after_creating)
    with pytest.raises(KeyboardInterrupt):
        builder(fw_env).sft(sft_file, epochs=1).run()
    monkeypatch.setattr(core, "creating_job", real)
    (manifest,) = (fw_env.state_dir / "runs").glob("*.json")
    result = fw_env.resume(manifest.stem).wait()
    assert result.stages[0].status == "succeeded"
    assert len(fw_env.fake.calls("sft_jobs.create")) == 1
    assert len(fw_env.fake.jobs) == 1


@pytest.mark.parametrize("route", ["sft_jobs.create", "datasets.create"])
def test_a_create_whose_answer_is_lost_is_read_by_its_id(
    fw_env: Env, sft_file: Path, route: str
) -> None:
    fault = fw_env.fake.faults.inject(route, "applied_but_lost")
    result = builder(fw_env).sft(sft_file, epochs=1).run()
    assert fault.fired == 1
    assert result.stages[0].status == "succeeded"
    assert len(fw_env.fake.jobs) == 1
    assert len([f for f in fw_env.fake.files if "name" in f]) == 1
    # The lost create was followed by a read of its id, and not sent again.
    assert len(fw_env.fake.calls(route)) == 1
    after = routes(fw_env)[routes(fw_env).index(route) + 1]
    assert after == route.replace(".create", ".get")


def test_a_create_that_says_it_exists_continues_with_the_existing_job(
    fw_env: Env, sft_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ftkit.pipeline._core as core

    # Another process creates the stage's job between this run's look and its create:
    # the create is refused with 409 ALREADY_EXISTS, and the job is read and adopted.
    real = core.finding_job

    def another_process_creates_it(*args: Any, **kwargs: Any) -> Any:
        found = yield from real(*args, **kwargs)
        assert found is None
        backend, spec = args[0], args[1]
        yield backend.create_job(spec)
        return None

    monkeypatch.setattr(core, "finding_job", another_process_creates_it)
    result = builder(fw_env).sft(sft_file, epochs=1).run()
    assert result.stages[0].status == "succeeded"
    assert len(fw_env.fake.jobs) == 1
    assert [r.status for r in fw_env.fake.calls("sft_jobs.create")] == [200, 409]


def test_auto_epochs_train_what_the_plan_priced(fw_env: Env, sft_file: Path) -> None:
    built = builder(fw_env).sft(sft_file)
    plan = built.plan()
    result = built.run()
    (create,) = fw_env.fake.calls("sft_jobs.create")
    assert create.json["epochs"] == plan.stages[0].estimate.epochs
    assert result.stages[0].status == "succeeded"


def test_progress_is_told_as_events_once_per_change(fw_env: Env, sft_file: Path) -> None:
    builder(fw_env).sft(sft_file, epochs=1).run()
    told = [e.message for e in fw_env.events if e.type == "job_event"]
    assert told, "state and progress changes become events"
    assert len(told) == len(set(told))
    assert any("running (" in m and "%)" in m for m in told)
    assert told[-1].startswith("completed")


def test_deploy_creates_one_dedicated_deployment_and_states_its_cost(
    fw_env: Env, sft_file: Path
) -> None:
    client = fw_env.fake.client(max_retries=0)
    result = builder(fw_env).sft(sft_file, epochs=1).run()
    deployment = result.deploy(client=client, max_replicas=2, poll=fw_env.poll, retry=fw_env.retry)
    assert deployment.state == "READY"
    assert deployment.model == result.fine_tuned_model
    assert deployment.call_as == f"{result.fine_tuned_model}#{deployment.name}"
    assert "GPU-second" in deployment.hosting_note
    (create,) = fw_env.fake.calls("deployments.create")
    assert create.json["baseModel"] == result.fine_tuned_model
    assert (create.json["minReplicaCount"], create.json["maxReplicaCount"]) == (0, 2)
    # Deploying again adopts it.
    again = result.deploy(client=client, poll=fw_env.poll, retry=fw_env.retry)
    assert again.name == deployment.name
    assert len(fw_env.fake.calls("deployments.create")) == 1
    # Azure's settings are refused on a Fireworks run.
    with pytest.raises(ftkit.UsageError, match="Azure"):
        result.deploy(client=client, subscription="s")


def test_unknown_options_and_seeds_are_refused_before_upload(fw_env: Env, sft_file: Path) -> None:
    with pytest.raises(ftkit.UsageError, match="takes no job option"):
        builder(fw_env).sft(sft_file).options(lora_r=8).run()
    with pytest.raises(ftkit.UsageError, match="learning rate is absolute"):
        builder(fw_env).sft(sft_file, learning_rate_multiplier=2.0).run()
    with pytest.raises(ftkit.UsageError, match="no seed"):
        builder(fw_env).sft(sft_file).seed(7).run()
    assert "datasets.create" not in routes(fw_env)


def test_provider_fireworks_reads_its_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FIREWORKS_API_KEY", raising=False)
    monkeypatch.delenv("FIREWORKS_ACCOUNT_ID", raising=False)
    with pytest.raises(ftkit.UsageError, match="FIREWORKS_API_KEY"):
        ftkit.FineTune(None, provider="fireworks")
    monkeypatch.setenv("FIREWORKS_API_KEY", "fw_not_a_real_key_0123456789")
    with pytest.raises(ftkit.UsageError, match="FIREWORKS_ACCOUNT_ID"):
        ftkit.FineTune(None, provider="fireworks")
    monkeypatch.setenv("FIREWORKS_ACCOUNT_ID", "acme")
    built = ftkit.FineTune(None, provider="fireworks")
    assert "fw_not_a_real_key" not in repr(built)


def test_evaluate_calls_the_deployed_model_through_fireworks_chat(
    fw_env: Env, sft_file: Path
) -> None:
    client = fw_env.fake.client(max_retries=0)
    result = builder(fw_env).sft(sft_file, epochs=1).run()
    with pytest.raises(ftkit.APIError, match="not deployed"):
        # Without its deployment the fine-tune does not answer.
        result.evaluate(sft_file, max_examples=1, max_tokens=16)
    result.deploy(client=client, poll=fw_env.poll, retry=fw_env.retry)
    report = result.evaluate(sft_file, max_examples=2, max_tokens=16)
    assert set(report.models) == {"base", "fine-tuned"}
    sent = fw_env.fake.calls("chat.completions.create")[-1].json
    assert sent["max_tokens"] == 16 and "max_completion_tokens" not in sent


def test_what_a_later_stage_would_refuse_is_refused_before_anything_is_uploaded(
    fw_env: Env, sft_file: Path, dpo_file: Path, tmp_path: Path
) -> None:
    lines = dpo_file.read_text().splitlines()
    train, held_out = tmp_path / "dpo_train.jsonl", tmp_path / "dpo_val.jsonl"
    train.write_text("\n".join(lines[:-4]) + "\n")
    held_out.write_text("\n".join(lines[-4:]) + "\n")
    with pytest.raises(ftkit.UsageError, match="DPO jobs take no validation"):
        builder(fw_env).sft(sft_file).dpo(train, validation=held_out).run()
    with pytest.raises(ftkit.UsageError, match="name one job's model"):
        builder(fw_env).sft(sft_file).dpo(dpo_file).options(output_model="bot").run()
    assert "datasets.create" not in routes(fw_env)
    # One stage: output_model names its model.
    result = builder(fw_env).sft(sft_file, epochs=1).options(output_model="bot").run()
    assert result.fine_tuned_model == f"accounts/{ACCOUNT}/models/bot"


def test_progress_events_are_dated_when_the_job_changed(fw_env: Env, sft_file: Path) -> None:
    builder(fw_env).sft(sft_file, epochs=1).run()
    told = [e.job_event for e in fw_env.events if e.type == "job_event"]
    stamps = [e.created_at for e in told if e is not None]
    # Each change at its own time (the job's updateTime), not all at the job's creation.
    assert len(stamps) > 2 and stamps == sorted(stamps) and len(set(stamps)) == len(stamps)

"""SFT → DPO on Together AI, end to end on the Together fake, sync and async.

Driven by the real ``together.Together`` / ``together.AsyncTogether`` against
``FakeFineTuningAPI(provider="together")``: presigned uploads, Together's server-side
file validation, no job metadata (a run token in the suffix), DPO started
``from_checkpoint`` the SFT job, the price quote before every job, metrics from the
metrics endpoint, and the weights downloaded.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("together")

from pipeline_support import Env

import ftkit
from ftkit.backend._jobs import run_token
from ftkit.testing import FakeFineTuningAPI

MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"


@pytest.fixture
def together_env(tmp_path: Path) -> Env:
    return Env(fake=FakeFineTuningAPI(provider="together"), state_dir=tmp_path / "state")


def builder(env: Env, *, asynchronous: bool = False) -> Any:
    client = (
        env.fake.async_client(max_retries=0) if asynchronous else env.fake.client(max_retries=0)
    )
    return env.builder(client, asynchronous=asynchronous).model(MODEL)


def chain(env: Env, sft: Path, dpo: Path, *, asynchronous: bool = False, **run: Any) -> Any:
    built = (
        builder(env, asynchronous=asynchronous)
        .sft(sft, epochs=1)
        .dpo(dpo, beta=0.2, epochs=1)
        .suffix("support")
        .options(lora_r=8, learning_rate=2e-5, n_evals=0, train_on_inputs="auto")
    )
    return asyncio.run(built.run(**run)) if asynchronous else built.run(**run)


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_sft_then_dpo_from_the_sft_checkpoint(
    together_env: Env, sft_file: Path, dpo_file: Path, asynchronous: bool
) -> None:
    result = chain(together_env, sft_file, dpo_file, asynchronous=asynchronous)
    assert isinstance(result, ftkit.RunResult)
    sft, dpo = result.stages
    assert [sft.status, dpo.status] == ["succeeded", "succeeded"]
    assert result.fine_tuned_model == dpo.fine_tuned_model and dpo.fine_tuned_model
    # Together serves a fine-tune on an endpoint you create, or hands its weights out.
    assert result.provider == "together" and "dedicated endpoint" in result.serving
    assert "served: on a dedicated endpoint" in str(result)
    creates = [r for r in together_env.fake.requests if r.route == "jobs.create"]
    assert len(creates) == 2
    first, second = (r.json for r in creates)
    # SFT from the base model; DPO from the SFT job itself, with no model named.
    assert first["model"] == MODEL and "from_checkpoint" not in first
    assert second["from_checkpoint"] == sft.job_id and "model" not in second
    assert first["training_method"]["method"] == "sft"
    assert second["training_method"] == {
        "method": "dpo",
        "dpo_beta": 0.2,
        "dpo_normalize_logratios_by_length": False,
        "dpo_reference_free": False,
    }
    assert first["training_type"]["lora_r"] == 8 and first["learning_rate"] == 2e-5
    # No metadata on Together: each job carries its stage's run token in the suffix.
    for body, stage in ((first, "sft"), (second, "dpo")):
        assert "metadata" not in body
        token = run_token({"ftkit_run": result.run_id, "ftkit_stage": stage})
        assert body["suffix"] == f"support-{token}"
    # Each job was priced first; the metrics come from the metrics endpoint.
    assert len([r for r in together_env.fake.requests if r.route == "jobs.estimate_price"]) == 2
    assert sft.metrics, "metrics from GET /v1/fine-tunes/{id}/metrics"
    manifest = json.loads(Path(result.manifest_path).read_text())
    assert (manifest["provider"], manifest["api"]) == ("together", "together")
    assert all(s["quoted_usd"] is not None for s in manifest["stages"])


def test_each_file_is_uploaded_once_through_the_presigned_url(
    together_env: Env, sft_file: Path, dpo_file: Path
) -> None:
    chain(together_env, sft_file, dpo_file)
    routes = [r.route for r in together_env.fake.requests]
    assert routes.count("files.create") == 2
    assert routes.count("files.upload_put") == 2
    assert routes.count("files.preprocess") == 2
    # A second run of the same files reuses them: nothing is uploaded again.
    chain(together_env, sft_file, dpo_file)
    again = [r.route for r in together_env.fake.requests]
    assert (again.count("files.create"), again.count("files.upload_put")) == (2, 2)
    names = [f["filename"] for f in together_env.fake.files if ".ftkit-" in f["filename"]]
    assert len(names) == len(set(names)) == 2


def test_a_refused_price_quote_stops_the_run_before_any_job(
    together_env: Env, sft_file: Path, dpo_file: Path
) -> None:
    together_env.fake.set_credit_limit(0.0)
    with pytest.raises(ftkit.UsageError, match="credit"):
        chain(together_env, sft_file, dpo_file)
    assert together_env.fake.jobs == []
    assert not [r for r in together_env.fake.requests if r.route == "jobs.create"]


def test_max_cost_is_checked_against_together_s_own_quote(
    together_env: Env, sft_file: Path, dpo_file: Path
) -> None:
    with pytest.raises(ftkit.UsageError, match="over max_cost_usd"):
        chain(together_env, sft_file, dpo_file, max_cost_usd=1e-9)
    assert together_env.fake.jobs == []


def test_options_are_refused_on_openai_before_anything_is_sent(
    tmp_path: Path, sft_file: Path
) -> None:
    env = Env(fake=FakeFineTuningAPI(), state_dir=tmp_path / "state")
    built = env.builder().sft(sft_file).options(lora_r=8)
    with pytest.raises(ftkit.UsageError, match="takes no provider options"):
        built.run()
    assert env.fake.requests == []


def test_an_unknown_option_is_refused_before_upload(together_env: Env, sft_file: Path) -> None:
    with pytest.raises(ftkit.UsageError, match="takes no job option"):
        builder(together_env).sft(sft_file).options(lorra_r=8).run()
    # Only the model's limits were read: nothing was uploaded.
    assert [r.route for r in together_env.fake.requests] == ["models.limits"]


def test_the_model_s_limits_are_read_from_together_before_the_plan(
    together_env: Env, sft_file: Path
) -> None:
    from ftkit.providers import find_model

    builder(together_env).sft(sft_file, epochs=1).run()
    assert together_env.fake.calls("models.limits")[0].query == {"model_name": MODEL}
    entry = find_model(MODEL, "together")
    assert entry is not None and entry.confirmed("features")  # the catalog marks it unconfirmed


def test_a_model_together_cannot_fine_tune_is_refused_before_upload(
    together_env: Env, sft_file: Path
) -> None:
    with pytest.raises(ftkit.APIError) as caught:
        builder(together_env).model("acme/not-a-model").sft(sft_file).run()
    assert caught.value.status_code == 404
    assert [r.route for r in together_env.fake.requests] == ["models.limits"]


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_the_weights_download_atomically(
    together_env: Env, sft_file: Path, tmp_path: Path, asynchronous: bool
) -> None:
    built = builder(together_env, asynchronous=asynchronous).sft(sft_file, epochs=1)
    result = asyncio.run(built.run()) if asynchronous else built.run()
    target = tmp_path / "weights"
    target.mkdir()
    if asynchronous:
        path = asyncio.run(result.adownload(target, checkpoint="adapter"))
    else:
        path = result.download(target, checkpoint="adapter")
    assert path.parent == target and path.stat().st_size > 0
    assert [p.name for p in target.iterdir()] == [path.name]  # no partial file beside it
    call = [r for r in together_env.fake.requests if r.route == "jobs.download"][-1]
    assert call.query.get("checkpoint") == "adapter"


def test_evaluate_calls_the_models_through_together_chat(together_env: Env, sft_file: Path) -> None:
    result = builder(together_env).sft(sft_file, epochs=1).run()
    report = result.evaluate(sft_file, max_examples=2)
    assert set(report.models) == {"base", "fine-tuned"}
    assert [r for r in together_env.fake.requests if r.route == "chat.completions.create"]


def test_provider_together_reads_the_key_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    with pytest.raises(ftkit.UsageError, match="TOGETHER_API_KEY"):
        ftkit.FineTune(None, provider="together")
    monkeypatch.setenv("TOGETHER_API_KEY", "tgp-not-a-real-key-0123456789")
    built = ftkit.FineTune(None, provider="together")
    assert "tgp-not-a-real-key" not in repr(built)


def test_evaluate_passes_max_tokens_as_together_names_it(together_env: Env, sft_file: Path) -> None:
    result = builder(together_env).sft(sft_file, epochs=1).run()
    result.evaluate(sft_file, max_examples=1, max_tokens=16)
    sent = together_env.fake.calls("chat.completions.create")[-1].json
    assert sent["max_tokens"] == 16 and "max_completion_tokens" not in sent


def test_a_path_ending_in_a_slash_is_a_directory_and_full_training_has_no_adapter(
    together_env: Env, sft_file: Path, tmp_path: Path
) -> None:
    result = builder(together_env).sft(sft_file, epochs=1).options(lora=False).run()
    with pytest.raises(ftkit.UsageError, match="no adapter"):
        result.download(tmp_path / "x", checkpoint="adapter")
    path = result.download(f"{tmp_path / 'weights'}/")
    assert path.parent == tmp_path / "weights" and path.is_file()
    assert together_env.fake.calls("jobs.download")[-1].query["checkpoint"] == "model_output_path"


def test_a_job_created_just_before_a_crash_is_found_before_any_price_is_asked(
    together_env: Env, sft_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ftkit.pipeline._core as core

    real = core.creating_job

    def dies_after_creating(*args: Any, **kwargs: Any) -> Any:
        yield from real(*args, **kwargs)
        raise KeyboardInterrupt  # the process dies before the job id is saved

    monkeypatch.setattr(core, "creating_job", dies_after_creating)
    with pytest.raises(KeyboardInterrupt):
        builder(together_env).sft(sft_file, epochs=1).run()
    monkeypatch.setattr(core, "creating_job", real)
    together_env.fake.set_credit_limit(0.0)  # the running job now weighs on the credit
    (manifest,) = (together_env.state_dir / "runs").glob("*.json")
    result = together_env.resume(manifest.stem).wait()
    assert result.stages[0].status == "succeeded"
    assert len(together_env.fake.jobs) == 1  # found again, not orphaned nor duplicated


def test_option_values_together_refuses_are_refused_before_upload(
    together_env: Env, sft_file: Path
) -> None:
    for options in (
        {"lora_alpha": 16},
        {"lr_scheduler_type": "step"},
        {"lora": False, "lora_r": 8},
    ):
        with pytest.raises(ftkit.UsageError):
            builder(together_env).sft(sft_file).options(**options).run()
    assert {r.route for r in together_env.fake.requests} == {"models.limits"}


def test_max_cost_caps_the_run_s_quotes_together(
    together_env: Env, sft_file: Path, dpo_file: Path
) -> None:
    quoted = chain(together_env, sft_file, dpo_file)
    sft, dpo = (
        json.loads(Path(quoted.manifest_path).read_text())["stages"][i]["quoted_usd"]
        for i in (0, 1)
    )
    # Each job alone fits the cap; both together do not: DPO is refused, SFT ran.
    cap = max(sft, dpo) + min(sft, dpo) / 2
    with pytest.raises(ftkit.UsageError, match="quoted for the stages before it"):
        chain(together_env, sft_file, dpo_file, max_cost_usd=cap)

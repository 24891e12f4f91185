"""SFT → DPO on Azure OpenAI's two APIs, end to end on the Azure fake, sync and async.

Driven by the real ``openai.AzureOpenAI`` (the dated API: no job metadata, a run
token in the suffix) and ``openai.OpenAI`` on ``/openai/v1/`` (metadata, no
filter, no Uploads API), against ``FakeFineTuningAPI(provider="azure")``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from pipeline_support import Env

import ftkit
from ftkit.backend._jobs import run_token
from ftkit.testing import FakeFineTuningAPI

MODEL = "gpt-4.1-2025-04-14"
BLOB = "https://acct.blob.core.windows.test/data/train.jsonl?sv=2025&sig=SAS-SECRET-0123"


@pytest.fixture
def azure(tmp_path: Path) -> Env:
    return Env(fake=FakeFineTuningAPI(provider="azure"), state_dir=tmp_path / "state")


def client(env: Env, api: str, *, asynchronous: bool = False) -> Any:
    make = env.fake.async_client if asynchronous else env.fake.client
    return make(api=api, max_retries=0)


def run_chain(
    env: Env, api: str, sft: Path, dpo: Path, *, asynchronous: bool = False
) -> ftkit.RunResult:
    """SFT then DPO with suffix ``support`` on ``api``, through the sync or the async driver."""
    builder = (
        env.builder(client(env, api, asynchronous=asynchronous), asynchronous=asynchronous)
        .model(MODEL)
        .sft(sft, epochs=1)
        .dpo(dpo, beta=0.2, epochs=1)
        .suffix("support")
    )
    result = asyncio.run(builder.run()) if asynchronous else builder.run()
    assert isinstance(result, ftkit.RunResult)
    return result


def stage_jobs(env: Env, result: ftkit.RunResult) -> list[dict[str, Any]]:
    return [env.fake.job(str(s.job_id), api="v1") for s in result.stages]


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_sft_then_dpo_on_the_dated_api(
    azure: Env, sft_file: Path, dpo_file: Path, asynchronous: bool
) -> None:
    result = run_chain(azure, "dated", sft_file, dpo_file, asynchronous=asynchronous)
    sft, dpo = result.stages
    assert [sft.status, dpo.status] == ["succeeded", "succeeded"]
    # Azure's names are used verbatim, and DPO trains on the SFT model.
    assert sft.fine_tuned_model.startswith(f"{MODEL}.ft-")
    assert dpo.base_model == sft.fine_tuned_model
    # The dated API keeps no metadata: each job carries its stage's run token.
    for job, stage in zip(stage_jobs(azure, result), ("sft", "dpo"), strict=True):
        token = run_token({"ftkit_run": result.run_id, "ftkit_stage": stage})
        assert job["user_provided_suffix"] == f"support-{token}"
    dated_creates = [r for r in azure.fake.requests if r.route == "jobs.create"]
    assert len(dated_creates) == 2 and {r.api for r in dated_creates} == {"dated"}
    manifest = json.loads(Path(result.manifest_path).read_text())
    assert (manifest["provider"], manifest["api"]) == ("azure", "azure-dated")


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_sft_then_dpo_on_the_v1_api(
    azure: Env, sft_file: Path, dpo_file: Path, asynchronous: bool
) -> None:
    result = run_chain(azure, "v1", sft_file, dpo_file, asynchronous=asynchronous)
    assert [s.status for s in result.stages] == ["succeeded", "succeeded"]
    for job, stage in zip(stage_jobs(azure, result), ("sft", "dpo"), strict=True):
        assert job["metadata"] == {"ftkit_run": result.run_id, "ftkit_stage": stage}
        assert job["user_provided_suffix"] == "support"  # no token needed
    assert {r.api for r in azure.fake.requests} == {"v1"}
    assert not any(r.route.startswith("uploads.") for r in azure.fake.requests)


def test_a_lost_create_answer_is_found_by_its_token_not_repeated(
    azure: Env, sft_file: Path
) -> None:
    azure.fake.faults.inject("jobs.create", "applied_but_lost")
    result = azure.builder(client(azure, "dated")).model(MODEL).sft(sft_file).run()
    creates = [r for r in azure.fake.requests if r.route == "jobs.create"]
    assert len(creates) == 1
    assert len(azure.fake.jobs) == 1
    assert result.stages[0].job_id == azure.fake.jobs[0]["id"]


def test_an_open_source_model_trains_on_the_training_type_given(azure: Env, sft_file: Path) -> None:
    base = azure.builder(client(azure, "dated")).model("gpt-oss-20b").sft(sft_file)
    with pytest.raises(ftkit.UsageError, match="globalstandard"):
        base.run()
    assert not azure.fake.requests  # refused before anything was sent
    result = base.training_type("globalStandard").run()
    job_id = str(result.stages[0].job_id)
    assert azure.fake.training_type(job_id) == "globalstandard"
    manifest = json.loads(Path(result.manifest_path).read_text())
    assert manifest["training_type"] == "globalstandard"


def test_a_run_resumes_only_on_the_api_it_started_on(azure: Env, sft_file: Path) -> None:
    run = azure.builder(client(azure, "dated")).model(MODEL).sft(sft_file).start()
    with pytest.raises(ftkit.RunConflict, match="azure-dated"):
        ftkit.Run.resume(run.id, client(azure, "v1"), state_dir=azure.state_dir).wait()
    resumed = ftkit.Run.resume(
        run.id, client(azure, "dated"), state_dir=azure.state_dir, poll=azure.poll
    )
    assert resumed.wait().stages[0].status == "succeeded"


def test_a_file_is_imported_from_its_url_instead_of_uploaded(
    azure: Env, sft_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    azure.fake.serve_url(BLOB, sft_file.read_bytes())
    builder = (
        azure.builder(client(azure, "dated"))
        .model(MODEL)
        .sft(sft_file)
        .uploads(content_urls={sft_file: BLOB})
    )
    with caplog.at_level(logging.DEBUG):
        result = builder.run()
    routes = [r.route for r in azure.fake.requests]
    assert "files.import" in routes and "files.create" not in routes
    assert result.stages[0].status == "succeeded"
    # A SAS URL is a credential: kept out of the manifest and the logs.
    assert "SAS-SECRET" not in Path(result.manifest_path).read_text()
    assert "SAS-SECRET" not in caplog.text
    # Its bytes were checked by size only: a later run uploads the local file rather
    # than take the import for an upload of it.
    azure.fake.requests.clear()
    azure.builder(client(azure, "dated")).model(MODEL).sft(sft_file).suffix("again").run()
    assert "files.create" in [r.route for r in azure.fake.requests]


def test_an_import_of_other_bytes_trains_nothing(azure: Env, sft_file: Path) -> None:
    azure.fake.serve_url(BLOB, b'{"messages": []}\n')
    builder = (
        azure.builder(client(azure, "dated"))
        .model(MODEL)
        .sft(sft_file)
        .uploads(content_urls={sft_file: BLOB})
    )
    with pytest.raises(ftkit.DatasetError, match="not the file that was validated") as caught:
        builder.run()
    assert "SAS-SECRET" not in str(caught.value)
    assert not azure.fake.jobs
    assert not azure.fake.files  # the imported file was deleted again

"""RunResult: evaluate through the run's own client, aevaluate, stage(), a short repr."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import cast

import pytest
from pipeline_support import EXAMPLES, Env

import ftkit
from ftkit.pipeline import StageResult
from ftkit.testing import ChatBehaviour, FakeFineTuningAPI

TEST_FILE = EXAMPLES / "sarcasm_sft_validation.jsonl"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    # No environment client to fall back on: only the run's client can answer.
    for name in ("OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return Env(fake=FakeFineTuningAPI(chat=ChatBehaviour(error_rate=0.0)), state_dir=tmp_path)


def test_evaluate_reuses_the_run_client(env: Env, sft_file: Path) -> None:
    result = env.builder().sft(sft_file).run()
    assert result.client is not None
    report = result.evaluate(TEST_FILE, max_examples=3, retry=env.retry)
    assert list(report.models) == ["base", "fine-tuned"]
    assert report.models["fine-tuned"] == result.fine_tuned_model
    assert report.scores["fine-tuned"].n == 3
    assert env.fake.calls("chat.completions.create")


def test_a_resumed_run_evaluates_with_the_resume_client(env: Env, sft_file: Path) -> None:
    first = env.builder().sft(sft_file).run()
    again = ftkit.Run.resume(first.run_id, env.fake.client(), state_dir=env.state_dir).wait()
    assert again == first  # the client is not part of equality
    assert again.evaluate(TEST_FILE, max_examples=2, retry=env.retry).asked == 4


def test_aevaluate_uses_the_async_run_client(env: Env, sft_file: Path) -> None:
    builder = cast(ftkit.AsyncFineTune, env.builder(asynchronous=True)).sft(sft_file)

    async def go() -> ftkit.EvalReport:
        result = await builder.run()
        return await result.aevaluate(TEST_FILE, max_examples=3, retry=env.retry)

    report = asyncio.run(go())
    assert report.scores["fine-tuned"].n == 3


def test_aevaluate_with_a_given_client_and_clear_mismatch_errors(env: Env, sft_file: Path) -> None:
    result = env.builder().sft(sft_file).run()
    with pytest.raises(ftkit.UsageError, match=r"synchronous client.*aevaluate"):
        asyncio.run(result.aevaluate(TEST_FILE))
    report = asyncio.run(
        result.aevaluate(TEST_FILE, client=env.fake.async_client(), max_examples=2, retry=env.retry)
    )
    assert report.scores["base"].n == 2
    on_async = result.with_client(env.fake.async_client())
    with pytest.raises(ftkit.UsageError, match=r"async client; use await result\.aevaluate"):
        on_async.evaluate(TEST_FILE)
    assert (
        on_async.evaluate(
            TEST_FILE, client=env.fake.client(), max_examples=1, retry=env.retry
        ).asked
        == 2
    )


def stage(name: str, metrics: list[dict[str, object]] | None = None) -> StageResult:
    return StageResult(
        name=name,
        method="supervised" if name == "sft" else "dpo",
        job_id=f"ftjob-{name}123",
        status="succeeded",
        base_model="gpt-4.1-mini-2025-04-14",
        fine_tuned_model=f"ft:gpt-4.1-mini-2025-04-14:org::{name}",
        metrics=metrics or [],
    )


def test_stage_by_name_and_a_clear_error_when_absent() -> None:
    result = ftkit.RunResult(run_id="ftr-1", fine_tuned_model="ft:x", stages=[stage("sft")])
    assert result.stage("sft") is result.stages[0]
    with pytest.raises(ftkit.UsageError, match=r"no stage 'dpo'; its stages: 'sft'"):
        result.stage("dpo")
    empty = ftkit.RunResult(run_id="ftr-2", fine_tuned_model=None, stages=[])
    with pytest.raises(ftkit.UsageError, match="its stages: none"):
        empty.stage("sft")


def test_repr_summarises_the_metrics() -> None:
    rows: list[dict[str, object]] = [
        {"step": i, "train_loss": 2.0 / i, "valid_loss": 2.5 / i} for i in range(1, 91)
    ]
    result = ftkit.RunResult(
        run_id="ftr-1",
        fine_tuned_model="ft:gpt-4.1-mini-2025-04-14:org::dpo",
        stages=[stage("sft", rows), stage("dpo")],
        client=object(),
    )
    text = repr(result)
    assert text == (
        "RunResult(run_id='ftr-1', fine_tuned_model='ft:gpt-4.1-mini-2025-04-14:org::dpo', "
        "stages=<sft succeeded, 90 steps, last train_loss 0.02222, last valid_loss 0.02778; "
        "dpo succeeded, no metrics>)"
    )
    assert "object at" not in text  # the client (and its key) never shows
    short = repr(result.stage("sft"))
    assert "metrics=<90 steps, last train_loss 0.02222" in short and len(short) < 300
    assert "'step'" not in short

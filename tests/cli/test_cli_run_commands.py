"""Every run command through the entry point: run, plan, status, resume, cancel, runs,
events, metrics, estimate, validate and fake-server, with their exit codes and JSON shapes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import EXAMPLES, MODEL

import ftkit
from ftkit.cli import main
from ftkit.polling import PollPolicy
from ftkit.retry import RetryPolicy
from ftkit.testing import FakeFineTuningAPI

PNG = b"\x89PNG\r\n\x1a\n"


def _json(capsys: pytest.CaptureFixture[str]) -> object:
    return json.loads(capsys.readouterr().out)


def test_status_runs_resume_and_cancel_of_a_finished_run(
    finished_run: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run_id, state = finished_run
    capsys.readouterr()
    assert main(["status", run_id, "--state-dir", str(state), "--json"]) == 0
    status = _json(capsys)
    assert isinstance(status, dict)
    assert status["status"] == "succeeded"
    assert [s["name"] for s in status["stages"]] == ["sft", "dpo"]
    assert status["manifest"].endswith(f"{run_id}.json")

    assert main(["runs", "--state-dir", str(state), "--json"]) == 0
    (listed,) = _json(capsys)  # type: ignore[misc]
    assert listed["run_id"] == run_id and listed["fine_tuned_model"].startswith("ft:")

    assert main(["resume", run_id, "--state-dir", str(state), "--json"]) == 0
    assert _json(capsys)["fine_tuned_model"] == listed["fine_tuned_model"]  # type: ignore[index]

    # Cancelling a finished run changes nothing and says so, in JSON when asked.
    assert main(["cancel", run_id, "--state-dir", str(state), "--json"]) == 0
    assert _json(capsys)["status"] == "succeeded"  # type: ignore[index]
    assert main(["cancel", run_id, "--state-dir", str(state)]) == 0
    assert f"run {run_id}: succeeded" in capsys.readouterr().out


def test_events_from_the_manifest(
    finished_run: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run_id, state = finished_run
    capsys.readouterr()
    assert main(["events", run_id, "--state-dir", str(state), "--json", "--limit", "0"]) == 0
    data = _json(capsys)
    assert isinstance(data, dict) and data["source"] == "manifest"
    events = data["events"]
    assert {e["stage"] for e in events} == {"sft", "dpo"}
    messages = [e["message"] for e in events if e["type"] == "message"]
    assert any("successfully completed" in m for m in messages)
    # Bounded: the last 20 metrics events per job are kept, every message is.
    metrics = [e for e in events if e["type"] == "metrics" and e["stage"] == "sft"]
    assert len(metrics) == 20 and metrics[-1]["data"]["step"] == 90

    assert (
        main(["events", run_id, "--state-dir", str(state), "--stage", "dpo", "--limit", "3"]) == 0
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and all(" dpo " in line for line in lines)
    assert "successfully completed" in lines[-1]

    assert main(["events", run_id, "--state-dir", str(state), "--type", "metrics", "--json"]) == 0
    assert {e["type"] for e in _json(capsys)["events"]} == {"metrics"}  # type: ignore[index]

    assert main(["events", run_id, "--state-dir", str(state), "--stage", "rft"]) == 2
    assert "has no stage 'rft' (it has: sft, dpo)" in capsys.readouterr().err


def test_metrics_table_json_and_plot(
    finished_run: tuple[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_id, state = finished_run
    capsys.readouterr()
    assert main(["metrics", run_id, "--state-dir", str(state)]) == 0
    out = capsys.readouterr().out
    assert "sft: job ftjob-" in out and "90 rows (showing 11)" in out
    assert "train_loss" in out and "checkpoint step 90" in out

    assert main(["metrics", run_id, "--state-dir", str(state), "--json", "--stage", "sft"]) == 0
    data = _json(capsys)
    assert isinstance(data, dict)
    (stage,) = data["stages"]
    assert stage["name"] == "sft" and len(stage["metrics"]) == 90
    assert stage["metrics"][0]["step"] == 1 and "valid_loss" in stage["metrics"][0]
    assert len(stage["checkpoints"]) == 3

    png = tmp_path / "curves.png"
    assert main(["metrics", run_id, "--state-dir", str(state), "--plot", str(png)]) == 0
    assert png.read_bytes().startswith(PNG)
    assert f"wrote {png}" in capsys.readouterr().err

    assert (
        main(["metrics", run_id, "--state-dir", str(state), "--plot", str(tmp_path / "x.txt")]) == 2
    )
    assert "--plot needs a .png" in capsys.readouterr().err


def _started(fake: FakeFineTuningAPI, state: Path) -> ftkit.Run:
    clock = fake.clock
    return (
        ftkit.FineTune(fake.client(max_retries=0))
        .model(MODEL)
        .sft(EXAMPLES / "sarcasm_sft.jsonl")
        .retry(RetryPolicy(sleep=clock.sleep, clock=clock.now))
        .poll(PollPolicy(initial_delay=30.0, sleep=clock.sleep, clock=clock.now))
        .state_dir(state)
        .start()
    )


def test_live_events_and_cancel_through_a_client_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run left running is reached with OPENAI_BASE_URL (here: the fake on 127.0.0.1)."""
    fake = FakeFineTuningAPI()
    run = _started(fake, tmp_path)
    fake.clock.advance(60)  # the job validates its file and reports it
    server = fake.serve()
    try:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-fake")
        monkeypatch.delenv("AZURE_OPENAI_ENDPOINT", raising=False)
        state = ["--state-dir", str(tmp_path)]

        assert main(["events", run.id, *state, "--json"]) == 0
        assert _json(capsys)["events"] == []  # type: ignore[index]  # nobody polled yet
        assert main(["events", run.id, *state, "--live", "--json"]) == 0
        live = _json(capsys)
        assert isinstance(live, dict) and live["source"] == "api"
        texts = [e["message"] for e in live["events"]]
        assert texts[0].startswith("Created fine-tuning job")  # oldest first
        assert main(["metrics", run.id, *state]) == 1
        assert "no metrics yet" in capsys.readouterr().out

        assert main(["cancel", run.id, *state, "--json"]) == 0
        status = _json(capsys)
        assert isinstance(status, dict) and status["status"] == "cancelled"
        (job,) = fake.jobs
        assert job["status"] == "cancelled"
        assert main(["metrics", run.id, *state, "--plot", str(tmp_path / "m.png")]) == 1
        assert "no metrics to plot yet" in capsys.readouterr().err
    finally:
        server.close()


def test_run_refuses_over_budget_and_reports_usage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", "--fake", "--model", MODEL, "--sft", str(EXAMPLES / "sarcasm_sft.jsonl")]
    assert main([*argv, "--state-dir", str(tmp_path), "--max-cost", "0.0001"]) == 2
    assert "hint:" in capsys.readouterr().err
    assert main(["run", "--fake", "--model", MODEL, "--state-dir", str(tmp_path)]) == 2


def test_plan_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["plan", "--model", MODEL, "--sft", str(EXAMPLES / "sarcasm_sft.jsonl"), "--json"]
    assert main([*argv, "--dpo", str(EXAMPLES / "sarcasm_dpo.jsonl")]) == 0
    plan = _json(capsys)
    assert isinstance(plan, dict) and plan["ok"] is True and plan["cost_usd"] > 0
    assert [s["name"] for s in plan["stages"]] == ["sft", "dpo"]


def test_estimate_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = EXAMPLES / "sarcasm_sft.jsonl"
    assert main(["estimate", str(good), "--model", MODEL, "--json"]) == 0
    assert _json(capsys)["examples"] == 30  # type: ignore[index]
    junk = tmp_path / "junk.jsonl"
    junk.write_text('{"question": "q"}\n')
    assert main(["estimate", str(junk), "--model", MODEL]) == 1
    assert main(["estimate", str(tmp_path / "none.jsonl"), "--model", MODEL]) == 2


def test_validate_exit_codes_with_progress_off(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(EXAMPLES / "sarcasm_sft.jsonl"), "--no-progress"]) == 0
    assert "OK - SFT, 30 example" in capsys.readouterr().out  # "30 examples"
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n")
    assert main(["validate", str(bad), "--json"]) == 1
    assert _json(capsys)["ok"] is False  # type: ignore[index]
    assert main(["validate", str(tmp_path / "none.jsonl")]) == 2


def test_fake_server_announces_itself_as_json(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "ftkit", "fake-server", "--json", "--speed", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        address = json.loads(line)
        assert address["provider"] == "openai"
        assert address["base_url"].startswith("http://127.0.0.1:")
        assert address["base_url"].endswith("/v1")
        assert "azure_endpoint" not in address  # Azure's paths: --provider azure
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_run_on_the_azure_fake_with_a_training_type(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sft = str(EXAMPLES / "sarcasm_sft.jsonl")
    argv = ["run", "--provider", "azure", "--fake", "--sft", sft, "--state-dir", str(tmp_path)]
    # An open-source base model trains only on Global Standard, which ftkit never picks.
    assert main([*argv, "--model", "gpt-oss-20b", "--json"]) == 1  # refused, as plan() does
    assert "globalstandard" in capsys.readouterr().err
    assert (
        main([*argv, "--model", "gpt-oss-20b", "--training-type", "globalstandard", "--json"]) == 0
    )
    result = _json(capsys)
    assert isinstance(result, dict) and ".ft-" in result["fine_tuned_model"]
    manifest = json.loads(next(tmp_path.rglob("ftr-*.json")).read_text())
    assert (manifest["provider"], manifest["training_type"]) == ("azure", "globalstandard")

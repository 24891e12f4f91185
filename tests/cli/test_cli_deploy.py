"""``ftkit deploy RUN``: an Azure run's model deployed through the fake's loopback ARM."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import EXAMPLES, MODEL

import ftkit
from ftkit._commands.deploy import command_token
from ftkit.cli import main
from ftkit.testing import FakeFineTuningAPI, FakeServer

TOKEN = "cli-arm-token-not-real-93ab1f"
PRINT_TOKEN = f"{shlex.quote(sys.executable)} -c 'print(\"{TOKEN}\")'"


@pytest.fixture
def fake() -> FakeFineTuningAPI:
    fake = FakeFineTuningAPI(provider="azure")
    fake.arm.accepted_seconds = fake.arm.creating_seconds = 0  # the CLI waits on real time
    return fake


@pytest.fixture
def server(fake: FakeFineTuningAPI) -> Iterator[FakeServer]:
    with fake.serve() as server:
        yield server


@pytest.fixture
def azure_run(fake: FakeFineTuningAPI, tmp_path: Path) -> tuple[str, Path]:
    state = tmp_path / "state"
    result = (
        ftkit.FineTune(fake.azure_client(max_retries=0))
        .model(MODEL)
        .sft(EXAMPLES / "sarcasm_sft.jsonl")
        .state_dir(state)
        .run()
    )
    return result.run_id, state


def _argv(run_id: str, state: Path, *extra: str) -> list[str]:
    return [
        "deploy",
        run_id,
        "--state-dir",
        str(state),
        "--subscription",
        "sub-1",
        "--resource-group",
        "rg-1",
        "--account",
        "acct-1",
        *extra,
    ]


def test_deploys_and_prints_the_deployment_as_json(
    fake: FakeFineTuningAPI,
    server: FakeServer,
    azure_run: tuple[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = _argv(*azure_run, "--arm-endpoint", server.azure_endpoint)
    argv += ["--token-command", PRINT_TOKEN, "--capacity", "20", "--json"]

    assert main(argv) == 0

    out, err = capsys.readouterr()
    shown = json.loads(out)
    assert shown["provisioning_state"] == "Succeeded"
    assert shown["capacity"] == 20 and shown["sku"] == "Standard"
    assert shown["hosting_per_hour"] is None and "15 days" in shown["hosting_note"]
    assert [d["name"] for d in fake.arm.deployments] == [shown["name"]]
    assert "deploying" in err
    assert TOKEN not in out + err


def test_the_text_output_states_the_hosting_cost(
    server: FakeServer, azure_run: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = _argv(*azure_run, "--arm-endpoint", server.azure_endpoint, "--name", "eval-1")
    assert main([*argv, "--token-command", PRINT_TOKEN]) == 0

    out = capsys.readouterr().out
    assert out.startswith("deployment eval-1: Succeeded")
    assert "call it: model='eval-1'" in out
    assert "hosting: unknown" in out


def test_an_openai_run_is_a_usage_error(
    finished_run: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_argv(*finished_run, "--token-command", PRINT_TOKEN)) == 2

    err = capsys.readouterr().err
    assert "trained on 'openai'" in err and "Traceback" not in err


def test_a_failing_token_command_is_a_usage_error_without_its_output(
    server: FakeServer, azure_run: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    failing = f"{shlex.quote(sys.executable)} -c 'print(\"{TOKEN}\"); raise SystemExit(3)'"
    argv = _argv(*azure_run, "--arm-endpoint", server.azure_endpoint, "--token-command", failing)

    assert main(argv) == 2

    out, err = capsys.readouterr()
    assert "--token-command exited with status 3" in err
    assert TOKEN not in out + err


def test_a_failed_deployment_exits_1_with_arms_reason(
    fake: FakeFineTuningAPI,
    server: FakeServer,
    azure_run: tuple[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake.arm.fail_next("ModelLoadFailure", "Failed to load LoRA adapter.")
    argv = _argv(*azure_run, "--arm-endpoint", server.azure_endpoint)

    assert main([*argv, "--token-command", PRINT_TOKEN]) == 1

    err = capsys.readouterr().err
    assert "DeploymentFailed" in err and "ModelLoadFailure" in err
    assert "hint:" in err


def test_a_command_token_is_reused_then_fetched_again(monkeypatch: pytest.MonkeyPatch) -> None:
    import ftkit._commands.deploy as module

    now = [1000.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: now[0])
    runs: list[list[str]] = []

    class Done:
        returncode = 0
        stdout = f"warning\n{TOKEN}\n"

    def fake_run(argv: list[str], **_: object) -> Done:
        runs.append(argv)
        return Done()

    monkeypatch.setattr(module.subprocess, "run", fake_run)
    fetch = command_token("az account get-access-token --query accessToken -o tsv")

    assert fetch() == fetch() == TOKEN
    assert len(runs) == 1 and runs[0][:3] == ["az", "account", "get-access-token"]
    now[0] += 31 * 60
    assert fetch() == TOKEN
    assert len(runs) == 2


def test_a_timeout_exits_1_and_says_to_deploy_again(
    fake: FakeFineTuningAPI,
    server: FakeServer,
    azure_run: tuple[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import itertools

    from ftkit.pipeline import _deploy

    fake.arm.accepted_seconds = 3600.0
    ticks = itertools.count(step=100.0)  # every look is 100 s later; nobody sleeps for real
    poll = ftkit.PollPolicy(deadline=150, sleep=lambda _: None, clock=lambda: next(ticks))
    monkeypatch.setattr(_deploy, "DEFAULT_DEPLOY_POLL", poll)
    argv = _argv(*azure_run, "--arm-endpoint", server.azure_endpoint)

    assert main([*argv, "--token-command", PRINT_TOKEN]) == 1

    err = capsys.readouterr().err
    assert "stopped waiting for deployment" in err and "last state: Accepted" in err
    assert f"ftkit deploy {azure_run[0]}" in err
    assert len(fake.arm.deployments) == 1

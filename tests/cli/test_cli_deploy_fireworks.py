"""``ftkit deploy RUN`` on a Fireworks run: its dedicated deployment, once, from a terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_support import EXAMPLES

pytest.importorskip("fireworks")

import ftkit
from ftkit.cli import main
from ftkit.testing import FakeFineTuningAPI

MODEL = "accounts/fireworks/models/llama-v3p1-8b-instruct"


@pytest.fixture
def fireworks_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, str, Path]:
    fake = FakeFineTuningAPI(provider="fireworks")
    state = tmp_path / "state"
    result = (
        ftkit.FineTune(fake.client(max_retries=0))
        .model(MODEL)
        .sft(EXAMPLES / "sarcasm_sft.jsonl", epochs=1)
        .state_dir(state)
        .run()
    )
    # The environment's client is the fake's (FIREWORKS_API_KEY... would build a real one).
    import ftkit.backend._clients as clients

    monkeypatch.setattr(clients, "env_client", lambda asynchronous, provider=None: fake.client())
    return fake, result.run_id, state


def test_deploys_a_fireworks_run_once_and_prints_how_to_call_it(
    fireworks_run: tuple[Any, str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    fake, run_id, state = fireworks_run
    argv = ["deploy", run_id, "--state-dir", str(state), "--max-replicas", "2", "--json"]
    assert main(argv) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["state"] == "READY" and shown["max_replicas"] == 2
    assert shown["call_as"] == f"{shown['model']}#{shown['name']}"
    assert "GPU-second" in shown["hosting_note"]
    assert main(argv) == 0  # again: adopted
    assert len(fake.calls("deployments.create")) == 1


def test_azure_flags_are_refused_on_a_fireworks_run(
    fireworks_run: tuple[Any, str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    fake, run_id, state = fireworks_run
    assert main(["deploy", run_id, "--state-dir", str(state), "--subscription", "s"]) == 2
    assert "Azure" in capsys.readouterr().err
    assert fake.calls("deployments.create") == []

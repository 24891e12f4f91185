"""Fixtures for the command-line tests: example files and one finished fake run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import fake_run_argv

from ftkit.cli import main


@pytest.fixture(autouse=True)
def _no_bars(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's terminal or CI variables must not change what the tests see.
    monkeypatch.delenv("FTKIT_PROGRESS", raising=False)
    monkeypatch.delenv("FTKIT_STATE_DIR", raising=False)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """An SFT → DPO run on the in-process fake, through ``ftkit run --fake``: (run id, state)."""
    state = tmp_path_factory.mktemp("state")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FTKIT_PROGRESS", "0")
        code = main(fake_run_argv(state, "--json"))
    assert code == 0
    (manifest,) = (state / "runs").glob("*.json")
    return json.loads(manifest.read_text())["run_id"], state

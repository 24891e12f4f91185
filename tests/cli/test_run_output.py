"""What `ftkit run`, `events`, `status` and `runs` print: no line twice, virtual times
labelled, no manifest left by a refused run, and a dead driver's run shown as interrupted."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest
from cli_support import EXAMPLES, MODEL, fake_run_argv

from ftkit.cli import main
from ftkit.pipeline._manifest import FileState, Manifest, RunLock, StageState


@pytest.fixture(scope="module")
def fake_run_output(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """``ftkit run --fake`` as text without bars (what logs keep): (stdout, state dir)."""
    state = tmp_path_factory.mktemp("state")
    capture = tmp_path_factory.mktemp("out") / "stdout.txt"
    with pytest.MonkeyPatch.context() as mp, capture.open("w", encoding="utf-8") as out:
        mp.setenv("FTKIT_PROGRESS", "0")
        mp.setattr("sys.stdout", out)
        assert main(fake_run_argv(state)) == 0
    return capture.read_text(encoding="utf-8"), state


def test_run_output_has_no_line_twice(fake_run_output: tuple[str, Path]) -> None:
    out, _state = fake_run_output
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  [sft] starting"))
    progress = lines[start:]
    repeated = [line for line, n in Counter(progress).items() if n > 1]
    assert repeated == []
    # The run's end is told once, by the result (it was also a progress line just before it).
    (model,) = [line.split(": ", 1)[1] for line in lines if line.startswith("fine-tuned model: ")]
    assert [line for line in progress if line.startswith("  run ")] == []
    assert sum(line.startswith("run ") and line.endswith(model) for line in progress) == 1


def test_run_output_labels_virtual_times(fake_run_output: tuple[str, Path]) -> None:
    out, _state = fake_run_output
    etas = [line for line in out.splitlines() if " ETA " in line]
    assert etas and all(line.endswith(" UTC (virtual)") for line in etas)


def test_events_of_a_fake_run_say_their_clock_is_virtual(
    fake_run_output: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _out, state = fake_run_output
    (manifest,) = (state / "runs").glob("*.json")
    run_id = manifest.stem
    capsys.readouterr()
    assert main(["events", run_id, "--state-dir", str(state), "--limit", "2"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == 4 and all(line[:19].count(":") == 2 for line in lines)
    assert all(line[19:].startswith(" virtual  ") for line in lines)
    assert "virtual clock" in captured.err
    assert main(["events", run_id, "--state-dir", str(state), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["clock"] == "virtual"


def test_a_run_without_a_key_leaves_no_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FTKIT_PROGRESS", "0")
    args = ["run", "--model", MODEL, "--sft", str(EXAMPLES / "sarcasm_sft.jsonl")]
    assert main([*args, "--state-dir", str(tmp_path)]) == 2
    assert "OPENAI_API_KEY" in capsys.readouterr().err
    assert list((tmp_path / "runs").glob("*")) == []
    assert main(["runs", "--state-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("no runs in ")


def _running_manifest(state: Path, run_id: str) -> Path:
    path = state / "runs" / f"{run_id}.json"
    train = FileState(path="/data/train.jsonl", sha256="0" * 64, size=10, file_id="file-1")
    Manifest(
        run_id=run_id,
        created_at=time.time(),
        updated_at=time.time(),
        fingerprint="f",
        model=MODEL,
        stages=[
            StageState(
                name="sft", method="supervised", train=train, job_id="ftjob-1", status="running"
            )
        ],
        status="running",
    ).save(path)
    return path


def test_a_run_whose_driver_died_is_interrupted_not_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _running_manifest(tmp_path, "ftr-20261126T101500-3f9a1c2e")
    # A driver killed mid-run leaves its record in the lock file, and no lock.
    path.with_suffix(".lock").write_text(
        json.dumps({"pid": 2**22 + 17, "host": "elsewhere", "started_at": 0})
    )
    state = ["--state-dir", str(tmp_path)]
    assert main(["runs", *state]) == 0
    captured = capsys.readouterr()
    assert captured.out.split()[:2] == ["ftr-20261126T101500-3f9a1c2e", "interrupted"]
    assert "ftkit resume RUN" in captured.err
    assert main(["runs", *state, "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["status"], row["recorded_status"]) == ("interrupted", "running")

    assert main(["status", "ftr-20261126T101500-3f9a1c2e", *state]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("run ftr-20261126T101500-3f9a1c2e: interrupted\n")
    assert "ftkit resume ftr-20261126T101500-3f9a1c2e" in captured.err
    assert main(["status", "ftr-20261126T101500-3f9a1c2e", *state, "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert (status["status"], status["recorded_status"]) == ("interrupted", "running")

    # While a process drives it, it is running.
    with RunLock(path):
        assert main(["runs", *state]) == 0
        assert capsys.readouterr().out.split()[1] == "running"
        assert main(["status", "ftr-20261126T101500-3f9a1c2e", *state, "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["status"] == "running"

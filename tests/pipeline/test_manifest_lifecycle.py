"""A manifest's life: none left by a run refused before anything remote, never lost once
something remote exists, and a run whose driver died shown as interrupted, not running."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pipeline_support import MODEL, Env

import ftkit
from ftkit.pipeline._manifest import (
    FileState,
    Manifest,
    RunLock,
    StageState,
    discard_if_unstarted,
    driver_of,
    shown_status,
)


def _run_files(env: Env) -> list[str]:
    folder = env.state_dir / "runs"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def _no_client_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "AZURE_OPENAI_ENDPOINT",
        "AZURE_OPENAI_API_KEY",
    ):
        monkeypatch.delenv(name, raising=False)


def _manifest(path: Path, **stage: object) -> Manifest:
    train = FileState(path="/data/train.jsonl", sha256="0" * 64, size=10)
    for key in ("file_id", "upload"):
        if key in stage:
            setattr(train, key, stage.pop(key))
    manifest = Manifest(
        run_id=path.stem,
        created_at=time.time(),
        updated_at=time.time(),
        fingerprint="f",
        model=MODEL,
        stages=[StageState(name="sft", method="supervised", train=train, **stage)],  # type: ignore[arg-type]
        status="running",
    )
    manifest.save(path)
    return manifest


# ------------------------------------------------------------------ refused before anything remote


def test_a_run_without_a_key_leaves_no_manifest(
    env: Env, sft_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_client_environment(monkeypatch)
    no_client = ftkit.FineTune(None).model(MODEL).sft(sft_file).state_dir(env.state_dir)
    with pytest.raises(ftkit.UsageError, match="OPENAI_API_KEY"):
        no_client.run()
    with pytest.raises(ftkit.UsageError, match="OPENAI_API_KEY"):
        no_client.start()
    assert _run_files(env) == []  # neither a "created" manifest nor its lock


def test_an_async_run_without_a_key_leaves_no_manifest(
    env: Env, sft_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_client_environment(monkeypatch)
    ft = ftkit.AsyncFineTune(None).model(MODEL).sft(sft_file).state_dir(env.state_dir)
    with pytest.raises(ftkit.UsageError):
        asyncio.run(ft.run())
    assert _run_files(env) == []


def test_a_client_of_the_wrong_kind_leaves_no_manifest(env: Env, sft_file: Path) -> None:
    ft = env.builder(env.fake.async_client(max_retries=0)).sft(sft_file)
    with pytest.raises(ftkit.UsageError, match="AsyncFineTune"):
        ft.run()
    assert _run_files(env) == []


# ------------------------------------------------------------------ kept once it can matter


def test_a_refusal_after_the_upload_keeps_the_manifest(env: Env, sft_file: Path) -> None:
    env.fake.refuse_training()
    with pytest.raises(ftkit.FtkitError):
        env.builder().sft(sft_file).run()
    (name,) = [n for n in _run_files(env) if n.endswith(".json")]
    manifest = Manifest.load(env.state_dir / "runs" / name)
    assert manifest.stages[0].train.file_id is not None  # the only record of the upload


def test_a_transient_failure_before_the_upload_keeps_the_run_resumable(
    env: Env, sft_file: Path
) -> None:
    env.fake.faults.inject("files.create", "500", times=None)
    with pytest.raises(ftkit.RetryExhausted):
        env.builder().sft(sft_file).run()
    (name,) = [n for n in _run_files(env) if n.endswith(".json")]
    env.fake.faults.clear()
    run = ftkit.Run.resume(
        name.removesuffix(".json"), env.fake.client(max_retries=0), state_dir=env.state_dir
    )
    assert run.wait().fine_tuned_model


@pytest.mark.parametrize(
    "recorded",
    [{"job_id": "ftjob-1"}, {"file_id": "file-1"}, {"upload": {"id": "upload-1", "parts": []}}],
)
def test_discard_never_removes_a_manifest_that_records_something_remote(
    tmp_path: Path, recorded: dict[str, object]
) -> None:
    path = tmp_path / "ftr-1.json"
    _manifest(path, **recorded)
    with pytest.raises(ftkit.UsageError), discard_if_unstarted(path):
        raise ftkit.UsageError("refused")
    assert path.is_file()


def test_discard_removes_only_on_a_refusal_and_only_when_not_driven(tmp_path: Path) -> None:
    path = tmp_path / "ftr-1.json"
    _manifest(path)
    with pytest.raises(ftkit.RetryExhausted), discard_if_unstarted(path):
        raise ftkit.RetryExhausted("the network is down", attempts=3, last_error=None)
    assert path.is_file()  # a resume can finish it
    with RunLock(path), pytest.raises(ftkit.UsageError), discard_if_unstarted(path):
        raise ftkit.UsageError("refused")
    assert path.is_file()  # someone drives it: not ours to delete
    with pytest.raises(ftkit.UsageError), discard_if_unstarted(path):
        raise ftkit.UsageError("refused")
    assert not path.exists() and not path.with_suffix(".lock").exists()


# ------------------------------------------------------------------ who drives it


def test_the_lock_names_its_holder_and_is_emptied_on_release(tmp_path: Path) -> None:
    path = tmp_path / "ftr-1.json"
    _manifest(path)
    with RunLock(path) as lock:
        record = json.loads(lock.path.read_text())
        assert record["pid"] == os.getpid() and record["host"] == socket.gethostname()
        assert driver_of(path) == (
            f"pid {os.getpid()} on {socket.gethostname()} since "
            + time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(record["started_at"]))
        )
        assert shown_status(Manifest.load(path), path) == "running"
        with pytest.raises(ftkit.RunConflict, match=f"being driven by pid {os.getpid()} on "):
            RunLock(path).acquire()
    assert lock.path.read_text() == ""
    assert driver_of(path) is None
    assert shown_status(Manifest.load(path), path) == "interrupted"


def test_a_killed_driver_shows_as_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "ftr-1.json"
    _manifest(path)
    code = (
        "import sys; from pathlib import Path; from ftkit.pipeline._manifest import RunLock; "
        "lock = RunLock(Path(sys.argv[1])).acquire(); print('ready', flush=True); sys.stdin.read()"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        assert (driver_of(path) or "").startswith(f"pid {child.pid} on ")
        assert shown_status(Manifest.load(path), path) == "running"
    finally:
        child.kill()
        child.wait()
    # The process died holding the lock: its record stays, but nobody drives the run.
    assert json.loads(path.with_suffix(".lock").read_text())["pid"] == child.pid
    assert driver_of(path) is None
    assert shown_status(Manifest.load(path), path) == "interrupted"
    assert Manifest.load(path).status == "running"  # the stored status is what resuming needs


def test_a_stale_record_of_a_live_pid_is_not_a_driver(tmp_path: Path) -> None:
    # A recycled pid (here: this very process) that does not hold the OS lock.
    path = tmp_path / "ftr-1.json"
    _manifest(path)
    path.with_suffix(".lock").write_text(
        json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started_at": 0})
    )
    assert driver_of(path) is None
    assert shown_status(Manifest.load(path), path) == "interrupted"


def test_finished_runs_are_shown_as_they_ended(tmp_path: Path) -> None:
    path = tmp_path / "ftr-1.json"
    manifest = _manifest(path)
    for status in ("succeeded", "failed", "cancelled"):
        manifest.status = status
        assert shown_status(manifest, path) == status


def test_a_run_on_a_fake_records_that_its_times_are_virtual(env: Env, sft_file: Path) -> None:
    result = env.builder().sft(sft_file).run()
    assert result.manifest_path is not None
    assert Manifest.load(result.manifest_path).virtual_time is True
    assert Manifest.model_fields["virtual_time"].default is False

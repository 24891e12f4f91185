"""The run manifest: everything needed to resume a run, written after every step.

A manifest is the run's memory across crashes, Ctrl-C and laptop sleep: the
configuration fingerprint, the files (hash, size, uploaded id, multipart
upload state), and per stage the job id and its last status. It is JSON,
written atomically (temp file, fsync, rename) with mode 0600, and holds no
secret: no API key, no Authorization header, no client object.

A manifest is written before the first remote call that creates anything
(it is the intent record that makes creation exactly-once), so a run refused
before that point would leave one behind that records nothing:
:func:`discard_if_unstarted` removes it, and only it — a manifest that names
an uploaded file, a multi-part upload or a job is never deleted.

A run is driven by one process at a time: :class:`RunLock` takes an
exclusive, non-blocking lock beside the manifest, and a second driver gets
:class:`~ftkit.RunConflict` instead of racing the first into duplicate jobs.
The lock file names its holder (pid, host, start time), so
:func:`driver_of` tells a run still driven from one whose process died
(shown as ``interrupted`` by :func:`shown_status`).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .._exceptions import DatasetError, RunConflict, TrainingUnavailable, UsageError
from .._process_lock import ProcessLock, describe_holder, lock_file
from ..jsonl import atomic_write

__all__ = [
    "FileState",
    "Manifest",
    "RunLock",
    "StageState",
    "default_state_dir",
    "discard_if_unstarted",
    "driver_of",
    "find_manifest",
    "new_run_id",
    "shown_status",
]

MANIFEST_VERSION = 1


class _Lenient(BaseModel):
    # Manifests written by a newer ftkit may carry fields this one does not know.
    model_config = ConfigDict(extra="allow", validate_assignment=False)


class FileState(_Lenient):
    """One local file and what the provider knows of it."""

    path: str
    sha256: str
    size: int
    file_id: str | None = None
    upload: dict[str, Any] | None = None
    """A multi-part upload in progress (``ftkit.backend.UploadState.to_dict()``)."""


class StageState(_Lenient):
    """One training stage (SFT or DPO) and its job."""

    name: str
    method: Literal["supervised", "dpo"]
    train: FileState
    validation: FileState | None = None
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    base_model: str | None = None
    """The model the job starts from; for DPO after SFT, known once SFT succeeds."""
    job_id: str | None = None
    status: str | None = None
    fine_tuned_model: str | None = None
    estimated_trained_tokens: int | None = None
    trained_tokens: int | None = None
    error: dict[str, Any] | None = None
    metrics: list[dict[str, Any]] = Field(default_factory=list)
    checkpoints: list[dict[str, Any]] = Field(default_factory=list)
    last_event_id: str | None = None
    quoted_usd: float | None = None
    """The provider's price for the job, quoted just before it was created (Together)."""
    events: list[dict[str, Any]] = Field(default_factory=list)
    """The job's events, oldest first, bounded (see ``ftkit.pipeline._core.remember_events``)."""


class Manifest(_Lenient):
    """The persisted state of one run."""

    version: int = MANIFEST_VERSION
    run_id: str
    created_at: float
    updated_at: float
    fingerprint: str
    """Hash of the configuration and file contents; resuming with another config is refused."""
    model: str
    suffix: str | None = None
    seed: int | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    provider: str = "openai"
    """``openai``, ``azure`` or ``together``: a run is resumed against the same kind of endpoint."""
    api: str | None = None
    """The API surface it runs on (``openai``, ``azure-v1``, ``azure-dated``, ``together``;
    older runs: unset)."""
    training_type: str | None = None
    """Azure's training type (``standard``, ``globalstandard``, ``developer``), if chosen."""
    options: dict[str, Any] = Field(default_factory=dict)
    """Provider-specific job settings (Together's ``lora_r``, ``learning_rate``...)."""
    max_cost_usd: float | None = None
    """The cap the run was started with, checked against the provider's own price quote
    before every job where the API quotes one (Together's ``estimate-price``)."""
    stages: list[StageState]
    status: str = "created"
    """created → running → succeeded | failed | cancelled (``interrupted`` is only shown,
    never stored: see :func:`shown_status`)."""
    virtual_time: bool = False
    """The run's client is on a fake API's virtual clock: its job and event times are virtual."""

    def save(self, path: Path) -> None:
        """Write atomically with mode 0600 (the manifest names files and jobs of the user)."""
        self.updated_at = time.time()
        with atomic_write(path, mode=0o600) as handle:
            handle.write(self.model_dump_json(indent=2))
            handle.write("\n")

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """Read a manifest; a damaged file is a clear error, not a traceback."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls.model_validate(data)
        except FileNotFoundError:
            raise UsageError(f"no run manifest at {path}") from None
        except ValueError as exc:
            raise UsageError(f"run manifest {path} is damaged: {exc}") from None

    def stage(self, name: str) -> StageState:
        """The stage called ``name``."""
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)

    def records_remote(self) -> bool:
        """Whether the manifest names anything that exists at the provider.

        An uploaded file, a multi-part upload in progress, or a job: a manifest
        that records one is the only way back to it, so it is never discarded.
        """
        for stage in self.stages:
            if stage.job_id is not None:
                return True
            for state in (stage.train, stage.validation):
                if state is not None and (state.file_id is not None or state.upload):
                    return True
        return False

    @property
    def current(self) -> StageState | None:
        """The first stage that has not succeeded, if any."""
        for stage in self.stages:
            if stage.status != "succeeded":
                return stage
        return None


def new_run_id() -> str:
    """A sortable, unique run id: ``ftr-20261126T101500-3f9a1c2e``."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    return f"ftr-{stamp}-{secrets.token_hex(4)}"


def default_state_dir() -> Path:
    """Where manifests live: ``$FTKIT_STATE_DIR``, else ``.ftkit`` in the working folder."""
    return Path(os.environ.get("FTKIT_STATE_DIR") or ".ftkit")


def find_manifest(run: str | os.PathLike[str], state_dir: Path | None = None) -> Path:
    """Resolve a run id or a manifest path to the manifest file.

    Raises:
        UsageError: nothing found, with where it looked.
    """
    candidate = Path(run)
    if candidate.suffix == ".json" or candidate.is_file():
        if candidate.is_file():
            return candidate
        raise UsageError(f"no run manifest at {candidate}")
    folder = (state_dir or default_state_dir()) / "runs"
    path = folder / f"{run}.json"
    if path.is_file():
        return path
    raise UsageError(
        f"no run {str(run)!r} in {folder}; pass the manifest path or set state_dir / "
        "FTKIT_STATE_DIR to where the run was started"
    )


_ACTIVE = ("created", "running")
#: Refusals no resume can fix: a run refused this way before anything remote is discarded.
_REFUSALS = (UsageError, TrainingUnavailable, DatasetError, RunConflict)


@contextlib.contextmanager
def discard_if_unstarted(manifest_path: Path) -> Iterator[None]:
    """Remove the manifest of a run just created if it is refused before anything remote.

    For the first drive of a new run (``FineTune.run()`` / ``start()``): no client
    or key, a retired base model, training refused, files changed. Only a manifest
    that records nothing remote (:meth:`Manifest.records_remote`) is removed, under
    the run's lock, so a retry, a resume or a crash sweep never loses a job or an
    upload. Other failures (network, API errors, Ctrl-C) keep the manifest: the
    run can be resumed.
    """
    try:
        yield
    except _REFUSALS:
        with contextlib.suppress(OSError, RunConflict, UsageError):
            _discard(manifest_path)
        raise


def _discard(manifest_path: Path) -> None:
    lock = RunLock(manifest_path)
    with lock:
        manifest = Manifest.load(manifest_path)
        if manifest.status not in _ACTIVE or manifest.records_remote():
            return
        manifest_path.unlink()
    with contextlib.suppress(OSError):
        lock.path.unlink()


def _dead_here(record: str) -> bool:
    """The lock names a process of this host that no longer exists."""
    if sys.platform == "win32":  # os.kill(pid, 0) would terminate the process there
        return False
    try:
        data = json.loads(record)
        pid, host = int(data["pid"]), str(data["host"])
    except (ValueError, KeyError, TypeError):
        return False
    if host != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists, under another user
        return False
    return False


def driver_of(manifest_path: Path) -> str | None:
    """Who drives the run now (``pid 123 on host since …``), or ``None`` if no live process does.

    The lock file names its last holder; a holder of this host whose process is
    gone is dead at once, else the OS lock itself is asked (it dies with its
    process, so a killed driver never looks alive; a recycled pid neither).
    """
    path = manifest_path.with_suffix(".lock")
    try:
        record = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if not record or _dead_here(record):
        return None  # released (the holder empties it), or its process died
    try:
        handle = open(path, "r+", encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError:
        return None
    try:
        try:
            lock_file(handle)
        except OSError:
            return describe_holder(record)
        lock_file(handle, unlock=True)
        return None
    finally:
        handle.close()


def shown_status(manifest: Manifest, manifest_path: Path) -> str:
    """The run's status as a person needs it: ``interrupted`` when no live process drives it.

    A manifest says ``created`` or ``running`` until its driver records the end;
    a driver that crashed, was killed or stopped by Ctrl-C never does. The stored
    status is left as it is (resuming needs it).
    """
    if manifest.status in _ACTIVE and driver_of(manifest_path) is None:
        return "interrupted"
    return manifest.status


class RunLock(ProcessLock):
    """An exclusive, non-blocking lock held while a process drives a run.

    The OS's lock (:class:`~ftkit._process_lock.ProcessLock`) on ``<run>.lock``, so it
    dies with the process: a run whose driver was killed can be resumed at once, while
    a live driver blocks a second one with :class:`~ftkit.RunConflict`.
    """

    def __init__(self, manifest_path: Path) -> None:
        super().__init__(
            manifest_path.with_suffix(".lock"),
            lambda holder: RunConflict(
                f"run {manifest_path.stem} is being driven by {holder}; wait for it, or "
                "stop it before resuming here"
            ),
        )

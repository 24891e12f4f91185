"""The pipeline as one sans-IO program, run by a sync or an async driver.

:func:`program` is a generator: it reads and updates the :class:`Manifest`,
decides what happens next, and *yields* an operation (call the API, upload a
file, create a job exactly once, sleep) instead of performing it. A driver
performs the operation and sends the result back (or throws the error in).
:mod:`._drivers` has the two drivers; everything that matters — ordering,
resumption, exactly-once, what is saved when — lives here once.

The program is resumable by construction: every step starts by looking at
the manifest, so "start", "wait", "resume after a crash" and "resume after
Ctrl-C" are the same code. The manifest is saved after every step that
changed something remote, before the next step begins.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import logging
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._exceptions import APIError
from ..backend import JobSpec
from ..polling import Done, Fail, FollowState, JobEvent, JobWaiter, PollPolicy, Sleep, Timeout
from ._config import RUN_KEY, STAGE_KEY
from ._events import RunEvent
from ._manifest import FileState, Manifest, StageState
from ._result import RunResult

__all__ = [
    "ApiCall",
    "CreateJob",
    "EnsureTrainable",
    "Op",
    "Pause",
    "Started",
    "UploadFile",
    "program",
]

logger = logging.getLogger("ftkit.pipeline")


@dataclass(frozen=True)
class ApiCall:
    """Call ``backend.<method>(*args, **kwargs)`` under the retry policy."""

    method: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CreateJob:
    """Create a job exactly once (find it by metadata after an ambiguous failure)."""

    spec: JobSpec


@dataclass(frozen=True)
class EnsureTrainable:
    """Preflight: refuse a retired base model before any upload."""

    model: str


@dataclass(frozen=True)
class UploadFile:
    """Upload (or reuse) a local file; the driver updates ``state`` as parts land."""

    state: FileState
    save: Callable[[], None]


@dataclass(frozen=True)
class Pause:
    """Sleep between polls."""

    seconds: float


@dataclass(frozen=True)
class Started:
    """Marker: the first job exists; ``start()`` returns its handle here."""


Op = ApiCall | CreateJob | EnsureTrainable | UploadFile | Pause | Started


@dataclass
class Context:
    """What the program needs besides the manifest; nothing here talks to the network."""

    manifest_path: Path
    poll: PollPolicy
    clock: Callable[[], float]
    emit: Callable[[RunEvent], None]
    events_page_size: int = 100


def _get(obj: Any, name: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def program(m: Manifest, ctx: Context) -> Generator[Op, Any, RunResult]:
    """Drive the run recorded in ``m`` to its end, from wherever it stands."""

    def save() -> None:
        m.save(ctx.manifest_path)

    def emit(type_: str, stage: StageState | None, message: str, **extra: Any) -> None:
        event = RunEvent(
            type=type_,  # type: ignore[arg-type]
            run_id=m.run_id,
            stage=stage.name if stage else None,
            message=message,
            job_id=stage.job_id if stage else None,
            **extra,
        )
        logger.info("%s%s", f"[{event.stage}] " if event.stage else "", message)
        ctx.emit(event)

    if m.status in ("succeeded", "failed", "cancelled"):
        return RunResult.from_manifest(m, ctx.manifest_path)

    if m.status == "created":
        first_base = m.stages[0].base_model or m.model
        yield EnsureTrainable(first_base)
        m.status = "running"
        save()

    announced_start = False
    previous: StageState | None = None
    for stage in m.stages:
        # The job's status is saved as soon as it is seen; the stage is done only once its
        # model is recorded too (a crash between the two writes must not let DPO start
        # from the base model).
        if stage.status == "succeeded" and stage.fine_tuned_model is not None:
            previous = stage
            continue
        if stage.base_model is None:
            # DPO after SFT trains on the model SFT produced.
            stage.base_model = (previous.fine_tuned_model if previous else None) or m.model
            save()

        if stage.job_id is None:
            emit("stage_started", stage, f"starting from {stage.base_model}")
            for role, state in (("training", stage.train), ("validation", stage.validation)):
                if state is None or state.file_id is not None:
                    continue
                file_id = yield UploadFile(state, save)
                state.file_id = str(file_id)
                state.upload = None
                save()
                emit(
                    "file_ready",
                    stage,
                    f"{role} file {Path(state.path).name} is {file_id}",
                    file_id=state.file_id,
                )
            spec = JobSpec(
                model=stage.base_model,
                training_file=str(stage.train.file_id),
                validation_file=stage.validation.file_id if stage.validation else None,
                method={
                    "type": stage.method,
                    stage.method: {"hyperparameters": dict(stage.hyperparameters)},
                },
                suffix=m.suffix,
                seed=m.seed,
                metadata={**m.metadata, RUN_KEY: m.run_id, STAGE_KEY: stage.name},
            )
            job = yield CreateJob(spec)
            stage.job_id = str(_get(job, "id"))
            stage.status = str(_get(job, "status") or "validating_files")
            save()
            emit(
                "job_created",
                stage,
                f"created job {stage.job_id} ({stage.status})",
                status=stage.status,
            )
        if not announced_start:
            announced_start = True
            yield Started()

        job = yield from _wait(m, stage, ctx, save, emit)
        stage.fine_tuned_model = _get(job, "fine_tuned_model")
        stage.trained_tokens = _get(job, "trained_tokens")
        stage.status = "succeeded"
        stage.metrics = yield from _metrics(job)
        stage.checkpoints = yield from _checkpoints(stage)
        save()
        emit(
            "stage_succeeded",
            stage,
            f"{stage.name} finished: {stage.fine_tuned_model}",
            status="succeeded",
        )
        previous = stage

    m.status = "succeeded"
    save()
    result = RunResult.from_manifest(m, ctx.manifest_path)
    emit("run_succeeded", None, f"run {m.run_id} finished: {result.fine_tuned_model}")
    return result


def _wait(
    m: Manifest,
    stage: StageState,
    ctx: Context,
    save: Callable[[], None],
    emit: Callable[..., None],
) -> Generator[Op, Any, Any]:
    """Poll the stage's job to a terminal status, following its events."""
    job_id = str(stage.job_id)
    waiter = JobWaiter(ctx.poll, started=ctx.clock(), job_id=job_id, run_id=m.run_id)
    follow = FollowState(
        page_size=ctx.events_page_size,
        max_pages=None,
        seen=[stage.last_event_id] if stage.last_event_id else [],
    )
    while True:
        job = yield ApiCall("retrieve_job", (job_id,))
        status = str(_get(job, "status"))
        # Events first: what led to a status change is told before the change itself.
        yield from _follow_events(job_id, follow, stage, save, emit)
        if status != stage.status:
            stage.status = status
            save()
            finish = _get(job, "estimated_finish")
            emit(
                "status",
                stage,
                f"job {job_id}: {status}",
                status=status,
                estimated_finish=finish if isinstance(finish, int) else None,
            )
        action = waiter.observe(job, ctx.clock())
        if isinstance(action, Done):
            return action.job
        if isinstance(action, Fail):
            stage.error = _error_dict(job)
            m.status = "cancelled" if status == "cancelled" else "failed"
            save()
            emit("stage_failed", stage, str(action.error), status=status)
            raise action.error
        if isinstance(action, Timeout):
            save()
            raise action.error
        assert isinstance(action, Sleep)
        yield Pause(action.delay)


def _follow_events(
    job_id: str,
    follow: FollowState,
    stage: StageState,
    save: Callable[[], None],
    emit: Callable[..., None],
) -> Generator[Op, Any, None]:
    follow.begin()
    cursor: str | None = None
    while True:
        kwargs: dict[str, Any] = {"limit": follow.page_size}
        if cursor is not None:
            kwargs["after"] = cursor
        page = yield ApiCall("list_job_events", (job_id,), kwargs)
        cursor = follow.take(page)
        if cursor is None:
            break
    events = follow.finish()
    for event in events:
        emit("job_event", stage, event.message, job_event=event)
    if events:
        stage.last_event_id = events[-1].id
        stage.events = remember_events(stage.events, events)
        save()


MAX_MESSAGE_EVENTS = 200
MAX_METRICS_EVENTS = 20


def remember_events(kept: list[dict[str, Any]], new: list[JobEvent]) -> list[dict[str, Any]]:
    """The events a manifest keeps: the last 200 messages and the last 20 metrics events.

    Bounded so the manifest stays small on long jobs; every step's metrics are
    in the result file (``StageState.metrics``) once the job succeeds.
    """
    rows = kept + [
        {
            "id": e.id,
            "created_at": e.created_at,
            "level": e.level,
            "type": e.type,
            "message": e.message,
            "data": dict(e.data) if e.data is not None else None,
        }
        for e in new
    ]
    metrics = [i for i, row in enumerate(rows) if row.get("type") == "metrics"]
    messages = [i for i, row in enumerate(rows) if row.get("type") != "metrics"]
    keep = set(metrics[-MAX_METRICS_EVENTS:]) | set(messages[-MAX_MESSAGE_EVENTS:])
    return [row for i, row in enumerate(rows) if i in keep]


def _error_dict(job: Any) -> dict[str, Any] | None:
    error = _get(job, "error")
    if not error or not _get(error, "code"):
        # Jobs that did not fail carry {"code": null, ...}: not an error.
        return None
    return {k: _get(error, k) for k in ("code", "message", "param")}


def _metrics(job: Any) -> Generator[Op, Any, list[dict[str, Any]]]:
    files = _get(job, "result_files") or []
    if not files:
        return []
    try:
        content = yield ApiCall("file_content", (str(files[0]),))
    except APIError as exc:
        logger.warning("could not read the result file %s: %s", files[0], exc)
        return []
    return parse_metrics(content)


def _checkpoints(stage: StageState) -> Generator[Op, Any, list[dict[str, Any]]]:
    try:
        page = yield ApiCall("list_job_checkpoints", (str(stage.job_id),), {"limit": 10})
    except APIError as exc:
        logger.warning("could not list checkpoints of %s: %s", stage.job_id, exc)
        return []
    rows = []
    for item in _get(page, "data") or []:
        metrics = _get(item, "metrics")
        rows.append(
            {
                "id": _get(item, "id"),
                "step": _get(item, "step_number"),
                "model": _get(item, "fine_tuned_model_checkpoint"),
                "metrics": metrics.model_dump() if hasattr(metrics, "model_dump") else metrics,
            }
        )
    return rows


def parse_metrics(content: bytes | str) -> list[dict[str, Any]]:
    """Rows of a job's result file: CSV, or CSV encoded in base64 as some services send it.

    Numbers become floats (``step`` an int); empty cells become ``None``.
    """
    raw = content.encode() if isinstance(content, str) else bytes(content)
    text = raw.decode("utf-8", errors="replace").strip()
    if text and "," not in text.splitlines()[0]:
        try:
            text = base64.b64decode(text, validate=True).decode("utf-8").strip()
        except (binascii.Error, ValueError):
            logger.warning("result file is neither CSV nor base64-encoded CSV")
            return []
    rows: list[dict[str, Any]] = []
    for row in csv.DictReader(io.StringIO(text)):
        parsed: dict[str, Any] = {}
        for key, value in row.items():
            if key is None:
                continue
            key = key.strip()
            value = (value or "").strip()
            if value == "":
                parsed[key] = None
                continue
            try:
                number = float(value)
            except ValueError:
                parsed[key] = value
                continue
            parsed[key] = int(number) if key == "step" and number.is_integer() else number
        rows.append(parsed)
    return rows

"""The pipeline as one sans-IO program, run by a sync or an async driver.

:func:`program` is a generator: it reads and updates the :class:`Manifest`,
decides what happens next, and *yields* an operation (a request the backend
built, under the retry policy; a sleep) instead of performing it, running the
backend's own programs for uploads, the wait for a file to be processed, exactly-once
creation and the model check. The drivers of
:mod:`ftkit.backend._program` perform each operation and send the result
back (or throw the error in); everything that matters — ordering,
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
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._exceptions import APIError, DatasetError, JobFailed, RunConflict, UsageError, WaitTimeout
from ..backend import (
    Backend,
    Checkpoint,
    Job,
    JobEvent,
    JobSpec,
    Page,
    PriceQuote,
    TrainingFile,
    UploadState,
)
from ..backend._events import status_event
from ..backend._jobs import checking_trainable, creating_job, finding_job, wire_spec
from ..backend._processing import processing
from ..backend._program import Call, Operation, Program, Retried
from ..backend._program import Sleep as Pause
from ..backend._traits import Traits, traits_of
from ..backend._uploads import MAX_PART_SIZE, UploadRequest, UploadResult, uploading
from ..polling import FollowState, JobWaiter, PollPolicy, following
from ..retry import RetryPolicy
from ._config import RUN_KEY, STAGE_KEY
from ._events import RunEvent
from ._manifest import FileState, Manifest, StageState
from ._result import RunResult

__all__ = ["Context", "UploadSettings", "parse_metrics", "program", "remember_events"]

logger = logging.getLogger("ftkit.pipeline")


@dataclass(frozen=True)
class UploadSettings:
    """How files are sent: the Files API up to ``files_api_limit``, parts above it.

    ``files_api_limit=None`` takes the API's own (:attr:`Traits.files_api_limit
    <ftkit.backend._traits.Traits.files_api_limit>`: 512 MB on OpenAI, 100 MB on
    Azure's dated API); where there is no Uploads API every file takes the Files API,
    except on Fireworks, whose larger datasets go through a signed URL instead.
    """

    files_api_limit: int | None = None
    part_size: int = MAX_PART_SIZE
    concurrency: int = 4
    content_urls: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Resolved local path -> a URL the provider fetches the same bytes from (Azure's file
    import). Never saved: a blob's SAS URL is a credential; a resumed run without it uploads."""

    def limit_for(self, traits: Traits) -> int:
        """The Files API threshold on ``traits``' API."""
        if not traits.uploads_api and not traits.caller_ids:
            return max(self.files_api_limit or 0, traits.max_file_bytes)
        return traits.files_api_limit if self.files_api_limit is None else self.files_api_limit


@dataclass
class Context:
    """What the program needs besides the manifest: policies, callbacks, the backend.

    The program never calls the backend itself: it yields the requests the
    backend builds, which the driver performs (blocking, or awaited over an
    async client).
    """

    manifest_path: Path
    backend: Backend
    retry: RetryPolicy
    poll: PollPolicy
    clock: Callable[[], float]
    emit: Callable[[RunEvent], None]
    upload: UploadSettings = field(default_factory=UploadSettings)
    stop_when_started: bool = False
    events_page_size: int = 100

    def retried(self, request: Operation) -> Retried:
        """``request`` (one the backend built) under the run's retry policy."""
        return Retried(request, self.retry)


def program(m: Manifest, ctx: Context) -> Program[RunResult | None]:
    """Drive the run recorded in ``m`` to its end, from wherever it stands.

    Returns:
        The result; ``None`` when ``ctx.stop_when_started`` ended it once the first
        job existed (``start()`` returns its handle there).
    """

    run = _Run(m, ctx)
    save, emit = run.save, run.emit

    if m.status in ("succeeded", "failed", "cancelled"):
        return RunResult.from_manifest(m, ctx.manifest_path)

    if m.status == "created":
        first_base = m.stages[0].base_model or m.model
        yield from checking_trainable(ctx.backend, first_base, retry=ctx.retry)
        m.status = "running"
        save()

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
            trained_since: int | None = None
            for role, state in (("training", stage.train), ("validation", stage.validation)):
                if state is None:
                    continue
                uploaded: TrainingFile | None = None
                if state.file_id is None:
                    sent = yield from _upload(state, save, ctx)
                    uploaded = sent.file
                    state.file_id = uploaded.id
                    state.upload = None
                    save()
                # A job may name a file only once the provider has processed it (a resumed
                # run looks again: the crash may have come before it was).
                known = uploaded or (yield ctx.retried(ctx.backend.retrieve_file(state.file_id)))
                ready = yield from processing(
                    ctx.backend, known, retry=ctx.retry, sleep=ctx.poll.sleep
                )
                yield from _check_stored(ready, state, save, ctx)
                if role == "training":
                    # No job on this file is older than it: an unfiltered search stops there.
                    trained_since = known.created_at
                if uploaded is not None:
                    emit(
                        "file_ready",
                        stage,
                        f"{role} file {Path(state.path).name} is {state.file_id}",
                        file_id=state.file_id,
                    )
            continues = previous is not None and stage.base_model == previous.fine_tuned_model
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
                options=_options(m),
                parent_job=previous.job_id if continues and previous is not None else None,
            )
            # A job created just before a crash is looked for first: a price asked for
            # then (its own bill now weighing on the credit) must not orphan it.
            created = yield from finding_job(
                ctx.backend, spec, retry=ctx.retry, since=trained_since
            )
            if created is None:
                if traits_of(ctx.backend).price_estimate:
                    yield from _quoting(run, stage, spec)
                created = yield from creating_job(
                    ctx.backend, spec, retry=ctx.retry, since=trained_since, look_first=False
                )
            stage.job_id = created.id
            # The manifest keeps the provider's word, as ``ftkit status`` shows it.
            stage.status = created.raw_status or "validating_files"
            save()
            emit(
                "job_created",
                stage,
                f"created job {stage.job_id} ({stage.status})",
                status=stage.status,
            )
        if ctx.stop_when_started:
            return None

        job = yield from _wait(run, stage)
        stage.fine_tuned_model = job.fine_tuned_model
        stage.trained_tokens = job.trained_tokens
        stage.status = "succeeded"
        stage.metrics = yield from _metrics(job, ctx)
        stage.checkpoints = yield from _checkpoints(stage, ctx)
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


@dataclass
class _Run:
    """The run a program drives: its manifest and context, and what every step does with them."""

    m: Manifest
    ctx: Context

    def save(self) -> None:
        """Write the manifest (after every step that changed something remote)."""
        self.m.save(self.ctx.manifest_path)

    def emit(self, type_: str, stage: StageState | None, message: str, **extra: Any) -> None:
        """Log ``message`` and tell the run's observers."""
        event = RunEvent(
            type=type_,  # type: ignore[arg-type]
            run_id=self.m.run_id,
            stage=stage.name if stage else None,
            message=message,
            job_id=stage.job_id if stage else None,
            **extra,
        )
        logger.info("%s%s", f"[{event.stage}] " if event.stage else "", message)
        self.ctx.emit(event)


def _options(m: Manifest) -> dict[str, Any]:
    """The job options of the run: Azure's training type, or the provider's own settings."""
    options: dict[str, Any] = dict(m.options)
    if m.training_type:
        options["training_type"] = m.training_type
    return options


def _quoting(run: _Run, stage: StageState, spec: JobSpec) -> Program[None]:
    """Ask the provider's price for the job before creating it, and stop if it says no.

    Together's ``estimate-price`` is the pre-flight authority: ``allowed_to_proceed``
    false means the account cannot pay for the job, and the run's ``max_cost_usd`` is
    checked against the quoted price. Either stops the run before any job exists;
    resuming it asks again (after a top-up, say).
    """
    m, ctx = run.m, run.ctx
    backend: Any = ctx.backend  # ``Traits.price_estimate`` promises ``estimate_price``
    quote: PriceQuote = yield ctx.retried(
        backend.estimate_price(wire_spec(spec, traits_of(backend)))
    )
    if not quote.available:
        logger.warning(
            "the provider gave no price for %s: %s", stage.name, quote.unavailable_reason
        )
        if m.max_cost_usd is not None:
            raise UsageError(
                f"max_cost_usd is set but the provider could not price the {stage.name} job "
                f"({quote.unavailable_reason or 'no reason given'}); nothing was created. Drop "
                "the cap to go on without a price"
            )
        return
    stage.quoted_usd = quote.total_usd
    run.save()
    price = f"${quote.total_usd:,.2f}" if quote.total_usd is not None else "an unknown price"
    run.emit("price_quoted", stage, f"{stage.name} job quoted at {price}")
    if quote.allowed_to_proceed is False:
        limit = f" (limit ${quote.user_limit_usd:,.2f})" if quote.user_limit_usd is not None else ""
        raise UsageError(
            f"the provider will not run the {stage.name} job: it is quoted at {price} and the "
            f"account's credit does not cover it{limit}; nothing was created. Add credit, then "
            "resume the run"
        )
    cap = m.max_cost_usd
    # The cap is the run's: the stages before this one count with their quotes.
    before = sum(s.quoted_usd or 0.0 for s in m.stages if s is not stage and s.job_id)
    if cap is not None and (quote.total_usd is None or before + quote.total_usd > cap):
        spent = f" (with ${before:,.2f} quoted for the stages before it)" if before else ""
        raise UsageError(
            f"the provider quotes the {stage.name} job at {price}{spent}, over "
            f"max_cost_usd=${cap:,.2f}; nothing was created. Raise the cap, reduce epochs "
            "or the data"
        )


def _wait(run: _Run, stage: StageState) -> Program[Job]:
    """Poll the stage's job to a terminal status, following its events."""
    m, ctx, save, emit = run.m, run.ctx, run.save, run.emit
    job_id = str(stage.job_id)
    waiter = JobWaiter(ctx.poll, started=ctx.clock(), job_id=job_id, run_id=m.run_id)
    follow = FollowState(
        page_size=ctx.events_page_size,
        max_pages=None,
        seen=[stage.last_event_id] if stage.last_event_id else [],
    )
    while True:
        job: Job = yield ctx.retried(ctx.backend.retrieve_job(job_id))
        status = job.raw_status
        # Events first: what led to a status change is told before the change itself.
        yield from _follow_events(run, stage, job, follow)
        if status != stage.status:
            stage.status = status
            save()
            emit(
                "status",
                stage,
                f"job {job_id}: {status}",
                status=status,
                estimated_finish=job.estimated_finish,
            )
        try:
            delay = waiter.observe(job, ctx.clock())
        except JobFailed as failed:
            stage.error = _error_dict(job)
            m.status = "cancelled" if job.status == "cancelled" else "failed"
            save()
            emit("stage_failed", stage, str(failed), status=status)
            raise
        except WaitTimeout:
            save()
            raise
        if delay is None:
            return job
        yield Pause(delay, ctx.poll.sleep)


def _follow_events(run: _Run, stage: StageState, job: Job, follow: FollowState) -> Program[None]:
    """Fetch the job's new events, tell them, and keep the cursor in the manifest.

    Where the API lists no events (Fireworks), the job just looked at tells its state
    and progress instead (:func:`~ftkit.backend._events.status_event`): no request.
    """
    ctx = run.ctx
    told = not traits_of(ctx.backend).job_events

    def fetch(after: str | None, limit: int) -> Operation:
        if told:
            return Call(lambda: Page([status_event(job)], False))
        return ctx.retried(ctx.backend.list_job_events(job.id, after=after, limit=limit))

    events = yield from following(fetch, follow)
    for event in events:
        run.emit("job_event", stage, event.message, job_event=event)
    if events:
        stage.last_event_id = events[-1].id
        stage.events = remember_events(stage.events, events)
        run.save()


def _check_stored(
    file: TrainingFile, state: FileState, save: Callable[[], None], ctx: Context
) -> Program[None]:
    """Refuse a stored file whose size is not the local file's (an import's, say).

    The provider fetched an imported file itself, and fine-tune files cannot be
    downloaded back to hash them, so its size is what proves it is the validated
    file; one that differs is deleted and forgotten, and nothing trains. (An import
    is never reused as an upload of the local file: it has a name of its own.)
    """
    if file.bytes is None or file.bytes == state.size:
        return
    state.file_id = None
    save()
    yield ctx.retried(ctx.backend.delete_file(file.id))
    raise DatasetError(
        f"file {file.id} holds {file.bytes:,} bytes but {Path(state.path).name} has "
        f"{state.size:,}: it is not the file that was validated (check the import URL); "
        "it was deleted and nothing was trained"
    )


def _upload(state: FileState, save: Callable[[], None], ctx: Context) -> Program[UploadResult]:
    """Upload (or reuse) a stage's file, saving each part's progress in the manifest."""

    def on_state(upload: UploadState) -> None:
        state.upload = upload.to_dict()
        save()

    request = UploadRequest.checked(
        backend=ctx.backend,
        path=Path(state.path),
        retry=ctx.retry,
        purpose="fine-tune",
        reuse=True,
        files_api_limit=ctx.upload.limit_for(traits_of(ctx.backend)),
        part_size=ctx.upload.part_size,
        concurrency=ctx.upload.concurrency,
        state=UploadState.from_dict(state.upload) if state.upload else None,
        on_state=on_state,
        progress=None,
        wall_clock=time.time,
        content_url=ctx.upload.content_urls.get(state.path),
    )
    result = yield from uploading(request)
    if result.digest.sha256 != state.sha256:
        raise RunConflict(
            f"{state.path} changed since the run started (sha256 {result.digest.sha256[:12]}… "
            f"instead of {state.sha256[:12]}…); start a new run for the new data"
        )
    return result


MAX_MESSAGE_EVENTS = 200
MAX_METRICS_EVENTS = 20


def remember_events(kept: list[dict[str, Any]], new: list[JobEvent]) -> list[dict[str, Any]]:
    """The events a manifest keeps: the last 200 messages and the last 20 metrics events.

    Bounded so the manifest stays small on long jobs; every step's metrics are
    in the result file (``StageState.metrics``) once the job succeeds.
    """
    rows = kept + [e.to_dict() for e in new]
    metrics = [i for i, row in enumerate(rows) if row.get("type") == "metrics"]
    messages = [i for i, row in enumerate(rows) if row.get("type") != "metrics"]
    keep = set(metrics[-MAX_METRICS_EVENTS:]) | set(messages[-MAX_MESSAGE_EVENTS:])
    return [row for i, row in enumerate(rows) if i in keep]


def _error_dict(job: Job) -> dict[str, Any] | None:
    error = job.error
    if error is None or not error.code:
        return None
    return {"code": error.code, "message": error.message, "param": error.param}


def _metrics(job: Job, ctx: Context) -> Program[list[dict[str, Any]]]:
    if traits_of(ctx.backend).job_metrics:
        backend: Any = ctx.backend  # ``Traits.job_metrics`` promises ``list_job_metrics``
        try:
            rows: list[dict[str, Any]] = yield ctx.retried(backend.list_job_metrics(job.id))
        except APIError as exc:
            logger.warning("could not read the metrics of %s: %s", job.id, exc)
            return []
        return rows
    files = job.result_files
    if not files:
        return []
    try:
        content = yield ctx.retried(ctx.backend.file_content(files[0]))
    except APIError as exc:
        logger.warning("could not read the result file %s: %s", files[0], exc)
        return []
    return parse_metrics(content)


def _checkpoints(stage: StageState, ctx: Context) -> Program[list[dict[str, Any]]]:
    try:
        request = ctx.backend.list_job_checkpoints(str(stage.job_id), limit=10)
        page: Page[Checkpoint] = yield ctx.retried(request)
    except APIError as exc:
        logger.warning("could not list checkpoints of %s: %s", stage.job_id, exc)
        return []
    return [
        {"id": c.id, "step": c.step, "model": c.model, "metrics": dict(c.metrics)}
        for c in page.data
    ]


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

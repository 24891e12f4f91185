"""Run handles: a future-like view of a run that lives in its manifest.

A :class:`Run` knows only its manifest path, a backend and the policies. Every
``wait()`` is a resume: it takes the run's lock, reloads the manifest and lets
the program continue from what is recorded there, so a handle obtained from
``FineTune.start()``, from ``Run.resume()`` in another process after a crash,
or after Ctrl-C behaves the same.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .._exceptions import APIError, JobFailed, RetryExhausted, RunConflict
from .._plain import attributes
from .._virtual_time import on_client_time
from ..backend import Backend, Job
from ..backend import _program as steps
from ..backend._clients import SDKS, env_client
from ..backend._program import CallOnce, Nested, Program, Retried
from ..polling import PollPolicy
from ..retry import RetryPolicy
from ._clients import resolve_backend
from ._config import file_digest
from ._core import Context, UploadSettings, program
from ._events import RunEvent
from ._manifest import Manifest, RunLock, find_manifest
from ._result import RunResult, StageResult, stage_results

__all__ = ["AsyncRun", "Run", "RunStatus", "Settings"]

logger = logging.getLogger("ftkit.pipeline")

EventCallback = Callable[[RunEvent], object]

_FINISHED = ("succeeded", "failed", "cancelled")


@dataclass(frozen=True)
class Settings:
    """How a run is driven (not what it trains): policies, callbacks, where state lives."""

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    poll: PollPolicy = field(default_factory=PollPolicy)
    callbacks: tuple[EventCallback, ...] = ()
    state_dir: Path | None = None
    upload: UploadSettings = field(default_factory=UploadSettings)

    @classmethod
    def of(
        cls,
        *,
        state_dir: str | os.PathLike[str] | None,
        retry: RetryPolicy | int | None,
        poll: PollPolicy | None,
        on_event: EventCallback | None,
    ) -> Settings:
        """Settings from the loose arguments ``Run.resume`` takes."""
        return cls(
            retry=RetryPolicy.coerce(retry),
            poll=poll or PollPolicy(),
            callbacks=(on_event,) if on_event else (),
            state_dir=Path(state_dir) if state_dir is not None else None,
        )

    def on_client_time(self, client: Any) -> Settings:
        """These settings with ``client``'s virtual clock where no sleep or clock was chosen.

        A client of :class:`ftkit.testing.FakeFineTuningAPI` carries its fake's clock, so
        a run on it polls and backs off on virtual time with no wiring; any other
        client leaves the settings as they are.
        """
        retry = on_client_time(self.retry, client)
        poll = on_client_time(self.poll, client)
        if retry is self.retry and poll is self.poll:
            return self
        return dataclasses.replace(self, retry=retry, poll=poll)

    def runs_dir(self) -> Path:
        from ._manifest import default_state_dir

        return (self.state_dir or default_state_dir()) / "runs"


@dataclass(frozen=True)
class RunStatus:
    """A snapshot of a run, as its manifest records it: its own status and each stage's job.

    Attributes:
        run_id: the run's id (``ftr-...``).
        status: the run's status (``created``, ``running``, ``succeeded``, ...).
        stages: each stage's :class:`StageResult` so far, in training order (the
            type of ``RunResult.stages``).
        manifest_path: the run's manifest file.
    """

    run_id: str
    status: str
    stages: list[StageResult]
    manifest_path: Path

    def __str__(self) -> str:
        lines = [f"run {self.run_id}: {self.status}"]
        for s in self.stages:
            lines.append(
                f"  {s.name}: {s.job_id or 'no job yet'} {s.status or ''} "
                f"{s.fine_tuned_model or ''}".rstrip()
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from .._html import html_block, html_table

        rows = [(s.name, s.job_id, s.status, s.base_model, s.fine_tuned_model) for s in self.stages]
        table = html_table(("stage", "job", "status", "base model", "fine-tuned model"), rows)
        return html_block(f"ftkit run {self.run_id}", self.status, table)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (``ftkit status --json``): per stage its job, status and models."""
        return {
            **attributes(self, "run_id", "status"),
            "stages": [
                attributes(s, "name", "job_id", "status", "base_model", "fine_tuned_model")
                for s in self.stages
            ],
            "manifest": str(self.manifest_path),
        }


def _emitter(callbacks: Sequence[EventCallback]) -> Callable[[RunEvent], None]:
    def emit(event: RunEvent) -> None:
        for callback in callbacks:
            callback(event)

    return emit


def _resume_hint(run_id: str) -> str:
    return f"resume with ftkit.Run.resume({run_id!r}) or `ftkit resume {run_id}`"


def _finished(manifest: Manifest, path: Path) -> RunResult:
    """The outcome of a run that already ended: its result, or the failure again.

    Waiting on a failed or cancelled run raises as the first wait did, so code
    that resumes blindly never mistakes it for a success.
    """
    if manifest.status == "succeeded":
        return RunResult.from_manifest(manifest, path)
    stage = manifest.current or manifest.stages[-1]
    error = stage.error or {}
    raise JobFailed(
        job_id=stage.job_id or "-",
        status=stage.status or manifest.status,
        code=error.get("code"),
        message=error.get("message") or f"run {manifest.run_id} ended {manifest.status}",
        param=error.get("param"),
        run_id=manifest.run_id,
    )


def _check_files_unchanged(manifest: Manifest) -> None:
    """Files not uploaded yet must still hold the bytes the run was planned with."""
    for stage in manifest.stages:
        for state in (stage.train, stage.validation):
            if state is None or state.file_id is not None:
                continue
            path = Path(state.path)
            if not path.is_file():
                raise RunConflict(f"{path} is gone; the run needs it to upload")
            digest, _size = file_digest(path)
            if digest != state.sha256:
                raise RunConflict(
                    f"{path} changed since run {manifest.run_id} started; "
                    "start a new run for the new data"
                )


#: A provider's word for a job that is stopping after a cancel (Together's): not yet ended.
STOPPING = frozenset({"cancel_requested", "JOB_STATE_CANCELLING"})
#: The longest ftkit waits for a stopping job to end, and the first and longest pause.
STOP_WAIT, FIRST_STOP_LOOK, LONGEST_STOP_LOOK = 900.0, 5.0, 60.0


def _cancelling_job(
    backend: Backend, job_id: str, retry: RetryPolicy, poll: PollPolicy | None = None
) -> Program[Job]:
    """Cancel a job; one found already cancelled (an earlier answer lost) counts as done.

    A cancel whose answer was lost has been applied, and cancelling again is
    refused with 400: so after an ambiguous failure, and after a refusal, the
    job is looked at before anything is raised. Where a cancel first leaves the
    job stopping (Together's ``cancel_requested``, Fireworks' ``JOB_STATE_CANCELLING``,
    still billed), the job is looked
    at on ``poll``'s sleep until it has ended, for at most :data:`STOP_WAIT` seconds.
    """

    def looking() -> Program[Job | None]:
        job: Job = yield backend.retrieve_job(job_id)
        return job if job.status == "cancelled" or job.raw_status in STOPPING else None

    cancelled = Nested(looking)
    try:
        job: Job = yield CallOnce(backend.cancel_job(job_id), cancelled, retry)
    except RetryExhausted:
        raise
    except APIError:
        found: Job | None = yield Retried(cancelled, retry)
        if found is None:
            raise
        job = found
    delay, waited = FIRST_STOP_LOOK, 0.0
    while job.raw_status in STOPPING and waited < STOP_WAIT:
        yield steps.Sleep(delay, poll.sleep if poll is not None else None)
        waited += delay
        job = yield Retried(backend.retrieve_job(job_id), retry)
        delay = min(delay * 2, LONGEST_STOP_LOOK)
    return job


class _RunBase:
    def __init__(self, manifest_path: Path, client: Any, settings: Settings) -> None:
        self._path = Path(manifest_path)
        self._client = client
        self._settings = settings.on_client_time(client)
        self.id = self.manifest().run_id

    @property
    def manifest_path(self) -> Path:
        """Where this run's manifest lives."""
        return self._path

    def manifest(self) -> Manifest:
        """The run's manifest as last saved."""
        return Manifest.load(self._path)

    def status(self) -> RunStatus:
        """What the manifest records (no network)."""
        m = self.manifest()
        return RunStatus(
            run_id=m.run_id, status=m.status, stages=stage_results(m), manifest_path=self._path
        )

    def _record_cancel(self, status: str) -> RunStatus:
        """Mark the run cancelled, unless another process drives it (it will see the job)."""
        try:
            with RunLock(self._path):
                manifest = self.manifest()
                current = manifest.current
                if current is not None:
                    current.status = status
                manifest.status = "cancelled"
                manifest.save(self._path)
        except RunConflict:
            logger.info("run %s is being driven elsewhere; it will record the cancel", self.id)
        return self.status()

    def _context(self, backend: Backend, *, stop_when_started: bool) -> Context:
        poll = self._settings.poll
        return Context(
            manifest_path=self._path,
            backend=backend,
            retry=self._settings.retry,
            poll=poll,
            clock=poll.clock or time.monotonic,
            emit=_emitter(self._settings.callbacks),
            upload=self._settings.upload,
            stop_when_started=stop_when_started,
        )

    #: Whether the handle is awaited: then an openai client must be an async one.
    _asynchronous = False

    def _backend(self, manifest: Manifest) -> Backend:
        """The backend this handle drives, over a client of the handle's kind and the run's API.

        Without a client, a Together or Fireworks run's is built from that provider's
        environment (``TOGETHER_API_KEY``; ``FIREWORKS_API_KEY`` and ``FIREWORKS_ACCOUNT_ID``):
        ``ftkit resume`` and ``ftkit cancel`` find it by the run.
        """
        client = self._client
        if client is None and manifest.provider in {sdk.provider for sdk in SDKS}:
            client = env_client(self._asynchronous, manifest.provider)
        return resolve_backend(
            client,
            asynchronous=self._asynchronous,
            expected_provider=manifest.provider,
            expected_api=manifest.api,
        )

    def _driving(self, *, stop_when_started: bool) -> Program[RunResult | None]:
        """Under the run's lock, continue the run from its manifest (see :func:`program`)."""
        with RunLock(self._path):
            manifest = self.manifest()
            if manifest.status in _FINISHED:
                return _finished(manifest, self._path)
            _check_files_unchanged(manifest)
            backend = self._backend(manifest)
            context = self._context(backend, stop_when_started=stop_when_started)
            try:
                return (yield from program(manifest, context))
            except KeyboardInterrupt:
                logger.warning(
                    "stopped waiting for run %s; its job keeps running: %s",
                    self.id,
                    _resume_hint(self.id),
                )
                raise

    def _waiting(self) -> Program[RunResult]:
        result = yield from self._driving(stop_when_started=False)
        assert result is not None
        return result.with_client(self._client)

    def _cancelling(self) -> Program[RunStatus]:
        manifest = self.manifest()
        stage = manifest.current
        if stage is None or manifest.status in _FINISHED:
            return self.status()
        status = "cancelled"
        if stage.job_id:
            backend = self._backend(manifest)
            job = yield from _cancelling_job(
                backend, stage.job_id, self._settings.retry, self._settings.poll
            )
            status = job.raw_status or "cancelled"
        return self._record_cancel(status)

    @classmethod
    def resume(
        cls: type[_H],
        run: str | os.PathLike[str],
        client: Any = None,
        *,
        state_dir: str | os.PathLike[str] | None = None,
        retry: RetryPolicy | int | None = None,
        poll: PollPolicy | None = None,
        on_event: EventCallback | None = None,
    ) -> _H:
        """Re-attach to a run by id or manifest path; never creates a second job for a stage.

        Args:
            run: the run id (looked up in ``state_dir``) or the manifest's path.
            client: an ``openai.OpenAI`` / ``openai.AzureOpenAI`` client (their async
                twins for :class:`AsyncRun`), a backend, or ``None`` to build one
                from the environment.
            state_dir: where runs live (default ``$FTKIT_STATE_DIR`` or ``.ftkit``).
            retry: the per-call retry policy (or max attempts).
            poll: the polling policy.
            on_event: a callback for every :class:`RunEvent`.
        """
        settings = Settings.of(state_dir=state_dir, retry=retry, poll=poll, on_event=on_event)
        return cls(find_manifest(run, settings.state_dir), client, settings)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r}, manifest={str(self._path)!r})"


_H = TypeVar("_H", bound=_RunBase)


class Run(_RunBase):
    """A handle on a run: ``wait()``, ``status()``, ``cancel()``; resumable anywhere.

    Obtain one from :meth:`FineTune.start` or :meth:`Run.resume`.
    """

    def wait(self) -> RunResult:
        """Drive the run to its end and return the result.

        Raises:
            JobFailed: a stage's job failed or was cancelled.
            WaitTimeout: the polling policy gave up; the job keeps running.
            RunConflict: another process is driving this run, or its files changed.
            KeyboardInterrupt: Ctrl-C; the remote job keeps running (resume later).
        """
        return steps.run(self._waiting())

    def cancel(self) -> RunStatus:
        """Cancel the current stage's job and mark the run cancelled.

        Later stages are not started. Safe to call while another process waits:
        it will see the job cancelled on its next look.
        """
        return steps.run(self._cancelling())


class AsyncRun(_RunBase):
    """The awaitable twin of :class:`Run` (over an async client)."""

    _asynchronous = True

    async def wait(self) -> RunResult:
        """Drive the run to its end (see :meth:`Run.wait`)."""
        return await steps.arun(self._waiting())

    async def cancel(self) -> RunStatus:
        """Cancel the current stage's job (see :meth:`Run.cancel`)."""
        return await steps.arun(self._cancelling())

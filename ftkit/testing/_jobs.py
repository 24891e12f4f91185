"""Fine-tuning jobs in the fake: creation with the service's checks, and the job operations.

Creation refuses what the service refuses (the request's shape and ranges in
``_jobspec``; here, the model, its shutdown date and methods, and the files).
A job may name a file that is still being processed: it validates the file once
it is processed, as OpenAI's guides say. Every read first brings the job up to
the virtual time through the :class:`~ftkit.testing._training.Trainer`; a job
scripted with :meth:`JobStore.script_next` moves one scripted status per retrieve
instead.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from ..providers import ModelInfo, canonical_method
from ._core import Core, WireError, bad_request, list_object, not_found, page
from ._files import FileStore
from ._job_record import TERMINAL, JobRecord, add_event
from ._jobspec import JobSpec, parse_job_request
from ._models import ModelStore, wire_methods
from ._training import Trainer

__all__ = ["JobStore"]

# The statuses in which a job counts against ``Limits.active_jobs``.
ACTIVE = frozenset({"validating_files", "queued", "running"})


class JobStore:
    """Every job of one fake, oldest first."""

    def __init__(
        self,
        core: Core,
        files: FileStore,
        models: ModelStore,
        trainer: Trainer,
    ) -> None:
        self._core = core
        self._files = files
        self._models = models
        self._trainer = trainer
        self._records: dict[str, JobRecord] = {}
        self._scripts: deque[tuple[list[str], dict[str, Any] | None]] = deque()

    # ----------------------------------------------------------------- lookups
    def get(self, job_id: str) -> JobRecord:
        """A job brought up to the current virtual time (404 if unknown)."""
        job = self._records.get(job_id)
        if job is None:
            raise not_found(f"No such fine-tuning job: {job_id}", param="fine_tuning_job_id")
        self._trainer.advance(job)
        return job

    def __len__(self) -> int:
        return len(self._records)

    def all(self) -> list[JobRecord]:
        """Every job, brought up to the current virtual time."""
        for job in self._records.values():
            self._trainer.advance(job)
        return list(self._records.values())

    # -------------------------------------------------------------- operations
    def create(
        self,
        body: dict[str, Any],
        *,
        extra_hyperparameters: Mapping[str, tuple[str, ...]] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Create a job from a request body (see ``parse_job_request``).

        ``extra_hyperparameters`` are names a provider accepts beyond OpenAI's;
        ``options`` what its dialect read from the request beyond them (kept on the
        job as ``JobRecord.options``).
        """
        spec = parse_job_request(
            body, limits=self._core.limits, extra_hyperparameters=extra_hyperparameters
        )
        self._models.check_new_jobs()
        self._files.expire()
        model_name, base = self._base_model(spec)
        self._check_files(spec)
        self._check_active()
        core = self._core
        created = int(core.now())
        job_id = core.new_id("ftjob-")
        name = core.fine_tuned_model(base.name, spec.suffix, job_id)
        job = JobRecord(
            id=job_id,
            created_at=created,
            model=model_name,
            base=base,
            request=spec,
            seed=spec.seed if spec.seed is not None else core.rng.randrange(2**31),
            organization_id=core.org,
            fine_tuned_name=name,
            hyperparameters=dict(spec.hyperparameters),
            # A job may name files still being processed: it waits for them, then
            # validates them (OpenAI's guides: "it will not start until the file
            # processing has completed").
            phase_started=max(core.now(), self._files_processed_at(spec)),
            options=dict(options or {}),
            now=core.now,
        )
        if self._scripts:
            statuses, error = self._scripts.popleft()
            job.script, job.script_error = deque(statuses), error
        self._records[job_id] = job
        add_event(core, job, created, f"Created fine-tuning job: {job_id}")
        add_event(
            core,
            job,
            created,
            f"Validating training file: {spec.training_file}"
            + (f" and validation file: {spec.validation_file}" if spec.validation_file else ""),
        )
        return job.to_api()

    def retrieve(self, job_id: str) -> dict[str, Any]:
        job = self.get(job_id)
        if job.script:
            self._trainer.play_script(job)
        return job.to_api()

    def list_jobs(
        self,
        *,
        after: str | None,
        limit: int,
        metadata: dict[str, str] | None,
        null_metadata: bool,
    ) -> dict[str, Any]:
        self._files.expire()
        items = list(reversed(self.all()))
        if null_metadata:
            items = [j for j in items if not j.request.metadata]
        elif metadata:
            items = [j for j in items if _has_metadata(j, metadata)]
        found, has_more = page(items, after, limit)
        return list_object([j.to_api() for j in found], has_more, cursors="none")

    def cancel(self, job_id: str) -> dict[str, Any]:
        job = self.get(job_id)
        if job.status in TERMINAL:
            raise bad_request(
                f"Job {job_id} has already {job.status}; it cannot be cancelled.",
                param="fine_tuning_job_id",
            )
        job.close("cancelled", self._core.now())
        add_event(self._core, job, int(self._core.now()), "Fine-tuning job cancelled")
        return job.to_api()

    def delete(self, job_id: str) -> None:
        """Forget a finished job (Azure's dated API); its model and files stay.

        Raises:
            WireError: 404 for an unknown job, 400 for one still active (cancel it first).
        """
        job = self.get(job_id)
        if job.status not in TERMINAL:
            raise bad_request(
                f"Job {job_id} is {job.status}; only finished jobs can be deleted "
                "(cancel it first).",
                param="fine_tuning_job_id",
            )
        del self._records[job_id]

    def pause(self, job_id: str) -> dict[str, Any]:
        # OpenAI's API reference answers a pause with the job already ``paused`` (the
        # ``pausing`` status its guides name is not what the endpoint returns).
        return self._move(job_id, "running", "paused", "Fine-tuning job paused", "paused")

    def resume(self, job_id: str) -> dict[str, Any]:
        return self._move(job_id, "paused", "queued", "Resuming fine-tuning job", "resumed")

    def list_events(self, job_id: str, *, after: str | None, limit: int) -> dict[str, Any]:
        job = self.get(job_id)
        if after is not None and all(event["id"] != after for event in job.events):
            # The spec's ``after`` is "the last event from the previous pagination
            # request": an id that is not an event of this job is a caller's error,
            # not an empty page that reads as "no more events".
            raise bad_request(f"No such event of job {job_id}: {after}", param="after")
        found, has_more = page(list(reversed(job.events)), after, limit)
        return list_object(found, has_more, cursors="none")

    def list_checkpoints(self, job_id: str, *, after: str | None, limit: int) -> dict[str, Any]:
        job = self.get(job_id)
        found, has_more = page(list(reversed(job.checkpoints)), after, limit)
        return list_object(found, has_more, cursors="nullable")

    # ---------------------------------------------------------- test controls
    def script_next(self, statuses: list[str], error: dict[str, Any] | None) -> None:
        """Make the next created job follow ``statuses`` instead of the clock."""
        self._scripts.append((list(statuses), error))

    def fail(self, job_id: str, *, code: str, message: str, param: str | None) -> None:
        """Fail a job now (as the post-training safety check does)."""
        job = self.get(job_id)
        if job.status in TERMINAL:
            raise ValueError(f"job {job_id} is already {job.status}")
        job.script = None
        job.error = {"code": code, "message": message, "param": param}
        job.close("failed", self._core.now())
        add_event(self._core, job, int(self._core.now()), message, level="error")

    # ---------------------------------------------------------------- helpers
    def _base_model(self, spec: JobSpec) -> tuple[str, ModelInfo]:
        """The model name the job reports and its root base model, or a refusal."""
        resolved = self._models.resolve(spec.model)
        if resolved is None:
            raise bad_request(
                f"Model {spec.model} is not available for fine-tuning or does not exist.",
                param="model",
                code="model_not_available",
            )
        model_name, base = resolved
        if self._models.retired(base):
            raise bad_request(
                f"Model {base.name} was shut down on {base.shutdown} and can no longer be "
                "fine-tuned.",
                param="model",
                code="model_not_available",
            )
        if canonical_method(spec.method) not in base.methods:
            raise bad_request(
                f"Fine-tuning method {spec.method!r} is not supported for model {base.name} "
                f"(supported: {', '.join(wire_methods(base))}).",
                param="method.type",
                code="invalid_method",
            )
        return model_name, base

    def _check_files(self, spec: JobSpec) -> None:
        for param, file_id in (
            ("training_file", spec.training_file),
            ("validation_file", spec.validation_file),
        ):
            if file_id is None:
                continue
            record = self._files.find(file_id)
            if record is None:
                raise bad_request(f"invalid {param}: {file_id}", param=param)
            if record.purpose != "fine-tune":
                raise bad_request(
                    f"invalid {param}: {file_id} has purpose {record.purpose!r}; fine-tuning "
                    "files need purpose 'fine-tune'.",
                    param=param,
                )
            if record.failure is not None:
                # A file the service could not process (a failed import) trains nothing.
                raise bad_request(
                    f"invalid {param}: {file_id} could not be processed: {record.failure}",
                    param=param,
                )
        if spec.validation_file is not None and spec.validation_file == spec.training_file:
            raise bad_request(
                "training_file and validation_file must be different files.",
                param="validation_file",
            )

    def _files_processed_at(self, spec: JobSpec) -> float:
        """When the last of the job's files is processed (virtual time)."""
        records = [self._files.find(spec.training_file)]
        if spec.validation_file is not None:
            records.append(self._files.find(spec.validation_file))
        return max((r.processed_at for r in records if r is not None), default=0.0)

    def _check_active(self) -> None:
        """Refuse a job past ``Limits.active_jobs`` validating, queued or running jobs.

        Where the answer comes from: 429 is the status the fine-tuning facts give for
        rate limits at job launch (the openai client's ``RateLimitError``; "429s at
        launch" in their sources); ``rate_limit_exceeded`` is the error code the API
        uses for rate limits (the openai package's error-code literals). The facts
        quote no message for this refusal, so the wording, modelled on what users
        report, is the fake's own: match on the status and code, not the text.
        """
        limit = self._core.limits.active_jobs
        if limit is None:
            return
        active = [job for job in self.all() if job.status in ACTIVE]
        if len(active) < limit:
            return
        running = sum(job.status == "running" for job in active)
        raise WireError(
            429,
            "This fine-tune request has been rate-limited. Your organization has reached the "
            f"maximum of {limit} active fine-tuning jobs ({running} running, "
            f"{len(active) - running} pending).",
            code="rate_limit_exceeded",
        )

    def _move(self, job_id: str, required: str, to: str, message: str, verb: str) -> dict[str, Any]:
        """Pause or resume: ``required`` -> ``to``, keeping the training time done so far."""
        job = self.get(job_id)
        if job.status != required:
            raise bad_request(
                f"Job {job_id} is {job.status}; only {required} jobs can be {verb}.",
                param="fine_tuning_job_id",
            )
        now = self._core.now()
        if required == "running":
            job.run_done += now - job.phase_started
        job.status, job.phase_started = to, now
        add_event(self._core, job, int(now), message)
        return job.to_api()


def _has_metadata(job: JobRecord, wanted: dict[str, str]) -> bool:
    metadata = job.request.metadata
    return metadata is not None and all(metadata.get(k) == v for k, v in wanted.items())

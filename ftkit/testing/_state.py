"""The fake service's memory: files, uploads, jobs and models, and how jobs move.

Everything here is plain data plus the rules of the real service; HTTP lives in
``_routes``. Operations raise :class:`~ftkit.testing._wire.WireError` for
refusals and return the JSON object the API answers with.

Job progression is a pure function of the virtual clock. :meth:`FakeState.tick`
replays every transition whose time has come, dating each one at the moment it
happened (not when it was observed):

- ``validating_files`` for ``Timings.validating_files`` seconds, then the training
  (and validation) file is judged with ftkit's rules: ``failed`` with
  ``invalid_training_file`` / ``invalid_validation_file`` or ``queued``;
- ``queued`` for ``Timings.queued`` seconds, then ``running``;
- ``running`` for ``max(Timings.min_running, total_steps * Timings.seconds_per_step)``
  seconds, emitting one metrics event per step and a checkpoint at each of the last
  three epochs, then ``succeeded`` with the fine-tuned model, ``trained_tokens`` and a
  result file;
- ``pause`` moves a running job to ``pausing`` then, ``Timings.pausing`` seconds later,
  ``paused``; ``resume`` queues it again and training continues where it stopped.

So the same sequence of calls and clock moves always yields the same answers.
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
import string
from collections import deque
from dataclasses import dataclass, field
from typing import Any, cast

from ._chat import FakeChat
from ._clock import FakeClock
from ._config import Limits, Timings
from ._jobspec import parse_job_request
from ._models_catalog import ModelInfo, parse_fine_tuned_name
from ._serverside import (
    FileReport,
    MethodType,
    auto_batch_size,
    auto_epochs,
    inspect_training_file,
)
from ._wire import WireError, bad_request, not_found

__all__ = ["FakeState"]

_ALNUM = string.ascii_letters + string.digits
_TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
_NULL_ERROR: dict[str, Any] = {"code": None, "message": None, "param": None}
_FILE_PURPOSES = frozenset({"fine-tune", "batch", "assistants", "vision", "user_data", "evals"})
_JSONL_MIME = frozenset({"text/jsonl", "application/jsonl", "application/x-ndjson"})
_RESULT_HEADER = "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"


@dataclass
class FileRecord:
    id: str
    filename: str
    purpose: str
    content: bytes
    created_at: int
    expires_at: int | None = None

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.content),
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "status_details": None,
        }


@dataclass
class UploadRecord:
    id: str
    filename: str
    purpose: str
    declared: int
    mime_type: str
    created_at: int
    expires_at: int
    status: str = "pending"
    parts: dict[str, bytes] = field(default_factory=dict)
    file: FileRecord | None = None

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "upload",
            "bytes": self.declared,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": self.status,
            "file": self.file.to_api() if self.file else None,
        }


@dataclass
class JobRecord:
    id: str
    created_at: int
    model: str
    base: ModelInfo
    training_file: str
    validation_file: str | None
    method: MethodType
    hyperparameters: dict[str, Any]
    extra_method: dict[str, Any]
    suffix: str | None
    seed: int
    metadata: dict[str, str] | None
    integrations: list[dict[str, Any]] | None
    organization_id: str
    fine_tuned_name: str
    status: str = "validating_files"
    phase_started: float = 0.0
    error: dict[str, Any] | None = None
    fine_tuned_model: str | None = None
    finished_at: int | None = None
    trained_tokens: int | None = None
    result_files: list[str] = field(default_factory=list)
    report: FileReport | None = None
    steps_per_epoch: int = 0
    total_steps: int = 0
    run_total: float = 0.0
    run_done: float = 0.0
    steps_emitted: int = 0
    metrics: list[dict[str, float]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    script: deque[str] | None = None
    script_error: dict[str, Any] | None = None

    def hyperparameters_view(self) -> dict[str, Any]:
        return dict(self.hyperparameters)

    def to_api(self) -> dict[str, Any]:
        hyper = self.hyperparameters_view()
        method: dict[str, Any] = {
            "type": self.method,
            self.method: {
                **self.extra_method,
                "hyperparameters": hyper,
            },
        }
        return {
            "object": "fine_tuning.job",
            "id": self.id,
            "created_at": self.created_at,
            "model": self.model,
            "organization_id": self.organization_id,
            "status": self.status,
            # The real service sends an all-null error object for jobs that did not fail.
            "error": self.error if self.error is not None else dict(_NULL_ERROR),
            "fine_tuned_model": self.fine_tuned_model,
            "finished_at": self.finished_at,
            # DPO and reinforcement jobs report their hyperparameters only under ``method``.
            "hyperparameters": hyper if self.method == "supervised" else None,
            "result_files": list(self.result_files),
            "seed": self.seed,
            "trained_tokens": self.trained_tokens,
            "training_file": self.training_file,
            "validation_file": self.validation_file,
            "estimated_finish": self._estimated_finish(),
            "integrations": self.integrations,
            "metadata": self.metadata,
            "method": method,
            "user_provided_suffix": self.suffix,
        }

    def _estimated_finish(self) -> int | None:
        if self.status != "running" or self.script is not None:
            return None
        return int(self.phase_started + (self.run_total - self.run_done))


class FakeState:
    """All objects of one fake service and the rules that change them (not thread-safe:
    the caller serialises access)."""

    def __init__(
        self,
        *,
        clock: FakeClock,
        org: str,
        org_name: str,
        models: tuple[ModelInfo, ...],
        timings: Timings,
        limits: Limits,
        seed: int,
        result_files_base64: bool,
    ) -> None:
        self.clock = clock
        self.org = org
        self.org_name = org_name
        self.timings = timings
        self.limits = limits
        self.result_files_base64 = result_files_base64
        self.models: dict[str, ModelInfo] = {m.id: m for m in models}
        self.aliases: dict[str, str] = {a: m.id for m in models for a in m.aliases}
        self.fine_tuned: dict[str, dict[str, Any]] = {}
        self.files: dict[str, FileRecord] = {}
        self.uploads: dict[str, UploadRecord] = {}
        self.jobs: dict[str, JobRecord] = {}
        self.scripts: deque[tuple[list[str], dict[str, Any] | None]] = deque()
        self._rng = random.Random(seed)
        self.chat = FakeChat(self)

    # ----------------------------------------------------------------- lookups
    def now(self) -> float:
        return self.clock.now()

    def new_id(self, prefix: str, length: int = 24) -> str:
        return prefix + "".join(self._rng.choices(_ALNUM, k=length))

    def file(self, file_id: str, *, param: str | None = None) -> FileRecord:
        self.expire_files()
        record = self.files.get(file_id)
        if record is None:
            raise not_found(f"No such File object: {file_id}", param=param or "id")
        return record

    def expire_files(self) -> None:
        now = self.now()
        for file_id in [
            f.id for f in self.files.values() if f.expires_at is not None and f.expires_at <= now
        ]:
            del self.files[file_id]

    def upload(self, upload_id: str) -> UploadRecord:
        upload = self.uploads.get(upload_id)
        if upload is None:
            raise not_found(f"No such Upload object: {upload_id}", param="upload_id")
        if upload.status == "pending" and self.now() >= upload.expires_at:
            upload.status = "expired"
        return upload

    def job(self, job_id: str) -> JobRecord:
        job = self.jobs.get(job_id)
        if job is None:
            raise not_found(f"No such fine-tuning job: {job_id}", param="fine_tuning_job_id")
        self._tick_job(job)
        return job

    # ------------------------------------------------------------------- files
    def create_file(
        self,
        *,
        filename: str,
        purpose: str,
        content: bytes,
        expires_after: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        if purpose not in _FILE_PURPOSES:
            raise bad_request(
                f"Invalid value for purpose: {purpose!r}. Expected one of "
                f"{', '.join(sorted(_FILE_PURPOSES))}.",
                param="purpose",
            )
        if len(content) > self.limits.file_bytes:
            raise WireError(
                413,
                f"File is too large: {len(content)} bytes; the maximum is "
                f"{self.limits.file_bytes} bytes. Use the Uploads API for larger files.",
                param="file",
                code="file_too_large",
            )
        self._check_jsonl_name(filename, purpose, param="file")
        created = int(self.now())
        expires_at = self._expires_at(expires_after, created)
        record = FileRecord(
            self.new_id("file-", 22), filename, purpose, content, created, expires_at
        )
        self.files[record.id] = record
        return record.to_api()

    @staticmethod
    def _check_jsonl_name(filename: str, purpose: str, *, param: str) -> None:
        if purpose == "fine-tune" and not filename.lower().endswith(".jsonl"):
            raise bad_request(
                f"Invalid file format for Fine-Tuning API. Must be .jsonl (got {filename!r}).",
                param=param,
            )

    @staticmethod
    def _expires_at(expires_after: dict[str, Any] | None, created: int) -> int | None:
        if not expires_after:
            return None
        if expires_after.get("anchor") != "created_at":
            raise bad_request(
                "expires_after.anchor must be 'created_at'.", param="expires_after.anchor"
            )
        try:
            seconds = int(expires_after.get("seconds", ""))
        except (TypeError, ValueError):
            raise bad_request(
                "expires_after.seconds must be an integer.", param="expires_after.seconds"
            ) from None
        if not 3600 <= seconds <= 2_592_000:
            raise bad_request(
                "expires_after.seconds must be between 3600 and 2592000.",
                param="expires_after.seconds",
            )
        return created + seconds

    def retrieve_file(self, file_id: str) -> dict[str, Any]:
        return self.file(file_id).to_api()

    def list_files(
        self, *, after: str | None, limit: int, order: str, purpose: str | None
    ) -> dict[str, Any]:
        self.expire_files()
        items = [f for f in self.files.values() if purpose is None or f.purpose == purpose]
        if order == "desc":
            items.reverse()
        page, has_more = _page(items, after, limit)
        data = [f.to_api() for f in page]
        return {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": has_more,
        }

    def delete_file(self, file_id: str) -> dict[str, Any]:
        self.file(file_id)
        del self.files[file_id]
        return {"id": file_id, "object": "file", "deleted": True}

    def file_content(self, file_id: str) -> bytes:
        record = self.file(file_id)
        if record.purpose == "fine-tune":
            raise bad_request(f"Not allowed to download files of purpose: {record.purpose}")
        return record.content

    # ----------------------------------------------------------------- uploads
    def create_upload(
        self, *, declared: Any, filename: Any, mime_type: Any, purpose: Any
    ) -> dict[str, Any]:
        if not isinstance(declared, int) or isinstance(declared, bool) or declared < 1:
            raise bad_request("bytes must be a positive integer.", param="bytes")
        if not isinstance(filename, str) or not filename:
            raise bad_request("filename is required.", param="filename")
        if purpose not in _FILE_PURPOSES:
            raise bad_request(f"Invalid value for purpose: {purpose!r}.", param="purpose")
        if not isinstance(mime_type, str) or not mime_type:
            raise bad_request("mime_type is required.", param="mime_type")
        if declared > self.limits.upload_bytes:
            raise bad_request(
                f"bytes ({declared}) exceeds the maximum upload size of "
                f"{self.limits.upload_bytes} bytes.",
                param="bytes",
            )
        if purpose == "fine-tune" and mime_type not in _JSONL_MIME:
            raise bad_request(
                f"Invalid mime_type {mime_type!r} for purpose 'fine-tune'; use 'text/jsonl'.",
                param="mime_type",
            )
        self._check_jsonl_name(filename, purpose, param="filename")
        created = int(self.now())
        upload = UploadRecord(
            self.new_id("upload_"),
            filename,
            purpose,
            declared,
            mime_type,
            created,
            int(created + self.limits.upload_expiry),
        )
        self.uploads[upload.id] = upload
        return upload.to_api()

    def add_part(self, upload_id: str, data: bytes) -> dict[str, Any]:
        upload = self.upload(upload_id)
        self._require_pending(upload)
        if len(data) > self.limits.part_bytes:
            raise bad_request(
                f"Part is too large: {len(data)} bytes; each part may be at most "
                f"{self.limits.part_bytes} bytes.",
                param="data",
            )
        part_id = self.new_id("part_")
        upload.parts[part_id] = data
        return {
            "id": part_id,
            "object": "upload.part",
            "created_at": int(self.now()),
            "upload_id": upload_id,
        }

    @staticmethod
    def _require_pending(upload: UploadRecord) -> None:
        if upload.status != "pending":
            raise bad_request(
                f"Upload {upload.id} is {upload.status}; only pending uploads accept this.",
                param="upload_id",
            )

    def complete_upload(self, upload_id: str, part_ids: Any, md5: Any) -> dict[str, Any]:
        upload = self.upload(upload_id)
        self._require_pending(upload)
        if not isinstance(part_ids, list) or not part_ids:
            raise bad_request("part_ids must be a non-empty list.", param="part_ids")
        if len(set(part_ids)) != len(part_ids):
            raise bad_request("part_ids must not repeat a part.", param="part_ids")
        unknown = [p for p in part_ids if p not in upload.parts]
        if unknown:
            raise bad_request(f"Unknown part id(s) for this upload: {unknown}", param="part_ids")
        content = b"".join(upload.parts[p] for p in part_ids)
        if len(content) != upload.declared:
            raise bad_request(
                f"The number of bytes uploaded ({len(content)}) does not match the number "
                f"declared when the upload was created ({upload.declared}).",
                param="part_ids",
            )
        if md5 is not None and md5 != hashlib.md5(content).hexdigest():
            raise bad_request("The md5 checksum does not match the uploaded bytes.", param="md5")
        created = int(self.now())
        record = FileRecord(
            self.new_id("file-", 22), upload.filename, upload.purpose, content, created
        )
        self.files[record.id] = record
        upload.file = record
        upload.status = "completed"
        return upload.to_api()

    def cancel_upload(self, upload_id: str) -> dict[str, Any]:
        upload = self.upload(upload_id)
        self._require_pending(upload)
        upload.status = "cancelled"
        return upload.to_api()

    # ------------------------------------------------------------------ models
    def resolve_model(self, name: str) -> tuple[str, ModelInfo] | None:
        """The name a job reports and the root base model, or None if unknown."""
        if name in self.fine_tuned:
            parsed = parse_fine_tuned_name(name)
            root = self.models.get(parsed[0]) if parsed else None
            return (name, root) if root else None
        snapshot = self.aliases.get(name, name)
        info = self.models.get(snapshot)
        return (snapshot, info) if info else None

    def retrieve_model(self, name: str) -> dict[str, Any]:
        if name in self.fine_tuned:
            return dict(self.fine_tuned[name])
        info = self.models.get(self.aliases.get(name, name))
        if info is None:
            raise WireError(
                404, f"The model '{name}' does not exist", param="model", code="model_not_found"
            )
        return info.to_api()

    def list_models(self) -> dict[str, Any]:
        data = [m.to_api() for m in self.models.values()]
        data += [dict(m) for m in self.fine_tuned.values()]
        return {"object": "list", "data": data}

    def delete_model(self, name: str) -> dict[str, Any]:
        if name not in self.fine_tuned:
            if self.resolve_model(name):
                raise WireError(
                    403, f"You have insufficient permissions to delete {name}.", param="model"
                )
            raise WireError(
                404, f"The model '{name}' does not exist", param="model", code="model_not_found"
            )
        del self.fine_tuned[name]
        return {"id": name, "object": "model", "deleted": True}

    # -------------------------------------------------------------------- jobs
    def create_job(self, body: dict[str, Any]) -> dict[str, Any]:
        spec = parse_job_request(body, limits=self.limits)
        self.expire_files()
        resolved = self.resolve_model(spec.model)
        if resolved is None:
            raise bad_request(
                f"Model {spec.model} is not available for fine-tuning or does not exist.",
                param="model",
                code="model_not_available",
            )
        model_name, base = resolved
        if base.retired_at(self.now()):
            raise bad_request(
                f"Model {base.id} was shut down on {base.shutdown_date} and can no longer be "
                "fine-tuned.",
                param="model",
                code="model_not_available",
            )
        if spec.method not in base.methods:
            raise bad_request(
                f"Fine-tuning method {spec.method!r} is not supported for model {base.id} "
                f"(supported: {', '.join(sorted(base.methods))}).",
                param="method.type",
                code="invalid_method",
            )
        for param, file_id in (
            ("training_file", spec.training_file),
            ("validation_file", spec.validation_file),
        ):
            if file_id is None:
                continue
            record = self.files.get(file_id)
            if record is None:
                raise bad_request(f"invalid {param}: {file_id}", param=param)
            if record.purpose != "fine-tune":
                raise bad_request(
                    f"invalid {param}: {file_id} has purpose {record.purpose!r}; fine-tuning "
                    "files need purpose 'fine-tune'.",
                    param=param,
                )
        if spec.validation_file is not None and spec.validation_file == spec.training_file:
            raise bad_request(
                "training_file and validation_file must be different files.",
                param="validation_file",
            )
        created = int(self.now())
        job_id = self.new_id("ftjob-")
        name = f"ft:{base.id}:{self.org_name}:{spec.suffix or ''}:{self.new_id('', 8)}"
        job = JobRecord(
            id=job_id,
            created_at=created,
            model=model_name,
            base=base,
            training_file=spec.training_file,
            validation_file=spec.validation_file,
            method=spec.method,
            hyperparameters=spec.hyperparameters,
            extra_method=spec.extra_method,
            suffix=spec.suffix,
            seed=spec.seed if spec.seed is not None else self._rng.randrange(2**31),
            metadata=spec.metadata,
            integrations=spec.integrations,
            organization_id=self.org,
            fine_tuned_name=name,
            phase_started=self.now(),
        )
        if self.scripts:
            statuses, error = self.scripts.popleft()
            job.script, job.script_error = deque(statuses), error
        self.jobs[job_id] = job
        self._event(job, created, f"Created fine-tuning job: {job_id}")
        self._event(
            job,
            created,
            f"Validating training file: {spec.training_file}"
            + (f" and validation file: {spec.validation_file}" if spec.validation_file else ""),
        )
        return job.to_api()

    def retrieve_job(self, job_id: str) -> dict[str, Any]:
        job = self.job(job_id)
        if job.script:
            self._script_step(job)
        return job.to_api()

    def list_jobs(
        self,
        *,
        after: str | None,
        limit: int,
        metadata: dict[str, str] | None,
        null_metadata: bool,
    ) -> dict[str, Any]:
        self.tick()
        items = list(reversed(self.jobs.values()))
        if null_metadata:
            items = [j for j in items if not j.metadata]
        elif metadata:
            items = [
                j
                for j in items
                if j.metadata is not None
                and all(j.metadata.get(k) == v for k, v in metadata.items())
            ]
        page, has_more = _page(items, after, limit)
        return {"object": "list", "data": [j.to_api() for j in page], "has_more": has_more}

    def cancel_job(self, job_id: str) -> dict[str, Any]:
        job = self.job(job_id)
        if job.status in _TERMINAL:
            raise bad_request(
                f"Job {job_id} has already {job.status}; it cannot be cancelled.",
                param="fine_tuning_job_id",
            )
        self._close(job, "cancelled", self.now())
        self._event(job, int(self.now()), "Fine-tuning job cancelled")
        return job.to_api()

    def pause_job(self, job_id: str) -> dict[str, Any]:
        job = self.job(job_id)
        if job.status != "running":
            raise bad_request(
                f"Job {job_id} is {job.status}; only running jobs can be paused.",
                param="fine_tuning_job_id",
            )
        job.run_done += self.now() - job.phase_started
        job.status, job.phase_started = "pausing", self.now()
        self._event(job, int(self.now()), "Pausing fine-tuning job")
        return job.to_api()

    def resume_job(self, job_id: str) -> dict[str, Any]:
        job = self.job(job_id)
        if job.status != "paused":
            raise bad_request(
                f"Job {job_id} is {job.status}; only paused jobs can be resumed.",
                param="fine_tuning_job_id",
            )
        job.status, job.phase_started = "queued", self.now()
        self._event(job, int(self.now()), "Resuming fine-tuning job")
        return job.to_api()

    def list_events(self, job_id: str, *, after: str | None, limit: int) -> dict[str, Any]:
        job = self.job(job_id)
        page, has_more = _page(list(reversed(job.events)), after, limit)
        return {"object": "list", "data": page, "has_more": has_more}

    def list_checkpoints(self, job_id: str, *, after: str | None, limit: int) -> dict[str, Any]:
        job = self.job(job_id)
        page, has_more = _page(list(reversed(job.checkpoints)), after, limit)
        return {
            "object": "list",
            "data": page,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": has_more,
        }

    def script_next_job(self, statuses: list[str], error: dict[str, Any] | None) -> None:
        self.scripts.append((list(statuses), error))

    def fail_job(self, job_id: str, *, code: str, message: str, param: str | None) -> None:
        job = self.job(job_id)
        if job.status in _TERMINAL:
            raise ValueError(f"job {job_id} is already {job.status}")
        job.script = None
        job.error = {"code": code, "message": message, "param": param}
        self._close(job, "failed", self.now())
        self._event(job, int(self.now()), message, level="error")

    # ------------------------------------------------------------- progression
    def tick(self) -> None:
        """Bring every job (and file expiry) up to the current virtual time."""
        self.expire_files()
        for job in self.jobs.values():
            self._tick_job(job)

    def _tick_job(self, job: JobRecord) -> None:
        if job.script is not None:
            return
        now = self.now()
        t = self.timings
        while True:
            status = job.status
            if status == "validating_files":
                end = job.phase_started + t.validating_files
                if now < end:
                    return
                self._validate(job, end)
            elif status == "queued":
                end = job.phase_started + t.queued
                if now < end:
                    return
                job.status, job.phase_started = "running", end
                self._event(job, int(end), "Fine-tuning job started")
            elif status == "running":
                end = job.phase_started + (job.run_total - job.run_done)
                self._emit_steps(job, min(now, end))
                if now < end:
                    return
                job.run_done = job.run_total
                self._succeed(job, end)
            elif status == "pausing":
                end = job.phase_started + t.pausing
                if now < end:
                    return
                job.status, job.phase_started = "paused", end
                self._event(job, int(end), "Fine-tuning job paused")
            else:
                return

    def _validate(self, job: JobRecord, at: float) -> None:
        for param, file_id in (
            ("training_file", job.training_file),
            ("validation_file", job.validation_file),
        ):
            if file_id is None:
                continue
            which = param.split("_")[0]
            record = self.files.get(file_id)
            if record is None:
                self._fail_file(job, at, param, f"The {which} file {file_id} no longer exists.")
                return
            report = inspect_training_file(
                record.content,
                method=job.method,
                model=job.base,
                is_validation_file=param == "validation_file",
            )
            if not report.ok:
                self._fail_file(job, at, param, str(report.error_message))
                return
            if param == "training_file":
                job.report = report
        assert job.report is not None
        self._resolve_hyperparameters(job, job.report)
        if job.report.truncated:
            self._event(
                job,
                int(at),
                (
                    f"{job.report.truncated} example(s) exceed "
                    f"{job.base.max_example_tokens} tokens "
                    "and will be truncated"
                ),
                level="warn",
            )
        job.status, job.phase_started = "queued", at
        self._event(job, int(at), "Files validated, moving job to queued state")

    def _fail_file(self, job: JobRecord, at: float, param: str, detail: str) -> None:
        which = param.split("_")[0]
        message = f"The job failed due to an invalid {which} file. {detail}"
        job.error = {"code": f"invalid_{param}", "message": message, "param": param}
        self._close(job, "failed", at)
        self._event(job, int(at), message, level="error")

    def _resolve_hyperparameters(self, job: JobRecord, report: FileReport) -> None:
        hp = job.hyperparameters
        if hp.get("n_epochs", "auto") == "auto":
            hp["n_epochs"] = auto_epochs(report.examples)
        if hp.get("batch_size", "auto") == "auto":
            hp["batch_size"] = auto_batch_size(report.examples)
        if hp.get("learning_rate_multiplier", "auto") == "auto":
            hp["learning_rate_multiplier"] = 2.0 if job.method == "supervised" else 1.0
        if job.method == "dpo" and hp.get("beta", "auto") == "auto":
            hp["beta"] = 0.1
        epochs, batch = int(hp["n_epochs"]), int(hp["batch_size"])
        job.steps_per_epoch = max(1, math.ceil(report.examples / batch))
        job.total_steps = job.steps_per_epoch * epochs
        job.run_total = max(
            self.timings.min_running, job.total_steps * self.timings.seconds_per_step
        )

    def _emit_steps(self, job: JobRecord, until: float) -> None:
        done = job.run_done + (until - job.phase_started)
        per_step = job.run_total / job.total_steps
        reached = min(job.total_steps, int(done / per_step + 1e-9))
        epochs = int(job.hyperparameters["n_epochs"])
        for step in range(job.steps_emitted + 1, reached + 1):
            at = job.phase_started + (step * per_step - job.run_done)
            row = self._metrics(job, step)
            job.metrics.append(row)
            text = f"Step {step}/{job.total_steps}: training loss={row['train_loss']:.4f}"
            if "valid_loss" in row:
                text += f", validation loss={row['valid_loss']:.4f}"
            self._event(
                job, int(at), text, data={**row, "total_steps": job.total_steps}, type="metrics"
            )
            epoch, rest = divmod(step, job.steps_per_epoch)
            if rest == 0 and epoch > epochs - 3:
                self._checkpoint(job, step, int(at), row)
        job.steps_emitted = max(job.steps_emitted, reached)

    def _metrics(self, job: JobRecord, step: int) -> dict[str, float]:
        noise = random.Random(f"{job.id}:{step}")
        progress = step / job.total_steps
        row: dict[str, float] = {
            "step": step,
            "train_loss": round(
                0.15 + 1.9 * math.exp(-4 * progress) + noise.uniform(-0.05, 0.05), 4
            ),
            "train_mean_token_accuracy": round(
                min(0.99, 0.55 + 0.4 * (1 - math.exp(-4 * progress)) + noise.uniform(-0.02, 0.02)),
                4,
            ),
        }
        if job.validation_file:
            row["valid_loss"] = round(row["train_loss"] + 0.08 + noise.uniform(0, 0.05), 4)
            row["valid_mean_token_accuracy"] = round(row["train_mean_token_accuracy"] - 0.03, 4)
            if step == job.total_steps:
                row["full_valid_loss"] = row["valid_loss"]
                row["full_valid_mean_token_accuracy"] = row["valid_mean_token_accuracy"]
        return row

    def _checkpoint(self, job: JobRecord, step: int, at: int, row: dict[str, float]) -> None:
        name = f"{job.fine_tuned_name}:ckpt-step-{step}"
        job.checkpoints.append(
            {
                "object": "fine_tuning.job.checkpoint",
                "id": self.new_id("ftckpt_"),
                "created_at": at,
                "fine_tuned_model_checkpoint": name,
                "fine_tuning_job_id": job.id,
                "metrics": {**row, "step": float(step)},
                "step_number": step,
            }
        )
        self._event(job, at, f"Checkpoint created at step {step} with Snapshot ID: {name}")

    def _succeed(self, job: JobRecord, at: float) -> None:
        assert job.report is not None
        epochs = int(job.hyperparameters["n_epochs"])
        job.trained_tokens = job.report.tokens * epochs
        lines = [_RESULT_HEADER]
        for row in job.metrics:
            lines.append(
                ",".join(
                    _cell(row.get(k))
                    for k in (
                        "step",
                        "train_loss",
                        "train_mean_token_accuracy",
                        "valid_loss",
                        "valid_mean_token_accuracy",
                    )
                )
            )
        csv = ("\n".join(lines) + "\n").encode()
        if self.result_files_base64:
            csv = base64.b64encode(csv)
        result = FileRecord(
            self.new_id("file-", 22), "step_metrics.csv", "fine-tune-results", csv, int(at)
        )
        self.files[result.id] = result
        job.result_files = [result.id]
        job.fine_tuned_model = job.fine_tuned_name
        model = {
            "id": job.fine_tuned_name,
            "object": "model",
            "created": int(at),
            "owned_by": self.org,
            "shutdown_date": job.base.shutdown_date,
        }
        self.fine_tuned[job.fine_tuned_name] = model
        for checkpoint in job.checkpoints:
            name = checkpoint["fine_tuned_model_checkpoint"]
            self.fine_tuned[name] = {**model, "id": name, "created": checkpoint["created_at"]}
        self._event(job, int(at), "Evaluating model against our usage policies")
        self._event(job, int(at), f"New fine-tuned model created: {job.fine_tuned_name}")
        self._close(job, "succeeded", at)
        self._event(job, int(at), "The job has successfully completed")
        self.chat.learn(job)

    def _close(self, job: JobRecord, status: str, at: float) -> None:
        job.status, job.phase_started = status, at
        job.finished_at = int(at)
        job.script = None

    def _script_step(self, job: JobRecord) -> None:
        assert job.script is not None
        status = job.script.popleft() if len(job.script) > 1 else job.script[0]
        if status == job.status and status not in _TERMINAL:
            return
        at = self.now()
        if status == "succeeded":
            if job.report is None:
                record = self.files.get(job.training_file)
                job.report = inspect_training_file(
                    record.content if record else b"", method=job.method, model=job.base
                )
                if not job.report.ok:
                    job.report = FileReport(job.report.examples or 1, job.report.tokens)
                self._resolve_hyperparameters(job, job.report)
            job.run_done = job.run_total
            self._emit_steps(job, job.phase_started)
            self._succeed(job, at)
        elif status == "failed":
            job.error = job.script_error or {
                "code": "internal_error",
                "param": None,
                "message": "The job failed due to an internal error.",
            }
            self._close(job, "failed", at)
            self._event(job, int(at), str(job.error.get("message")), level="error")
        elif status == "cancelled":
            self._close(job, "cancelled", at)
            self._event(job, int(at), "Fine-tuning job cancelled")
        else:
            job.status, job.phase_started = status, at
            self._event(job, int(at), f"Job status changed to {status}")

    def _event(
        self,
        job: JobRecord,
        at: int,
        message: str,
        *,
        level: str = "info",
        data: dict[str, Any] | None = None,
        type: str = "message",
    ) -> None:
        job.events.append(
            {
                "object": "fine_tuning.job.event",
                "id": self.new_id("ftevent-"),
                "created_at": at,
                "level": level,
                "message": message,
                "data": data if data is not None else {},
                "type": type,
            }
        )


def _cell(value: float | None) -> str:
    if value is None:
        return ""
    return str(value) if isinstance(value, int) else repr(float(value))


def _page(items: list[Any], after: str | None, limit: int) -> tuple[list[Any], bool]:
    """One cursor page: the ``limit`` items following the one whose id is ``after``."""
    start = 0
    if after is not None:
        ids = [_id_of(item) for item in items]
        if after not in ids:
            return [], False
        start = ids.index(after) + 1
    page = items[start : start + limit]
    return page, start + limit < len(items)


def _id_of(item: Any) -> str:
    if isinstance(item, dict):
        return cast(str, item["id"])
    return cast(str, item.id)

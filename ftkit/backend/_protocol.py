"""The seam between ftkit and a fine-tuning API: what a backend must do.

A backend method builds exactly one HTTP request (a :class:`~ftkit.backend.Request`,
performed by its ``run()`` or awaited ``arun()``), never retries by itself,
and its requests raise only ftkit errors (:class:`~ftkit.APIError` and
subclasses). Retrying, reconciling ambiguous writes and polling are decided
above it, by :class:`~ftkit.RetryPolicy` and :class:`~ftkit.PollPolicy`.

It speaks only ftkit's own types (:class:`~ftkit.backend.Job`,
:class:`~ftkit.backend.TrainingFile`, :class:`~ftkit.backend.JobEvent`...):
each adapter translates its provider's objects once, so the layers above
never depend on a provider SDK. Listings come back one page at a time as
:class:`~ftkit.backend.Page`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from pathlib import Path

    from ._events import JobEvent
    from ._request import Request
    from ._resources import (
        Checkpoint,
        Job,
        Page,
        RemoteModel,
        TrainingFile,
        UploadedPart,
        UploadSession,
    )
    from ._traits import Traits

# Exactly what ftkit.backend exports (it star-imports this module).
__all__ = ["Backend", "JobSpec"]


@dataclass(frozen=True)
class JobSpec:
    """Everything ``fine_tuning.jobs.create`` takes, as one immutable value.

    ``None`` fields are not sent. ``metadata`` is how ftkit finds its own jobs
    again after an ambiguous failure, so the pipeline always sets it.
    ``options`` are provider-specific settings in ftkit's words
    (``{"training_type": "globalstandard"}`` on Azure, ``{"lora_r": 16}`` on
    Together); an adapter translates the ones its API takes and refuses any other,
    so none is dropped silently. ``parent_job`` names the job whose result this one
    continues (DPO after SFT): OpenAI trains on that job's model, given as ``model``;
    Together starts ``from_checkpoint`` the job itself.
    """

    model: str
    training_file: str
    validation_file: str | None = None
    method: Mapping[str, Any] | None = None
    suffix: str | None = None
    seed: int | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    integrations: Sequence[Mapping[str, Any]] | None = None
    hyperparameters: Mapping[str, Any] | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    parent_job: str | None = None

    def chosen_hyperparameters(self) -> tuple[str, dict[str, Any]]:
        """The training method's name and the hyperparameters chosen for it.

        Those of ``method`` (OpenAI's shape), overridden by ``hyperparameters``; ``"auto"``
        values are left out (the provider decides). Adapters translate these into their
        API's own names.
        """
        method = dict(self.method or {"type": "supervised"})
        kind = str(method.get("type") or "supervised")
        settings = method.get(kind)
        chosen = (
            dict(settings.get("hyperparameters") or {}) if isinstance(settings, Mapping) else {}
        )
        chosen.update(self.hyperparameters or {})
        return kind, {k: v for k, v in chosen.items() if v != "auto"}

    def to_params(self) -> dict[str, Any]:
        """Keyword arguments for ``client.fine_tuning.jobs.create`` (``None`` dropped).

        ``options`` and ``parent_job`` are not among them: they are the adapter's to
        translate (OpenAI's ``model`` already names the parent's result).
        """
        params: dict[str, Any] = {"model": self.model, "training_file": self.training_file}
        optional: dict[str, Any] = {
            "validation_file": self.validation_file,
            "method": dict(self.method) if self.method is not None else None,
            "suffix": self.suffix,
            "seed": self.seed,
            "metadata": dict(self.metadata) if self.metadata else None,
            "integrations": [dict(i) for i in self.integrations]
            if self.integrations is not None
            else None,
            "hyperparameters": dict(self.hyperparameters)
            if self.hyperparameters is not None
            else None,
        }
        params.update({k: v for k, v in optional.items() if v is not None})
        return params


@runtime_checkable
class Backend(Protocol):
    """Files, uploads, fine-tuning jobs and models; each method builds one request.

    A method sends nothing: it returns a :class:`~ftkit.backend.Request`, run
    blocking (``request.run()``) or awaited (``await request.arun()``) as the
    adapter's client allows. ``traits`` says what its API can do (job metadata,
    suffix length, the Uploads API...), so the layers above need no provider test.
    """

    @property
    def traits(self) -> Traits: ...

    def list_files(
        self, *, purpose: str | None = "fine-tune", after: str | None = None, limit: int = 100
    ) -> Request[Page[TrainingFile]]: ...

    def retrieve_file(self, file_id: str) -> Request[TrainingFile]: ...

    def create_file(
        self, *, filename: str, content: bytes | Path, purpose: str = "fine-tune"
    ) -> Request[TrainingFile]: ...

    def import_file(
        self, *, filename: str, content_url: str, purpose: str = "fine-tune"
    ) -> Request[TrainingFile]: ...

    def delete_file(self, file_id: str) -> Request[bool]: ...

    def file_content(self, file_id: str) -> Request[bytes]: ...

    def create_upload(
        self,
        *,
        filename: str,
        size: int,
        mime_type: str = "text/jsonl",
        purpose: str = "fine-tune",
    ) -> Request[UploadSession]: ...

    def add_upload_part(self, upload_id: str, data: bytes) -> Request[UploadedPart]: ...

    def complete_upload(
        self, upload_id: str, *, part_ids: Sequence[str], md5: str | None = None
    ) -> Request[UploadSession]: ...

    def cancel_upload(self, upload_id: str) -> Request[UploadSession]: ...

    def create_job(self, spec: JobSpec) -> Request[Job]: ...

    def retrieve_job(self, job_id: str) -> Request[Job]: ...

    def list_jobs(
        self,
        *,
        metadata: Mapping[str, str] | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> Request[Page[Job]]: ...

    def cancel_job(self, job_id: str) -> Request[Job]: ...

    def pause_job(self, job_id: str) -> Request[Job]: ...

    def resume_job(self, job_id: str) -> Request[Job]: ...

    def list_job_events(
        self, job_id: str, *, after: str | None = None, limit: int = 100
    ) -> Request[Page[JobEvent]]: ...

    def list_job_checkpoints(
        self, job_id: str, *, after: str | None = None, limit: int = 100
    ) -> Request[Page[Checkpoint]]: ...

    def retrieve_model(self, model: str) -> Request[RemoteModel]: ...

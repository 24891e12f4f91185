"""The seam between ftkit and a fine-tuning API: what a backend must do.

A backend performs exactly one HTTP request per method call, never retries
by itself and raises only ftkit errors (:class:`~ftkit.APIError` and
subclasses). Retrying, reconciling ambiguous writes and polling are decided
above it, by :class:`~ftkit.RetryPolicy` and :class:`~ftkit.PollPolicy`.

Results are the openai SDK's response models (``FileObject``,
``FineTuningJob``, ...), which are lenient: unknown statuses and extra fields
pass through. Listings come back one page at a time as :class:`Page`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, runtime_checkable

if TYPE_CHECKING:
    from openai.types import FileObject, Model
    from openai.types.fine_tuning import FineTuningJob, FineTuningJobEvent
    from openai.types.fine_tuning.jobs import FineTuningJobCheckpoint
    from openai.types.upload import Upload
    from openai.types.uploads import UploadPart

__all__ = ["AsyncBackend", "Backend", "JobSpec", "Page"]

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a cursor-paginated listing.

    Attributes:
        data: the items, in the order the API returned them.
        has_more: whether another page follows (request it with ``after=page.last_id``).
    """

    data: Sequence[T]
    has_more: bool = False

    @property
    def last_id(self) -> str | None:
        """The cursor for the next page: the id of the last item, if any."""
        if not self.data:
            return None
        last = self.data[-1]
        value = last.get("id") if isinstance(last, Mapping) else getattr(last, "id", None)
        return str(value) if value is not None else None


@dataclass(frozen=True)
class JobSpec:
    """Everything ``fine_tuning.jobs.create`` takes, as one immutable value.

    ``None`` fields are not sent. ``metadata`` is how ftkit finds its own jobs
    again after an ambiguous failure, so the pipeline always sets it.
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

    def to_params(self) -> dict[str, Any]:
        """Keyword arguments for ``client.fine_tuning.jobs.create`` (``None`` dropped)."""
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
    """Synchronous access to files, uploads, fine-tuning jobs and models."""

    def list_files(
        self, *, purpose: str | None = "fine-tune", after: str | None = None, limit: int = 100
    ) -> Page[FileObject]: ...

    def retrieve_file(self, file_id: str) -> FileObject: ...

    def create_file(
        self, *, filename: str, content: bytes, purpose: str = "fine-tune"
    ) -> FileObject: ...

    def delete_file(self, file_id: str) -> bool: ...

    def file_content(self, file_id: str) -> bytes: ...

    def create_upload(
        self,
        *,
        filename: str,
        size: int,
        mime_type: str = "text/jsonl",
        purpose: str = "fine-tune",
    ) -> Upload: ...

    def add_upload_part(self, upload_id: str, data: bytes) -> UploadPart: ...

    def complete_upload(
        self, upload_id: str, *, part_ids: Sequence[str], md5: str | None = None
    ) -> Upload: ...

    def cancel_upload(self, upload_id: str) -> Upload: ...

    def create_job(self, spec: JobSpec) -> FineTuningJob: ...

    def retrieve_job(self, job_id: str) -> FineTuningJob: ...

    def list_jobs(
        self,
        *,
        metadata: Mapping[str, str] | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> Page[FineTuningJob]: ...

    def cancel_job(self, job_id: str) -> FineTuningJob: ...

    def pause_job(self, job_id: str) -> FineTuningJob: ...

    def resume_job(self, job_id: str) -> FineTuningJob: ...

    def list_job_events(
        self, job_id: str, *, after: str | None = None, limit: int = 100
    ) -> Page[FineTuningJobEvent]: ...

    def list_job_checkpoints(
        self, job_id: str, *, after: str | None = None, limit: int = 100
    ) -> Page[FineTuningJobCheckpoint]: ...

    def retrieve_model(self, model: str) -> Model: ...


@runtime_checkable
class AsyncBackend(Protocol):
    """The awaitable twin of :class:`Backend` (same methods, same promises)."""

    async def list_files(
        self, *, purpose: str | None = "fine-tune", after: str | None = None, limit: int = 100
    ) -> Page[FileObject]: ...

    async def retrieve_file(self, file_id: str) -> FileObject: ...

    async def create_file(
        self, *, filename: str, content: bytes, purpose: str = "fine-tune"
    ) -> FileObject: ...

    async def delete_file(self, file_id: str) -> bool: ...

    async def file_content(self, file_id: str) -> bytes: ...

    async def create_upload(
        self,
        *,
        filename: str,
        size: int,
        mime_type: str = "text/jsonl",
        purpose: str = "fine-tune",
    ) -> Upload: ...

    async def add_upload_part(self, upload_id: str, data: bytes) -> UploadPart: ...

    async def complete_upload(
        self, upload_id: str, *, part_ids: Sequence[str], md5: str | None = None
    ) -> Upload: ...

    async def cancel_upload(self, upload_id: str) -> Upload: ...

    async def create_job(self, spec: JobSpec) -> FineTuningJob: ...

    async def retrieve_job(self, job_id: str) -> FineTuningJob: ...

    async def list_jobs(
        self,
        *,
        metadata: Mapping[str, str] | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> Page[FineTuningJob]: ...

    async def cancel_job(self, job_id: str) -> FineTuningJob: ...

    async def pause_job(self, job_id: str) -> FineTuningJob: ...

    async def resume_job(self, job_id: str) -> FineTuningJob: ...

    async def list_job_events(
        self, job_id: str, *, after: str | None = None, limit: int = 100
    ) -> Page[FineTuningJobEvent]: ...

    async def list_job_checkpoints(
        self, job_id: str, *, after: str | None = None, limit: int = 100
    ) -> Page[FineTuningJobCheckpoint]: ...

    async def retrieve_model(self, model: str) -> Model: ...

"""Backends over the official ``openai`` client (OpenAI and Azure OpenAI).

The adapters call through ``client.with_options(max_retries=0)``: ftkit owns
retries, and the openai client's own retries would both stack with ftkit's and
re-send ``POST``s without an idempotency key. Every call runs inside
:func:`~ftkit.backend._errors.translating`, so only ftkit errors escape.

Nothing here imports ``openai`` at module import time; the client object the
caller passes in is all the adapters need.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._errors import translating
from ._protocol import JobSpec, Page

if TYPE_CHECKING:
    import openai
    from openai.types import FileObject, Model
    from openai.types.fine_tuning import FineTuningJob, FineTuningJobEvent
    from openai.types.fine_tuning.jobs import FineTuningJobCheckpoint
    from openai.types.upload import Upload
    from openai.types.uploads import UploadPart

__all__ = ["AsyncOpenAIBackend", "OpenAIBackend"]


def _drop_none(**kwargs: Any) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if v is not None}


def _secrets_of(client: Any) -> tuple[str, ...]:
    key = getattr(client, "api_key", None)
    return (key,) if isinstance(key, str) and key else ()


def _describe(client: Any) -> str:
    # Only the endpoint: never the key, headers or organisation.
    return f"{type(client).__name__} at {getattr(client, 'base_url', '?')}"


class OpenAIBackend:
    """A :class:`~ftkit.backend.Backend` over ``openai.OpenAI`` or ``openai.AzureOpenAI``.

    Args:
        client: a configured synchronous openai client. It is copied with
            ``max_retries=0``; the original is left untouched.
    """

    def __init__(self, client: openai.OpenAI) -> None:
        self._client = client.with_options(max_retries=0)
        self._secrets = _secrets_of(client)

    def __repr__(self) -> str:
        return f"OpenAIBackend({_describe(self._client)})"

    @property
    def client(self) -> openai.OpenAI:
        """The retry-free copy of the client that every call goes through."""
        return self._client

    # files
    def list_files(
        self, *, purpose: str | None = "fine-tune", after: str | None = None, limit: int = 100
    ) -> Page[FileObject]:
        with translating(self._secrets):
            page = self._client.files.list(**_drop_none(purpose=purpose, after=after, limit=limit))
        return Page(list(page.data), bool(page.has_more))

    def retrieve_file(self, file_id: str) -> FileObject:
        with translating(self._secrets):
            return self._client.files.retrieve(file_id)

    def create_file(
        self, *, filename: str, content: bytes, purpose: str = "fine-tune"
    ) -> FileObject:
        with translating(self._secrets):
            return self._client.files.create(file=(filename, content), purpose=purpose)  # type: ignore[arg-type]

    def delete_file(self, file_id: str) -> bool:
        with translating(self._secrets):
            return bool(self._client.files.delete(file_id).deleted)

    def file_content(self, file_id: str) -> bytes:
        with translating(self._secrets):
            return self._client.files.content(file_id).content

    # uploads
    def create_upload(
        self,
        *,
        filename: str,
        size: int,
        mime_type: str = "text/jsonl",
        purpose: str = "fine-tune",
    ) -> Upload:
        with translating(self._secrets):
            return self._client.uploads.create(
                bytes=size,
                filename=filename,
                mime_type=mime_type,
                purpose=purpose,  # type: ignore[arg-type]
            )

    def add_upload_part(self, upload_id: str, data: bytes) -> UploadPart:
        with translating(self._secrets):
            return self._client.uploads.parts.create(upload_id, data=data)

    def complete_upload(
        self, upload_id: str, *, part_ids: Sequence[str], md5: str | None = None
    ) -> Upload:
        with translating(self._secrets):
            return self._client.uploads.complete(
                upload_id, **_drop_none(part_ids=list(part_ids), md5=md5)
            )

    def cancel_upload(self, upload_id: str) -> Upload:
        with translating(self._secrets):
            return self._client.uploads.cancel(upload_id)

    # jobs
    def create_job(self, spec: JobSpec) -> FineTuningJob:
        with translating(self._secrets):
            return self._client.fine_tuning.jobs.create(**spec.to_params())

    def retrieve_job(self, job_id: str) -> FineTuningJob:
        with translating(self._secrets):
            return self._client.fine_tuning.jobs.retrieve(job_id)

    def list_jobs(
        self,
        *,
        metadata: Mapping[str, str] | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> Page[FineTuningJob]:
        meta = dict(metadata) if metadata else None
        with translating(self._secrets):
            page = self._client.fine_tuning.jobs.list(
                **_drop_none(metadata=meta, after=after, limit=limit)
            )
        return Page(list(page.data), bool(page.has_more))

    def cancel_job(self, job_id: str) -> FineTuningJob:
        with translating(self._secrets):
            return self._client.fine_tuning.jobs.cancel(job_id)

    def pause_job(self, job_id: str) -> FineTuningJob:
        with translating(self._secrets):
            return self._client.fine_tuning.jobs.pause(job_id)

    def resume_job(self, job_id: str) -> FineTuningJob:
        with translating(self._secrets):
            return self._client.fine_tuning.jobs.resume(job_id)

    def list_job_events(
        self, job_id: str, *, after: str | None = None, limit: int = 100
    ) -> Page[FineTuningJobEvent]:
        with translating(self._secrets):
            page = self._client.fine_tuning.jobs.list_events(
                job_id, **_drop_none(after=after, limit=limit)
            )
        return Page(list(page.data), bool(page.has_more))

    def list_job_checkpoints(
        self, job_id: str, *, after: str | None = None, limit: int = 100
    ) -> Page[FineTuningJobCheckpoint]:
        with translating(self._secrets):
            page = self._client.fine_tuning.jobs.checkpoints.list(
                job_id, **_drop_none(after=after, limit=limit)
            )
        return Page(list(page.data), bool(page.has_more))

    # models
    def retrieve_model(self, model: str) -> Model:
        with translating(self._secrets):
            return self._client.models.retrieve(model)


class AsyncOpenAIBackend:
    """An :class:`~ftkit.backend.AsyncBackend` over ``openai.AsyncOpenAI`` / ``AsyncAzureOpenAI``.

    Args:
        client: a configured asynchronous openai client, copied with ``max_retries=0``.
    """

    def __init__(self, client: openai.AsyncOpenAI) -> None:
        self._client = client.with_options(max_retries=0)
        self._secrets = _secrets_of(client)

    def __repr__(self) -> str:
        return f"AsyncOpenAIBackend({_describe(self._client)})"

    @property
    def client(self) -> openai.AsyncOpenAI:
        """The retry-free copy of the client that every call goes through."""
        return self._client

    # files
    async def list_files(
        self, *, purpose: str | None = "fine-tune", after: str | None = None, limit: int = 100
    ) -> Page[FileObject]:
        with translating(self._secrets):
            page = await self._client.files.list(
                **_drop_none(purpose=purpose, after=after, limit=limit)
            )
        return Page(list(page.data), bool(page.has_more))

    async def retrieve_file(self, file_id: str) -> FileObject:
        with translating(self._secrets):
            return await self._client.files.retrieve(file_id)

    async def create_file(
        self, *, filename: str, content: bytes, purpose: str = "fine-tune"
    ) -> FileObject:
        with translating(self._secrets):
            return await self._client.files.create(file=(filename, content), purpose=purpose)  # type: ignore[arg-type]

    async def delete_file(self, file_id: str) -> bool:
        with translating(self._secrets):
            return bool((await self._client.files.delete(file_id)).deleted)

    async def file_content(self, file_id: str) -> bytes:
        with translating(self._secrets):
            return (await self._client.files.content(file_id)).content

    # uploads
    async def create_upload(
        self,
        *,
        filename: str,
        size: int,
        mime_type: str = "text/jsonl",
        purpose: str = "fine-tune",
    ) -> Upload:
        with translating(self._secrets):
            return await self._client.uploads.create(
                bytes=size,
                filename=filename,
                mime_type=mime_type,
                purpose=purpose,  # type: ignore[arg-type]
            )

    async def add_upload_part(self, upload_id: str, data: bytes) -> UploadPart:
        with translating(self._secrets):
            return await self._client.uploads.parts.create(upload_id, data=data)

    async def complete_upload(
        self, upload_id: str, *, part_ids: Sequence[str], md5: str | None = None
    ) -> Upload:
        with translating(self._secrets):
            return await self._client.uploads.complete(
                upload_id, **_drop_none(part_ids=list(part_ids), md5=md5)
            )

    async def cancel_upload(self, upload_id: str) -> Upload:
        with translating(self._secrets):
            return await self._client.uploads.cancel(upload_id)

    # jobs
    async def create_job(self, spec: JobSpec) -> FineTuningJob:
        with translating(self._secrets):
            return await self._client.fine_tuning.jobs.create(**spec.to_params())

    async def retrieve_job(self, job_id: str) -> FineTuningJob:
        with translating(self._secrets):
            return await self._client.fine_tuning.jobs.retrieve(job_id)

    async def list_jobs(
        self,
        *,
        metadata: Mapping[str, str] | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> Page[FineTuningJob]:
        meta = dict(metadata) if metadata else None
        with translating(self._secrets):
            page = await self._client.fine_tuning.jobs.list(
                **_drop_none(metadata=meta, after=after, limit=limit)
            )
        return Page(list(page.data), bool(page.has_more))

    async def cancel_job(self, job_id: str) -> FineTuningJob:
        with translating(self._secrets):
            return await self._client.fine_tuning.jobs.cancel(job_id)

    async def pause_job(self, job_id: str) -> FineTuningJob:
        with translating(self._secrets):
            return await self._client.fine_tuning.jobs.pause(job_id)

    async def resume_job(self, job_id: str) -> FineTuningJob:
        with translating(self._secrets):
            return await self._client.fine_tuning.jobs.resume(job_id)

    async def list_job_events(
        self, job_id: str, *, after: str | None = None, limit: int = 100
    ) -> Page[FineTuningJobEvent]:
        with translating(self._secrets):
            page = await self._client.fine_tuning.jobs.list_events(
                job_id, **_drop_none(after=after, limit=limit)
            )
        return Page(list(page.data), bool(page.has_more))

    async def list_job_checkpoints(
        self, job_id: str, *, after: str | None = None, limit: int = 100
    ) -> Page[FineTuningJobCheckpoint]:
        with translating(self._secrets):
            page = await self._client.fine_tuning.jobs.checkpoints.list(
                job_id, **_drop_none(after=after, limit=limit)
            )
        return Page(list(page.data), bool(page.has_more))

    # models
    async def retrieve_model(self, model: str) -> Model:
        with translating(self._secrets):
            return await self._client.models.retrieve(model)

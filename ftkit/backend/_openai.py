"""The backend over the official ``openai`` client: OpenAI and Azure OpenAI, blocking or async.

One adapter serves all four openai clients: each method builds a
:class:`~ftkit.backend.Request` (the SDK call as a function of the client),
which the caller runs or awaits; the sync and async clients have the same
method paths, so nothing is written twice. The adapter calls through
``client.with_options(max_retries=0)``: ftkit owns retries, and the openai
client's own retries would both stack with ftkit's and re-send POST requests
without an idempotency key. Every request runs inside
:func:`~ftkit.backend._errors.translating`, so only ftkit errors escape.

Each openai response model is translated into ftkit's type by one function
per resource (:func:`to_job`, :func:`to_file`...). The translation reads the
SDK objects leniently (a missing field is ``None``), since the SDK builds
responses without validating them.

Nothing here imports ``openai`` at module import time; the client object the
caller passes in is all the adapter needs.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ._adapter import SdkAdapter
from ._events import JobEvent, as_int, job_event
from ._protocol import JobSpec
from ._request import Request
from ._resources import (
    Checkpoint,
    Job,
    JobError,
    JobStatus,
    Page,
    RemoteModel,
    TrainingFile,
    UploadedPart,
    UploadSession,
)
from ._traits import Traits, traits_of_client

if TYPE_CHECKING:
    import openai

__all__ = [
    "OpenAIBackend",
    "to_checkpoint",
    "to_event",
    "to_file",
    "to_job",
    "to_model",
    "to_part",
    "to_upload",
]

# --------------------------------------------------------------------------- translation

#: OpenAI's and Azure OpenAI's job statuses in ftkit's words; any other word is ``"unknown"``.
#: One map serves both: Azure's v1 API may answer in either vocabulary.
JOB_STATUSES: Mapping[str, JobStatus] = {
    "validating_files": "validating",
    "created": "validating",  # Azure: "exposed only for compatibility"
    "queued": "queued",
    "pending": "queued",  # Azure: accepted, waiting (its files checked meanwhile)
    "running": "running",
    "resuming": "running",  # Azure: on its way back to running
    "pausing": "paused",  # on its way to paused: it no longer trains
    "paused": "paused",
    "succeeded": "succeeded",
    "failed": "failed",
    "cancelled": "cancelled",
}

#: Azure's ``trainingType`` for ftkit's training-type words, spelled as Microsoft's own
#: fine-tuning scripts send it (``extra_body={"trainingType": ...}``; not in either spec).
AZURE_TRAINING_TYPES: Mapping[str, str] = {
    "standard": "standard",
    "globalstandard": "globalStandard",
    "developer": "developerTier",
}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _plain(value: Any) -> dict[str, Any]:
    """A free-form payload (an SDK sub-model, or the JSON object the SDK left as is)."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dict(dump())
    return dict(value) if isinstance(value, Mapping) else {}


def _job_error(error: Any) -> JobError | None:
    # Jobs that did not fail carry {"code": null, "message": null, "param": null}.
    parts = [_text(getattr(error, name, None)) for name in ("code", "message", "param")]
    if not any(parts):
        return None
    code, message, param = parts
    return JobError(code=code, message=message, param=param)


def _chosen(value: Any) -> bool:
    # Azure answers ``n_epochs: -1`` for "the service's default", as ``None`` elsewhere.
    if value is None or isinstance(value, bool):
        return value is not None
    return not (isinstance(value, (int, float)) and value < 0)


def _hyperparameters(job: Any, method: Any, kind: str | None) -> dict[str, Any]:
    settings = getattr(method, kind, None) if kind else None
    found = getattr(settings, "hyperparameters", None) or getattr(job, "hyperparameters", None)
    return {k: v for k, v in _plain(found).items() if _chosen(v)}


def to_job(raw: Any, provider: str = "openai") -> Job:
    """ftkit's :class:`Job` for an openai ``FineTuningJob``."""
    raw_status = _text(getattr(raw, "status", None)) or ""
    method = getattr(raw, "method", None)
    kind = _text(getattr(method, "type", None))
    metadata = getattr(raw, "metadata", None)
    return Job(
        id=_text(getattr(raw, "id", None)) or "",
        provider=provider,
        status=JOB_STATUSES.get(raw_status, "unknown"),
        raw_status=raw_status,
        model=_text(getattr(raw, "model", None)),
        fine_tuned_model=_text(getattr(raw, "fine_tuned_model", None)),
        trained_tokens=as_int(getattr(raw, "trained_tokens", None)),
        error=_job_error(getattr(raw, "error", None)),
        created_at=as_int(getattr(raw, "created_at", None)),
        finished_at=as_int(getattr(raw, "finished_at", None)),
        estimated_finish=as_int(getattr(raw, "estimated_finish", None)),
        metadata={str(k): str(v) for k, v in metadata.items()}
        if isinstance(metadata, Mapping)
        else {},
        # OpenAI and Azure's v1 API echo ``user_provided_suffix``; Azure's dated API ``suffix``.
        suffix=_text(getattr(raw, "user_provided_suffix", None))
        or _text(getattr(raw, "suffix", None)),
        method=kind,
        hyperparameters=_hyperparameters(raw, method, kind),
        training_file=_text(getattr(raw, "training_file", None)),
        validation_file=_text(getattr(raw, "validation_file", None)),
        result_files=tuple(str(f) for f in getattr(raw, "result_files", None) or ()),
        raw=raw,
    )


def to_file(raw: Any) -> TrainingFile:
    """ftkit's :class:`TrainingFile` for an openai ``FileObject``."""
    return TrainingFile(
        id=_text(getattr(raw, "id", None)) or "",
        filename=_text(getattr(raw, "filename", None)),
        bytes=as_int(getattr(raw, "bytes", None)),
        purpose=_text(getattr(raw, "purpose", None)),
        status=_text(getattr(raw, "status", None)),
        created_at=as_int(getattr(raw, "created_at", None)),
        raw=raw,
    )


def to_upload(raw: Any) -> UploadSession:
    """ftkit's :class:`UploadSession` for an openai ``Upload``."""
    file = getattr(raw, "file", None)
    return UploadSession(
        id=_text(getattr(raw, "id", None)) or "",
        status=_text(getattr(raw, "status", None)),
        created_at=as_int(getattr(raw, "created_at", None)),
        expires_at=as_int(getattr(raw, "expires_at", None)),
        file=to_file(file) if file is not None else None,
        raw=raw,
    )


def to_part(raw: Any) -> UploadedPart:
    """ftkit's :class:`UploadedPart` for an openai ``UploadPart``."""
    return UploadedPart(id=_text(getattr(raw, "id", None)) or "", raw=raw)


def to_event(raw: Any) -> JobEvent:
    """ftkit's typed :class:`JobEvent` for an openai ``FineTuningJobEvent``."""
    data = getattr(raw, "data", None)
    return job_event(
        id=_text(getattr(raw, "id", None)) or "",
        created_at=as_int(getattr(raw, "created_at", None)) or 0,
        level=_text(getattr(raw, "level", None)) or "info",
        message=_text(getattr(raw, "message", None)) or "",
        type=_text(getattr(raw, "type", None)),
        data=data if isinstance(data, Mapping) else None,
    )


def to_checkpoint(raw: Any) -> Checkpoint:
    """ftkit's :class:`Checkpoint` for an openai ``FineTuningJobCheckpoint``."""
    return Checkpoint(
        id=_text(getattr(raw, "id", None)) or "",
        step=as_int(getattr(raw, "step_number", None)),
        model=_text(getattr(raw, "fine_tuned_model_checkpoint", None)),
        metrics=_plain(getattr(raw, "metrics", None)),
        created_at=as_int(getattr(raw, "created_at", None)),
        raw=raw,
    )


def _retirement(raw: Any) -> str | None:
    # OpenAI publishes ``shutdown_date`` (YYYY-MM-DD); Azure OpenAI
    # ``deprecation.fine_tune`` (Unix seconds), an extra field to the SDK.
    shutdown = _text(getattr(raw, "shutdown_date", None))
    if shutdown:
        return shutdown[:10]
    deprecation = getattr(raw, "deprecation", None)
    when = deprecation.get("fine_tune") if isinstance(deprecation, Mapping) else None
    if isinstance(when, (int, float)) and not isinstance(when, bool):
        return _dt.datetime.fromtimestamp(when, tz=_dt.timezone.utc).date().isoformat()
    return None


def to_model(raw: Any) -> RemoteModel:
    """ftkit's :class:`RemoteModel` for an openai ``Model`` (OpenAI's or Azure's)."""
    return RemoteModel(
        id=_text(getattr(raw, "id", None)) or "",
        owned_by=_text(getattr(raw, "owned_by", None)),
        retires_on=_retirement(raw),
        raw=raw,
    )


_T = TypeVar("_T")


def _page(page: Any, translate: Callable[[Any], Any]) -> Page[Any]:
    items: Iterable[Any] = getattr(page, "data", None) or ()
    return Page([translate(item) for item in items], bool(getattr(page, "has_more", False)))


# --------------------------------------------------------------------------- adapter


def _drop_none(**kwargs: Any) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if v is not None}


class _Adapter(SdkAdapter):
    """What the openai training and chat adapters share: the API surface's traits."""

    def __init__(self, client: openai.OpenAI | openai.AsyncOpenAI) -> None:
        import openai  # loaded already: the caller built a client with it

        super().__init__(client, asynchronous=isinstance(client, openai.AsyncOpenAI))
        #: What the client's API surface can do (OpenAI, Azure's v1 or dated API).
        self.traits: Traits = traits_of_client(client)
        self.provider = self.traits.provider

    def _request(
        self,
        call: Callable[[openai.OpenAI | openai.AsyncOpenAI], Any],
        translate: Callable[[Any], _T],
        *,
        secrets: Sequence[str] = (),
    ) -> Request[_T]:
        """The request ``call(client)`` (the openai client's methods typed for it)."""
        return super()._request(call, translate, secrets=secrets)


class OpenAIBackend(_Adapter):
    """A :class:`~ftkit.backend.Backend` over any openai client: OpenAI or Azure, blocking or async.

    Each method builds one :class:`~ftkit.backend.Request`; ``run()`` it over
    ``openai.OpenAI`` / ``openai.AzureOpenAI``, ``await arun()`` it over
    ``openai.AsyncOpenAI`` / ``openai.AsyncAzureOpenAI``.

    Args:
        client: a configured openai client. It is copied with ``max_retries=0``;
            the original is left untouched.
    """

    def _job(self, raw: Any) -> Job:
        return to_job(raw, self.provider)

    def _jobs(self, page: Any) -> Page[Job]:
        return _page(page, self._job)

    # files
    def list_files(
        self, *, purpose: str | None = "fine-tune", after: str | None = None, limit: int = 100
    ) -> Request[Page[TrainingFile]]:
        params = _drop_none(purpose=purpose, after=after, limit=limit)
        return self._request(lambda c: c.files.list(**params), _files)

    def retrieve_file(self, file_id: str) -> Request[TrainingFile]:
        return self._request(lambda c: c.files.retrieve(file_id), to_file)

    def create_file(
        self, *, filename: str, content: bytes | Path, purpose: str = "fine-tune"
    ) -> Request[TrainingFile]:
        """``POST /files``; a :class:`~pathlib.Path` is streamed from the disk as it is sent.

        Each attempt opens the file anew and closes it when its request is over (the
        awaited one when the client is async), so a retry sends the whole file again
        and memory holds one chunk of it, not the file.
        """

        def send(c: Any) -> Any:
            # ``purpose`` is any string: the SDK's Literal lags behind the API's purposes.
            if not isinstance(content, Path):
                return c.files.create(file=(filename, content), purpose=purpose)
            handle = open(content, "rb")  # noqa: SIM115 - closed when the request is over
            if not self.asynchronous:
                with handle:
                    return c.files.create(file=(filename, handle), purpose=purpose)

            async def sending() -> Any:
                with handle:
                    return await c.files.create(file=(filename, handle), purpose=purpose)

            return sending()

        return self._request(send, to_file)

    def import_file(
        self, *, filename: str, content_url: str, purpose: str = "fine-tune"
    ) -> Request[TrainingFile]:
        """Azure's ``POST /files/import``: the service fetches ``content_url`` itself.

        The openai SDK has no method for it, so the client's own ``post`` sends it
        (with the client's auth and ``api-version``). The URL is scrubbed from errors:
        a blob's SAS URL is a credential.

        Raises:
            UsageError: the API has no file import (only Azure's dated API does).
        """
        if not self.traits.file_import:
            from .._exceptions import UsageError

            raise UsageError(f"{self.traits.describe()} cannot import files from a URL")
        body = {"purpose": purpose, "filename": filename, "content_url": content_url}

        def call(c: openai.OpenAI | openai.AsyncOpenAI) -> Any:
            from openai.types import FileObject

            return c.post("/files/import", body=body, cast_to=FileObject)

        query = content_url.partition("?")[2]
        return self._request(call, to_file, secrets=(content_url, *((query,) if query else ())))

    def delete_file(self, file_id: str) -> Request[bool]:
        return self._request(lambda c: c.files.delete(file_id), _deleted)

    def file_content(self, file_id: str) -> Request[bytes]:
        return self._request(lambda c: c.files.content(file_id), _content)

    # uploads
    def create_upload(
        self,
        *,
        filename: str,
        size: int,
        mime_type: str = "text/jsonl",
        purpose: str = "fine-tune",
    ) -> Request[UploadSession]:
        params: dict[str, Any] = {
            "bytes": size,
            "filename": filename,
            "mime_type": mime_type,
            "purpose": purpose,
        }
        return self._request(lambda c: c.uploads.create(**params), to_upload)

    def add_upload_part(self, upload_id: str, data: bytes) -> Request[UploadedPart]:
        return self._request(lambda c: c.uploads.parts.create(upload_id, data=data), to_part)

    def complete_upload(
        self, upload_id: str, *, part_ids: Sequence[str], md5: str | None = None
    ) -> Request[UploadSession]:
        params = _drop_none(part_ids=list(part_ids), md5=md5)
        return self._request(lambda c: c.uploads.complete(upload_id, **params), to_upload)

    def cancel_upload(self, upload_id: str) -> Request[UploadSession]:
        return self._request(lambda c: c.uploads.cancel(upload_id), to_upload)

    # jobs
    def create_job(self, spec: JobSpec) -> Request[Job]:
        params = job_params(spec, self.traits)
        return self._request(lambda c: c.fine_tuning.jobs.create(**params), self._job)

    def retrieve_job(self, job_id: str) -> Request[Job]:
        return self._request(lambda c: c.fine_tuning.jobs.retrieve(job_id), self._job)

    def list_jobs(
        self,
        *,
        metadata: Mapping[str, str] | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> Request[Page[Job]]:
        # Where the list cannot filter by metadata the parameter is not sent; the
        # caller checks each job's identity itself (``_jobs.finding_job``).
        meta = dict(metadata) if metadata and self.traits.metadata_filter else None
        params = _drop_none(metadata=meta, after=after, limit=limit)
        return self._request(lambda c: c.fine_tuning.jobs.list(**params), self._jobs)

    def cancel_job(self, job_id: str) -> Request[Job]:
        return self._request(lambda c: c.fine_tuning.jobs.cancel(job_id), self._job)

    def pause_job(self, job_id: str) -> Request[Job]:
        return self._request(lambda c: c.fine_tuning.jobs.pause(job_id), self._job)

    def resume_job(self, job_id: str) -> Request[Job]:
        return self._request(lambda c: c.fine_tuning.jobs.resume(job_id), self._job)

    def list_job_events(
        self, job_id: str, *, after: str | None = None, limit: int = 100
    ) -> Request[Page[JobEvent]]:
        params = _drop_none(after=after, limit=limit)
        return self._request(lambda c: c.fine_tuning.jobs.list_events(job_id, **params), _events)

    def list_job_checkpoints(
        self, job_id: str, *, after: str | None = None, limit: int = 100
    ) -> Request[Page[Checkpoint]]:
        params = _drop_none(after=after, limit=limit)
        return self._request(
            lambda c: c.fine_tuning.jobs.checkpoints.list(job_id, **params), _checkpoints
        )

    # models
    def retrieve_model(self, model: str) -> Request[RemoteModel]:
        return self._request(lambda c: c.models.retrieve(model), to_model)


def job_params(spec: JobSpec, traits: Traits) -> dict[str, Any]:
    """The ``fine_tuning.jobs.create`` arguments for ``spec`` on ``traits``' API surface.

    Azure's dated API takes supervised hyperparameters at the top level beside
    ``method={"type": "supervised"}`` (as Microsoft's scripts send them) and keeps
    no metadata; Azure's training type travels as ``extra_body`` on both of its
    surfaces.

    Raises:
        UsageError: an option the API does not take, or metadata on an API without it.
    """
    from .._exceptions import UsageError

    params = spec.to_params()
    options = dict(spec.options)
    training_type = options.pop("training_type", None)
    if options:
        raise UsageError(f"{traits.describe()} takes no job option {sorted(options)}")
    if training_type is not None:
        if not traits.training_types or training_type not in AZURE_TRAINING_TYPES:
            raise UsageError(
                f"{traits.describe()} takes no training type {training_type!r}; training types "
                f"{sorted(AZURE_TRAINING_TYPES)} are Azure OpenAI's"
            )
        params["extra_body"] = {"trainingType": AZURE_TRAINING_TYPES[training_type]}
    if traits.api != "azure-dated":
        return params
    if "metadata" in params:
        raise UsageError(f"{traits.describe()} keeps no job metadata")
    method = params.get("method")
    if isinstance(method, Mapping) and method.get("type") == "supervised":
        settings = method.get("supervised")
        hyper = settings.get("hyperparameters") if isinstance(settings, Mapping) else None
        params["method"] = {"type": "supervised"}
        if hyper:
            params["hyperparameters"] = {**params.get("hyperparameters", {}), **hyper}
    return params


def _files(page: Any) -> Page[TrainingFile]:
    return _page(page, to_file)


def _events(page: Any) -> Page[JobEvent]:
    return _page(page, to_event)


def _checkpoints(page: Any) -> Page[Checkpoint]:
    return _page(page, to_checkpoint)


def _deleted(answer: Any) -> bool:
    return bool(answer.deleted)


def _content(answer: Any) -> bytes:
    return bytes(answer.content)

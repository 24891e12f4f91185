"""Exactly-once job creation and the pre-flight model check.

The openai client sends ``POST /fine_tuning/jobs`` without an idempotency
key, so a create that timed out may still have created a job. ftkit tags
every job with metadata that names its run and stage, creates it with the
client's retries off, and after an ambiguous failure lists jobs by that
metadata before trying again (:meth:`ftkit.RetryPolicy.call_once`).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._exceptions import UsageError
from ..retry import RetryPolicy
from ._errors import training_unavailable_for_model

if TYPE_CHECKING:
    from openai.types.fine_tuning import FineTuningJob

    from ._protocol import AsyncBackend, Backend, JobSpec, Page

__all__ = [
    "acreate_job_once",
    "aensure_trainable",
    "afind_job",
    "create_job_once",
    "ensure_trainable",
    "find_job",
    "model_retirement",
]

#: Server-side limits on job metadata (fine-tuning facts, jobs API).
MAX_METADATA_PAIRS = 16
MAX_METADATA_KEY = 64
MAX_METADATA_VALUE = 512


def _check_metadata(metadata: Mapping[str, str]) -> None:
    if not metadata:
        raise UsageError(
            "exactly-once job creation needs metadata that identifies the job "
            "(for example {'ftkit_run': run_id, 'ftkit_stage': 'sft'})"
        )
    if len(metadata) > MAX_METADATA_PAIRS:
        raise UsageError(f"job metadata holds at most {MAX_METADATA_PAIRS} pairs")
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise UsageError("job metadata keys and values must be strings")
        if len(key) > MAX_METADATA_KEY or len(value) > MAX_METADATA_VALUE:
            raise UsageError(
                f"job metadata keys are at most {MAX_METADATA_KEY} characters and values "
                f"at most {MAX_METADATA_VALUE} (key {key[:20]!r}...)"
            )


def _matches(job: Any, metadata: Mapping[str, str]) -> bool:
    # Filter again on our side: a provider that ignores the metadata query
    # parameter must not make us adopt someone else's job.
    found = getattr(job, "metadata", None)
    if not isinstance(found, Mapping):
        return False
    return all(found.get(k) == v for k, v in metadata.items())


def _first_match(page: Page[FineTuningJob], metadata: Mapping[str, str]) -> FineTuningJob | None:
    for job in page.data:
        if _matches(job, metadata):
            return job
    return None


def find_job(
    backend: Backend,
    metadata: Mapping[str, str],
    *,
    retry: RetryPolicy | int | None = None,
    max_pages: int | None = None,
) -> FineTuningJob | None:
    """The newest job whose metadata contains every pair of ``metadata``.

    Args:
        backend: where to look.
        metadata: the pairs that identify the job.
        retry: the policy for each list call.
        max_pages: stop after this many pages (``None``: the whole listing).

    Returns:
        The job, or ``None`` when no job carries that metadata.
    """
    policy = RetryPolicy.coerce(retry)
    after: str | None = None
    pages = 0
    while True:
        page = policy.call(backend.list_jobs, metadata=dict(metadata), after=after, limit=100)
        pages += 1
        job = _first_match(page, metadata)
        if job is not None:
            return job
        if not page.has_more or page.last_id is None:
            return None
        if max_pages is not None and pages >= max_pages:
            return None
        after = page.last_id


async def afind_job(
    backend: AsyncBackend,
    metadata: Mapping[str, str],
    *,
    retry: RetryPolicy | int | None = None,
    max_pages: int | None = None,
) -> FineTuningJob | None:
    """The awaitable twin of :func:`find_job`."""
    policy = RetryPolicy.coerce(retry)
    after: str | None = None
    pages = 0
    while True:
        page = await policy.acall(
            backend.list_jobs, metadata=dict(metadata), after=after, limit=100
        )
        pages += 1
        job = _first_match(page, metadata)
        if job is not None:
            return job
        if not page.has_more or page.last_id is None:
            return None
        if max_pages is not None and pages >= max_pages:
            return None
        after = page.last_id


def create_job_once(
    backend: Backend,
    spec: JobSpec,
    *,
    retry: RetryPolicy | int | None = None,
    look_first: bool = True,
) -> FineTuningJob:
    """Create the job described by ``spec`` unless it already exists.

    ``spec.metadata`` must identify this job (run id, stage, attempt): it is
    how an earlier, possibly ambiguous, create is recognised.

    Args:
        backend: where to create it.
        spec: the job; its ``metadata`` is required.
        retry: the policy for every call.
        look_first: look the job up before the first create, which covers a
            crash between a successful create and recording its id.

    Returns:
        The created job, or the existing one.

    Raises:
        UsageError: ``spec.metadata`` is empty or over the API's limits.
        ftkit.APIError: a final failure (``TrainingUnavailable`` included).
        ftkit.RetryExhausted: retryable failures outlasted the policy.
    """
    _check_metadata(spec.metadata)
    policy = RetryPolicy.coerce(retry)

    def find() -> FineTuningJob | None:
        return find_job(backend, spec.metadata, retry=RetryPolicy.never())

    if look_first:
        existing = find_job(backend, spec.metadata, retry=policy)
        if existing is not None:
            return existing
    return policy.call_once(lambda: backend.create_job(spec), find)


async def acreate_job_once(
    backend: AsyncBackend,
    spec: JobSpec,
    *,
    retry: RetryPolicy | int | None = None,
    look_first: bool = True,
) -> FineTuningJob:
    """The awaitable twin of :func:`create_job_once`."""
    _check_metadata(spec.metadata)
    policy = RetryPolicy.coerce(retry)

    async def find() -> FineTuningJob | None:
        return await afind_job(backend, spec.metadata, retry=RetryPolicy.never())

    async def create() -> FineTuningJob:
        return await backend.create_job(spec)

    if look_first:
        existing = await afind_job(backend, spec.metadata, retry=policy)
        if existing is not None:
            return existing
    return await policy.acall_once(create, find)


def model_retirement(model: Any) -> str | None:
    """The date after which ``model`` cannot be trained, if the provider says so.

    Reads OpenAI's ``shutdown_date`` (``YYYY-MM-DD``) and Azure OpenAI's
    ``deprecation.fine_tune`` (Unix seconds).

    Returns:
        An ISO date, or ``None`` when no date is published.
    """
    shutdown = getattr(model, "shutdown_date", None)
    if isinstance(shutdown, str) and shutdown:
        return shutdown[:10]
    extra = getattr(model, "model_extra", None) or {}
    deprecation = extra.get("deprecation") if isinstance(extra, Mapping) else None
    if isinstance(deprecation, Mapping):
        when = deprecation.get("fine_tune")
        if isinstance(when, (int, float)) and not isinstance(when, bool):
            return _dt.datetime.fromtimestamp(when, tz=_dt.timezone.utc).date().isoformat()
    return None


def _backend_today(backend: object) -> _dt.date | None:
    """The day of the backend's client when it runs on a fake's virtual clock."""
    from .._virtual_time import client_today

    return client_today(getattr(backend, "client", None))


def _check_retired(model_id: str, model: Any, today: _dt.date | None) -> None:
    date = model_retirement(model)
    if date is None:
        return
    if today is None:
        from ..validation import _models  # one "today" for the validator, the plan and here

        today = _models.utc_today()
    if date <= today.isoformat():
        raise training_unavailable_for_model(model_id, date)


def ensure_trainable(
    backend: Backend,
    model: str,
    *,
    retry: RetryPolicy | int | None = None,
    today: _dt.date | None = None,
) -> None:
    """Refuse early when the base model is past its published shutdown date.

    Args:
        backend: where to look the model up.
        model: the base model (or ``ft:`` model) to train.
        retry: the policy for the lookup.
        today: the date to compare with (UTC today by default).

    Raises:
        TrainingUnavailable: the model is retired; the message names the alternative.
        ftkit.APIError: the lookup failed (a 404 means the model does not exist here).
    """
    found = RetryPolicy.coerce(retry).call(backend.retrieve_model, model)
    _check_retired(model, found, today or _backend_today(backend))


async def aensure_trainable(
    backend: AsyncBackend,
    model: str,
    *,
    retry: RetryPolicy | int | None = None,
    today: _dt.date | None = None,
) -> None:
    """The awaitable twin of :func:`ensure_trainable`."""
    found = await RetryPolicy.coerce(retry).acall(backend.retrieve_model, model)
    _check_retired(model, found, today or _backend_today(backend))

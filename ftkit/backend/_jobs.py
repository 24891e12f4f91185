"""Exactly-once job creation and the pre-flight model check.

The openai client sends ``POST /fine_tuning/jobs`` without an idempotency
key, so a create that timed out may still have created a job. ftkit tags
every job with metadata that names its run and stage, creates it with the
client's retries off, and after an ambiguous failure lists jobs by that
metadata before trying again (:meth:`ftkit.RetryPolicy.call_once`).

Each operation is one program (``finding_job``, ``creating_job``,
``checking_trainable``) that the sync and async functions drive; the
pipeline's program runs the same ones.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._exceptions import UsageError
from .._twins import parameters_of
from ..retry import RetryPolicy
from ._errors import training_unavailable_for_model
from ._program import CallOnce, Nested, Program, Retried, arun, run

if TYPE_CHECKING:
    from ._protocol import Backend, JobSpec
    from ._resources import Job, Page, RemoteModel

__all__ = [
    "acreate_job_once",
    "aensure_trainable",
    "create_job_once",
    "ensure_trainable",
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


def _first_match(page: Page[Job], metadata: Mapping[str, str]) -> Job | None:
    # Filter again on our side: a provider that ignores the metadata query
    # parameter must not make us adopt someone else's job.
    for job in page.data:
        if all(job.metadata.get(k) == v for k, v in metadata.items()):
            return job
    return None


def finding_job(
    backend: Backend,
    metadata: Mapping[str, str],
    *,
    retry: RetryPolicy | int | None = None,
    max_pages: int | None = None,
) -> Program[Job | None]:
    """The newest job whose metadata contains every pair of ``metadata``, or ``None``.

    Listed by metadata, page after page; each list call under ``retry``;
    ``max_pages`` stops the search early (``None``: the whole listing).
    """
    policy = RetryPolicy.coerce(retry)
    after: str | None = None
    pages = 0
    while True:
        request = backend.list_jobs(metadata=dict(metadata), after=after, limit=100)
        page: Page[Job] = yield Retried(request, policy)
        pages += 1
        job = _first_match(page, metadata)
        if job is not None:
            return job
        if not page.has_more or page.last_id is None:
            return None
        if max_pages is not None and pages >= max_pages:
            return None
        after = page.last_id


def creating_job(
    backend: Backend,
    spec: JobSpec,
    *,
    retry: RetryPolicy | int | None = None,
    look_first: bool = True,
) -> Program[Job]:
    """The program of :func:`create_job_once`."""
    _check_metadata(spec.metadata)
    policy = RetryPolicy.coerce(retry)
    if look_first:
        existing = yield from finding_job(backend, spec.metadata, retry=policy)
        if existing is not None:
            return existing
    created: Job = yield CallOnce(
        backend.create_job(spec),
        Nested(lambda: finding_job(backend, spec.metadata, retry=RetryPolicy.never())),
        policy,
    )
    return created


def create_job_once(
    backend: Backend,
    spec: JobSpec,
    *,
    retry: RetryPolicy | int | None = None,
    look_first: bool = True,
) -> Job:
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
    return run(creating_job(**locals()))


@parameters_of(create_job_once)
async def acreate_job_once(**arguments: Any) -> Job:
    """The awaitable twin of :func:`create_job_once`."""
    return await arun(creating_job(**arguments))


def _backend_today(backend: object) -> _dt.date | None:
    """The day of the backend's client when it runs on a fake's virtual clock."""
    from .._virtual_time import client_today

    return client_today(getattr(backend, "client", None))


def _check_retired(model_id: str, model: RemoteModel, today: _dt.date | None) -> None:
    date = model.retires_on
    if date is None:
        return
    if today is None:
        from ..providers import _model  # one "today" for the validator, the plan and here

        today = _model.utc_today()
    if date <= today.isoformat():
        raise training_unavailable_for_model(model_id, date)


def checking_trainable(
    backend: Backend,
    model: str,
    *,
    retry: RetryPolicy | int | None = None,
    today: _dt.date | None = None,
) -> Program[None]:
    """The program of :func:`ensure_trainable`."""
    found: RemoteModel = yield Retried(backend.retrieve_model(model), RetryPolicy.coerce(retry))
    _check_retired(model, found, today or _backend_today(backend))


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
    run(checking_trainable(**locals()))


@parameters_of(ensure_trainable)
async def aensure_trainable(**arguments: Any) -> None:
    """The awaitable twin of :func:`ensure_trainable`."""
    await arun(checking_trainable(**arguments))

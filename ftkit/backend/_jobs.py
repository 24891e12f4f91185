"""Exactly-once job creation and the pre-flight model check.

The openai client sends ``POST /fine_tuning/jobs`` without an idempotency
key, so a create that timed out may still have created a job. ftkit gives
every job an identity (metadata that names its run and stage), creates it with
the client's retries off, and after an ambiguous failure looks for a job with
that identity before trying again (:meth:`ftkit.RetryPolicy.call_once`).

How the identity travels is the API's :class:`~ftkit.backend._traits.Traits`:
as job metadata where jobs keep it (OpenAI, Azure's v1 API: listed by it where
the list filters, else listed and checked here, bounded); as a run token in the
suffix where they do not (Azure's dated API), recognised together with the
training file and a creation time after that file's. Where the caller chooses
the job's id (Fireworks), the identity *is* the id (:func:`caller_job_id`): the
earlier job is read by it, and a second create of it is refused by the API
(409) rather than duplicated, so that answer too means "it exists: read it".

Each operation is one program (``finding_job``, ``creating_job``,
``checking_trainable``) that the sync and async functions drive; the
pipeline's program runs the same ones.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import hashlib
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._exceptions import APIError, RunConflict, UsageError
from .._twins import parameters_of
from ..retry import RetryPolicy
from ._errors import training_unavailable_for_model
from ._program import CallOnce, Nested, Program, Retried, arun, run
from ._protocol import JobSpec
from ._traits import Traits, traits_of

if TYPE_CHECKING:
    from ._protocol import Backend
    from ._resources import Job, Page, RemoteModel

__all__ = [
    "acreate_job_once",
    "aensure_trainable",
    "create_job_once",
    "ensure_trainable",
]

logger = logging.getLogger("ftkit.jobs")

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


def run_token(metadata: Mapping[str, str]) -> str:
    """The short token that stands for a job's identity where the API keeps no metadata.

    ``ftk`` and 8 base32 characters of a digest of the identity pairs: the same
    pairs give the same token in every process, and it fits Azure's 40-character
    suffix next to the user's own.
    """
    canonical = json.dumps(dict(sorted(metadata.items())), separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return "ftk" + base64.b32encode(digest).decode()[:8].lower()


def suffix_with_token(suffix: str | None, token: str) -> str:
    """The suffix a job is created with when it carries ``token``: ``<suffix>-<token>``."""
    return f"{suffix}-{token}" if suffix else token


#: Characters of a caller-chosen job id (Fireworks: lowercase letters, digits, '-'; 63 at most).
MAX_JOB_ID = 63
_ID_UNSAFE = re.compile(r"[^a-z0-9]+")


def caller_job_id(spec: JobSpec) -> str:
    """The id a job of ``spec`` is created under where the caller chooses ids (Fireworks).

    ``<suffix>-ftk<16 base32 characters>``: the characters are a digest of the identity
    metadata (run and stage), 80 bits, so no two runs' stages share an id by chance
    and every process derives the same one. The suffix (lowercased, other characters
    turned into ``-``) keeps the id, and the model named after it, readable.

    Raises:
        UsageError: the suffix leaves no room for the token (``Traits.max_suffix``).
    """
    canonical = json.dumps(dict(sorted(spec.metadata.items())), separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    token = "ftk" + base64.b32encode(digest).decode()[:16].lower()
    slug = _ID_UNSAFE.sub("-", (spec.suffix or "").lower()).strip("-")
    if not slug:
        return token
    name = f"{slug}-{token}" if slug[0].isalpha() else f"{token}-{slug}"
    if len(name) > MAX_JOB_ID:
        raise UsageError(
            f"the suffix {spec.suffix!r} is too long: a job id takes {MAX_JOB_ID} characters "
            f"and ftkit's identity token takes {len(token) + 1} of them"
        )
    return name


def wire_spec(spec: JobSpec, traits: Traits) -> JobSpec:
    """``spec`` as ``traits``' API can take it: where jobs keep no metadata, the identity
    moves into the suffix as a run token (the metadata itself is not sent).

    Raises:
        UsageError: the suffix with the token is longer than the API allows.
    """
    if not traits.run_token_in_suffix:
        return spec
    suffix = suffix_with_token(spec.suffix, run_token(spec.metadata))
    if len(suffix) > traits.max_suffix:
        raise UsageError(
            f"the suffix {spec.suffix!r} is too long for {traits.describe()}: it takes "
            f"{traits.max_suffix} characters and ftkit adds {len(suffix) - len(spec.suffix or '')} "
            "for the run token that finds the job again"
        )
    return dataclasses.replace(spec, suffix=suffix, metadata={})


#: How far before the training file's creation a job may appear to be created (seconds):
#: a provider's file and job services need not share one clock exactly.
CLOCK_SLACK = 600

#: Pages of an unfiltered job listing searched at most (100 jobs each).
MAX_UNFILTERED_PAGES = 50


@dataclass(frozen=True)
class _Identity:
    """How a listed job is recognised as the one ``spec`` created, on ``traits``' API."""

    spec: JobSpec
    traits: Traits
    since: int | None
    token: str | None = None
    """The run token the job carries, where the API keeps no metadata (set by :meth:`on`)."""

    @classmethod
    def on(cls, spec: JobSpec, traits: Traits, since: int | None) -> _Identity:
        token = run_token(spec.metadata) if traits.run_token_in_suffix else None
        return cls(spec, traits, since, token)

    def matches(self, job: Job) -> bool:
        token = self.token
        if token is not None:
            # The token alone could be a coincidence of 40 bits; with the training file
            # and a creation after that file it is this run's stage and no other.
            carried = job.suffix or ""
            if not (carried == token or carried.endswith(f"-{token}")):
                return False
            if job.training_file != self.spec.training_file:
                return False
            return not self.too_old(job)
        # Filter again on our side: a provider that ignores the metadata query
        # parameter must not make us adopt someone else's job.
        return all(job.metadata.get(k) == v for k, v in self.spec.metadata.items())

    def too_old(self, job: Job) -> bool:
        """Created before the training file existed: no job of this run, nor any after it."""
        if self.since is None or job.created_at is None:
            return False
        return job.created_at < self.since - CLOCK_SLACK


def finding_job(
    backend: Backend,
    spec: JobSpec,
    *,
    retry: RetryPolicy | int | None = None,
    since: int | None = None,
    max_pages: int | None = None,
) -> Program[Job | None]:
    """The newest job created from ``spec`` (by its identity metadata), or ``None``.

    Where the API filters jobs by metadata, the listing is filtered on the server
    (and checked again here). Elsewhere every job is listed, newest first, and
    checked here: the search stops at the first job created before ``since`` (the
    training file's creation, Unix seconds on the provider's clock) when the listing
    has come newest first so far, or after
    ``max_pages`` pages (:data:`MAX_UNFILTERED_PAGES` by default when unfiltered;
    the whole listing when filtered). Each list call runs under ``retry``.
    """
    policy = RetryPolicy.coerce(retry)
    traits = traits_of(backend)
    if traits.caller_ids:
        found = yield from _reading_named(backend, spec, policy)
        return found
    identity = _Identity.on(spec, traits, since)
    filtered = traits.metadata_filter and traits.job_metadata
    if max_pages is None and not filtered:
        max_pages = MAX_UNFILTERED_PAGES
    query = dict(spec.metadata) if filtered else None
    after: str | None = None
    pages = 0
    newest_first, last_seen = True, None  # the order the listing has shown so far
    while True:
        request = backend.list_jobs(metadata=query, after=after, limit=100)
        page: Page[Job] = yield Retried(request, policy)
        pages += 1
        for job in page.data:
            if identity.matches(job):
                return job
        for created in (job.created_at for job in page.data if job.created_at is not None):
            newest_first = newest_first and (last_seen is None or created <= last_seen)
            last_seen = created
        if newest_first and any(identity.too_old(job) for job in page.data):
            # Every later page is older still. Only a listing seen to be newest first
            # (OpenAI's documented order; Azure's is unstated) may stop here.
            return None
        if not page.has_more or page.last_id is None:
            return None
        if max_pages is not None and pages >= max_pages:
            logger.warning(
                "stopped looking for an earlier job of %s after %d pages of jobs",
                ", ".join(f"{k}={v}" for k, v in spec.metadata.items()),
                pages,
            )
            return None
        after = page.last_id


def _reading_named(backend: Any, spec: JobSpec, policy: RetryPolicy) -> Program[Job | None]:
    """The job under ``spec``'s caller-chosen id, or ``None`` (404): never a listing.

    ``backend.job_name(spec)`` (which ``Traits.caller_ids`` promises) names it. A job of
    that id that trains another file is not this run's stage: refused, never adopted.
    """
    name = backend.job_name(spec)
    try:
        job: Job = yield Retried(backend.retrieve_job(name), policy)
    except APIError as exc:
        if exc.status_code == 404:
            return None
        raise
    if job.training_file not in (None, spec.training_file):
        raise RunConflict(
            f"job {name} exists but trains on {job.training_file}, not {spec.training_file}: "
            "its id is this run's stage's, so ftkit does not create another; check the "
            "account's jobs"
        )
    return job


def creating_job(
    backend: Backend,
    spec: JobSpec,
    *,
    retry: RetryPolicy | int | None = None,
    look_first: bool = True,
    since: int | None = None,
) -> Program[Job]:
    """The program of :func:`create_job_once`."""
    _check_metadata(spec.metadata)
    policy = RetryPolicy.coerce(retry)
    sent = wire_spec(spec, traits_of(backend))
    if look_first:
        existing = yield from finding_job(backend, spec, retry=policy, since=since)
        if existing is not None:
            return existing
    if traits_of(backend).caller_ids:
        named = yield from _creating_named(backend, sent, spec, policy)
        return named
    created: Job = yield CallOnce(
        backend.create_job(sent),
        Nested(lambda: finding_job(backend, spec, retry=RetryPolicy.never(), since=since)),
        policy,
    )
    return created


def _creating_named(
    backend: Backend, sent: JobSpec, spec: JobSpec, policy: RetryPolicy
) -> Program[Job]:
    """Create the job under its caller-chosen id; an answer that it exists means read it.

    After an ambiguous failure the id is read before anything is sent again; a
    create refused with 409 (ALREADY_EXISTS: an earlier attempt, or another process,
    created it) is answered by reading it too. Neither can make a second job.
    """
    find = Nested(lambda: _reading_named(backend, spec, RetryPolicy.never()))
    try:
        created: Job = yield CallOnce(backend.create_job(sent), find, policy)
    except APIError as exc:
        if exc.status_code != 409:
            raise
        existing = yield from _reading_named(backend, spec, policy)
        if existing is None:
            raise
        logger.info("job %s exists already (409): continuing with it", existing.id)
        return existing
    return created


def create_job_once(
    backend: Backend,
    spec: JobSpec,
    *,
    retry: RetryPolicy | int | None = None,
    look_first: bool = True,
    since: int | None = None,
) -> Job:
    """Create the job described by ``spec`` unless it already exists.

    ``spec.metadata`` must identify this job (run id, stage, attempt): it is
    how an earlier, possibly ambiguous, create is recognised. Where the API
    keeps no job metadata (Azure's dated API) it is sent as a run token in the
    suffix instead, and the job is recognised by that token, its training file
    and a creation time after ``since``.

    Args:
        backend: where to create it.
        spec: the job; its ``metadata`` is required.
        retry: the policy for every call.
        look_first: look the job up before the first create, which covers a
            crash between a successful create and recording its id.
        since: when the training file was created (Unix seconds, the provider's
            clock): no job of it is older, so an unfiltered search stops there.

    Returns:
        The created job, or the existing one.

    Raises:
        UsageError: ``spec.metadata`` is empty or over the API's limits, or the
            suffix leaves no room for the run token.
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

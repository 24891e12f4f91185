"""Fireworks AI's words for the fake's records: names, times, states, errors, pages.

The shared stores keep datasets as files and jobs in OpenAI's terms (one
mechanism for every provider: the :class:`~ftkit.testing._training.Trainer` moves a
Fireworks job too). This module holds what every Fireworks module shares:

- **names**: a resource is ``accounts/{account}/{collection}/{id}``, its id chosen by
  the caller (AIP-122: 1-63 of ``a-z``, ``0-9`` and ``-``, a letter first, no ``-``
  last). The stores mint their own ids through ``Core.naming``; :func:`named` hands
  them the resource's full name for the one call that creates it, so a job's
  :attr:`JobRecord.id` and a dataset's :attr:`FileRecord.id` *are* their names;
- **times** as RFC 3339 strings in UTC (``2026-12-04T02:00:00.000Z``);
- **job states** (``JOB_STATE_*``) read from the record and the clock: the shared
  ``validating_files`` phase reads ``CREATING`` for its first
  :func:`creating_seconds`, then ``VALIDATING``; ``queued`` is ``PENDING``; after
  training a job is ``WRITING_RESULTS`` for :data:`WRITING_RESULTS_SECONDS` before
  ``COMPLETED``; a cancelled one ``CANCELLING`` for :data:`CANCELLING_SECONDS`, then
  ``CANCELLED`` (the durations are the fake's own: Fireworks publishes none);
- **errors** in grpc-gateway's envelope ``{"code": <grpc code>, "message": str,
  "details": []}`` with the HTTP status grpc-gateway maps each code to
  (:data:`GRPC_CODES`). A refusal raised with ``code=`` a grpc code name keeps it;
  any other (a scripted 429 or 500) takes the code of its HTTP status.
- **pages**: ``pageSize`` (default 50, above 200 coerced to 200), an opaque
  ``pageToken`` and ``nextPageToken``, ``totalSize``, and ``orderBy`` over a
  resource's fields (``"createTime desc"``; by ``name`` unless told).
"""

from __future__ import annotations

import base64
import contextlib
import random
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import httpx2

from ._core import Core, Naming, WireError
from ._job_record import JobRecord
from ._wire import json_response

__all__ = [
    "CANCELLING_SECONDS",
    "GRPC_CODES",
    "STORAGE_PATH",
    "WRITING_RESULTS_SECONDS",
    "check_id",
    "completed_at",
    "creating_seconds",
    "grpc",
    "grpc_name",
    "grpc_response",
    "job_object",
    "job_state",
    "metrics_rows",
    "metrics_url",
    "named",
    "page_of",
    "rfc3339",
    "status_of",
]

WRITING_RESULTS_SECONDS = 30.0
"""Virtual seconds a trained job is ``JOB_STATE_WRITING_RESULTS`` (the fake's own figure)."""
CANCELLING_SECONDS = 10.0
"""Virtual seconds a cancelled job is ``JOB_STATE_CANCELLING`` (the fake's own figure)."""
_CREATING_SECONDS = 5.0

GRPC_CODES: dict[str, tuple[int, int]] = {
    "OK": (0, 200),
    "CANCELLED": (1, 499),
    "UNKNOWN": (2, 500),
    "INVALID_ARGUMENT": (3, 400),
    "DEADLINE_EXCEEDED": (4, 504),
    "NOT_FOUND": (5, 404),
    "ALREADY_EXISTS": (6, 409),
    "PERMISSION_DENIED": (7, 403),
    "RESOURCE_EXHAUSTED": (8, 429),
    "FAILED_PRECONDITION": (9, 400),
    "ABORTED": (10, 409),
    "OUT_OF_RANGE": (11, 400),
    "UNIMPLEMENTED": (12, 501),
    "INTERNAL": (13, 500),
    "UNAVAILABLE": (14, 503),
    "DATA_LOSS": (15, 500),
    "UNAUTHENTICATED": (16, 401),
}
"""grpc status name -> (its number, the HTTP status grpc-gateway answers it with)."""

_BY_HTTP = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

_ID = re.compile(r"[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?")


# ------------------------------------------------------------------ errors
def grpc(code: str, message: str, *, headers: dict[str, str] | None = None) -> WireError:
    """A refusal with grpc status ``code`` (``"NOT_FOUND"``) at grpc-gateway's HTTP status."""
    return WireError(GRPC_CODES[code][1], message, code=code, headers=headers)


def grpc_name(error: WireError) -> str:
    """The grpc status name of a refusal: its own, else the one of its HTTP status."""
    if error.code in GRPC_CODES:
        return str(error.code)
    return _BY_HTTP.get(error.status, "UNKNOWN")


def grpc_response(error: WireError) -> httpx2.Response:
    """grpc-gateway's error envelope: ``{"code": <number>, "message", "details": []}``."""
    number = GRPC_CODES[grpc_name(error)][0]
    body = {"code": number, "message": error.message, "details": []}
    return json_response(error.status, body, headers=error.headers)


def check_id(value: Any, what: str) -> str:
    """A caller-chosen resource id (AIP-122), or 400 ``INVALID_ARGUMENT`` naming the rule."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise grpc(
            "INVALID_ARGUMENT",
            f"invalid {what} {value!r}: an id is 1-63 characters of lowercase letters, "
            "digits and '-', starting with a letter and not ending with '-'",
        )
    return value


# ------------------------------------------------------------------- names
class _Named:
    """A naming that hands out ``name`` for the next id of ``prefix``, then defers."""

    def __init__(self, inner: Naming, prefix: str, name: str) -> None:
        self._inner, self._prefix, self._name = inner, prefix, name
        self.used = False

    def new_id(self, rng: random.Random, prefix: str, length: int) -> str:
        if prefix == self._prefix and not self.used:
            self.used = True
            return self._name
        return self._inner.new_id(rng, prefix, length)

    def fine_tuned_model(
        self, rng: random.Random, *, base: str, org_name: str, suffix: str | None, job_id: str
    ) -> str:
        return self._inner.fine_tuned_model(
            rng, base=base, org_name=org_name, suffix=suffix, job_id=job_id
        )


@contextlib.contextmanager
def named(core: Core, prefix: str, name: str) -> Iterator[None]:
    """Make the store call inside mint ``name`` as its ``prefix`` id (``"ftjob-"``, ``"file-"``).

    The caller holds ``core.lock`` (every handler does), so no other call sees the swap.
    """
    inner = core.naming
    core.naming = _Named(inner, prefix, name)
    try:
        yield
    finally:
        core.naming = inner


# ------------------------------------------------------------------- times
def rfc3339(seconds: float) -> str:
    """Unix seconds as Fireworks writes times: RFC 3339 in UTC with milliseconds."""
    moment = datetime.fromtimestamp(seconds, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ------------------------------------------------------------------ states
def creating_seconds(core: Core) -> float:
    """How long a new job reads ``CREATING`` before ``VALIDATING`` (within validation);
    kept on the job when it is created, so its view needs no more than the record."""
    return min(_CREATING_SECONDS, core.timings.validating_files / 2)


def _creating(job: JobRecord) -> float:
    return float(job.options["fireworks"]["creating_seconds"])


def completed_at(job: JobRecord) -> float | None:
    """When a trained job is ``COMPLETED`` (its results written), else None."""
    if job.status != "succeeded":
        return None
    return job.phase_started + WRITING_RESULTS_SECONDS


def job_state(job: JobRecord) -> str:
    """A job's ``JOB_STATE_*``, read from the shared record and the clock."""
    now = job.now()
    status = job.status
    if status == "validating_files":
        started = job.phase_started
        return "JOB_STATE_CREATING" if now < started + _creating(job) else "JOB_STATE_VALIDATING"
    if status == "succeeded":
        done = completed_at(job)
        assert done is not None
        return "JOB_STATE_WRITING_RESULTS" if now < done else "JOB_STATE_COMPLETED"
    if status == "cancelled":
        if now < job.phase_started + CANCELLING_SECONDS:
            return "JOB_STATE_CANCELLING"
        return "JOB_STATE_CANCELLED"
    return {
        "queued": "JOB_STATE_PENDING",
        "running": "JOB_STATE_RUNNING",
        "failed": "JOB_STATE_FAILED",
        "paused": "JOB_STATE_PAUSED",
        "pausing": "JOB_STATE_RUNNING",
    }.get(status, "JOB_STATE_UNSPECIFIED")


_ERROR_CODES = {
    "internal_error": "INTERNAL",
    "invalid_training_file": "INVALID_ARGUMENT",
    "invalid_validation_file": "INVALID_ARGUMENT",
}


def status_of(job: JobRecord) -> dict[str, Any]:
    """``Status`` of a job: ``OK``, or the failure's grpc code and message."""
    state = job_state(job)
    if state == "JOB_STATE_FAILED" and job.error is not None:
        raw = str(job.error.get("code") or "")
        code = raw if raw in GRPC_CODES else _ERROR_CODES.get(raw, "UNKNOWN")
        return {"code": code, "message": str(job.error.get("message") or "")}
    if state in ("JOB_STATE_CANCELLING", "JOB_STATE_CANCELLED"):
        return {"code": "CANCELLED", "message": "The job was cancelled."}
    return {"code": "OK"}


# ------------------------------------------------------------------- pages
def _page_size(call_query: httpx2.QueryParams) -> int:
    raw = call_query.get("pageSize")
    if raw is None:
        return 50
    try:
        size = int(raw)
    except ValueError:
        raise grpc("INVALID_ARGUMENT", f"invalid pageSize {raw!r}: expected an integer") from None
    if size < 0:
        raise grpc("INVALID_ARGUMENT", "pageSize must not be negative")
    return min(size or 50, 200)


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode("ascii")).decode("ascii")
        kind, _, number = text.partition(":")
        if kind != "offset":
            raise ValueError(text)
        return int(number)
    except ValueError:
        raise grpc("INVALID_ARGUMENT", f"invalid pageToken {token!r}") from None


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode("ascii")).decode("ascii")


_FILTER = re.compile(r'\s*(\w+)\s*=\s*"?([^"\s]*)"?\s*')


def _matches(item: dict[str, Any], expression: str) -> bool:
    """A small AIP-160 subset: ``field="value"`` terms joined by ``AND``."""
    for term in re.split(r"\s+AND\s+", expression.strip()):
        found = _FILTER.fullmatch(term)
        if not found:
            raise grpc(
                "INVALID_ARGUMENT",
                f'unsupported filter {expression!r}: the fake takes field="value" terms '
                "joined by AND",
            )
        field, value = found.groups()
        if str(item.get(field, "")) != value:
            return False
    return True


def _ordered(items: list[dict[str, Any]], order_by: str | None) -> list[dict[str, Any]]:
    keys = [part.strip() for part in (order_by or "name").split(",") if part.strip()]
    ordered = list(items)
    for key in reversed(keys):
        field, _, direction = key.partition(" ")
        field = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), field.strip())
        if direction.strip() not in ("", "asc", "desc"):
            raise grpc("INVALID_ARGUMENT", f"invalid orderBy {order_by!r}")
        if items and field not in items[0] and field != "name":
            raise grpc("INVALID_ARGUMENT", f"invalid orderBy {order_by!r}: no field {field!r}")
        ordered.sort(key=lambda item: str(item.get(field, "")), reverse=direction == "desc")
    return ordered


def page_of(query: httpx2.QueryParams, key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """One page of a list answer: ``{key: [...], "nextPageToken"?, "totalSize"}``."""
    expression = query.get("filter")
    if expression:
        items = [item for item in items if _matches(item, expression)]
    items = _ordered(items, query.get("orderBy"))
    size, start = _page_size(query), _offset(query.get("pageToken"))
    shown = items[start : start + size]
    body: dict[str, Any] = {key: shown, "totalSize": len(items)}
    if start + size < len(items):
        body["nextPageToken"] = _token(start + size)
    return body


# -------------------------------------------------------------------- jobs
STORAGE_PATH = "/fireworks-storage/"
"""Where the fake's signed URLs (uploads, metrics files) point, on the host that signed them."""


def metrics_url(job: JobRecord) -> str:
    """The signed URL of a job's metrics file on the fake's storage."""
    facts = job.options["fireworks"]
    _, account, collection, job_id = job.id.split("/")
    return (
        f"{facts['origin']}{STORAGE_PATH}{account}/{collection}/{job_id}/metrics.jsonl"
        f"?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Signature={facts['metrics_token']}"
    )


def metrics_rows(job: JobRecord) -> list[dict[str, Any]]:
    """The metrics file's rows: one per training step so far (the format is the fake's own:
    Fireworks documents none)."""
    per_epoch = job.steps_per_epoch or 1
    facts = job.options["fireworks"]
    config = facts["request"].get("trainingConfig", facts["request"])
    rows: list[dict[str, Any]] = []
    for row in job.metrics:
        step = int(row["step"])
        shown: dict[str, Any] = {
            "step": step,
            "epoch": round(step / per_epoch, 4),
            "train_loss": float(row["train_loss"]),
            "learning_rate": float(config.get("learningRate") or 0.0),
        }
        if "valid_loss" in row:
            shown["eval_loss"] = float(row["valid_loss"])
        rows.append(shown)
    return rows


def _progress(job: JobRecord, state: str) -> dict[str, Any] | None:
    """``jobProgress`` from ``RUNNING`` on: percent, the epoch being trained, tokens so far."""
    if job.total_steps <= 0 or state in (
        "JOB_STATE_CREATING",
        "JOB_STATE_VALIDATING",
        "JOB_STATE_PENDING",
    ):
        return None
    done = job.total_steps if job.status == "succeeded" else job.steps_emitted
    per_epoch = job.steps_per_epoch or 1
    epochs = max(1, job.total_steps // per_epoch)
    tokens = job.report.tokens if job.report is not None else 0
    return {
        "percent": 100 * done // job.total_steps,
        "epoch": min(done // per_epoch, epochs - 1),
        "inputTokens": tokens * done // per_epoch,
    }


def _finished_at(job: JobRecord, state: str) -> float | None:
    if state == "JOB_STATE_COMPLETED":
        return completed_at(job)
    if state in ("JOB_STATE_FAILED", "JOB_STATE_CANCELLED"):
        return float(job.finished_at) if job.finished_at is not None else None
    return None


def _updated_at(job: JobRecord, state: str) -> float:
    """When the job last changed state (or progressed), as the clock has it now."""
    at = float(job.events[-1]["created_at"]) if job.events else float(job.created_at)
    if state == "JOB_STATE_VALIDATING":
        at = max(at, job.phase_started + _creating(job))
    elif state in ("JOB_STATE_COMPLETED", "JOB_STATE_CANCELLED"):
        done = completed_at(job) if state == "JOB_STATE_COMPLETED" else None
        at = max(at, done if done is not None else job.phase_started + CANCELLING_SECONDS)
    return at


def job_object(job: JobRecord) -> dict[str, Any]:
    """``SupervisedFineTuningJob`` or ``DpoJob``: a job as Fireworks shows it now.

    The request's fields are echoed (``wandbConfig`` without its ``apiKey``); the SFT
    job's ``outputModel`` and the DPO job's ``trainingConfig.outputModel`` are the
    model's full name. A field with no value is absent.
    """
    facts = job.options["fireworks"]
    state = job_state(job)
    body: dict[str, Any] = {**facts["request"]}
    body.update(
        name=job.id,
        createTime=rfc3339(job.created_at),
        state=state,
        status=status_of(job),
    )
    finished = _finished_at(job, state)
    if finished is not None:
        body["completedTime"] = rfc3339(finished)
    if facts["kind"] == "sft":  # DpoJob has no updateTime, jobProgress or estimatedCost
        body["updateTime"] = rfc3339(_updated_at(job, state))
        body["outputModel"] = facts["output_model"]
        body["estimatedCost"] = dict(facts["estimated_cost"])
        progress = _progress(job, state)
        if progress is not None:
            body["jobProgress"] = progress
            body["metricsFileSignedUrl"] = metrics_url(job)
    return {key: value for key, value in body.items() if value is not None}

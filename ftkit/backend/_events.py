"""A job's events in ftkit's terms: messages and training metrics.

Adapters build them with :func:`job_event` from the fields every provider's
event has; unknown ``type`` values pass through as a plain :class:`JobEvent`,
and a value of the wrong type becomes ``None`` rather than an error. An API that
lists no events (Fireworks) has its job's state and progress told as events
instead (:func:`status_event`).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._plain import attributes

if TYPE_CHECKING:
    from ._resources import Job

__all__ = [
    "JobEvent",
    "MessageEvent",
    "MetricsEvent",
    "job_event",
    "status_event",
    "unix_seconds",
]


@dataclass(frozen=True, kw_only=True)
class JobEvent:
    """One job event, as delivered to callbacks (unknown ``type`` values pass through).

    Attributes:
        id: the event id (``ftevent-...``), unique per job.
        created_at: Unix seconds.
        level: ``info``, ``warn`` or ``error`` (not validated).
        message: the human-readable text.
        type: ``message``, ``metrics`` or anything newer; ``None`` when absent.
        data: the raw ``data`` payload, if any.
    """

    id: str
    created_at: int = 0
    level: str = "info"
    message: str = ""
    type: str | None = None
    data: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready row a run manifest and ``ftkit events --json`` keep."""
        return {
            **attributes(self, "id", "created_at", "level", "type", "message"),
            "data": dict(self.data) if self.data is not None else None,
        }


@dataclass(frozen=True, kw_only=True)
class MessageEvent(JobEvent):
    """A plain message event (``type == "message"``)."""


_METRIC_FIELDS = (
    "train_loss",
    "train_mean_token_accuracy",
    "valid_loss",
    "valid_mean_token_accuracy",
    "full_valid_loss",
    "full_valid_mean_token_accuracy",
)


@dataclass(frozen=True, kw_only=True)
class MetricsEvent(JobEvent):
    """A training-metrics event: step counters and losses/accuracies when reported.

    Fields the provider did not send are ``None``; every numeric value of
    ``data`` (DPO and RFT add their own) is in :attr:`metrics`.
    """

    step: int | None = None
    total_steps: int | None = None
    train_loss: float | None = None
    train_mean_token_accuracy: float | None = None
    valid_loss: float | None = None
    valid_mean_token_accuracy: float | None = None
    full_valid_loss: float | None = None
    full_valid_mean_token_accuracy: float | None = None

    @property
    def metrics(self) -> dict[str, float]:
        """Every numeric value in ``data`` except the step counters."""
        return {
            k: float(v)
            for k, v in (self.data or {}).items()
            if isinstance(v, (int, float))
            and not isinstance(v, bool)
            and k not in ("step", "total_steps")
        }


def as_int(value: Any) -> int | None:
    """``value`` as a whole number, or ``None`` (booleans and fractions are not)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def unix_seconds(value: Any) -> int | None:
    """Unix seconds of an SDK timestamp: a datetime (a naive one is UTC), an ISO string, or
    seconds; ``None`` for anything else."""
    if isinstance(value, _dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)
        return int(moment.timestamp())
    if isinstance(value, str) and value:
        try:
            parsed = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return unix_seconds(parsed)
    return as_int(value)


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def job_event(
    *,
    id: str,
    created_at: int,
    level: str,
    message: str,
    type: str | None,
    data: Mapping[str, Any] | None,
) -> JobEvent:
    """The typed event for these fields.

    Returns:
        A :class:`MetricsEvent` for ``type == "metrics"`` (or an untyped event
        whose data has a ``step``), a :class:`MessageEvent` for ``"message"``,
        else a plain :class:`JobEvent`.
    """
    common: dict[str, Any] = {
        "id": id,
        "created_at": created_at,
        "level": level,
        "message": message,
        "type": type,
        "data": dict(data) if data is not None else None,
    }
    if type == "metrics" or (type is None and data is not None and "step" in data):
        values = data or {}
        metrics: dict[str, Any] = {name: _as_float(values.get(name)) for name in _METRIC_FIELDS}
        return MetricsEvent(
            **common,
            step=as_int(values.get("step")),
            total_steps=as_int(values.get("total_steps")),
            **metrics,
        )
    if type == "message":
        return MessageEvent(**common)
    return JobEvent(**common)


def status_event(job: Job) -> JobEvent:
    """The event that tells ``job``'s state and progress, for an API that lists no events.

    Its id is a digest of the provider's status word and the progress, so looking at
    the same job twice tells nothing new and each change is told once (a resumed run
    goes on after the last one told). It is dated when the job last changed, where the
    provider says (``Job.updated_at``), else at its end or creation.
    """
    percent = f" ({job.progress:.0f}%)" if job.progress is not None else ""
    state = job.raw_status.removeprefix("JOB_STATE_").lower().replace("_", " ")
    message = f"{state}{percent}"
    if job.error is not None and job.error.message:
        message += f": {job.error.message}"
    digest = hashlib.sha256(f"{job.raw_status}\x1f{job.progress}".encode()).hexdigest()
    return job_event(
        id=f"ev-{digest[:20]}",
        created_at=job.updated_at or job.finished_at or job.created_at or 0,
        level="error" if job.status == "failed" else "info",
        message=message,
        type="status",
        data={"progress": job.progress} if job.progress is not None else None,
    )

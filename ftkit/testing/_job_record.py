"""One fine-tuning job as the fake keeps it: the checked request, its progress, its history.

Shared by the job operations (``_jobs``) and the clock-driven progression
(``_training``), which both change a job and log its events.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..providers import ModelInfo
from ._core import Core
from ._jobspec import JobSpec
from ._serverside import FileReport

__all__ = ["TERMINAL", "JobRecord", "add_event"]

TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
_NULL_ERROR: dict[str, Any] = {"code": None, "message": None, "param": None}


@dataclass
class JobRecord:
    """A job: what was asked (``request``), what was decided, and how far it got.

    ``hyperparameters`` starts as the request's and has its ``"auto"`` values
    resolved when the training file is validated. ``options`` holds what a
    provider's dialect read from the request beyond OpenAI's fields (Azure's
    training type in ftkit's words; Together's whole request).
    """

    id: str
    created_at: int
    model: str
    base: ModelInfo
    request: JobSpec
    seed: int
    organization_id: str
    fine_tuned_name: str
    hyperparameters: dict[str, Any]
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
    options: dict[str, Any] = field(default_factory=dict)
    now: Callable[[], float] = field(default=lambda: float("inf"), repr=False, compare=False)
    """The fake's clock, for a provider's view that shows phases by time (Together's
    ``compressing`` and ``uploading`` after training), as :attr:`FileRecord.now` is."""

    def close(self, status: str, at: float) -> None:
        """End the job in a terminal ``status`` at virtual time ``at``."""
        self.status, self.phase_started = status, at
        self.finished_at = int(at)
        self.script = None

    def to_api(self) -> dict[str, Any]:
        request = self.request
        hyper = dict(self.hyperparameters)
        method: dict[str, Any] = {
            "type": request.method,
            request.method: {**request.extra_method, "hyperparameters": hyper},
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
            "hyperparameters": hyper if request.method == "supervised" else None,
            "result_files": list(self.result_files),
            "seed": self.seed,
            "trained_tokens": self.trained_tokens,
            "training_file": request.training_file,
            "validation_file": request.validation_file,
            "estimated_finish": self._estimated_finish(),
            "integrations": request.integrations,
            "metadata": request.metadata,
            "method": method,
            "user_provided_suffix": request.suffix,
        }

    def _estimated_finish(self) -> int | None:
        if self.status != "running" or self.script is not None:
            return None
        return int(self.phase_started + (self.run_total - self.run_done))


def add_event(
    core: Core,
    job: JobRecord,
    at: int,
    message: str,
    *,
    level: str = "info",
    data: dict[str, Any] | None = None,
    type: str = "message",
) -> None:
    """Append one ``fine_tuning.job.event`` to a job's history."""
    job.events.append(
        {
            "object": "fine_tuning.job.event",
            "id": core.new_id("ftevent-"),
            "created_at": at,
            "level": level,
            "message": message,
            "data": data if data is not None else {},
            "type": type,
        }
    )

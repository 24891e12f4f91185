"""What a run tells its observers: one small event type, delivered in order.

Callbacks given to ``FineTune.on_event`` receive every :class:`RunEvent`; the
same events go to the ``ftkit.pipeline`` logger at INFO. Job events from the
provider (messages and training metrics) arrive as ``type="job_event"`` with
the typed event attached, deduplicated and oldest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..backend import JobEvent

__all__ = ["EventType", "RunEvent"]

EventType = Literal[
    "stage_started",
    "file_ready",
    "price_quoted",
    "job_created",
    "status",
    "job_event",
    "stage_succeeded",
    "stage_failed",
    "run_succeeded",
]


@dataclass(frozen=True)
class RunEvent:
    """One thing that happened in a run.

    Attributes:
        type: what happened (see :data:`EventType`).
        run_id: the run.
        stage: ``"sft"`` or ``"dpo"``, or ``None`` for run-level events.
        message: one human sentence, as logged.
        job_id: the stage's job, once created.
        status: the job status, for ``status`` and terminal events.
        file_id: the uploaded (or reused) file, for ``file_ready``.
        job_event: the provider's event (message or metrics), for ``job_event``.
        estimated_finish: the provider's estimate (Unix seconds) of when the job
            ends, for ``status`` events of a running job, when it gives one.
    """

    type: EventType
    run_id: str
    stage: str | None
    message: str
    job_id: str | None = None
    status: str | None = None
    file_id: str | None = None
    job_event: JobEvent | None = None
    estimated_finish: int | None = None

"""From JSONL files to a fine-tuned model: upload → SFT → optional DPO → poll, exactly once.

- :class:`FineTune` / :class:`AsyncFineTune`: immutable builders; ``plan()``,
  ``start()``, ``run()``.
- :class:`Run` / :class:`AsyncRun`: handles that wait, report status, cancel
  and resume from the run manifest.
- :class:`RunResult`, :class:`StageResult`, :class:`RunStatus`, :class:`RunEvent`,
  :class:`Plan` (with a :class:`StagePlan` per stage).

The run manifest is the pipeline's own file (read it through ``Run.status()``
and ``ftkit status --json``), so its classes stay internal.
"""

from __future__ import annotations

from .._public import publish
from ._builder import AsyncFineTune, FineTune
from ._events import RunEvent
from ._plan import Plan, StagePlan
from ._result import RunResult, StageResult
from ._run import AsyncRun, Run, RunStatus

__all__ = [
    "AsyncFineTune",
    "AsyncRun",
    "FineTune",
    "Plan",
    "Run",
    "RunEvent",
    "RunResult",
    "RunStatus",
    "StagePlan",
    "StageResult",
]

publish(__name__, globals(), __all__)

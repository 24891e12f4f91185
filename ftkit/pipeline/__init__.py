"""From JSONL files to a fine-tuned model: upload → SFT → optional DPO → poll, exactly once.

- :class:`FineTune` / :class:`AsyncFineTune`: immutable builders; ``plan()``,
  ``start()``, ``run()``.
- :class:`Run` / :class:`AsyncRun`: handles that wait, report status, cancel
  and resume from the run manifest.
- :class:`RunResult`, :class:`StageResult`, :class:`RunEvent`, :class:`Plan`.
"""

from __future__ import annotations

from ._builder import AsyncFineTune, FineTune
from ._core import parse_metrics
from ._events import RunEvent
from ._manifest import Manifest, default_state_dir
from ._plan import Plan, StagePlan
from ._result import RunResult, StageResult
from ._run import AsyncRun, Run, RunStatus

__all__ = [
    "AsyncFineTune",
    "AsyncRun",
    "FineTune",
    "Manifest",
    "Plan",
    "Run",
    "RunEvent",
    "RunResult",
    "RunStatus",
    "StagePlan",
    "StageResult",
    "default_state_dir",
    "parse_metrics",
]

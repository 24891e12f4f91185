"""From JSONL files to a fine-tuned model: upload → SFT → optional DPO → poll, exactly once.

- :class:`FineTune` / :class:`AsyncFineTune`: immutable builders; ``plan()``,
  ``start()``, ``run()``.
- :class:`Run` / :class:`AsyncRun`: handles that wait, report status, cancel
  and resume from the run manifest.
- :class:`RunResult`, :class:`StageResult`, :class:`RunStatus`, :class:`RunEvent`,
  :class:`Plan` (with a :class:`StagePlan` per stage).
- :func:`deploy_model` / :func:`adeploy_model`: an Azure fine-tune deployed on the
  management plane (ARM) and waited for, as :class:`Deployment` (also
  ``RunResult.deploy()``); a Fireworks fine-tune's dedicated deployment is a
  :class:`FireworksDeployment` (``RunResult.deploy(client=...)``).

The run manifest is the pipeline's own file (read it through ``Run.status()``
and ``ftkit status --json``), so its classes stay internal.
"""

from __future__ import annotations

from .._public import publish
from ._builder import AsyncFineTune, FineTune
from ._deploy import Deployment, adeploy_model, deploy_model
from ._events import RunEvent
from ._fireworks_deploy import FireworksDeployment
from ._plan import Plan, StagePlan
from ._result import RunResult, StageResult
from ._run import AsyncRun, Run, RunStatus

__all__ = [
    "AsyncFineTune",
    "AsyncRun",
    "Deployment",
    "FineTune",
    "FireworksDeployment",
    "Plan",
    "Run",
    "RunEvent",
    "RunResult",
    "RunStatus",
    "StagePlan",
    "StageResult",
    "adeploy_model",
    "deploy_model",
]

publish(__name__, globals(), __all__)

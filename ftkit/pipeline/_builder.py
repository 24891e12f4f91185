"""``FineTune`` and ``AsyncFineTune``: immutable, fluent descriptions of a run.

Every method returns a new builder and leaves the old one as it was, so a
base configuration can be shared and specialised safely::

    base = ftkit.FineTune(client).model("gpt-4.1-mini-2025-04-14").retry(5)
    sft_only = base.sft("train.jsonl", validation="val.jsonl")
    both = sft_only.dpo("prefs.jsonl", beta=0.1)

Arguments are checked when given; ``plan()`` needs no network; ``start()``
and ``run()`` refuse before any upload when the data has errors or the
estimate is over ``max_cost_usd``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Generic, TypeVar

from .._exceptions import DatasetInvalid, RunConflict, UsageError
from ..polling import PollPolicy
from ..retry import RetryPolicy
from ._clients import provider_of
from ._config import PipelineConfig, StageConfig, check_metadata, file_digest
from ._manifest import FileState, Manifest, StageState, find_manifest, new_run_id
from ._plan import Plan, make_plan
from ._result import RunResult
from ._run import AsyncRun, EventCallback, Run, Settings

__all__ = ["AsyncFineTune", "FineTune"]

_B = TypeVar("_B", bound="_Builder[Any]")
_R = TypeVar("_R", Run, AsyncRun)


class _Builder(Generic[_R]):
    _run_type: type[_R]

    def __init__(
        self,
        client: Any = None,
        *,
        _config: PipelineConfig | None = None,
        _settings: Settings | None = None,
    ) -> None:
        self._client = client
        self._config = _config or PipelineConfig()
        self._settings = _settings or Settings()

    def _replace(self: _B, **changes: Any) -> _B:
        return type(self)(
            self._client,
            _config=dataclasses.replace(self._config, **changes),
            _settings=self._settings,
        )

    def _with_settings(self: _B, **changes: Any) -> _B:
        return type(self)(
            self._client,
            _config=self._config,
            _settings=dataclasses.replace(self._settings, **changes),
        )

    @property
    def config(self) -> PipelineConfig:
        """What this builder would train (an immutable value)."""
        return self._config

    def __repr__(self) -> str:
        stages = "+".join(s.name for s in self._config.stages) or "no stages"
        return f"{type(self).__name__}(model={self._config.model!r}, stages={stages})"

    # -- what to train --------------------------------------------------------------

    def model(self: _B, name: str) -> _B:
        """The base model: a dated snapshot (``gpt-4.1-mini-2025-04-14``) or an ``ft:`` model."""
        if not isinstance(name, str) or not name.strip():
            raise UsageError("model must be a model name such as 'gpt-4.1-mini-2025-04-14'")
        return self._replace(model=name.strip())

    def sft(
        self: _B,
        train: str | os.PathLike[str],
        *,
        validation: str | os.PathLike[str] | None = None,
        epochs: int | str = "auto",
        batch_size: int | str = "auto",
        learning_rate_multiplier: float | str = "auto",
    ) -> _B:
        """Add (or replace) the supervised stage.

        Raises:
            UsageError: a missing file, or a hyperparameter outside the API's range
                (epochs 1–50, batch_size 1–256, learning_rate_multiplier > 0).
        """
        stage = StageConfig.build(
            "supervised",
            train,
            validation=validation,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate_multiplier=learning_rate_multiplier,
        )
        return self._replace(sft=stage)

    def dpo(
        self: _B,
        train: str | os.PathLike[str],
        *,
        validation: str | os.PathLike[str] | None = None,
        beta: float | str = "auto",
        epochs: int | str = "auto",
        batch_size: int | str = "auto",
        learning_rate_multiplier: float | str = "auto",
    ) -> _B:
        """Add (or replace) the DPO stage; after an SFT stage it trains the SFT model.

        Raises:
            UsageError: a missing file, beta outside (0, 2], or another
                hyperparameter outside the API's range.
        """
        stage = StageConfig.build(
            "dpo",
            train,
            validation=validation,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate_multiplier=learning_rate_multiplier,
            beta=beta,
        )
        return self._replace(dpo=stage)

    def suffix(self: _B, suffix: str) -> _B:
        """Text in the fine-tuned model's name (1–64 characters)."""
        if not isinstance(suffix, str) or not 1 <= len(suffix) <= 64:
            raise UsageError(f"suffix must be 1 to 64 characters, got {suffix!r}")
        return self._replace(suffix=suffix)

    def seed(self: _B, seed: int) -> _B:
        """The training seed (0–2147483647) for reproducible jobs."""
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= 2147483647:
            raise UsageError(f"seed must be a whole number from 0 to 2147483647, got {seed!r}")
        return self._replace(seed=seed)

    def metadata(self: _B, metadata: Mapping[str, str]) -> _B:
        """Job metadata (at most 14 pairs; ftkit adds two of its own to find its jobs)."""
        return self._replace(metadata=check_metadata(metadata))

    # -- how to drive it --------------------------------------------------------------

    def retry(self: _B, policy: RetryPolicy | int) -> _B:
        """The per-call retry policy, or just the maximum number of attempts."""
        return self._with_settings(retry=RetryPolicy.coerce(policy))

    def poll(
        self: _B,
        policy: PollPolicy | None = None,
        *,
        interval: float | None = None,
        timeout: float | None = None,
    ) -> _B:
        """How to wait for jobs: a :class:`PollPolicy`, or its interval and timeout."""
        current = policy or self._settings.poll
        if interval is not None:
            current = current.with_interval(interval)
        if timeout is not None:
            current = current.with_timeout(timeout)
        return self._with_settings(poll=current)

    def on_event(self: _B, callback: EventCallback) -> _B:
        """Also call ``callback(event)`` for every :class:`RunEvent`, in order."""
        if not callable(callback):
            raise UsageError("on_event needs a callable taking a RunEvent")
        return self._with_settings(callbacks=(*self._settings.callbacks, callback))

    def state_dir(self: _B, path: str | os.PathLike[str]) -> _B:
        """Where run manifests are kept (default ``$FTKIT_STATE_DIR`` or ``.ftkit``)."""
        return self._with_settings(state_dir=Path(path))

    def uploads(
        self: _B,
        *,
        concurrency: int | None = None,
        part_size: int | None = None,
        files_api_limit: int | None = None,
    ) -> _B:
        """Tune large-file uploads: parallel parts, part size, and the Files API threshold."""
        current = self._settings.upload
        changes: dict[str, int] = {}
        for name, value in (
            ("concurrency", concurrency),
            ("part_size", part_size),
            ("files_api_limit", files_api_limit),
        ):
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise UsageError(f"{name} must be a positive whole number, got {value!r}")
                changes[name] = value
        return self._with_settings(upload=dataclasses.replace(current, **changes))

    # -- doing it -------------------------------------------------------------------

    def plan(self) -> Plan:
        """Validate every file and estimate every stage; no network.

        Raises:
            UsageError: the configuration is incomplete.
        """
        return make_plan(self._config)

    def _prepare(self, max_cost_usd: float | None) -> Path:
        plan = self.plan()
        if not plan.ok:
            bad = next(
                r
                for s in plan.stages
                for r in (s.train, s.validation)
                if r is not None and not r.ok
            )
            raise DatasetInvalid(
                "the data has errors; nothing was uploaded:\n" + str(bad), report=bad
            )
        if max_cost_usd is not None:
            cost = plan.cost_usd
            if cost is None:
                raise UsageError(
                    "max_cost_usd is set but the cost is unknown for this model; "
                    "pass prices or drop the cap"
                )
            if cost > max_cost_usd:
                raise UsageError(
                    f"the estimated cost ${cost:,.2f} is over max_cost_usd=${max_cost_usd:,.2f}; "
                    "raise the cap, reduce epochs or the data"
                )
        return self._create_manifest(plan)

    def _create_manifest(self, plan: Plan) -> Path:
        config = self._config
        digests: dict[str, str] = {}
        files: dict[str, FileState] = {}
        for stage in config.stages:
            for path in (stage.train, stage.validation):
                if path is None or str(path) in files:
                    continue
                sha, size = file_digest(path)
                digests[str(path)] = sha
                files[str(path)] = FileState(path=str(path.resolve()), sha256=sha, size=size)
        estimates = {s.name: s.estimate for s in plan.stages}
        stages = []
        for index, stage in enumerate(config.stages):
            estimate = estimates.get(stage.name)
            stages.append(
                StageState(
                    name=stage.name,
                    method=stage.method,
                    train=files[str(stage.train)].model_copy(),
                    validation=files[str(stage.validation)].model_copy()
                    if stage.validation
                    else None,
                    hyperparameters=stage.hyperparameters(),
                    base_model=config.model if index == 0 else None,
                    estimated_trained_tokens=estimate.billed_tokens if estimate else None,
                )
            )
        now = time.time()
        run_id = new_run_id()
        manifest = Manifest(
            run_id=run_id,
            created_at=now,
            updated_at=now,
            fingerprint=config.fingerprint(digests),
            model=str(config.model),
            suffix=config.suffix,
            seed=config.seed,
            metadata=dict(config.metadata),
            provider=provider_of(self._client),
            stages=stages,
        )
        path = self._settings.runs_dir() / f"{run_id}.json"
        manifest.save(path)
        return path

    def _check_resumable(self, run: str | os.PathLike[str]) -> Path:
        path = find_manifest(run, self._settings.state_dir)
        manifest = Manifest.load(path)
        digests = {}
        for stage in self._config.stages:
            for file in (stage.train, stage.validation):
                if file is not None:
                    digests[str(file)] = file_digest(file)[0]
        self._config.require_complete()
        if self._config.fingerprint(digests) != manifest.fingerprint:
            raise RunConflict(
                f"run {manifest.run_id} was started with another configuration or other data; "
                "resume it with ftkit.Run.resume(run_id), or start a new run"
            )
        return path


class FineTune(_Builder[Run]):
    """Describe a fine-tuning run, then ``plan()``, ``run()`` or ``start()`` it.

    Args:
        client: an ``openai.OpenAI`` or ``openai.AzureOpenAI`` client, a
            backend, or ``None`` to build a client from the environment.
    """

    def start(self, *, max_cost_usd: float | None = None) -> Run:
        """Validate, upload and create the first job; return its :class:`Run` handle.

        Raises:
            DatasetInvalid: a file has errors (nothing uploaded).
            UsageError: incomplete configuration, or the estimate is over ``max_cost_usd``.
        """
        path = self._prepare(max_cost_usd)
        run = Run(path, self._client, self._settings)
        run._drive(stop_when_started=True)
        return run

    def run(self, *, max_cost_usd: float | None = None) -> RunResult:
        """Train every stage and wait for the end (``start().wait()``)."""
        path = self._prepare(max_cost_usd)
        return Run(path, self._client, self._settings).wait()

    def resume(self, run: str | os.PathLike[str]) -> Run:
        """A handle on an earlier run of *this* configuration (refused if it differs)."""
        return Run(self._check_resumable(run), self._client, self._settings)


class AsyncFineTune(_Builder[AsyncRun]):
    """The awaitable twin of :class:`FineTune` (for ``openai.AsyncOpenAI`` clients)."""

    async def start(self, *, max_cost_usd: float | None = None) -> AsyncRun:
        """See :meth:`FineTune.start`."""
        path = await asyncio.to_thread(self._prepare, max_cost_usd)
        run = AsyncRun(path, self._client, self._settings)
        await run._drive(stop_when_started=True)
        return run

    async def run(self, *, max_cost_usd: float | None = None) -> RunResult:
        """See :meth:`FineTune.run`."""
        path = await asyncio.to_thread(self._prepare, max_cost_usd)
        return await AsyncRun(path, self._client, self._settings).wait()

    def resume(self, run: str | os.PathLike[str]) -> AsyncRun:
        """See :meth:`FineTune.resume`."""
        return AsyncRun(self._check_resumable(run), self._client, self._settings)

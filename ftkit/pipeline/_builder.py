"""``FineTune`` and ``AsyncFineTune``: immutable, fluent descriptions of a run.

Every method returns a new builder and leaves the old one as it was, so a
base configuration can be shared and specialised safely::

    base = ftkit.FineTune(client).model("gpt-4.1-mini-2025-04-14").retry(5)
    sft_only = base.sft("train.jsonl", validation="val.jsonl")
    both = sft_only.dpo("prefs.jsonl", beta=0.1)

Arguments are checked when given; ``plan()`` needs no network; ``start()``
and ``run()`` refuse before any upload when the data has errors or the
estimate is over ``max_cost_usd``. They start from the last ``plan()`` of the
same configuration while it still holds (:func:`~._plan.plan_holds`: same files
by size, mtime and SHA-256, same day and catalog entry), so ``plan()`` then
``run()`` validates each file once.

``sft()``/``dpo()`` take a JSONL path, a :class:`~ftkit.Dataset`, or any
iterable of records or dicts. In-memory data is read once, when given, and
written to a content-addressed file (:func:`data_file`), so a builder only
ever holds paths: it stays an immutable value, a one-shot generator is never
read twice, and uploads (found again by content hash) and resumes work as
they do for files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Generic, TypeVar

from .._exceptions import DatasetInvalid, RunConflict, UsageError
from .._virtual_time import client_clock, client_today
from ..backend import _program as steps
from ..backend._clients import env_client, provider_of, traits_of_any
from ..backend._program import Program
from ..jsonl import atomic_write
from ..polling import PollPolicy
from ..retry import RetryPolicy
from ._clients import resolve_backend
from ._config import (
    PipelineConfig,
    StageConfig,
    check_metadata,
    file_digest,
)
from ._fit import check_fits
from ._manifest import (
    FileState,
    Manifest,
    StageState,
    discard_if_unstarted,
    find_manifest,
    new_run_id,
)
from ._plan import Plan, make_plan, plan_holds
from ._result import RunResult
from ._run import AsyncRun, EventCallback, Run, Settings

__all__ = ["AsyncFineTune", "FineTune"]

_B = TypeVar("_B", bound="_Builder[Any]")
_R = TypeVar("_R", Run, AsyncRun)

#: What ``sft()``/``dpo()`` accept as training or validation data.
DataArg = str | os.PathLike[str] | Iterable[Any]

_KIND_OF_METHOD = {"supervised": "sft", "dpo": "dpo"}


def data_dir() -> Path:
    """Where in-memory training data is written.

    ``$FTKIT_DATA_DIR`` if set, else ``ftkit-data-<uid>`` in the system's temporary
    folder (one per user: the folder is private, mode 0700).
    """
    configured = os.environ.get("FTKIT_DATA_DIR")
    if configured:
        return Path(configured)
    owner = f"-{os.getuid()}" if hasattr(os, "getuid") else ""
    return Path(tempfile.gettempdir()) / f"ftkit-data{owner}"


def data_file(role: str, data: DataArg, *, method: str) -> str | os.PathLike[str]:
    """A path for ``data``: a path as given, in-memory data as a content-addressed JSONL file.

    Records are written with ``to_json()`` and dicts as JSON, one per line in
    the given order, to ``data_dir()/<sha256 of the bytes>.jsonl`` (mode 0600,
    atomically): the same data always gives the same path, so a rebuilt
    builder has the same fingerprint and resumes its run, and the upload is
    found again by its content hash. Line ``n`` of the file is item ``n - 1``.

    Raises:
        UsageError: empty data, an item that is neither a record nor a dict, or
            records of the other method (DPO records given to ``sft()``).
    """
    from ..dataset import Dataset
    from ..schema import DPORecord, SFTRecord

    if isinstance(data, (str, os.PathLike)):
        return data
    if isinstance(data, (bytes, bytearray, Mapping)) or not isinstance(data, Iterable):
        raise UsageError(
            f"{role} data must be a .jsonl path, a ftkit.Dataset or an iterable of records "
            f"or dicts, got {type(data).__name__}"
        )
    want = _KIND_OF_METHOD[method]
    lines: list[str] = []
    for index, item in enumerate(data):  # the one pass over a possibly one-shot iterator
        if isinstance(item, (SFTRecord, DPORecord)):
            if item.kind != want:
                raise UsageError(
                    f"{role} item {index} is a {item.kind.upper()} record but this is the "
                    f"{want.upper()} stage; pass it to .{item.kind}() instead"
                )
            lines.append(item.to_json())
        elif isinstance(item, Mapping):
            try:
                lines.append(json.dumps(dict(item), ensure_ascii=False, separators=(",", ":")))
            except (TypeError, ValueError) as exc:
                raise UsageError(f"{role} item {index} is not JSON: {exc}") from None
        else:
            raise UsageError(
                f"{role} item {index} is a {type(item).__name__}, not a record or a dict"
            )
    if not lines:
        what = "dataset" if isinstance(data, Dataset) else "data"
        raise UsageError(f"the {role} {what} is empty; give it at least one example")
    payload = "".join(line + "\n" for line in lines)
    digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()
    target = data_dir() / f"{digest}.jsonl"
    if not _holds(target, payload):
        directory = target.parent
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with atomic_write(target, mode=0o600) as handle:
            handle.write(payload)
    return target


def _holds(path: Path, payload: str) -> bool:
    try:
        return path.read_text(encoding="utf-8") == payload
    except (OSError, UnicodeDecodeError):
        return False


def _checked_urls(urls: Mapping[str | os.PathLike[str], str]) -> dict[str, str]:
    """``content_urls`` keyed by resolved path, each an ``https://`` URL (never echoed back)."""
    if not isinstance(urls, Mapping):
        raise UsageError("content_urls must map local file paths to URLs")
    checked: dict[str, str] = {}
    for path, url in urls.items():
        if not isinstance(url, str) or not url.startswith("https://"):
            # Not quoted: a SAS URL is a credential.
            raise UsageError(f"the content URL for {Path(path).name} must be an https:// URL")
        checked[str(Path(path).resolve())] = url
    return checked


def _client_for(client: Any, provider: str, *, asynchronous: bool) -> Any:
    """``client``, checked to be ``provider``'s; or, for ``None``, built from its environment."""
    if client is None:
        return env_client(asynchronous, provider)
    actual = provider_of(client)
    if actual != provider:
        raise UsageError(f"provider={provider!r} but the client is for {actual}")
    return client


class _LastPlan:
    """The last plan made for one configuration, kept for its ``run()``/``start()``.

    Shared by the builders that differ only in how the run is driven (retries,
    polling, callbacks, state folder, uploads: :meth:`_Builder._with_settings`),
    which plan alike: ``ft.plan()`` then ``ft.on_event(cb).run()`` validates once.
    A builder with another configuration gets its own. Only a cache: the plan is
    used only while :func:`plan_holds` says it stands for the run, so a builder
    still behaves as an immutable value.
    """

    __slots__ = ("plan",)

    def __init__(self) -> None:
        self.plan: Plan | None = None


class _Builder(Generic[_R]):
    _run_type: type[_R]

    def __init__(
        self,
        client: Any = None,
        *,
        provider: str | None = None,
        _config: PipelineConfig | None = None,
        _settings: Settings | None = None,
        _last: _LastPlan | None = None,
    ) -> None:
        if provider is not None:
            client = _client_for(client, provider, asynchronous=self._run_type._asynchronous)
        self._client = client
        self._config = _config or PipelineConfig()
        self._settings = _settings or Settings()
        self._last = _last or _LastPlan()

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
            _last=self._last,
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
        train: DataArg,
        *,
        validation: DataArg | None = None,
        epochs: int | str = "auto",
        batch_size: int | str = "auto",
        learning_rate_multiplier: float | str = "auto",
    ) -> _B:
        """Add (or replace) the supervised stage.

        Args:
            train: a JSONL path, a :class:`~ftkit.Dataset`, or an iterable of
                :class:`~ftkit.SFTRecord` / dicts (read once, now; see :func:`data_file`).
            validation: held-out examples, in any of the same forms.

        Raises:
            UsageError: a missing file, empty data, or a hyperparameter outside the
                API's range (epochs 1–50, batch_size 1–256, learning_rate_multiplier > 0).
        """
        stage = StageConfig.build(
            "supervised",
            data_file("training", train, method="supervised"),
            validation=_optional_data(validation, "supervised"),
            epochs=epochs,
            batch_size=batch_size,
            learning_rate_multiplier=learning_rate_multiplier,
        )
        return self._replace(sft=stage)

    def dpo(
        self: _B,
        train: DataArg,
        *,
        validation: DataArg | None = None,
        beta: float | str = "auto",
        epochs: int | str = "auto",
        batch_size: int | str = "auto",
        learning_rate_multiplier: float | str = "auto",
    ) -> _B:
        """Add (or replace) the DPO stage; after an SFT stage it trains the SFT model.

        Args:
            train: a JSONL path, a :class:`~ftkit.Dataset`, or an iterable of
                :class:`~ftkit.DPORecord` / dicts (read once, now; see :func:`data_file`).
            validation: held-out pairs, in any of the same forms.

        Raises:
            UsageError: a missing file, empty data, beta outside (0, 2], or another
                hyperparameter outside the API's range.
        """
        stage = StageConfig.build(
            "dpo",
            data_file("training", train, method="dpo"),
            validation=_optional_data(validation, "dpo"),
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

    def training_type(self: _B, training_type: str) -> _B:
        """Azure OpenAI's training type: ``"standard"``, ``"globalstandard"`` or ``"developer"``.

        Standard trains in the resource's region (Azure's default); Global Standard
        costs less and may process the data in another region; Developer costs least,
        may be preempted and resumed, and has no data-residency guarantee. Open-source
        base models train only on ``"globalstandard"``: ftkit does not choose it for
        you, since it decides where the data is processed. Microsoft's spellings
        (``"globalStandard"``, ``"developerTier"``) are accepted.

        Raises:
            UsageError: another value (``run()`` also refuses one for a non-Azure client).
        """
        from ..providers import canonical_training_type

        return self._replace(training_type=canonical_training_type(training_type))

    def options(self: _B, **options: Any) -> _B:
        """Provider-specific job settings, in the provider's own words.

        On Together AI: ``learning_rate`` (absolute, 1e-5 by default), ``lora``
        (``False`` trains fully), ``lora_r``, ``lora_alpha``, ``lora_dropout``,
        ``lora_trainable_modules``, ``n_evals``, ``n_checkpoints``,
        ``train_on_inputs`` (SFT), ``rpo_alpha``, ``simpo_gamma`` and
        ``dpo_normalize_logratios_by_length`` (DPO), scheduler, warm-up, packing,
        early stopping and ``wandb_*`` settings. A run's options serve both its
        stages; an SFT-only or DPO-only one is sent only to its stage. ``run()``
        refuses options on a provider whose jobs take none.

        Raises:
            UsageError: a value that is not JSON (a number, a string, a bool, None).
        """
        for name, value in options.items():
            if value is not None and not isinstance(value, (bool, int, float, str)):
                raise UsageError(f"option {name} must be a number, a string or a bool")
        merged = {**self._config.options, **options}
        return self._replace(options={k: v for k, v in merged.items() if v is not None})

    # -- how to drive it --------------------------------------------------------------

    def retry(self: _B, policy: RetryPolicy | int) -> _B:
        """The per-call retry policy, or just the maximum number of attempts."""
        return self._with_settings(retry=RetryPolicy.coerce(policy))

    def poll(
        self: _B,
        policy: PollPolicy | None = None,
        *,
        initial_delay: float | None = None,
        deadline: float | None = None,
    ) -> _B:
        """How to wait for jobs: a :class:`PollPolicy`, or its first delay and deadline."""
        current = policy or self._settings.poll
        if initial_delay is not None:
            current = current.with_backoff(initial_delay=initial_delay)
        if deadline is not None:
            current = current.with_deadline(deadline)
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
        content_urls: Mapping[str | os.PathLike[str], str] | None = None,
    ) -> _B:
        """Tune how files are sent: parallel parts, part size, the Files API threshold.

        Args:
            concurrency: parts in flight at once.
            part_size: bytes per part (at most 64 MiB).
            files_api_limit: files up to this size go through one ``files.create``
                request (default: the API's own, 512 MB on OpenAI, 100 MB on Azure).
            content_urls: local training or validation file -> a URL where the same
                bytes are (an Azure blob's SAS URL): Azure's dated API imports the file
                from there instead of an upload. The file is still validated here, and
                the imported file's size is checked against it (only its size: fine-tune
                files cannot be downloaded back to hash them). The URLs are kept in
                memory only (a SAS URL is a credential): a run resumed without them
                uploads whatever is not imported yet.

        Raises:
            UsageError: a size that is not a positive whole number, or a URL that is
                not ``https://``.
        """
        current = self._settings.upload
        changes: dict[str, Any] = {}
        for name, value in (
            ("concurrency", concurrency),
            ("part_size", part_size),
            ("files_api_limit", files_api_limit),
        ):
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise UsageError(f"{name} must be a positive whole number, got {value!r}")
                changes[name] = value
        if content_urls is not None:
            changes["content_urls"] = _checked_urls(content_urls)
        return self._with_settings(upload=dataclasses.replace(current, **changes))

    # -- doing it -------------------------------------------------------------------

    def plan(self) -> Plan:
        """Validate every file and estimate every stage; no network.

        Every call validates the files again. ``run()`` and ``start()`` then start
        from this plan, without validating again, while it still holds for them.

        Raises:
            UsageError: the configuration is incomplete.
        """
        # On a fake's client the day is the fake's (shutdown dates follow its calendar).
        plan = make_plan(
            self._config, today=client_today(self._client), provider=provider_of(self._client)
        )
        self._last.plan = plan
        return plan

    def _current_plan(self) -> Plan:
        """The last ``plan()`` of this configuration if it still holds, else a new plan.

        It holds (:func:`plan_holds`) when each file has the size, mtime and SHA-256
        it had when it was validated, and the day, the provider and the catalog's
        entry for the model (which ``run()`` may just have refreshed from Together)
        are the plan's. Hashing a file is ~40 times quicker than validating it, and
        the hash is the one the manifest records: a reused plan costs one read of
        each file and no second validation. A file changed in any way is validated
        again, and the run gets that new plan's reports and errors.
        """
        last = self._last.plan
        if last is not None and plan_holds(
            last,
            self._config,
            today=client_today(self._client),
            provider=provider_of(self._client),
        ):
            return last
        return self.plan()

    def _prepare(self, max_cost_usd: float | None) -> Path:
        plan = self._current_plan()
        plan.raise_for_refusal()  # a retired base model: TrainingUnavailable, like the API
        check_fits(self._config, traits_of_any(self._client), self._settings.upload.content_urls)
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
        quoted = traits_of_any(self._client).price_estimate
        if max_cost_usd is not None:
            cost = plan.cost_usd
            if cost is None and not quoted:
                raise UsageError(
                    "max_cost_usd is set but the cost is unknown for this model; "
                    "pass prices or drop the cap"
                )
            # Where the provider quotes its own price, the cap is checked against that
            # quote before every job (the run keeps it: a resumed run checks it too).
            if cost is not None and cost > max_cost_usd:
                raise UsageError(
                    f"the estimated cost ${cost:,.2f} is over max_cost_usd=${max_cost_usd:,.2f}; "
                    "raise the cap, reduce epochs or the data"
                )
        return self._create_manifest(plan, max_cost_usd if quoted else None)

    def resume(self, run: str | os.PathLike[str]) -> _R:
        """A handle on an earlier run of *this* configuration (refused if it differs)."""
        return self._run_type(self._check_resumable(run), self._client, self._settings)

    def _refreshing_limits(self) -> Program[None]:
        """Bring the catalog's entry for the base model up to date from the API, if it says.

        Together answers each model's fine-tuning limits (context lengths, vision,
        tools, full training...) at ``GET /v1/fine-tunes/models/limits``: the plan then
        checks the data against today's limits rather than the catalog's snapshot. A
        model Together cannot fine-tune is refused here, before anything is uploaded.
        """
        model = self._config.model
        traits = traits_of_any(self._client)
        if model is None or self._client is None or not traits.model_limits:
            return
        backend: Any = resolve_backend(self._client, asynchronous=self._run_type._asynchronous)
        if not callable(getattr(backend, "model_limits", None)):
            return  # a test double of the protocol: the catalog stands
        from ..backend._program import Retried
        from ..providers import find_model, model_limits_info, register

        limits = yield Retried(backend.model_limits(model), self._settings.retry)
        register(model_limits_info(limits, base=find_model(model, traits.provider)))

    def _starting(self, max_cost_usd: float | None) -> Program[_R]:
        """Prepare the run, then drive it until its first job exists (``start()``)."""
        yield from self._refreshing_limits()
        path: Path = yield steps.Local(self._prepare, (max_cost_usd,))
        handle = self._run_type(path, self._client, self._settings)
        with discard_if_unstarted(path):
            yield from handle._driving(stop_when_started=True)
        return handle

    def _running(self, max_cost_usd: float | None) -> Program[RunResult]:
        """Prepare the run, then drive it to its end (``run()``)."""
        yield from self._refreshing_limits()
        path: Path = yield steps.Local(self._prepare, (max_cost_usd,))
        with discard_if_unstarted(path):
            return (yield from self._run_type(path, self._client, self._settings)._waiting())

    def _create_manifest(self, plan: Plan, max_cost_usd: float | None = None) -> Path:
        config = self._config
        # The hashes of the bytes the plan validated; read here only if it has none.
        validated = plan._digests()
        digests: dict[str, str] = {}
        files: dict[str, FileState] = {}
        for stage in config.stages:
            for path in (stage.train, stage.validation):
                if path is None or str(path) in files:
                    continue
                sha, size = validated.get(str(path)) or file_digest(path)
                digests[str(path)] = sha
                files[str(path)] = FileState(path=str(path.resolve()), sha256=sha, size=size)
        estimates = {s.name: s.estimate for s in plan.stages}
        traits = traits_of_any(self._client)
        stages = []
        for index, stage in enumerate(config.stages):
            estimate = estimates.get(stage.name)
            hyperparameters = stage.hyperparameters()
            if not traits.auto_epochs and stage.epochs == "auto" and estimate:
                # The API's own "auto" is unknown: the job trains the epochs it was priced at.
                hyperparameters["n_epochs"] = estimate.epochs
            stages.append(
                StageState(
                    name=stage.name,
                    method=stage.method,
                    train=files[str(stage.train)].model_copy(),
                    validation=files[str(stage.validation)].model_copy()
                    if stage.validation
                    else None,
                    hyperparameters=hyperparameters,
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
            provider=traits.provider,
            api=traits.api,
            training_type=config.training_type,
            options=dict(config.options),
            max_cost_usd=max_cost_usd,
            stages=stages,
            virtual_time=client_clock(self._client) is not None,
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


def _optional_data(data: DataArg | None, method: str) -> str | os.PathLike[str] | None:
    return None if data is None else data_file("validation", data, method=method)


class FineTune(_Builder[Run]):
    """Describe a fine-tuning run, then ``plan()``, ``run()`` or ``start()`` it.

    Args:
        client: an ``openai.OpenAI`` client (on OpenAI, or on an Azure resource's
            ``/openai/v1/`` URL), an ``openai.AzureOpenAI`` client (Azure's dated
            API), a backend, or ``None`` to build a client from the environment
            when the run starts.
        provider: ``"openai"`` or ``"azure"``: with ``client=None`` the client is
            built now from that provider's environment (see ``docs/providers.md``);
            with a client, it must be that provider's.

    Raises:
        UsageError: an unknown provider, its environment is not set, or the client
            is another provider's.
    """

    _run_type = Run

    def start(self, *, max_cost_usd: float | None = None) -> Run:
        """Validate, upload and create the first job; return its :class:`Run` handle.

        Raises:
            DatasetInvalid: a file has errors (nothing uploaded).
            UsageError: incomplete configuration, or the estimate is over ``max_cost_usd``.
        """
        return steps.run(self._starting(max_cost_usd))

    def run(self, *, max_cost_usd: float | None = None) -> RunResult:
        """Train every stage and wait for the end (``start().wait()``)."""
        return steps.run(self._running(max_cost_usd))


class AsyncFineTune(_Builder[AsyncRun]):
    """The awaitable twin of :class:`FineTune` (for ``openai.AsyncOpenAI`` clients)."""

    _run_type = AsyncRun

    async def start(self, *, max_cost_usd: float | None = None) -> AsyncRun:
        """See :meth:`FineTune.start`."""
        return await steps.arun(self._starting(max_cost_usd))

    async def run(self, *, max_cost_usd: float | None = None) -> RunResult:
        """See :meth:`FineTune.run`."""
        return await steps.arun(self._running(max_cost_usd))

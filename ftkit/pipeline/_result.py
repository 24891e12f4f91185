"""What a finished run returns: the model, and per stage the evidence."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .._twins import parameters_of

if TYPE_CHECKING:
    import httpx

    from ..backend._arm import TokenSource
    from ..evaluation import EvalReport
    from ..polling import PollPolicy
    from ..retry import RetryPolicy
    from ._deploy import Deployment
    from ._fireworks_deploy import FireworksDeployment
    from ._manifest import Manifest

__all__ = ["RunResult", "StageResult", "stage_results"]


@dataclass(frozen=True)
class StageResult:
    """One stage's outcome.

    Attributes:
        name: ``"sft"`` or ``"dpo"``.
        method: ``"supervised"`` or ``"dpo"``.
        job_id: the provider's job id.
        status: the job's last status.
        base_model: the model the job started from.
        fine_tuned_model: the model it produced.
        estimated_trained_tokens: ftkit's estimate before the run (billed tokens × epochs).
        trained_tokens: what the provider reports it trained (and bills).
        metrics: rows of the result file (step, train_loss, valid_loss, ...).
        checkpoints: the kept checkpoints (id, step, model, metrics).
    """

    name: str
    method: str
    job_id: str | None
    status: str | None
    base_model: str | None
    fine_tuned_model: str | None
    estimated_trained_tokens: int | None = None
    trained_tokens: int | None = None
    metrics: list[dict[str, Any]] = field(default_factory=list)
    checkpoints: list[dict[str, Any]] = field(default_factory=list)

    def __repr__(self) -> str:
        # Short on purpose: a REPL shows the outcome, not the result file's rows.
        return (
            f"StageResult(name={self.name!r}, status={self.status!r}, job_id={self.job_id!r}, "
            f"fine_tuned_model={self.fine_tuned_model!r}, metrics=<{self._metrics_text()}>, "
            f"checkpoints=<{len(self.checkpoints)}>)"
        )

    def _metrics_text(self) -> str:
        """The metrics in a few words: ``90 steps, last train_loss 0.1234``."""
        if not self.metrics:
            return "no metrics"
        last_step = _last(self.metrics, "step")
        steps = int(last_step) if last_step is not None else len(self.metrics)
        text = f"{steps} step{'' if steps == 1 else 's'}"
        for key in ("train_loss", "valid_loss"):
            value = _last(self.metrics, key)
            if value is not None:
                text += f", last {key} {value:.4g}"
        return text


def stage_results(manifest: Manifest) -> list[StageResult]:
    """Each stage the manifest records, as a :class:`StageResult` (``RunResult``, ``RunStatus``)."""
    return [
        StageResult(
            name=s.name,
            method=s.method,
            job_id=s.job_id,
            status=s.status,
            base_model=s.base_model,
            fine_tuned_model=s.fine_tuned_model,
            estimated_trained_tokens=s.estimated_trained_tokens,
            trained_tokens=s.trained_tokens,
            metrics=list(s.metrics),
            checkpoints=list(s.checkpoints),
        )
        for s in manifest.stages
    ]


@dataclass(frozen=True)
class RunResult:
    """A finished run: ``fine_tuned_model`` is the last stage's model.

    Attributes:
        run_id: the run's id (``ftr-...``), to resume or inspect it.
        fine_tuned_model: the last stage's model.
        stages: each stage's :class:`StageResult`, in training order.
        manifest_path: the run's manifest file.
        client: the client the run was driven with (set by ``Run.wait()``);
            :meth:`evaluate` and :meth:`aevaluate` call the models through it.
            Never shown in ``repr`` and not part of equality.
        provider: who trained it (``"openai"``, ``"azure"``, ``"together"``,
            ``"fireworks"``): how the model is served (:attr:`serving`).
    """

    run_id: str
    fine_tuned_model: str | None
    stages: list[StageResult]
    manifest_path: Path | None = None
    client: Any = field(default=None, repr=False, compare=False)
    provider: str = "openai"

    @property
    def serving(self) -> str:
        """How the fine-tuned model is served, in a sentence (what to do to call it)."""
        if self.fine_tuned_model is None:
            return "no model yet"
        return _SERVING.get(self.provider, _SERVING["openai"])

    def __repr__(self) -> str:
        stages = "; ".join(f"{s.name} {s.status}, {s._metrics_text()}" for s in self.stages)
        return (
            f"RunResult(run_id={self.run_id!r}, fine_tuned_model={self.fine_tuned_model!r}, "
            f"stages=<{stages}>)"
        )

    def with_client(self, client: Any) -> RunResult:
        """The same result, calling models through ``client`` in :meth:`evaluate`."""
        return dataclasses.replace(self, client=client)

    def stage(self, name: str) -> StageResult:
        """The stage called ``name`` (``"sft"`` or ``"dpo"``).

        Raises:
            UsageError: the run has no such stage (the message names those it has).
        """
        for s in self.stages:
            if s.name == name:
                return s
        from .._exceptions import UsageError

        present = ", ".join(repr(s.name) for s in self.stages) or "none"
        raise UsageError(f"run {self.run_id} has no stage {name!r}; its stages: {present}")

    @classmethod
    def from_manifest(
        cls, manifest: Manifest, path: Path | None = None, *, client: Any = None
    ) -> RunResult:
        """Build the result from a manifest (the manifest is the source of truth)."""
        stages = stage_results(manifest)
        final = stages[-1].fine_tuned_model if stages else None
        return cls(
            run_id=manifest.run_id,
            fine_tuned_model=final,
            stages=stages,
            manifest_path=path,
            client=client,
            provider=manifest.provider,
        )

    def __str__(self) -> str:
        lines = [f"run {self.run_id}: {self.fine_tuned_model or 'no model'}"]
        if self.fine_tuned_model is not None and self.provider != "openai":
            lines.append(f"  served: {self.serving}")
        for s in self.stages:
            tokens = f", trained tokens {s.trained_tokens}" if s.trained_tokens else ""
            lines.append(
                f"  {s.name}: job {s.job_id} {s.status} {s.base_model} -> "
                f"{s.fine_tuned_model}{tokens}"
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from .._html import html_block, html_table

        rows = [
            (
                s.name,
                s.job_id,
                s.status,
                s.base_model,
                s.fine_tuned_model,
                s.estimated_trained_tokens,
                s.trained_tokens,
                _last(s.metrics, "train_loss"),
                _last(s.metrics, "valid_loss"),
            )
            for s in self.stages
        ]
        table = html_table(
            (
                "stage",
                "job",
                "status",
                "base model",
                "fine-tuned model",
                "estimated tokens",
                "trained tokens",
                "last train loss",
                "last valid loss",
            ),
            rows,
        )
        return html_block(f"ftkit run {self.run_id}", self.fine_tuned_model or "no model", table)

    def metrics_rows(self) -> list[dict[str, Any]]:
        """Every stage's result-file rows, each with a ``stage`` key, in stage order."""
        return [{"stage": s.name, **row} for s in self.stages for row in s.metrics]

    def to_pandas(self) -> Any:
        """The training metrics of every stage as a ``pandas.DataFrame`` (``pandas`` extra).

        One row per result-file row, with a ``stage`` column first (``sft``/``dpo``),
        then ``step`` and the provider's columns (losses, accuracies).

        Raises:
            MissingExtra: pandas is not installed.
        """
        from .._optional import require

        pd = require("pandas", extra="pandas", feature="RunResult.to_pandas()")
        rows = self.metrics_rows()
        columns: list[str] = ["stage"]
        for row in rows:
            columns += [key for key in row if key not in columns]
        if len(columns) == 1:
            columns.append("step")
        return pd.DataFrame(rows, columns=columns)

    def plot(self) -> Any:
        """Loss and accuracy per step of every stage (``ftkit.plots.plot_metrics``)."""
        from ..plots import plot_metrics

        return plot_metrics(self)

    def evaluate(self, test_source: Any, *, client: Any = None, **options: Any) -> EvalReport:
        """Compare the fine-tuned model with the base it was trained from on a test set.

        The models are labelled ``"base"`` and ``"fine-tuned"``; a run with several
        stages labels each stage's model by stage (``"base"``, ``"sft"``, ``"dpo"``),
        so every stage is compared with every earlier one.

        Args:
            test_source: held-out examples (a JSONL path, a Dataset, records).
            client: the openai client to call the models with; ``None`` uses the
                run's own client (the one ``FineTune(client)`` or ``Run.resume(...,
                client)`` drove it with), else the environment's.
            **options: passed to :func:`ftkit.evaluate` (``scorer``, ``concurrency``,
                ``max_examples``, ``retry``, ``out``, ``progress``, ``prices``...); for
                style and tone, ``scorer="pairwise"`` (a judge model's win rate of each
                stage over the earlier ones) or ``"rubric"``, with ``judge=`` and
                ``max_cost_usd=``.

        Raises:
            UsageError: the run has no fine-tuned model yet, or its client is async
                (``await result.aevaluate(...)``, or pass ``client=``).
        """
        from ..evaluation import evaluate

        models = self._models_to_compare()
        return evaluate(models, test_source, client=self._client_for(client, False), **options)

    async def aevaluate(
        self, test_source: Any, *, client: Any = None, **options: Any
    ) -> EvalReport:
        """The awaitable twin of :meth:`evaluate`, over an ``openai.AsyncOpenAI`` client.

        ``client=None`` uses the run's client when it is async (an
        :class:`~ftkit.AsyncFineTune` run), else the environment's.

        Raises:
            UsageError: as :meth:`evaluate`; or the run's client is synchronous
                (call :meth:`evaluate`, or pass an async ``client=``).
        """
        from ..evaluation import aevaluate

        models = self._models_to_compare()
        return await aevaluate(
            models, test_source, client=self._client_for(client, True), **options
        )

    def download(
        self,
        destination: str | os.PathLike[str],
        *,
        checkpoint: Literal["merged", "adapter"] = "merged",
        stage: str | None = None,
        client: Any = None,
    ) -> Path:
        """Download the trained weights (Together AI): the merged model or the LoRA adapter.

        Together serves a fine-tune on a dedicated endpoint, or hands its weights out:
        this streams them (a ``.tar.zst`` archive) to ``destination`` (a file, or a
        directory to put Together's file name in) atomically: an interrupted download
        leaves nothing behind. Failures are retried under ftkit's default policy.

        Args:
            destination: where to write the archive.
            checkpoint: ``"merged"`` (base and adapter fused) or ``"adapter"`` (LoRA only).
            stage: whose job's weights (the last stage's by default).
            client: the together client; ``None`` uses the run's.

        Returns:
            The file written.

        Raises:
            UsageError: the run's provider hands out no weights, or the stage has no job.
        """
        from ..retry import RetryPolicy

        request = self._downloading(destination, checkpoint, stage, client, asynchronous=False)
        path: Path = RetryPolicy.coerce(None).call(request.run)
        return path

    async def adownload(
        self,
        destination: str | os.PathLike[str],
        *,
        checkpoint: Literal["merged", "adapter"] = "merged",
        stage: str | None = None,
        client: Any = None,
    ) -> Path:
        """The awaitable twin of :meth:`download`, over ``together.AsyncTogether``."""
        from ..retry import RetryPolicy

        request = self._downloading(destination, checkpoint, stage, client, asynchronous=True)
        path: Path = await RetryPolicy.coerce(None).acall(request.arun)
        return path

    def _downloading(
        self,
        destination: str | os.PathLike[str],
        checkpoint: Literal["merged", "adapter"],
        stage: str | None,
        client: Any,
        *,
        asynchronous: bool,
    ) -> Any:
        from .._exceptions import UsageError
        from ..backend._clients import resolve_client
        from ..backend._together import TogetherBackend

        if checkpoint not in ("merged", "adapter"):
            raise UsageError(f"checkpoint is 'merged' or 'adapter', not {checkpoint!r}")
        chosen = (
            self.stage(stage) if stage is not None else (self.stages[-1] if self.stages else None)
        )
        if chosen is None or chosen.job_id is None:
            raise UsageError(f"run {self.run_id} has no job to download the weights of")
        given = client if client is not None else self.client
        if given is None:
            raise UsageError("pass client=together.Together() to download the weights")
        backend = resolve_client(
            given,
            adapter=_no_weights,
            protocol=type(None),
            asynchronous=asynchronous,
            twin="result.adownload" if not asynchronous else "result.download",
            sdk_adapters={"together": TogetherBackend},
        )
        # A fully trained model (``lora=False``) has no merged/adapter split.
        if self._fully_trained():
            if checkpoint == "adapter":
                raise UsageError(f"run {self.run_id} trained fully (lora=False): it has no adapter")
            return backend.download(chosen.job_id, destination, checkpoint="model_output_path")
        return backend.download(chosen.job_id, destination, checkpoint=checkpoint)

    def _fully_trained(self) -> bool:
        from ._manifest import Manifest

        if self.manifest_path is None or not Path(self.manifest_path).exists():
            return False
        return Manifest.load(Path(self.manifest_path)).options.get("lora") is False

    def deploy(
        self,
        *,
        subscription: str | None = None,
        resource_group: str | None = None,
        account: str | None = None,
        name: str | None = None,
        sku: str | None = None,
        capacity: int | None = None,
        token: TokenSource | None = None,
        retry: RetryPolicy | int | None = None,
        poll: PollPolicy | None = None,
        http_client: httpx.Client | httpx.AsyncClient | None = None,
        arm_endpoint: str | None = None,
        client: Any = None,
        min_replicas: int = 0,
        max_replicas: int = 1,
        accelerator_type: str | None = None,
    ) -> Deployment | FireworksDeployment:
        """Deploy the fine-tuned model where it was trained, and wait until it serves.

        **Azure** (ARM; ``subscription``, ``resource_group`` and ``account`` required, with
        ``name``, ``sku``, ``capacity``, ``token``, ``http_client``, ``arm_endpoint``): an
        Azure fine-tune answers only once deployed, and a deployment is billed by the hour
        while it exists (see :attr:`Deployment.hosting_note`). The default name comes from
        the model, and ARM's ``PUT`` is idempotent by name, so calling this again (after a
        crash, a timeout) adopts the same deployment. See
        :func:`ftkit.pipeline.deploy_model` for every argument.

        **Fireworks** (through ``client``, a ``fireworks.Fireworks``, or the run's; with
        ``min_replicas``, ``max_replicas``, ``accelerator_type`` and ``name``): a fine-tuned
        LoRA answers only on a dedicated deployment, billed per GPU-second while a replica
        runs (:attr:`FireworksDeployment.hosting_note`); ``min_replicas=0`` scales it to
        zero when idle. Its id comes from the model, so deploying again adopts it.

        Raises:
            UsageError: the run trained where no deployment is needed (OpenAI, Together),
                has no fine-tuned model or no manifest; an argument of the other
                provider, or a missing or malformed one.
            MissingExtra: on Azure without ``token``, azure-identity is not installed.
            DeploymentFailed: provisioning failed or was cancelled.
            WaitTimeout: ``poll``'s deadline passed; the deployment keeps provisioning.
            APIError: a call failed.
        """
        given = {k: v for k, v in locals().items() if k != "self"}
        if self._provider_of_run() == "fireworks":
            from ._fireworks_deploy import deploy_on_fireworks

            backend, model, options = self._fireworks_deploy(given, asynchronous=False)
            return deploy_on_fireworks(backend, model, **options)
        from ._deploy import deploy_model

        return deploy_model(**self._deploy_arguments(given))

    @parameters_of(deploy)
    async def adeploy(**arguments: Any) -> Deployment | FireworksDeployment:
        """The awaitable twin of :meth:`deploy` (over an ``httpx.AsyncClient`` on Azure, a
        ``fireworks.AsyncFireworks`` on Fireworks)."""
        result: RunResult = arguments.pop("self")
        if result._provider_of_run() == "fireworks":
            from ._fireworks_deploy import adeploy_on_fireworks

            backend, model, options = result._fireworks_deploy(arguments, asynchronous=True)
            return await adeploy_on_fireworks(backend, model, **options)
        from ._deploy import adeploy_model

        return await adeploy_model(**result._deploy_arguments(arguments))

    def _provider_of_run(self) -> str:
        """The provider the run trained on, as its manifest says."""
        from .._exceptions import UsageError
        from ._manifest import Manifest

        if self.manifest_path is None:
            raise UsageError(
                f"run {self.run_id} has no manifest to read its provider from; deploy the "
                "model with ftkit.pipeline.deploy_model(model, ...)"
            )
        return Manifest.load(self.manifest_path).provider

    def _fireworks_deploy(
        self, given: dict[str, Any], *, asynchronous: bool
    ) -> tuple[Any, str, dict[str, Any]]:
        """The backend, model and options of a Fireworks deployment, checked."""
        from .._exceptions import UsageError
        from ..backend._clients import resolve_client
        from ..backend._fireworks import FireworksBackend

        azure_only = ("subscription", "resource_group", "account", "sku", "capacity", "token")
        wrong = [k for k in (*azure_only, "http_client", "arm_endpoint") if given.get(k)]
        if wrong:
            raise UsageError(
                f"{wrong} are Azure deployment settings; run {self.run_id} trained on Fireworks"
            )
        if not self.fine_tuned_model:
            raise UsageError(f"run {self.run_id} has no fine-tuned model to deploy yet")
        chosen = given.get("client") or self.client
        if chosen is None:
            raise UsageError("pass client=fireworks.Fireworks(...) to deploy the model")
        backend = resolve_client(
            chosen,
            adapter=_no_deployments,
            protocol=type(None),
            asynchronous=asynchronous,
            twin="result.adeploy" if not asynchronous else "result.deploy",
            sdk_adapters={"fireworks": FireworksBackend},
        )
        names = ("name", "min_replicas", "max_replicas", "accelerator_type", "retry", "poll")
        options: dict[str, Any] = {k: given[k] for k in names if k in given}
        return backend, self.fine_tuned_model, options

    def _deploy_arguments(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """:meth:`deploy`'s arguments as :func:`~ftkit.pipeline.deploy_model` takes them."""
        from .._exceptions import UsageError

        fireworks_only = ("client", "accelerator_type")
        wrong = [k for k in fireworks_only if arguments.get(k) is not None]
        if arguments.get("min_replicas") or arguments.get("max_replicas", 1) != 1:
            wrong.append("min_replicas/max_replicas")
        if wrong:
            raise UsageError(f"{wrong} are Fireworks deployment settings, not Azure's")
        missing = [k for k in ("subscription", "resource_group", "account") if not arguments.get(k)]
        model, base = self._deployable(arguments.get("http_client"), arguments.get("arm_endpoint"))
        if missing:
            raise UsageError(f"an Azure deployment needs {missing} (the Azure OpenAI resource)")
        given = {
            k: v
            for k, v in arguments.items()
            if k not in ("self", "client", "min_replicas", "max_replicas", "accelerator_type")
        }
        return {"model": model, "base_model": base, **given}

    def _deployable(self, http_client: object, arm_endpoint: str | None) -> tuple[str, str | None]:
        """The model to deploy and its base, from a run that trained on Azure."""
        from .._exceptions import UsageError
        from ._manifest import Manifest

        if self.manifest_path is None:
            raise UsageError(
                f"run {self.run_id} has no manifest to read its provider from; deploy the "
                "model with ftkit.pipeline.deploy_model(model, ...)"
            )
        manifest = Manifest.load(self.manifest_path)
        if manifest.provider != "azure":
            raise UsageError(
                f"run {self.run_id} trained on {manifest.provider!r}; only Azure and Fireworks "
                "fine-tunes need a deployment (an OpenAI fine-tuned model is called by its name)"
            )
        if not self.fine_tuned_model:
            raise UsageError(f"run {self.run_id} has no fine-tuned model to deploy yet")
        if manifest.virtual_time and http_client is None and arm_endpoint is None:
            # Its model exists only in a fake: Azure's real management plane must not be asked.
            raise UsageError(
                f"run {self.run_id} trained on a fake API; deploy on that fake's management "
                "plane with http_client=fake.arm.client() (or arm_endpoint= its server)"
            )
        base = manifest.stages[0].base_model if manifest.stages else None
        return self.fine_tuned_model, base or manifest.model

    def _models_to_compare(self) -> dict[str, str]:
        from .._exceptions import UsageError

        trained = [s for s in self.stages if s.fine_tuned_model]
        if not self.fine_tuned_model or not trained or not self.stages[0].base_model:
            raise UsageError(f"run {self.run_id} has no fine-tuned model to evaluate yet")
        models = {"base": self.stages[0].base_model}
        if len(trained) == 1:
            models["fine-tuned"] = self.fine_tuned_model
        else:
            models.update({s.name: str(s.fine_tuned_model) for s in trained})
        return models

    def _client_for(self, given: Any, asynchronous: bool) -> Any:
        """The client to evaluate with: the one given, else the run's (if it fits), else None."""
        if given is not None or not _can_chat(self.client):
            return given  # a run driven through a bare backend evaluates as before
        from .._exceptions import UsageError

        run_is_async = _is_async_client(self.client)
        if run_is_async == asynchronous:
            return self.client
        if asynchronous:
            raise UsageError(
                f"run {self.run_id} was driven with a synchronous client; call "
                "result.evaluate(...), or pass an async client: "
                "result.aevaluate(..., client=openai.AsyncOpenAI())"
            )
        raise UsageError(
            f"run {self.run_id} was driven with an async client; use "
            "await result.aevaluate(...), or pass client=openai.OpenAI()"
        )


#: How each provider serves a fine-tune (:attr:`RunResult.serving`).
_SERVING = {
    "openai": "serverless: call it by name through chat completions",
    "azure": "after a deployment: result.deploy(...) (a deployed fine-tune bills hosting hours)",
    "together": (
        "on a dedicated endpoint you create (together: client.endpoints.create(...), billed "
        "per minute), or download the weights: result.download(path, checkpoint='merged')"
    ),
    "fireworks": (
        "on a dedicated deployment only: result.deploy(client=...) creates one (billed per "
        "GPU-second while a replica runs; min_replicas=0 scales it to zero when idle), then "
        "call model='<model>#<deployment>'"
    ),
}


def _no_deployments(client: Any) -> Any:
    from .._exceptions import UsageError

    raise UsageError("a Fireworks run deploys through a fireworks client (fireworks.Fireworks)")


def _no_weights(client: Any) -> Any:
    from .._exceptions import UsageError

    raise UsageError(
        "only Together AI hands out a fine-tune's weights: OpenAI and Azure OpenAI serve "
        "them (use result.evaluate(...) or result.deploy(...))"
    )


def _can_chat(client: Any) -> bool:
    completions = getattr(getattr(client, "chat", None), "completions", None)
    return callable(getattr(completions, "create", None))


def _is_async_client(client: Any) -> bool:
    """Whether ``client`` is an async openai client (without importing openai for others)."""
    import sys

    openai = sys.modules.get("openai")
    if openai is not None and isinstance(client, openai.AsyncOpenAI):
        return True
    import inspect

    chat = getattr(getattr(client, "chat", None), "completions", None)
    return inspect.iscoroutinefunction(getattr(chat, "create", None))


def _last(rows: list[dict[str, Any]], key: str) -> float | None:
    for row in reversed(rows):
        value = row.get(key)
        if isinstance(value, (int, float)):
            return float(value)
    return None

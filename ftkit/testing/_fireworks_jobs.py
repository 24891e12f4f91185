"""Fireworks AI's fine-tuning jobs in the fake: supervised and DPO, caller-named, resumable.

``POST /v1/accounts/{a}/supervisedFineTuningJobs?supervisedFineTuningJobId=<id>``
takes ``SupervisedFineTuningJobCreateParams``' body; ``POST .../dpoJobs?dpoJobId=<id>``
takes ``dataset``, ``trainingConfig`` (the same training fields) and ``lossConfig``.
Without an id the job gets a random UUID (Fireworks' API reference). What is refused:

- an id already taken (409 ``ALREADY_EXISTS``, "<name> already exists", whatever became
  of the first job), as is an ``outputModel`` id another job of the account names;
- a field the API does not have (400, as grpc-gateway refuses unknown fields), so a
  misspelt field fails here rather than being ignored;
- both or neither of ``baseModel`` / ``warmStartFrom`` (400); an unknown base model
  (404); a ``warmStartFrom`` that is not a model of this account made by a
  ``COMPLETED`` job (404, or 400 ``FAILED_PRECONDITION`` while its job still runs);
- an unknown dataset (404), one not ``READY`` (400 ``FAILED_PRECONDITION``, with its
  validation message), or one of the other kind (preference data to SFT);
- out-of-range numbers (400): ``epochs`` 1-50, ``learningRate`` in (0, 1], ``loraRank``
  4-64, ``maxContextLength`` up to the catalog's limit of the model (when it records
  one), DPO ``lossConfig.dpo.beta`` in (0, 0.5). The ranges are the fake's own, except
  beta's (the SDK's ``DpoConfig`` docstring) and the rank's (``PeftDetails``').

DPO's loss method is recorded and echoed in the job's ``lossConfig``: a missing or
``METHOD_UNSPECIFIED`` method trains **GRPO**, as the SDK's
``ReinforcementLearningLossConfig`` docstring says for the DPO API (its
``DpoJob.loss_config`` docstring says DPO instead; the fake takes the stricter reading,
so a caller must send ``DPO``), so the answer shows what was trained.

The job itself is a shared :class:`~ftkit.testing._job_record.JobRecord` whose id is
its full name, trained by the shared Trainer on the dataset's bytes; a job's model is
kept under an OpenAI-style name inside the fake (so the shared chat learns it) and
shown as ``accounts/{a}/models/<outputModel>``, which exists once the job is
``COMPLETED``. Resume takes a ``CANCELLED``, ``FAILED`` or ``PAUSED`` job back to
``RUNNING`` from the last step it reached (a job stopped before training validates
again); any other state is 400 ``FAILED_PRECONDITION``.

SFT jobs carry ``estimatedCost``: training tokens x epochs x the catalog's price per
1M training tokens (:func:`ftkit.providers.ModelInfo.training_price`), else
:data:`FAKE_RATE_PER_1M`.
"""

from __future__ import annotations

import json
import math
import uuid
from typing import Any

from ..providers import ModelInfo
from ._core import WireError
from ._files import FileRecord
from ._fireworks_datasets import dataset, is_ready
from ._fireworks_shapes import check_id, creating_seconds, grpc, job_state, named
from ._job_record import JobRecord, add_event
from ._serverside import inspect_training_file
from ._service import FakeService

__all__ = [
    "BASE_ACCOUNT",
    "COLLECTIONS",
    "FAKE_RATE_PER_1M",
    "base_name",
    "create_job",
    "facts",
    "find_base",
    "fine_tuned_job",
    "job",
    "jobs",
    "resume",
    "start_cancel",
]

BASE_ACCOUNT = "fireworks"
"""The account whose models are Fireworks' base models (``accounts/fireworks/models/...``)."""
FAKE_RATE_PER_1M = 0.50
"""USD per 1M training tokens when the catalog prices no training of the model (the fake's)."""
COLLECTIONS = {"sft": "supervisedFineTuningJobs", "dpo": "dpoJobs"}
"""The collection of each kind of job, in resource names."""

_TRAINING_FIELDS = frozenset(
    {
        "baseModel",
        "warmStartFrom",
        "epochs",
        "learningRate",
        "learningRateWarmupSteps",
        "loraRank",
        "maxContextLength",
        "batchSize",
        "batchSizeSamples",
        "gradientAccumulationSteps",
        "jinjaTemplate",
        "optimizerWeightDecay",
        "outputModel",
        "region",
        "samplerCheckpointSaveIntervalSteps",
    }
)
_SFT_FIELDS = _TRAINING_FIELDS | {
    "dataset",
    "displayName",
    "earlyStop",
    "evalAutoCarveout",
    "evaluationDataset",
    "isTurbo",
    "metricsFileSignedUrl",
    "mtpEnabled",
    "mtpFreezeBaseModel",
    "mtpNumDraftTokens",
    "nodes",
    "rendererHuggingFaceRepoId",
    "reservationTarget",
    "useReservation",
    "usePurpose",
    "wandbConfig",
    "awsS3Config",
    "azureBlobStorageConfig",
}
_DPO_FIELDS = frozenset(
    {
        "dataset",
        "displayName",
        "lossConfig",
        "trainingConfig",
        "rendererHuggingFaceRepoId",
        "reservationTarget",
        "useReservation",
        "wandbConfig",
        "awsS3Config",
        "azureBlobStorageConfig",
    }
)
_LOSS_METHODS = frozenset({"METHOD_UNSPECIFIED", "GRPO", "DAPO", "DPO", "ORPO", "GSPO_TOKEN"})
_DEFAULTS = {"epochs": 1, "learningRate": 1e-4, "loraRank": 8}
_MAX_CONTEXT = 1_048_576
"""The ``maxContextLength`` cap for a model whose limit the catalog does not record."""


def facts(job: JobRecord) -> dict[str, Any]:
    """What a Fireworks job keeps beyond the shared record (kind, request, names)."""
    found: dict[str, Any] = job.options["fireworks"]
    return found


def jobs(service: FakeService, kind: str) -> list[JobRecord]:
    """Every job of one kind (``"sft"``, ``"dpo"``), oldest first."""
    return [j for j in service.jobs.all() if j.options.get("fireworks", {}).get("kind") == kind]


def job(service: FakeService, kind: str, name: str) -> JobRecord:
    """The job named ``name`` of one kind (404 ``NOT_FOUND`` otherwise)."""
    try:
        found: JobRecord | None = service.jobs.get(name)
    except WireError:
        found = None
    if found is None or found.options.get("fireworks", {}).get("kind") != kind:
        raise grpc("NOT_FOUND", f"{name} not found")
    return found


# ------------------------------------------------------------------ models
def base_name(info: ModelInfo) -> str:
    """A catalog model's full Fireworks name (``accounts/fireworks/models/<id>``)."""
    if info.name.startswith("accounts/"):
        return info.name
    return f"accounts/{BASE_ACCOUNT}/models/{info.name}"


def find_base(service: FakeService, name: str) -> tuple[str, ModelInfo] | None:
    """The base model ``name`` (full, or its short id) as the store names it, or None."""
    prefix = f"accounts/{BASE_ACCOUNT}/models/"
    for candidate in (name, name.removeprefix(prefix), prefix + name):
        found = service.models.resolve(candidate)
        if found is not None and not found[0].startswith("ft:"):
            return found
    return None


def fine_tuned_job(service: FakeService, model: str) -> JobRecord | None:
    """The job whose output model is ``model`` (``accounts/a/models/x``), if any."""
    for record in service.jobs.all():
        if record.options.get("fireworks", {}).get("output_model") == model:
            return record
    return None


# ---------------------------------------------------------------- requests
def _number(
    config: dict[str, Any], key: str, low: float, high: float, *, integer: bool, where: str
) -> Any:
    value = config.get(key, _DEFAULTS.get(key))
    if value is None:
        return None
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or not low <= value <= high:
        what = "an integer" if integer else "a number"
        raise grpc(
            "INVALID_ARGUMENT",
            f"{where}{key} must be {what} in [{low:g}, {high:g}] (got {value!r})",
        )
    return value


def _source(
    service: FakeService, account: str, config: dict[str, Any], kind: str, where: str
) -> tuple[str, ModelInfo, str]:
    """The store's model name, the root base and the name shown, from ``baseModel`` /
    ``warmStartFrom``."""
    base, start = config.get("baseModel"), config.get("warmStartFrom")
    if bool(base) == bool(start):
        raise grpc(
            "INVALID_ARGUMENT",
            f"exactly one of {where}baseModel and {where}warmStartFrom must be set",
        )
    if base:
        found = find_base(service, str(base))
        if found is None:
            raise grpc("NOT_FOUND", f"model {base} not found")
        if kind not in found[1].methods:
            raise grpc("INVALID_ARGUMENT", f"model {base} cannot be tuned with {kind.upper()}")
        return found[0], found[1], str(base)
    parent = fine_tuned_job(service, str(start))
    if parent is None or not str(start).startswith(f"accounts/{account}/models/"):
        raise grpc("NOT_FOUND", f"model {start} not found in account {account}")
    state = job_state(parent)
    if state != "JOB_STATE_COMPLETED":
        raise grpc(
            "FAILED_PRECONDITION",
            f"model {start} is not ready: its job {parent.id} is {state}",
        )
    return parent.fine_tuned_name, parent.base, str(start)


def _dataset(service: FakeService, account: str, name: Any, what: str, kind: str) -> FileRecord:
    if not isinstance(name, str) or not name:
        raise grpc("INVALID_ARGUMENT", f"{what} is required")
    if not name.startswith(f"accounts/{account}/datasets/"):
        raise grpc("INVALID_ARGUMENT", f"{what} {name!r} is not a dataset of account {account}")
    record = dataset(service, name)
    if not is_ready(record):
        report = record.options["fireworks"]["report"]
        detail = f" ({report['error']})" if report and not report["valid"] else ""
        raise grpc("FAILED_PRECONDITION", f"dataset {name} is not READY{detail}")
    found = record.options["fireworks"]["report"]["kind"]
    if found != kind:
        words = {"sft": "supervised (messages)", "dpo": "preference"}
        raise grpc(
            "INVALID_ARGUMENT",
            f"dataset {name} holds {words[found]} examples; a {kind.upper()} job needs "
            f"{words[kind]} examples",
        )
    return record


def _training(
    service: FakeService, account: str, config: dict[str, Any], kind: str, where: str
) -> dict[str, Any]:
    """The training fields checked, with defaults filled in, plus the model they name."""
    store_model, info, shown = _source(service, account, config, kind, where)
    context = info.limit(kind) or _MAX_CONTEXT
    checked: dict[str, Any] = {
        key: value for key, value in config.items() if value is not None and key in _TRAINING_FIELDS
    }
    checked.update(
        epochs=_number(config, "epochs", 1, 50, integer=True, where=where),
        learningRate=_number(config, "learningRate", 1e-9, 1.0, integer=False, where=where),
        loraRank=_number(config, "loraRank", 4, 64, integer=True, where=where),
    )
    for key, high in (("maxContextLength", context), ("batchSize", 10**9)):
        value = _number(config, key, 1, high, integer=True, where=where)
        if value is not None:
            checked[key] = value
    samples = _number(config, "batchSizeSamples", 1, 256, integer=True, where=where)
    if samples is not None:
        checked["batchSizeSamples"] = samples
    checked["baseModel" if config.get("baseModel") else "warmStartFrom"] = shown
    return {"config": checked, "store_model": store_model, "info": info}


def _unknown(body: dict[str, Any], known: frozenset[str], where: str) -> None:
    extra = sorted(set(body) - known)
    if extra:
        raise grpc("INVALID_ARGUMENT", f'unknown field "{where}{extra[0]}"')


def _output_model(service: FakeService, account: str, value: Any, job_id: str) -> str:
    output = job_id if value is None else check_id(value, "outputModel")
    name = f"accounts/{account}/models/{output}"
    if fine_tuned_job(service, name) is not None:
        raise grpc("ALREADY_EXISTS", f"{name} already exists")
    return name


def _tokens(record: FileRecord, info: ModelInfo) -> int:
    """Tokens of one pass over a dataset, as the shared Trainer will count them (cached)."""
    key = f"tokens:{info.name}"
    cached = record.options.get(key)
    if isinstance(cached, int):
        return cached
    tokens = inspect_training_file(record.content, method="supervised", model=info).tokens
    record.options[key] = tokens
    return tokens


def _cost(info: ModelInfo, tokens: int, epochs: int) -> dict[str, Any]:
    """``estimatedCost`` (google.type.Money) of training ``tokens`` for ``epochs``."""
    price = info.training_price("sft")
    rate = price.per_1m_tokens if price is not None and price.per_1m_tokens else FAKE_RATE_PER_1M
    dollars = tokens * epochs / 1_000_000 * rate
    units = math.floor(dollars)
    return {
        "currencyCode": "USD",
        "units": str(units),
        "nanos": round((dollars - units) * 1_000_000_000),
    }


def _loss(body: dict[str, Any]) -> dict[str, Any]:
    loss = body.get("lossConfig") or {}
    if not isinstance(loss, dict):
        raise grpc("INVALID_ARGUMENT", "lossConfig must be an object")
    _unknown(loss, frozenset({"method", "dpo", "klBeta"}), "lossConfig.")
    method = loss.get("method") or "METHOD_UNSPECIFIED"
    if method not in _LOSS_METHODS:
        raise grpc("INVALID_ARGUMENT", f"invalid lossConfig.method {method!r}")
    dpo = loss.get("dpo")
    if dpo is not None:
        if not isinstance(dpo, dict):
            raise grpc("INVALID_ARGUMENT", "lossConfig.dpo must be an object")
        _unknown(
            dpo, frozenset({"beta", "refCacheConcurrency", "refCacheBatchSize"}), "lossConfig.dpo."
        )
        beta = dpo.get("beta")
        if beta is not None and (
            isinstance(beta, bool) or not isinstance(beta, (int, float)) or not 0 < beta < 0.5
        ):
            raise grpc(
                "INVALID_ARGUMENT", f"lossConfig.dpo.beta must be > 0 and < 0.5 (got {beta!r})"
            )
    trained = "GRPO" if method == "METHOD_UNSPECIFIED" else method
    return {**loss, "method": trained}


def create_job(
    service: FakeService,
    account: str,
    kind: str,
    job_id: str | None,
    body: dict[str, Any],
    origin: str,
) -> JobRecord:
    """A new SFT or DPO job from its create request (see the module's rules).

    Raises:
        WireError: 400, 404 or 409 as the module says.
    """
    collection = COLLECTIONS[kind]
    if job_id is None:
        job_id = str(uuid.UUID(int=service.core.rng.getrandbits(128), version=4))
    else:
        check_id(job_id, "supervisedFineTuningJobId" if kind == "sft" else "dpoJobId")
    name = f"accounts/{account}/{collection}/{job_id}"
    try:
        service.jobs.get(name)
    except WireError:
        pass
    else:
        raise grpc("ALREADY_EXISTS", f"{name} already exists")
    if kind == "sft":
        _unknown(body, _SFT_FIELDS, "")
        config, where = body, ""
    else:
        _unknown(body, _DPO_FIELDS, "")
        config = body.get("trainingConfig") or {}
        if not isinstance(config, dict):
            raise grpc("INVALID_ARGUMENT", "trainingConfig must be an object")
        _unknown(config, _TRAINING_FIELDS, "trainingConfig.")
        where = "trainingConfig."
    training = _training(service, account, config, kind, where)
    info: ModelInfo = training["info"]
    train = _dataset(service, account, body.get("dataset"), "dataset", kind)
    evaluation = None
    if kind == "sft" and body.get("evaluationDataset"):
        if body.get("evalAutoCarveout"):
            raise grpc("INVALID_ARGUMENT", "set evaluationDataset or evalAutoCarveout, not both")
        evaluation = _dataset(
            service, account, body["evaluationDataset"], "evaluationDataset", kind
        ).id
    output = _output_model(service, account, training["config"].get("outputModel"), job_id)
    loss = _loss(body) if kind == "dpo" else None
    epochs = int(training["config"]["epochs"])
    hyper: dict[str, Any] = {"n_epochs": epochs}
    hyper["batch_size"] = training["config"].get("batchSizeSamples", "auto")
    if loss is not None and "beta" in (loss.get("dpo") or {}):
        hyper["beta"] = loss["dpo"]["beta"]
    method = "supervised" if kind == "sft" else "dpo"
    store_body = {
        "model": training["store_model"],
        "training_file": train.id,
        "validation_file": evaluation,
        "suffix": output.rsplit("/", 1)[-1],
        "method": {"type": method, method: {"hyperparameters": hyper}},
    }
    request = {key: value for key, value in body.items() if value is not None}
    request.pop("wandbConfig", None)
    wandb = body.get("wandbConfig")
    if isinstance(wandb, dict):  # echoed without its credential
        request["wandbConfig"] = {k: v for k, v in wandb.items() if k != "apiKey"}
    if kind == "sft":
        request.update(training["config"])
    else:
        request["trainingConfig"] = {**training["config"], "outputModel": output}
        request["lossConfig"] = loss
    fireworks: dict[str, Any] = {
        "kind": kind,
        "request": request,
        "output_model": output,
        "origin": origin,
        "metrics_token": f"{service.core.rng.getrandbits(128):032x}",
        "creating_seconds": creating_seconds(service.core),
    }
    if kind == "sft":
        fireworks["estimated_cost"] = _cost(info, _tokens(train, info), epochs)
    with named(service.core, "ftjob-", name):
        service.jobs.create(store_body, options={"fireworks": fireworks})
    json.dumps(request)  # plain JSON only: nothing can fail when the job is shown later
    return service.jobs.get(name)


# --------------------------------------------------------------- lifecycle
def start_cancel(service: FakeService, record: JobRecord) -> None:
    """Cancel a job (``CANCELLING``, then ``CANCELLED``); a stopped job answers as it is.

    Raises:
        WireError: 400 ``FAILED_PRECONDITION`` for a job that completed or failed.
    """
    state = job_state(record)
    if state in ("JOB_STATE_CANCELLING", "JOB_STATE_CANCELLED"):
        return
    if record.status in ("succeeded", "failed"):
        raise grpc("FAILED_PRECONDITION", f"{record.id} is {state}; it cannot be cancelled")
    service.jobs.cancel(record.id)


def resume(service: FakeService, record: JobRecord) -> None:
    """Take a cancelled, failed or paused job back to running from its last step.

    Raises:
        WireError: 400 ``FAILED_PRECONDITION`` for a job in any other state.
    """
    state = job_state(record)
    if state not in ("JOB_STATE_CANCELLED", "JOB_STATE_FAILED", "JOB_STATE_PAUSED"):
        raise grpc(
            "FAILED_PRECONDITION",
            f"{record.id} is {state}; only cancelled, failed or paused jobs can be resumed",
        )
    now = service.core.now()
    if record.total_steps and record.report is not None:
        record.run_done = record.steps_emitted * record.run_total / record.total_steps
        record.status = "running"
    else:  # stopped before training: validate again
        record.status = "validating_files"
    record.phase_started = now
    record.error = None
    record.finished_at = None
    add_event(service.core, record, int(now), "Fine-tuning job resumed")

"""The backend over the official ``fireworks-ai`` SDK: Fireworks AI's datasets and fine-tuning jobs.

As the other adapters, each method builds one :class:`~ftkit.backend.Request` (the
SDK call as a function of the client) that the caller runs or awaits:
``fireworks.Fireworks`` and ``fireworks.AsyncFireworks`` share their method paths,
so one adapter serves both, over a copy of the client with ``max_retries=0``
(ftkit's :class:`~ftkit.RetryPolicy` owns retries). The account is the client's
(``account_id=``, else ``FIREWORKS_ACCOUNT_ID``, as the SDK reads it).

What differs from OpenAI, translated here once:

- Resources are account-scoped and named by path (``accounts/<a>/datasets/<id>``,
  ``accounts/<a>/supervisedFineTuningJobs/<id>``, ``accounts/<a>/dpoJobs/<id>``):
  ftkit's file and job ids *are* those names, so a job's name says which of the two
  collections holds it.
- The caller chooses every id (:data:`~ftkit.backend._traits.FIREWORKS`
  ``caller_ids``): a dataset is named after its content
  (:func:`~ftkit.backend._datasets.dataset_id`), a job after its run and stage
  (:func:`~ftkit.backend._jobs.caller_job_id`). Creating an id that exists is
  refused with 409 ``ALREADY_EXISTS`` (the SDK's ``ConflictError``; the status enum
  has ``ALREADY_EXISTS``; the exact answer is unconfirmed by Fireworks' documents), and
  a create whose answer was lost is found by reading its id: neither duplicates.
- Data are datasets (:mod:`._datasets`): created, then filled by ``:upload`` (up to
  150 MB) or a signed URL, then ``READY`` once the server has validated them.
- DPO continues the SFT model through ``warmStartFrom`` (the LoRA the SFT job wrote)
  and sets its loss method to DPO explicitly: the SDK says the DPO API's default is
  GRPO.
- There is no events or checkpoint endpoint: a job's state and ``jobProgress`` are
  told as events (:func:`~ftkit.backend._events.status_event`, one per change).
- Hyperparameters are Fireworks': an absolute learning rate, a LoRA rank, a batch of
  samples (OpenAI's ``batch_size``) or of packed tokens (the ``batch_size`` option).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .._exceptions import UsageError
from .._steps import settled
from ._adapter import NoUploadsApi, SdkAdapter
from ._events import JobEvent, status_event, unix_seconds
from ._jobs import caller_job_id
from ._protocol import JobSpec
from ._request import Request
from ._resources import (
    Checkpoint,
    Job,
    JobError,
    JobStatus,
    Page,
    RemoteModel,
    TrainingFile,
)
from ._signed import signed_put, url_secrets
from ._traits import FIREWORKS, Traits

if TYPE_CHECKING:
    import fireworks

__all__ = [
    "JOB_OPTIONS",
    "JOB_STATUSES",
    "FireworksBackend",
    "job_body",
    "model_name",
    "to_dataset",
    "to_job",
]

T = TypeVar("T")

#: Fireworks' ``JOB_STATE_*`` in ftkit's words; any other word is ``"unknown"``.
JOB_STATUSES: Mapping[str, JobStatus] = {
    "JOB_STATE_CREATING": "queued",
    "JOB_STATE_CREATING_INPUT_DATASET": "queued",
    "JOB_STATE_VALIDATING": "validating",
    "JOB_STATE_PENDING": "queued",
    "JOB_STATE_RE_QUEUEING": "queued",
    "JOB_STATE_IDLE": "queued",
    "JOB_STATE_RUNNING": "running",
    "JOB_STATE_WRITING_RESULTS": "running",  # trained; the model is being written
    "JOB_STATE_CANCELLING": "running",  # still stopping until ``CANCELLED``
    "JOB_STATE_COMPLETED": "succeeded",
    # Early stopping ends training when the validation loss stops improving: the model is
    # written as for a completed job (unconfirmed; ``outputModel`` says).
    "JOB_STATE_EARLY_STOPPED": "succeeded",
    "JOB_STATE_FAILED": "failed",
    "JOB_STATE_EXPIRED": "failed",
    "JOB_STATE_CANCELLED": "cancelled",
    "JOB_STATE_DELETING": "cancelled",
    "JOB_STATE_DELETING_CLEANING_UP": "cancelled",
    "JOB_STATE_PAUSED": "paused",  # account suspension or manual intervention
}

#: The two job collections, by ftkit's training method.
COLLECTIONS: Mapping[str, str] = {"supervised": "supervisedFineTuningJobs", "dpo": "dpoJobs"}
_METHODS = {collection: method for method, collection in COLLECTIONS.items()}

#: Where Fireworks' own base models live (``accounts/fireworks/models/<id>``).
BASE_ACCOUNT = "fireworks"

#: Job options in Fireworks' own words (snake_case, as the SDK takes them), sent as they
#: are: on a supervised job's body, or in a DPO job's ``trainingConfig``.
TRAINING_OPTIONS = frozenset(
    {
        "learning_rate",
        "lora_rank",
        "max_context_length",
        "batch_size",  # tokens per packed batch; OpenAI's ``batch_size`` is samples
        "gradient_accumulation_steps",
        "learning_rate_warmup_steps",
        "optimizer_weight_decay",
        "jinja_template",
        "output_model",
        "region",
        "sampler_checkpoint_save_interval_steps",
    }
)
#: Options of the job itself (not of DPO's ``trainingConfig``).
JOB_LEVEL_OPTIONS = frozenset({"display_name", "wandb_config"})
#: Options of one training method only: a run's options serve both its stages, so each
#: stage is sent only the ones of its method (and the common ones).
METHOD_OPTIONS: Mapping[str, frozenset[str]] = {
    "supervised": frozenset({"early_stop", "eval_auto_carveout", "is_turbo", "nodes"}),
    "dpo": frozenset({"loss_method"}),
}
JOB_OPTIONS = TRAINING_OPTIONS | JOB_LEVEL_OPTIONS | frozenset().union(*METHOD_OPTIONS.values())
"""Every option a Fireworks job takes (``FineTune(...).options(...)``)."""

#: Options that name one job's result: a run of several stages cannot give them to all.
ONE_JOB_OPTIONS = frozenset({"output_model"})

#: The preference losses a DPO job may be given (``loss_method``); DPO unless chosen.
PREFERENCE_LOSSES = frozenset({"DPO", "ORPO"})


# --------------------------------------------------------------------------- names


def model_name(model: str) -> str:
    """A model's resource name: a bare id (``llama-v3p1-8b-instruct``) is Fireworks' own."""
    return model if model.startswith("accounts/") else f"accounts/{BASE_ACCOUNT}/models/{model}"


def _parts(name: str, collection: str) -> tuple[str, str]:
    """``(account, id)`` of ``accounts/<account>/<collection>/<id>``."""
    pieces = name.split("/")
    if len(pieces) == 4 and pieces[0] == "accounts" and pieces[2] == collection:
        return pieces[1], pieces[3]
    raise UsageError(
        f"{name!r} is not a Fireworks {collection} name (accounts/<a>/{collection}/<id>)"
    )


def _job_parts(name: str) -> tuple[str, str, str]:
    """``(account, collection, id)`` of a job's name."""
    pieces = name.split("/")
    if len(pieces) == 4 and pieces[0] == "accounts" and pieces[2] in _METHODS:
        return pieces[1], pieces[2], pieces[3]
    raise UsageError(
        f"{name!r} is not a Fireworks job name (accounts/<a>/supervisedFineTuningJobs/<id> "
        "or accounts/<a>/dpoJobs/<id>)"
    )


# --------------------------------------------------------------------------- translation


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _status_error(raw: Any) -> JobError | None:
    status = getattr(raw, "status", None)
    code = _text(getattr(status, "code", None))
    if code in (None, "OK"):
        return None
    return JobError(code=code, message=_text(getattr(status, "message", None)))


def _output_model(raw: Any, account: str, job_id: str) -> str:
    config = getattr(raw, "training_config", None)
    given = _text(getattr(raw, "output_model", None)) or _text(
        getattr(config, "output_model", None)
    )
    chosen = given or job_id  # "If not specified, the job ID will be used."
    return chosen if chosen.startswith("accounts/") else f"accounts/{account}/models/{chosen}"


def to_job(raw: Any) -> Job:
    """ftkit's :class:`Job` for a ``SupervisedFineTuningJob`` or a ``DpoJob``."""
    name = _text(getattr(raw, "name", None)) or ""
    pieces = name.split("/")
    account = pieces[1] if len(pieces) == 4 else ""
    job_id = pieces[-1]
    method = _METHODS.get(pieces[2]) if len(pieces) == 4 else None
    raw_status = _text(getattr(raw, "state", None)) or "JOB_STATE_UNSPECIFIED"
    status = JOB_STATUSES.get(raw_status, "unknown")
    config = getattr(raw, "training_config", None) or raw  # DPO nests, SFT does not
    base = _text(getattr(config, "base_model", None)) or _text(
        getattr(config, "warm_start_from", None)
    )
    hyper = {
        "n_epochs": getattr(config, "epochs", None),
        "batch_size": getattr(config, "batch_size_samples", None),
        "learning_rate": getattr(config, "learning_rate", None),
        "lora_rank": getattr(config, "lora_rank", None),
    }
    loss = getattr(raw, "loss_config", None)
    beta = getattr(getattr(loss, "dpo", None), "beta", None)
    if beta is not None:
        hyper["beta"] = beta
    progress = getattr(getattr(raw, "job_progress", None), "percent", None)
    finished = status in ("succeeded", "failed", "cancelled")
    return Job(
        id=name,
        provider=FIREWORKS.provider,
        status=status,
        raw_status=raw_status,
        model=base,
        fine_tuned_model=_output_model(raw, account, job_id) if status == "succeeded" else None,
        trained_tokens=None,  # Fireworks reports progress, not a billed token count
        error=_status_error(raw) if status == "failed" else None,
        created_at=unix_seconds(getattr(raw, "create_time", None)),
        finished_at=unix_seconds(getattr(raw, "completed_time", None)) if finished else None,
        estimated_finish=None,
        metadata={},
        suffix=None,
        method=method,
        hyperparameters={k: v for k, v in hyper.items() if v is not None},
        training_file=_text(getattr(raw, "dataset", None)),
        validation_file=_text(getattr(raw, "evaluation_dataset", None)),
        result_files=(),
        progress=float(progress) if isinstance(progress, (int, float)) else None,
        updated_at=unix_seconds(getattr(raw, "update_time", None)),
        raw=raw,
    )


def to_dataset(raw: Any) -> TrainingFile:
    """ftkit's :class:`TrainingFile` for a Fireworks ``Dataset``.

    ``READY`` is ``processed``. A dataset still ``UPLOADING`` whose ``status`` carries
    an error code is one the server refused (its message is the reason: the shape of
    that answer is unconfirmed); otherwise it is waiting for, or checking, its bytes.
    """
    state = _text(getattr(raw, "state", None))
    refused = _status_error(raw)
    if state == "READY":
        status = "processed"
    elif refused is not None:
        status = "error"
    else:
        status = "uploading"
    return TrainingFile(
        id=_text(getattr(raw, "name", None)) or "",
        filename=_text(getattr(raw, "display_name", None)),
        bytes=None,  # a dataset reports examples and tokens, not bytes
        purpose="fine-tune",
        status=status,
        created_at=unix_seconds(getattr(raw, "create_time", None)),
        status_details=(refused.message or refused.code) if refused is not None else None,
        raw=raw,
    )


# --------------------------------------------------------------------------- the request body


def _refuse(message: str) -> UsageError:
    return UsageError(f"{FIREWORKS.describe()}: {message}")


def _hyperparameters(spec: JobSpec) -> tuple[str, dict[str, Any]]:
    kind, hyper = spec.chosen_hyperparameters()
    if kind not in COLLECTIONS:
        raise _refuse(f"it trains with supervised or dpo, not {kind!r}")
    return kind, hyper


def _beta(value: Any) -> float:
    beta = float(value)
    if not 0 < beta < 0.5:
        raise _refuse(f"DPO's beta must be above 0 and below 0.5, not {value!r}")
    return beta


def job_body(spec: JobSpec) -> tuple[str, dict[str, Any]]:
    """The training method and the SDK's ``create`` arguments for ``spec`` (no job id).

    ftkit's hyperparameters map onto Fireworks' (``n_epochs`` -> ``epochs``, OpenAI's
    ``batch_size`` of samples -> ``batch_size_samples``, DPO's ``beta`` -> ``loss_config``);
    ``spec.options`` carry Fireworks' own settings (:data:`JOB_OPTIONS`; those of the
    other method are left out). A stage that continues another (``spec.parent_job``)
    starts ``warm_start_from`` its model (``spec.model``) instead of a base model.

    Raises:
        UsageError: a setting Fireworks does not take (OpenAI's learning-rate multiplier,
            a seed, integrations, an unknown option), or one out of range.
    """
    if spec.integrations:
        raise _refuse("takes no OpenAI integrations; use the wandb_config option")
    if spec.seed is not None:
        raise _refuse("jobs take no seed")
    kind, hyper = _hyperparameters(spec)
    options = dict(spec.options)
    unknown = sorted(set(options) - JOB_OPTIONS)
    if unknown:
        raise _refuse(f"takes no job option {unknown}; it takes {sorted(JOB_OPTIONS)}")
    for method, names in METHOD_OPTIONS.items():
        if method != kind:
            options = {k: v for k, v in options.items() if k not in names}
    if "learning_rate_multiplier" in hyper:
        raise _refuse(
            "the learning rate is absolute, not a multiplier of OpenAI's: set "
            "options(learning_rate=1e-4) and leave learning_rate_multiplier at 'auto'"
        )
    training: dict[str, Any] = {}
    start = model_name(spec.model)
    training["warm_start_from" if spec.parent_job else "base_model"] = start
    if "n_epochs" in hyper:
        training["epochs"] = int(hyper.pop("n_epochs"))
    if "batch_size" in hyper:
        training["batch_size_samples"] = int(hyper.pop("batch_size"))
    beta = hyper.pop("beta", None) if kind == "dpo" else None
    if hyper:
        raise _refuse(f"takes no hyperparameter {sorted(hyper)} for {kind}")
    training.update({k: options.pop(k) for k in sorted(TRAINING_OPTIONS) if k in options})
    job = {k: options.pop(k) for k in sorted(JOB_LEVEL_OPTIONS) if k in options}
    if kind == "supervised":
        body = {"dataset": spec.training_file, **training, **job, **options}
        if spec.validation_file:
            body["evaluation_dataset"] = spec.validation_file
        return kind, body
    if spec.validation_file:
        raise _refuse("DPO jobs take no validation dataset")
    method = str(options.pop("loss_method", "DPO")).upper()
    if method not in PREFERENCE_LOSSES:
        raise _refuse(f"loss_method is one of {sorted(PREFERENCE_LOSSES)}, not {method!r}")
    # Set explicitly: the DPO API's default (METHOD_UNSPECIFIED) is GRPO, the SDK says.
    loss: dict[str, Any] = {"method": method}
    if beta is not None:
        loss["dpo"] = {"beta": _beta(beta)}
    body = {"dataset": spec.training_file, "training_config": training, "loss_config": loss}
    return kind, {**body, **job}


# --------------------------------------------------------------------------- the adapter


class FireworksBackend(NoUploadsApi, SdkAdapter):
    """A :class:`~ftkit.backend.Backend` over ``fireworks.Fireworks`` or ``AsyncFireworks``.

    Each method builds one :class:`~ftkit.backend.Request`; ``run()`` it over the
    blocking client, ``await arun()`` it over the async one. Beyond the protocol it
    speaks Fireworks' own steps: the dataset's (:meth:`create_dataset`,
    :meth:`upload_dataset`, :meth:`dataset_upload_url`, :meth:`put_dataset`,
    :meth:`validate_dataset`), the names ids make (:meth:`job_name`,
    :meth:`dataset_name`) and :meth:`create_deployment`.

    Args:
        client: a configured fireworks client with an account (``account_id=`` or
            ``FIREWORKS_ACCOUNT_ID``). It is copied with ``max_retries=0``; the original is
            left untouched.

    Raises:
        UsageError: the client has no account.
    """

    traits: Traits = FIREWORKS
    provider = FIREWORKS.provider
    uploads_instead = " (datasets take signed URLs)"

    def __init__(self, client: fireworks.Fireworks | fireworks.AsyncFireworks) -> None:
        import fireworks

        super().__init__(client, asynchronous=isinstance(client, fireworks.AsyncFireworks))
        account = getattr(client, "account_id", None)
        if not isinstance(account, str) or not account:
            raise UsageError(
                "the fireworks client has no account: pass "
                "fireworks.Fireworks(account_id=...) or set FIREWORKS_ACCOUNT_ID"
            )
        #: The account every dataset and job of this backend belongs to.
        self.account = account

    def _then(
        self, call: Callable[[Any], Any], after: Callable[[Any], Any]
    ) -> Callable[[Any], Any]:
        """``call``, then ``after(client)`` (awaiting both over an async client)."""
        if not self.asynchronous:
            return lambda c: (call(c), after(c))[1]

        async def both(c: Any) -> Any:
            await call(c)
            return await settled(after(c))

        return both

    def _constant(self, value: T) -> Request[T]:
        """A request that sends nothing: what an endpoint Fireworks lacks would answer."""
        if self.asynchronous:

            async def nothing(c: Any) -> None:
                return None

            return self._request(nothing, lambda _: value)
        return self._request(lambda c: None, lambda _: value)

    def _listing(self, list_call: Callable[[Any], Any], translate: Callable[[Any], T]) -> Any:
        """Every page of a token-paged listing, read in one request (reads repeat safely)."""
        if self.asynchronous:

            async def gather(c: Any) -> list[T]:
                return [translate(item) async for item in list_call(c)]

            return gather
        return lambda c: [translate(item) for item in list_call(c)]

    # names
    def dataset_name(self, dataset_id: str) -> str:
        """The resource name of this account's dataset ``dataset_id``."""
        return f"accounts/{self.account}/datasets/{dataset_id}"

    def job_name(self, spec: JobSpec) -> str:
        """The name the job of ``spec`` is (or would be) created under: its identity."""
        kind, _ = _hyperparameters(spec)
        return f"accounts/{self.account}/{COLLECTIONS[kind]}/{caller_job_id(spec)}"

    # datasets, as files
    def list_files(
        self, *, purpose: str | None = "fine-tune", after: str | None = None, limit: int = 100
    ) -> Request[Page[TrainingFile]]:
        call = self._listing(lambda c: c.datasets.list(page_size=200), to_dataset)
        return self._request(call, lambda files: Page(list(files), False))

    def retrieve_file(self, file_id: str) -> Request[TrainingFile]:
        account, dataset = _parts(file_id, "datasets")
        return self._request(lambda c: c.datasets.get(dataset, account_id=account), to_dataset)

    def create_file(
        self, *, filename: str, content: bytes | Path, purpose: str = "fine-tune"
    ) -> Request[TrainingFile]:
        raise UsageError(
            f"{FIREWORKS.describe()} trains on datasets: use ftkit.backend.upload_file"
        )

    def import_file(
        self, *, filename: str, content_url: str, purpose: str = "fine-tune"
    ) -> Request[TrainingFile]:
        raise self._unsupported("dataset import from a URL in ftkit")

    def delete_file(self, file_id: str) -> Request[bool]:
        account, dataset = _parts(file_id, "datasets")
        return self._request(
            lambda c: c.datasets.delete(dataset, account_id=account), lambda _: True
        )

    def file_content(self, file_id: str) -> Request[bytes]:
        raise self._unsupported("download of a dataset's content in ftkit")

    def create_dataset(
        self, dataset_id: str, *, examples: int, display_name: str | None = None
    ) -> Request[TrainingFile]:
        """``POST .../datasets`` with the caller-chosen ``datasetId``: an empty dataset.

        409 when the id exists: :func:`~ftkit.backend._datasets.dataset_uploading` reads
        it then.
        """
        dataset: dict[str, Any] = {"user_uploaded": {}, "example_count": str(examples)}
        if display_name:
            dataset["display_name"] = display_name
        return self._request(
            lambda c: c.datasets.create(dataset_id=dataset_id, dataset=dataset), to_dataset
        )

    def upload_dataset(self, name: str, *, filename: str, content: bytes) -> Request[None]:
        """``POST .../datasets/{id}:upload``: the file's bytes in one multipart request.

        Up to 150 MB. It replaces what the dataset held, so sending it again is safe.
        """
        account, dataset = _parts(name, "datasets")
        return self._request(
            lambda c: c.datasets.upload(dataset, account_id=account, file=(filename, content)),
            lambda _: None,
        )

    def dataset_upload_url(self, name: str, *, filename: str, size: int) -> Request[str]:
        """``:getUploadEndpoint``: the signed URL (valid one hour) for the file's bytes.

        Each call replaces the dataset's registered files, so asking again is safe.
        """
        account, dataset = _parts(name, "datasets")

        def url(answer: Any) -> str:
            urls = getattr(answer, "filename_to_signed_urls", None) or {}
            found = urls.get(filename)
            if not isinstance(found, str) or not found:
                from .._exceptions import APIError

                raise APIError(f"Fireworks gave no upload URL for {filename}", retryable=True)
            return found

        return self._request(
            lambda c: c.datasets.get_upload_endpoint(
                dataset, account_id=account, filename_to_size={filename: str(size)}
            ),
            url,
        )

    def put_dataset(self, url: str, path: str | Path, *, size: int) -> Request[None]:
        """``PUT`` the file to its signed URL, streamed from disk, with no Fireworks credential.

        Both headers are part of the URL's signature (the SDK's ``upload_dataset_shards``
        sends the same): the content type and the exact length range.
        """
        headers = {
            "Content-Type": "application/octet-stream",
            "X-Goog-Content-Length-Range": f"{size},{size}",
            "Content-Length": str(size),
        }
        call = signed_put(url, Path(path), headers, asynchronous=self.asynchronous)
        return self._request(call, lambda _: None, secrets=url_secrets(url))

    def validate_dataset(self, name: str) -> Request[None]:
        """``:validateUpload``: the signed upload is complete; the server validates it."""
        account, dataset = _parts(name, "datasets")
        return self._request(
            lambda c: c.datasets.validate_upload(dataset, account_id=account, body={}),
            lambda _: None,
        )

    # jobs
    def create_job(self, spec: JobSpec) -> Request[Job]:
        """Create the job of ``spec`` under its caller-chosen id (:meth:`job_name`)."""
        kind, body = job_body(spec)
        job_id = caller_job_id(spec)
        if kind == "supervised":
            return self._request(
                lambda c: c.supervised_fine_tuning_jobs.create(
                    supervised_fine_tuning_job_id=job_id, **body
                ),
                to_job,
            )
        return self._request(lambda c: c.dpo_jobs.create(dpo_job_id=job_id, **body), to_job)

    def _resource(self, c: Any, collection: str) -> Any:
        return (
            c.supervised_fine_tuning_jobs if collection == COLLECTIONS["supervised"] else c.dpo_jobs
        )

    def retrieve_job(self, job_id: str) -> Request[Job]:
        account, collection, short = _job_parts(job_id)
        return self._request(
            lambda c: self._resource(c, collection).get(short, account_id=account), to_job
        )

    def list_jobs(
        self,
        *,
        metadata: Mapping[str, str] | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> Request[Page[Job]]:
        """Every supervised and DPO job of the account, newest first (both collections)."""
        order = {"page_size": 200, "order_by": "createTime desc"}
        sft = self._listing(lambda c: c.supervised_fine_tuning_jobs.list(**order), to_job)
        dpo = self._listing(lambda c: c.dpo_jobs.list(**order), to_job)

        def merged(jobs: tuple[list[Job], list[Job]]) -> Page[Job]:
            both = [*jobs[0], *jobs[1]]
            both.sort(key=lambda j: j.created_at or 0, reverse=True)
            return Page(both, False)

        if self.asynchronous:

            async def call(c: Any) -> tuple[list[Job], list[Job]]:
                return await sft(c), await dpo(c)

            return self._request(call, merged)
        return self._request(lambda c: (sft(c), dpo(c)), merged)

    def cancel_job(self, job_id: str) -> Request[Job]:
        """``:cancel`` (it answers nothing), then the job as it stands."""
        account, collection, short = _job_parts(job_id)
        call = self._then(
            lambda c: self._resource(c, collection).cancel(short, account_id=account, body={}),
            lambda c: self._resource(c, collection).get(short, account_id=account),
        )
        return self._request(call, to_job)

    def pause_job(self, job_id: str) -> Request[Job]:
        raise self._unsupported("pause for jobs (cancel, then resume)")

    def resume_job(self, job_id: str) -> Request[Job]:
        """``:resume`` a cancelled, failed or paused job from where it stopped."""
        account, collection, short = _job_parts(job_id)
        return self._request(
            lambda c: self._resource(c, collection).resume(short, account_id=account, body={}),
            to_job,
        )

    def list_job_events(
        self, job_id: str, *, after: str | None = None, limit: int = 100
    ) -> Request[Page[JobEvent]]:
        """The job's state and progress as one event (Fireworks lists no events)."""

        def page(job: Job) -> Page[JobEvent]:
            event = status_event(job)
            return Page([] if event.id == after else [event], False)

        return self._request(self.retrieve_job(job_id).call, lambda raw: page(to_job(raw)))

    def list_job_checkpoints(
        self, job_id: str, *, after: str | None = None, limit: int = 100
    ) -> Request[Page[Checkpoint]]:
        """None: Fireworks lists no checkpoints (its promotable sampler checkpoints are not
        listed through the SDK)."""
        return self._constant(Page([], False))

    # models
    def retrieve_model(self, model: str) -> Request[RemoteModel]:
        """``GET /v1/accounts/<a>/models/<id>``: a base model (``accounts/fireworks/...``) or a
        fine-tuned one of the account."""
        account, short = _parts(model_name(model), "models")

        def translate(raw: Any) -> RemoteModel:
            owner = _text(getattr(raw, "name", None)) or model_name(model)
            return RemoteModel(id=owner, owned_by=account, retires_on=None, raw=raw)

        return self._request(lambda c: c.models.get(short, account_id=account), translate)

    def create_deployment(
        self,
        model: str,
        *,
        deployment_id: str,
        min_replicas: int = 0,
        max_replicas: int = 1,
        accelerator_type: str | None = None,
    ) -> Request[Any]:
        """``POST .../deployments?deploymentId=``: a dedicated deployment serving ``model``.

        A fine-tuned LoRA is served by a deployment whose base model is the LoRA itself
        ("live merge"). ``min_replicas=0`` lets it scale to zero when idle (GPU-seconds
        are billed while a replica runs). Answers the SDK's ``Deployment``.
        """
        params: dict[str, Any] = {
            "base_model": model_name(model),
            "deployment_id": deployment_id,
            "min_replica_count": min_replicas,
            "max_replica_count": max_replicas,
        }
        if accelerator_type is not None:
            params["accelerator_type"] = accelerator_type
        return self._request(lambda c: c.deployments.create(**params), lambda a: a)

    def retrieve_deployment(self, name: str) -> Request[Any]:
        """``GET .../deployments/{id}``: the SDK's ``Deployment``."""
        account, short = _parts(name, "deployments")
        return self._request(lambda c: c.deployments.get(short, account_id=account), lambda a: a)

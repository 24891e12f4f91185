"""The backend over the official ``together`` SDK: Together AI's files and fine-tunes.

Like the openai adapter, each method builds one :class:`~ftkit.backend.Request`
(the SDK call as a function of the client) that the caller runs or awaits:
``together.Together`` and ``together.AsyncTogether`` share their method paths,
so one adapter serves both. The client is copied with ``max_retries=0``:
ftkit's :class:`~ftkit.RetryPolicy` owns retries, and the SDK's own would
re-send POST requests that carry no idempotency key.

Where the SDK's convenience methods make several requests (``files.upload``
posts, PUTs and preprocesses; ``fine_tuning.create`` also fetches the model's
limits and a price estimate), the adapter sends the one request each step
needs through the client's own ``post``, with the same paths and bodies as the
SDK (``lib/resources/files.py``, ``lib/resources/fine_tuning.py``), so the steps
can be retried, resumed and found again one by one.

What differs from OpenAI, translated here once:

- Uploads: ``POST /v1/files`` answers 302 with a presigned URL and the new
  file's id (or 409 with the id of a file holding identical content); the bytes
  are PUT to that URL; ``POST /v1/files/{id}/preprocess`` starts Together's
  server-side validation, whose ``processing_status`` ends ``COMPLETED``.
- Jobs keep no metadata: ftkit's run token travels in the suffix
  (:data:`~ftkit.backend._traits.TOGETHER`). DPO after SFT starts
  ``from_checkpoint`` the SFT job rather than from a model name.
- Hyperparameters are Together's: an absolute learning rate, LoRA settings,
  ``n_evals``, ``n_checkpoints``, ``train_on_inputs`` (:func:`job_body`).
- Events have no ids or cursor: each gets an id from its content and time, and
  the adapter pages them newest first, as ftkit's event following expects.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from .._exceptions import APIError, UsageError
from .._steps import settled
from ._adapter import NoUploadsApi, SdkAdapter
from ._events import JobEvent, as_int, job_event, unix_seconds
from ._protocol import JobSpec
from ._request import Request
from ._resources import (
    Checkpoint,
    Job,
    JobError,
    JobStatus,
    Page,
    PriceQuote,
    RemoteModel,
    TrainingFile,
)
from ._signed import signed_put, url_secrets
from ._traits import TOGETHER, Traits

if TYPE_CHECKING:
    import together

__all__ = [
    "JOB_STATUSES",
    "FileTicket",
    "TogetherBackend",
    "job_body",
    "to_file",
    "to_job",
]

T = TypeVar("T")

#: Together's job statuses in ftkit's words; any other word is ``"unknown"``.
JOB_STATUSES: Mapping[str, JobStatus] = {
    "pending": "queued",
    "queued": "queued",
    "running": "running",
    "compressing": "running",  # trained; the weights are being packed
    "uploading": "running",  # and stored: the model is not there yet
    "cancel_requested": "running",  # still stopping (and billing) until ``cancelled``
    "cancelled": "cancelled",
    "error": "failed",
    "completed": "succeeded",
}

#: Together's file ``processing_status`` in the words of :mod:`ftkit.backend._processing`.
FILE_STATUSES: Mapping[str, str] = {
    "PENDING": "pending",
    "QUEUED": "queued",
    "RUNNING": "running",
    "COMPLETED": "processed",
    "FAILED": "error",
    "INVALID_FORMAT": "error",
}

_METHODS = {"sft": "supervised", "dpo": "dpo"}

#: ``FinetuneRequest``'s required numbers, as the SDK fills them when a caller leaves them out.
_REQUIRED_DEFAULTS: Mapping[str, Any] = {
    "learning_rate": 0.00001,
    "warmup_ratio": 0.0,
    "max_grad_norm": 1.0,
    "weight_decay": 0.0,
}

#: Job options Together takes, in its own words, sent as they are (``JobSpec.options``).
PLAIN_OPTIONS = frozenset(
    {
        "learning_rate",
        "warmup_ratio",
        "max_grad_norm",
        "weight_decay",
        "n_evals",
        "n_checkpoints",
        "packing",
        "max_seq_length",
        "gradient_accumulation_steps",
        "early_stopping_enabled",
        "early_stopping_patience",
        "early_stopping_min_delta",
        "early_stopping_warmup_evals",
        "wandb_project_name",
        "wandb_name",
        "wandb_entity",
        "wandb_base_url",
    }
)
#: Options that shape one of the request's objects rather than travel as they are.
SHAPED_OPTIONS = frozenset(
    {
        "train_on_inputs",
        "lora",
        "lora_r",
        "lora_alpha",
        "lora_dropout",
        "lora_trainable_modules",
        "lr_scheduler_type",
        "min_lr_ratio",
        "scheduler_num_cycles",
        "dpo_normalize_logratios_by_length",
        "rpo_alpha",
        "simpo_gamma",
        "train_vision",
    }
)
JOB_OPTIONS = PLAIN_OPTIONS | SHAPED_OPTIONS
"""Every option a Together job takes (``FineTune(...).options(...)``)."""
#: Options of one training method: a run's options serve both its stages, so each stage
#: is sent only the ones of its method.
METHOD_OPTIONS: Mapping[str, frozenset[str]] = {
    "supervised": frozenset({"train_on_inputs"}),
    "dpo": frozenset({"dpo_normalize_logratios_by_length", "rpo_alpha", "simpo_gamma"}),
}


# --------------------------------------------------------------------------- translation


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _field(raw: Any, name: str) -> Any:
    """A field of an SDK object, or of the extra fields the SDK kept (``suffix`` on a retrieve)."""
    value = getattr(raw, name, None)
    if value is None:
        extra = getattr(raw, "model_extra", None)
        if isinstance(extra, Mapping):
            value = extra.get(name)
    return value


def _job_error(raw: Any, status: str) -> JobError | None:
    """Why a job ended ``error``: Together reports it as a ``job_error`` event, not a field."""
    if status != "error":
        return None
    for event in reversed(list(getattr(raw, "events", None) or ())):
        if _text(getattr(event, "type", None)) == "job_error":
            return JobError(code="job_error", message=_text(getattr(event, "message", None)))
    return JobError(code="error", message="the job ended in error (see its events)")


def to_job(raw: Any) -> Job:
    """ftkit's :class:`Job` for a Together fine-tune (retrieved, listed or created)."""
    raw_status = _text(getattr(raw, "status", None)) or ""
    method = getattr(raw, "training_method", None)
    kind = _text(getattr(method, "method", None))
    hyper = {
        "n_epochs": getattr(raw, "n_epochs", None),
        "batch_size": getattr(raw, "batch_size", None),
        "learning_rate": getattr(raw, "learning_rate", None),
    }
    status = JOB_STATUSES.get(raw_status, "unknown")
    finished = status in ("succeeded", "failed", "cancelled")
    return Job(
        id=_text(getattr(raw, "id", None)) or "",
        provider=TOGETHER.provider,
        status=status,
        raw_status=raw_status,
        model=_text(getattr(raw, "model", None)),
        fine_tuned_model=_text(getattr(raw, "x_model_output_name", None)),
        trained_tokens=as_int(getattr(raw, "token_count", None)),
        error=_job_error(raw, raw_status),
        created_at=unix_seconds(getattr(raw, "created_at", None)),
        finished_at=unix_seconds(getattr(raw, "updated_at", None)) if finished else None,
        estimated_finish=None,
        metadata={},
        suffix=_text(_field(raw, "suffix")),
        method=_METHODS.get(kind or "", kind),
        hyperparameters={k: v for k, v in hyper.items() if v is not None},
        training_file=_text(getattr(raw, "training_file", None)),
        validation_file=_text(getattr(raw, "validation_file", None)) or None,
        result_files=(),
        raw=raw,
    )


def _report(raw: Any) -> str | None:
    report = getattr(raw, "validation_report", None)
    if report is None or getattr(report, "valid", True):
        return None
    return _text(getattr(report, "error", None)) or "the file did not pass Together's validation"


def to_file(raw: Any) -> TrainingFile:
    """ftkit's :class:`TrainingFile` for a Together ``FileResponse``."""
    processing = _text(getattr(raw, "processing_status", None))
    return TrainingFile(
        id=_text(getattr(raw, "id", None)) or "",
        filename=_text(getattr(raw, "filename", None)),
        bytes=as_int(getattr(raw, "bytes", None)),
        purpose=_text(getattr(raw, "purpose", None)),
        # No status yet: the bytes may be there, but nobody asked for the preprocess.
        status=FILE_STATUSES.get(processing, processing.lower()) if processing else "uploaded",
        created_at=as_int(getattr(raw, "created_at", None)),
        status_details=_report(raw),
        raw=raw,
    )


def event_id(raw: Any) -> str:
    """An id for an event that has none: a digest of its time, kind, step and message.

    Two events that agree on all four are one event listed twice; the id makes
    them one for ftkit's event following (and a resumed run's ``last_event_id``).
    """
    parts = [
        str(getattr(raw, name, None) or "")
        for name in ("created_at", "type", "step", "message", "checkpoint_path")
    ]
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return f"ev-{digest[:20]}"


def to_event(raw: Any) -> JobEvent:
    """ftkit's typed :class:`JobEvent` for a Together ``FinetuneEvent``."""
    level = _text(getattr(raw, "level", None)) or "info"
    # Together's spec has every event carry these, empty ones as 0 or "": only the ones
    # that say something are kept (a step 0 does).
    data = {
        name: getattr(raw, name)
        for name in ("step", "total_steps", "checkpoint_path", "token_count", "wandb_url")
        if getattr(raw, name, None) not in (None, "")
        and (name == "step" or getattr(raw, name) != 0)
    }
    return job_event(
        id=event_id(raw),
        created_at=unix_seconds(getattr(raw, "created_at", None)) or 0,
        # ``legacy_info`` and its kin are the old words for the same levels.
        level=level.removeprefix("legacy_i").removeprefix("legacy_"),
        message=_text(getattr(raw, "message", None)) or "",
        type=_text(getattr(raw, "type", None)),
        data=data or None,
    )


def events_page(raw: Any, after: str | None, limit: int) -> Page[JobEvent]:
    """A page of a job's events, newest first, after the event ``after`` (as OpenAI pages).

    Together lists every event at once, oldest first, with no ids: events that
    repeat (same time, kind and message) are listed once, and ``after`` and
    ``limit`` are applied here so the caller's cursor logic is the same as for
    any other provider.
    """
    unique: dict[str, JobEvent] = {}
    for item in getattr(raw, "data", None) or ():
        event = to_event(item)
        unique.setdefault(event.id, event)
    ordered = list(unique.values())
    # Newest first; events of one second keep the reverse of their listed order.
    ordered.reverse()
    ordered.sort(key=lambda e: e.created_at, reverse=True)
    start = 0
    if after is not None:
        ids = [e.id for e in ordered]
        start = ids.index(after) + 1 if after in ids else len(ordered)
    chosen = ordered[start : start + limit]
    return Page(chosen, start + limit < len(ordered))


def to_checkpoint(raw: Any, job_id: str) -> Checkpoint:
    """ftkit's :class:`Checkpoint`; ``model`` is what ``from_checkpoint`` takes (job:step)."""
    step = as_int(getattr(raw, "step", None))
    return Checkpoint(
        id=f"{job_id}:{step}" if step is not None else _text(getattr(raw, "path", None)) or "",
        step=step,
        model=f"{job_id}:{step}" if step is not None else None,
        metrics={},
        created_at=unix_seconds(getattr(raw, "created_at", None)),
        raw=raw,
    )


def to_quote(raw: Any) -> PriceQuote:
    """ftkit's :class:`PriceQuote` for Together's ``estimate-price`` answer."""
    available = bool(getattr(raw, "estimation_available", False))
    return PriceQuote(
        available=available,
        total_usd=getattr(raw, "estimated_total_price", None) if available else None,
        allowed_to_proceed=getattr(raw, "allowed_to_proceed", None) if available else None,
        user_limit_usd=getattr(raw, "user_limit", None) if available else None,
        train_tokens=as_int(getattr(raw, "estimated_train_token_count", None)),
        eval_tokens=as_int(getattr(raw, "estimated_eval_token_count", None)),
        unavailable_reason=None if available else _text(getattr(raw, "unavailable_reason", None)),
        raw=raw,
    )


def _jobs(answer: Any) -> Page[Job]:
    # Together lists every job at once: no pages, no filter.
    return Page([to_job(item) for item in getattr(answer, "data", None) or ()], False)


@dataclass(frozen=True)
class FileTicket:
    """The answer to ``POST /v1/files``: where to PUT the bytes, or the identical file.

    Attributes:
        file_id: the new file's id, or (``existing``) the id of a file that already
            holds the same content.
        url: the presigned URL to PUT the bytes to (``None`` when ``existing``).
        existing: Together answered 409: identical content is stored already.
    """

    file_id: str
    url: str | None = field(default=None, repr=False)  # presigned: a credential
    existing: bool = False


# --------------------------------------------------------------------------- the request body


def _refuse(message: str) -> UsageError:
    return UsageError(f"{TOGETHER.describe()}: {message}")


def _training_method(kind: str, hyper: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    if kind == "supervised":
        return {"method": "sft", "train_on_inputs": options.pop("train_on_inputs", "auto")}
    if kind != "dpo":
        raise _refuse(f"it trains with sft or dpo, not {kind!r}")
    simpo = options.pop("simpo_gamma", None)
    dpo: dict[str, Any] = {
        "method": "dpo",
        "dpo_beta": hyper.pop("beta", None),
        "dpo_normalize_logratios_by_length": bool(
            options.pop("dpo_normalize_logratios_by_length", False)
        ),
        "rpo_alpha": options.pop("rpo_alpha", None),
        "simpo_gamma": simpo,
        # SimPO uses no reference model and normalises by length (as the SDK decides).
        "dpo_reference_free": bool(simpo),
    }
    if simpo:
        dpo["dpo_normalize_logratios_by_length"] = True
    return {k: v for k, v in dpo.items() if v is not None}


def _training_type(options: dict[str, Any]) -> dict[str, Any] | None:
    lora = options.pop("lora", None)
    settings = {
        name: options.pop(name)
        for name in ("lora_r", "lora_alpha", "lora_dropout", "lora_trainable_modules")
        if name in options
    }
    if lora is False:
        if settings:
            raise _refuse(f"{sorted(settings)} are LoRA settings, but lora=False trains fully")
        return {"type": "Full"}
    if "lora_r" not in settings:
        if settings:
            raise _refuse("LoRA settings need lora_r (the rank); without it the server decides")
        return None  # Together's default: LoRA (or the parent job's type, from a checkpoint)
    rank = int(settings["lora_r"])
    return {
        "type": "Lora",
        "lora_r": rank,
        "lora_alpha": int(settings.get("lora_alpha", rank * 2)),
        "lora_dropout": float(settings.get("lora_dropout", 0.0)),
        "lora_trainable_modules": str(settings.get("lora_trainable_modules", "all-linear")),
    }


def _scheduler(options: dict[str, Any]) -> dict[str, Any]:
    kind = options.pop("lr_scheduler_type", "cosine")
    ratio = float(options.pop("min_lr_ratio", 0.0))
    cycles = float(options.pop("scheduler_num_cycles", 0.5))
    if kind == "cosine":
        return {
            "lr_scheduler_type": "cosine",
            "lr_scheduler_args": {"min_lr_ratio": ratio, "num_cycles": cycles},
        }
    if kind == "linear":
        return {"lr_scheduler_type": "linear", "lr_scheduler_args": {"min_lr_ratio": ratio}}
    raise _refuse(f"lr_scheduler_type is 'cosine' or 'linear', not {kind!r}")


def job_body(spec: JobSpec) -> dict[str, Any]:
    """The ``POST /v1/fine-tunes`` body for ``spec``, as the SDK's ``FinetuneRequest`` dumps it.

    ftkit's hyperparameters map onto Together's (``n_epochs``, ``batch_size``,
    DPO's ``beta`` as ``dpo_beta``); ``spec.options`` carry Together's own settings
    (:data:`JOB_OPTIONS`; those of the other training method are left out, see
    :data:`METHOD_OPTIONS`). A stage that continues another job (``spec.parent_job``)
    starts ``from_checkpoint`` it instead of from ``spec.model``.

    Raises:
        UsageError: a setting Together does not take (OpenAI's learning-rate multiplier,
            metadata, an unknown option), or one in the wrong place.
    """
    if spec.metadata:
        raise _refuse("jobs keep no metadata (ftkit carries its run token in the suffix)")
    if spec.integrations:
        raise _refuse("takes no OpenAI integrations; use the wandb_* options")
    kind, hyper = spec.chosen_hyperparameters()
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
            "options(learning_rate=1e-5) and leave learning_rate_multiplier at 'auto'"
        )
    body: dict[str, Any] = {"training_file": spec.training_file}
    if spec.parent_job:
        body["from_checkpoint"] = spec.parent_job
    else:
        body["model"] = spec.model
    body["n_epochs"] = int(hyper.pop("n_epochs", 1))
    batch = hyper.pop("batch_size", "max")
    body["batch_size"] = batch if batch == "max" else int(batch)
    body["training_method"] = _training_method(kind, hyper, options)
    if hyper:
        raise _refuse(f"takes no hyperparameter {sorted(hyper)} for {kind}")
    training_type = _training_type(options)
    if training_type is not None:
        body["training_type"] = training_type
    body["lr_scheduler"] = _scheduler(options)
    if options.pop("train_vision", False):
        body["multimodal_params"] = {"train_vision": True}
    for name, default in _REQUIRED_DEFAULTS.items():
        body[name] = options.pop(name, default)
    body["n_checkpoints"] = options.pop("n_checkpoints", 1)
    body["n_evals"] = options.pop("n_evals", 0)
    body["packing"] = bool(options.pop("packing", True))
    body.update({k: v for k, v in options.items() if v is not None})
    optional = {
        "validation_file": spec.validation_file,
        "suffix": spec.suffix,
        "random_seed": spec.seed,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    return body


def estimate_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """The ``estimate-price`` body for a job body: the fields the price depends on."""
    names = ("training_file", "validation_file", "model", "from_checkpoint", "n_epochs", "n_evals")
    quote = {k: body[k] for k in names if body.get(k) is not None}
    quote["training_method"] = body["training_method"]
    if body.get("training_type") is not None:
        quote["training_type"] = body["training_type"]
    return quote


# --------------------------------------------------------------------------- the adapter


class TogetherBackend(NoUploadsApi, SdkAdapter):
    """A :class:`~ftkit.backend.Backend` over ``together.Together`` or ``together.AsyncTogether``.

    Each method builds one :class:`~ftkit.backend.Request`; ``run()`` it over the
    blocking client, ``await arun()`` it over the async one. Beyond the protocol it
    speaks Together's own steps: the presigned upload (:meth:`start_upload`,
    :meth:`put_content`, :meth:`preprocess_file`), :meth:`estimate_price`,
    :meth:`list_job_metrics`, :meth:`model_limits` and :meth:`download`.

    Args:
        client: a configured together client. It is copied with ``max_retries=0``;
            the original is left untouched.
    """

    traits: Traits = TOGETHER
    provider = TOGETHER.provider

    def __init__(self, client: together.Together | together.AsyncTogether) -> None:
        import together

        super().__init__(client, asynchronous=isinstance(client, together.AsyncTogether))

    def _then(
        self, call: Callable[[Any], Any], after: Callable[[Any], Any]
    ) -> Callable[[Any], Any]:
        """``call``, then ``after`` on its answer (awaiting both over an async client)."""
        if not self.asynchronous:
            return lambda c: after(call(c))

        async def both(c: Any) -> Any:
            return await settled(after(await call(c)))

        return both

    # files
    def list_files(
        self, *, purpose: str | None = "fine-tune", after: str | None = None, limit: int = 100
    ) -> Request[Page[TrainingFile]]:
        def translate(answer: Any) -> Page[TrainingFile]:
            files = [to_file(f) for f in getattr(answer, "data", None) or ()]
            if purpose is not None:
                files = [f for f in files if f.purpose in (None, purpose)]
            return Page(files, False)  # no pagination: ``after`` has nothing to page

        return self._request(lambda c: c.files.list(), translate)

    def retrieve_file(self, file_id: str) -> Request[TrainingFile]:
        return self._request(lambda c: c.files.retrieve(file_id), to_file)

    def create_file(
        self, *, filename: str, content: bytes | Path, purpose: str = "fine-tune"
    ) -> Request[TrainingFile]:
        raise UsageError(
            f"{TOGETHER.describe()} uploads through a presigned URL: use ftkit.backend.upload_file"
        )

    def import_file(
        self, *, filename: str, content_url: str, purpose: str = "fine-tune"
    ) -> Request[TrainingFile]:
        raise self._unsupported("file import from a URL")

    def delete_file(self, file_id: str) -> Request[bool]:
        return self._request(
            lambda c: c.files.delete(file_id), lambda a: bool(getattr(a, "deleted", False))
        )

    def file_content(self, file_id: str) -> Request[bytes]:
        call = self._then(lambda c: c.files.content(file_id), lambda answer: answer.read())
        return self._request(call, bytes)

    def start_upload(
        self, *, filename: str, sha256: str, purpose: str = "fine-tune"
    ) -> Request[FileTicket]:
        """``POST /v1/files``: a presigned URL for the bytes, or the file that holds them already.

        As the SDK sends it: a form with ``purpose``, ``file_name``, ``file_type`` and
        the content's sha256 ``checksum``, redirects not followed. 302 carries the URL
        and the new file's id; 409 means identical content is stored already, and its
        answer names that file.
        """
        import httpx
        import together

        form = {"purpose": purpose, "file_name": filename, "file_type": "jsonl", "checksum": sha256}
        options: Any = {
            "headers": {"Content-Type": "multipart/form-data"},
            "follow_redirects": False,
        }

        def answered(error: together.APIStatusError) -> httpx.Response:
            if error.status_code in (302, 409):
                return error.response
            raise error

        if self.asynchronous:

            async def call(c: Any) -> httpx.Response:
                try:
                    response: httpx.Response = await c.post(
                        "/v1/files", body=form, cast_to=httpx.Response, options=options
                    )
                    return response
                except together.APIStatusError as error:
                    return answered(error)

        else:

            def call(c: Any) -> httpx.Response:  # type: ignore[misc]
                try:
                    response: httpx.Response = c.post(
                        "/v1/files", body=form, cast_to=httpx.Response, options=options
                    )
                    return response
                except together.APIStatusError as error:
                    return answered(error)

        return self._request(call, _ticket)

    def put_content(self, url: str, content: bytes) -> Request[None]:
        """``PUT`` the bytes to a presigned URL (through the client's own HTTP client).

        The URL is a credential: it is scrubbed from every error. A PUT to the same URL
        replaces the object, so it is safe to repeat. It waits as long as the client's
        own ``timeout`` says (the SDK's default: 60 s per read or write), as the SDK's
        requests do, not the HTTP client's bare default.
        """
        call = signed_put(url, content, {}, asynchronous=self.asynchronous)
        return self._request(call, lambda _: None, secrets=url_secrets(url))

    def preprocess_file(self, file_id: str) -> Request[TrainingFile]:
        """``POST /v1/files/{id}/preprocess``: start Together's server-side validation."""
        from together.types import FileResponse

        return self._request(
            lambda c: c.post(f"/v1/files/{file_id}/preprocess", cast_to=FileResponse), to_file
        )

    # jobs
    def create_job(self, spec: JobSpec) -> Request[Job]:
        from together.types import FinetuneResponse

        body = job_body(spec)
        return self._request(
            lambda c: c.post("/v1/fine-tunes", body=body, cast_to=FinetuneResponse), to_job
        )

    def retrieve_job(self, job_id: str) -> Request[Job]:
        return self._request(lambda c: c.fine_tuning.retrieve(job_id), to_job)

    def list_jobs(
        self,
        *,
        metadata: Mapping[str, str] | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> Request[Page[Job]]:
        # No filter, no pages: every job at once; the caller recognises its own.
        return self._request(lambda c: c.fine_tuning.list(), _jobs)

    def cancel_job(self, job_id: str) -> Request[Job]:
        return self._request(lambda c: c.fine_tuning.cancel(job_id), to_job)

    def pause_job(self, job_id: str) -> Request[Job]:
        raise self._unsupported("pause for jobs")

    def resume_job(self, job_id: str) -> Request[Job]:
        raise self._unsupported("resume for jobs")

    def list_job_events(
        self, job_id: str, *, after: str | None = None, limit: int = 100
    ) -> Request[Page[JobEvent]]:
        return self._request(
            lambda c: c.fine_tuning.list_events(job_id), lambda a: events_page(a, after, limit)
        )

    def list_job_checkpoints(
        self, job_id: str, *, after: str | None = None, limit: int = 100
    ) -> Request[Page[Checkpoint]]:
        def translate(answer: Any) -> Page[Checkpoint]:
            found = [to_checkpoint(c, job_id) for c in getattr(answer, "data", None) or ()]
            found.sort(key=lambda c: c.step or 0, reverse=True)  # newest first, as OpenAI's
            return Page(found[:limit], len(found) > limit)

        return self._request(lambda c: c.fine_tuning.list_checkpoints(job_id), translate)

    def list_job_metrics(self, job_id: str) -> Request[list[dict[str, Any]]]:
        """``GET /v1/fine-tunes/{id}/metrics``: the recorded training metrics, in order.

        Together names the step ``global_step``; each row also gets ``step`` (an int),
        as the rows of OpenAI's result file have it.
        """

        def translate(answer: Any) -> list[dict[str, Any]]:
            rows = []
            for row in getattr(answer, "metrics", None) or ():
                parsed: dict[str, Any] = dict(row)
                step = parsed.get("global_step", parsed.get("step"))
                if isinstance(step, (int, float)) and float(step).is_integer():
                    parsed["step"] = int(step)
                rows.append(parsed)
            return rows

        return self._request(lambda c: c.fine_tuning.list_metrics(job_id), translate)

    def estimate_price(self, spec: JobSpec) -> Request[PriceQuote]:
        """``POST /v1/fine-tunes/estimate-price`` for the job ``spec`` would create."""
        quote = estimate_body(job_body(spec))
        return self._request(lambda c: c.fine_tuning.estimate_price(**quote), to_quote)

    def model_limits(self, model: str) -> Request[Any]:
        """``GET /v1/fine-tunes/models/limits``: the SDK's ``FinetuneModelLimits`` for ``model``."""
        return self._request(lambda c: c.fine_tuning.model_limits(model_name=model), lambda a: a)

    # models
    def retrieve_model(self, model: str) -> Request[RemoteModel]:
        """The base model's fine-tuning limits stand for it: Together answers them only for a
        model it can fine-tune (a base model, or a fine-tune's output to continue from)."""
        return self._request(
            lambda c: c.fine_tuning.model_limits(model_name=model),
            lambda a: RemoteModel(id=model, owned_by=None, retires_on=None, raw=a),
        )

    def download(
        self,
        job_id: str,
        destination: str | os.PathLike[str],
        *,
        checkpoint: Literal["merged", "adapter", "model_output_path"] = "merged",
        step: int | None = None,
    ) -> Request[Path]:
        """``GET /v1/finetune/download``: stream the weights to ``destination``, atomically.

        ``checkpoint`` is ``"merged"`` or ``"adapter"`` for a LoRA job and
        ``"model_output_path"`` for a fully trained one (as the SDK's CLI sends them);
        ``step`` picks an intermediate checkpoint. The bytes go to a temporary file beside
        ``destination``, renamed over it only once complete; a failed or interrupted
        download leaves nothing behind, and a connection lost mid-stream is a retryable
        :class:`~ftkit.APIError`. ``destination`` may be a directory (an existing one, or
        a path ending in ``/``): the file is then named as Together names it.
        """
        import httpx

        given = os.fspath(destination)
        target = Path(given)
        if given.endswith(("/", os.sep)):
            target.mkdir(parents=True, exist_ok=True)
        query: dict[str, Any] = {"ft_id": job_id, "checkpoint": checkpoint}
        if step is not None:
            query["checkpoint_step"] = step

        def broken(error: httpx.HTTPError) -> APIError:
            return APIError(
                f"the download of {job_id}'s weights broke off ({type(error).__name__})",
                retryable=True,
                ambiguous=False,  # a read: nothing was changed, try again
            )

        if self.asynchronous:

            async def call(c: Any) -> Path:
                resource = c.fine_tuning.with_streaming_response
                try:
                    async with resource.content(**query) as response:
                        with _partial(target, response.http_response) as (handle, final):
                            async for chunk in response.iter_bytes():
                                handle.write(chunk)
                except httpx.HTTPError as error:
                    raise broken(error) from None
                return final()

        else:

            def call(c: Any) -> Path:  # type: ignore[misc]
                resource = c.fine_tuning.with_streaming_response
                try:
                    with (
                        resource.content(**query) as response,
                        _partial(target, response.http_response) as (handle, final),
                    ):
                        for chunk in response.iter_bytes():
                            handle.write(chunk)
                except httpx.HTTPError as error:
                    raise broken(error) from None
                return final()

        return self._request(call, lambda path: path)


def _ticket(response: Any) -> FileTicket:
    status = getattr(response, "status_code", None)
    headers = getattr(response, "headers", {}) or {}
    if status == 409:
        try:
            found = response.json()
        except ValueError:
            found = None
        file_id = found.get("file_id") if isinstance(found, Mapping) else None
        if isinstance(file_id, str) and file_id:
            return FileTicket(file_id=file_id, existing=True)
        raise APIError("HTTP 409 from Together without the identical file's id", status_code=409)
    url, file_id = headers.get("Location"), headers.get("X-Together-File-Id")
    if status != 302 or not url or not file_id:
        raise APIError(
            f"HTTP {status} from Together's file upload without a presigned URL and file id",
            status_code=status,
            # The file may exist now: look before asking again.
            ambiguous=True,
        )
    return FileTicket(file_id=str(file_id), url=str(url))


class _partial:
    """A temporary file beside ``target``, renamed over the final name only when complete."""

    def __init__(self, target: Path, response: Any) -> None:
        self._target = target
        self._name = _download_name(response)
        self._final: Path | None = None

    def __enter__(self) -> tuple[Any, Callable[[], Path]]:
        final = self._target / self._name if self._target.is_dir() else self._target
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent)
        self._temp, self._final_path = Path(temp), final
        self._handle = os.fdopen(fd, "wb")
        return self._handle, self._done

    def _done(self) -> Path:
        assert self._final is not None
        return self._final

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        self._handle.close()
        if kind is None:
            os.replace(self._temp, self._final_path)
            self._final = self._final_path
        else:
            self._temp.unlink(missing_ok=True)


def _download_name(response: Any) -> str:
    disposition = str(getattr(response, "headers", {}).get("content-disposition", ""))
    for part in disposition.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "filename" and value:
            name = Path(value.strip('"')).name
            if name and name not in (".", ".."):
                return name
    return "model.tar.zst"

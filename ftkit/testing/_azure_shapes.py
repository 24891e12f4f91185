"""Azure OpenAI's objects in its own shapes: the fake's one truth, as Azure's APIs show it.

The resource stores keep their objects in OpenAI's shapes. Azure's dated API
(``/openai/...?api-version=2025-04-01-preview``) shows them as its spec
(``azureopenai.yaml``: ``FineTuningJob``, ``File``, ``Model``, ``UploadResource``)
types them:

- job statuses in Azure's words: ``pending`` while the files are validated and
  the job is queued, ``resuming`` for a resumed job waiting to restart, then
  ``running``, ``paused``, ``succeeded``, ``failed``, ``cancelled``; a scripted status
  passes through;
- a job's ``suffix`` and ``organisation_id`` (so spelled), no ``metadata`` and no
  ``user_provided_suffix``; hyperparameters at the top level and numbers only (one
  not chosen yet reads ``-1``, as the spec's examples show), ``method`` as
  ``{"type": ...}`` (DPO's hyperparameters under ``method.dpo``, as requested);
- no ``null`` anywhere: the spec marks no property nullable and its examples leave
  out what has no value (``fine_tuned_model`` until success, ``error`` unless failed,
  ``result_files`` until there are some); the openai SDK reads a missing field as None;
- event levels ``warning`` (not ``warn``); lists without ``first_id``/``last_id``;
- files ``pending`` while processed, ``error`` with ``status_details``;
- models with ``capabilities``, ``lifecycle_status`` and ``deprecation``.

The v1 API (``/openai/v1/``) answers in OpenAI's shapes (as its spec, the
``OpenAI.*`` schemas, has them: a job's ``error`` is ``null`` unless it failed,
:func:`v1_job`); its file statuses are Azure's (:func:`azure_file`).
"""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from typing import Any

from ..providers import ModelInfo
from ._files import FileRecord
from ._job_record import JobRecord
from ._uploads import UploadRecord

__all__ = [
    "DATED_STATUSES",
    "azure_file",
    "base_model_object",
    "dated_event",
    "dated_file",
    "dated_job",
    "dated_list",
    "dated_part",
    "dated_status",
    "dated_upload",
    "fine_tuned_model_object",
    "open_source",
    "v1_job",
]

DATED_STATUSES = frozenset(
    {"created", "pending", "running", "pausing", "paused", "resuming"}
    | {"succeeded", "cancelled", "failed"}
)
"""``FineTuningState`` in the dated spec (``created`` is "not returned by Azure OpenAI")."""

# The fake's progression (OpenAI's words) in the dated API's words.
_STATUS_WORDS = {"validating_files": "pending", "queued": "pending"}
_COMMON_HYPERPARAMETERS = ("n_epochs", "batch_size", "learning_rate_multiplier")
_UNCHOSEN = -1
"""What a hyperparameter not chosen yet reads (``"n_epochs": -1`` in the spec's examples)."""


def dated_status(job: JobRecord) -> str:
    """A job's status in the dated API's words."""
    if job.status == "queued" and (job.run_done > 0 or job.steps_emitted > 0):
        return "resuming"  # resumed after a pause, waiting for its capacity again
    return _STATUS_WORDS.get(job.status, job.status)


def dated_job(job: JobRecord) -> dict[str, Any]:
    """``FineTuningJob`` of the dated API."""
    api = job.to_api()
    hyper = {
        name: _number(job.hyperparameters[name])
        for name in _COMMON_HYPERPARAMETERS
        if name in job.hyperparameters
    }
    method: dict[str, Any] = {"type": job.request.method}
    if job.request.method != "supervised":
        method[job.request.method] = {
            **job.request.extra_method,
            "hyperparameters": {k: _number(v) for k, v in job.hyperparameters.items()},
        }
    body = {
        "object": "fine_tuning.job",
        "id": job.id,
        "created_at": job.created_at,
        "status": dated_status(job),
        "model": job.model,
        "fine_tuned_model": job.fine_tuned_model,
        "training_file": job.request.training_file,
        "validation_file": job.request.validation_file,
        "result_files": list(job.result_files) or None,
        "finished_at": job.finished_at,
        "organisation_id": job.organization_id,
        "trained_tokens": job.trained_tokens,
        "error": job.error,
        "estimated_finish": api["estimated_finish"],
        "hyperparameters": hyper,
        "suffix": job.request.suffix,
        "seed": job.seed,
        "integrations": job.request.integrations,
        "method": method,
    }
    return _without_nulls(body)


def v1_job(job: JobRecord) -> dict[str, Any]:
    """``OpenAI.FineTuningJob`` of the v1 API: OpenAI's job, ``error`` null unless failed.

    The v1 spec makes ``error`` nullable and its ``code`` and ``message`` required
    strings, so a job that did not fail says ``null`` rather than OpenAI's all-null object.
    """
    body = job.to_api()
    if job.error is None:
        body["error"] = None
    return body


def dated_event(event: dict[str, Any]) -> dict[str, Any]:
    """``FineTuningJobEvent``: ``level`` is ``info``, ``warning`` or ``error``."""
    level = "warning" if event.get("level") == "warn" else event.get("level")
    return _without_nulls({**event, "level": level})


def dated_list(data: list[dict[str, Any]], has_more: bool | None) -> dict[str, Any]:
    """A dated list: ``object``, ``data`` and (where its schema has it) ``has_more``."""
    body: dict[str, Any] = {"object": "list", "data": data}
    if has_more is not None:
        body["has_more"] = has_more
    return body


def azure_file(body: dict[str, Any]) -> dict[str, Any]:
    """A file object with Azure's status words: ``pending`` until processed (both APIs)."""
    if body.get("status") == "uploaded":
        return {**body, "status": "pending"}
    return body


def dated_file(record: FileRecord) -> dict[str, Any]:
    """``File`` of the dated API."""
    return azure_file(record.to_api())


def dated_upload(upload: UploadRecord) -> dict[str, Any]:
    """``UploadResource``: its file nested once completed, left out before."""
    body = upload.to_api()
    if upload.file is not None:
        body["file"] = dated_file(upload.file)
    return _without_nulls(body)


def dated_part(part: dict[str, Any]) -> dict[str, Any]:
    """``UploadPartResource``: Azure adds the id of the storage block the part became."""
    block = base64.b64encode(str(part["id"]).encode()).decode()
    return {**part, "azure_block_id": block}


def open_source(info: ModelInfo) -> bool:
    """Whether a model trains only as Global Standard (Azure's open-source models)."""
    tiers: frozenset[str] = getattr(info, "training_types", None) or frozenset()
    return bool(tiers) and "standard" not in tiers


def base_model_object(info: ModelInfo, *, retired: bool) -> dict[str, Any]:
    """``Model`` of a base model: capabilities, lifecycle and deprecation dates.

    ``capabilities.fine_tune`` is false for the open-source models, as Microsoft's own
    fine-tuning skill reports the service to answer (its platform gotcha: "Model catalog
    ``fine_tune`` flag is wrong for OSS models"): code must not gate training on it.
    """
    trainable = bool(info.methods) and info.fine_tunable is not False and not open_source(info)
    return {
        "id": info.name,
        "object": "model",
        "created_at": info.created or 0,
        "status": "succeeded",
        "capabilities": _capabilities(fine_tune=trainable),
        "lifecycle_status": "deprecated" if retired else "generally-available",
        "deprecation": _deprecation(info, fine_tune=True),
    }


def fine_tuned_model_object(
    name: str, *, created: int, base: ModelInfo, job_id: str | None
) -> dict[str, Any]:
    """``Model`` of a fine-tuned model (or checkpoint): its base and its job."""
    return _without_nulls(
        {
            "id": name,
            "object": "model",
            "created_at": created,
            "status": "succeeded",
            "model": base.name,
            "fine_tune": job_id,
            # The spec's example of a fine-tuned model says false; the fake still takes
            # it as the base of another job, as Learn documents continued fine-tuning.
            "capabilities": _capabilities(fine_tune=False),
            "lifecycle_status": "generally-available",
            "deprecation": _deprecation(base, fine_tune=False),
        }
    )


def _capabilities(*, fine_tune: bool) -> dict[str, bool]:
    return {
        "fine_tune": fine_tune,
        "inference": True,
        "completion": False,
        "chat_completion": True,
        "embeddings": False,
    }


def _deprecation(info: ModelInfo, *, fine_tune: bool) -> dict[str, int]:
    """The catalog's one shutdown date, as the end of fine-tuning and (a bound) of inference.

    The spec requires ``inference``; the catalog knows no separate inference date, so
    the shutdown date stands for it, and a model without one has no dates at all.
    """
    if info.shutdown is None:
        return {}
    day = datetime.fromisoformat(info.shutdown).replace(tzinfo=timezone.utc)
    stamp = int(day.timestamp())
    return {"fine_tune": stamp, "inference": stamp} if fine_tune else {"inference": stamp}


def _number(value: Any) -> Any:
    return _UNCHOSEN if value == "auto" else value


def _without_nulls(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` without its ``None`` values, in nested objects too (not inside lists)."""
    out: dict[str, Any] = {}
    for key, value in body.items():
        if value is None:
            continue
        if isinstance(value, dict):
            value = _without_nulls(value)
        elif isinstance(value, list):
            value = [_without_nulls(v) if isinstance(v, dict) else v for v in value]
        out[key] = value
    return out

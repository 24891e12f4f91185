"""Together AI's objects in its own shapes: the shared stores' records, as Together shows them.

The resource stores keep jobs and files in OpenAI's terms (one mechanism for every
provider: the :class:`~ftkit.testing._training.Trainer` moves a Together job too).
This module is Together's view of them, as the together SDK 3.1.1 types it
(``types/finetune_response.py``, ``file_response.py``, ``finetune_event.py``,
``fine_tuning_list_checkpoints_response.py``):

- job statuses in Together's words: ``pending`` while the files are validated,
  ``queued``, ``running``, then after training ``compressing`` and ``uploading`` for
  :data:`COMPRESSING_SECONDS` and :data:`UPLOADING_SECONDS` of virtual time before
  ``completed``; ``error`` for a failed job; a cancelled job reads ``cancel_requested``
  for :data:`CANCELLING_SECONDS`, then ``cancelled``;
- timestamps of jobs, events and checkpoints as ISO-8601 strings (files keep Unix ints);
- events typed as Together types them (``job_pending``, ``job_start``,
  ``training_start``, ``epoch_complete``, ``checkpoint_save``, ``training_complete``,
  ``model_compressing``, ``model_uploading``, ``model_upload_complete``,
  ``job_complete``, ``job_error``, ``cancel_requested``...), oldest first, with no ids,
  each with every field the spec requires (``step``, ``total_steps``, ``checkpoint_path``,
  ``hash``...; 0 or ``""`` where the event has no value);
- checkpoints as Together saves them: ``n_checkpoints`` in all, the last one the final
  model (``checkpoint_type`` ``"Intermediate"`` / ``"Final"``: the words are the fake's,
  the spec types it as a free string);
- metrics rows of floats keyed ``global_step``, ``train_loss``, ``eval_loss``...

The durations after training are the fake's own (Together publishes none).
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

from ._files import FileRecord
from ._job_record import JobRecord

__all__ = [
    "CANCELLING_SECONDS",
    "COMPRESSING_SECONDS",
    "UPLOADING_SECONDS",
    "checkpoint_steps",
    "checkpoints",
    "completed_at",
    "file_object",
    "iso",
    "job_events",
    "job_object",
    "metrics_rows",
    "processing_status",
    "request_of",
    "together_status",
]

COMPRESSING_SECONDS = 30.0
"""Virtual seconds a trained job is ``compressing`` (the fake's own figure)."""
UPLOADING_SECONDS = 30.0
"""Virtual seconds a compressed job is ``uploading`` before ``completed`` (the fake's own)."""
CANCELLING_SECONDS = 10.0
"""Virtual seconds a cancelled job reads ``cancel_requested`` before ``cancelled``."""

_STATUS_WORDS = {"validating_files": "pending", "failed": "error"}
_EVENT_ZEROS: dict[str, Any] = {
    "param_count": 0,
    "token_count": 0,
    "total_steps": 0,
    "wandb_url": "",
    "step": 0,
    "checkpoint_path": "",
    "model_path": "",
    "training_offset": 0,
    "hash": "",
}
"""The fields every event carries (Together's spec requires them all), zero unless told."""
_EVENT_LEVELS = {"info": "info", "warn": "warning", "error": "error"}


def iso(seconds: float) -> str:
    """Unix seconds as Together writes times: ISO-8601 in UTC with milliseconds and ``Z``."""
    moment = datetime.fromtimestamp(seconds, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def request_of(job: JobRecord) -> dict[str, Any]:
    """The Together request a job was created with, as the dialect checked it."""
    found: dict[str, Any] = job.options.get("together", {})
    return found


# ------------------------------------------------------------------- jobs
def completed_at(job: JobRecord) -> float | None:
    """When a trained job is ``completed`` (after compressing and uploading), else None."""
    if job.status != "succeeded":
        return None
    return job.phase_started + COMPRESSING_SECONDS + UPLOADING_SECONDS


def together_status(job: JobRecord) -> str:
    """A job's status in Together's words, read from the record and the clock."""
    now = job.now()
    if job.status == "succeeded":
        trained = job.phase_started
        if now < trained + COMPRESSING_SECONDS:
            return "compressing"
        if now < trained + COMPRESSING_SECONDS + UPLOADING_SECONDS:
            return "uploading"
        return "completed"
    if job.status == "cancelled":
        return "cancel_requested" if now < job.phase_started + CANCELLING_SECONDS else "cancelled"
    # validating_files -> pending, failed -> error; queued and running as they are; a
    # scripted status passes through.
    return _STATUS_WORDS.get(job.status, job.status)


def checkpoint_steps(job: JobRecord) -> list[int]:
    """The steps Together saves a checkpoint at: ``n_checkpoints`` spread evenly, the last final."""
    total = job.total_steps
    if total <= 0:
        return []
    wanted = max(1, int(request_of(job).get("n_checkpoints") or 1))
    steps = {max(1, round(i * total / wanted)) for i in range(1, wanted + 1)}
    return sorted(step for step in steps if step <= total)


def _step_times(job: JobRecord) -> dict[int, int]:
    """Step -> the virtual time it was reached (from the record's metrics events)."""
    return {
        int(event["data"]["step"]): int(event["created_at"])
        for event in job.events
        if event.get("type") == "metrics" and "step" in event.get("data", {})
    }


def _is_lora(job: JobRecord) -> bool:
    return bool(request_of(job).get("training_type", {}).get("type") == "Lora")


def checkpoint_path(job: JobRecord, step: int) -> str:
    """Where the fake says a checkpoint is stored (an address of its own, never fetched)."""
    return f"s3://fake-together-checkpoints/{job.id}/checkpoint-{step}"


def checkpoints(job: JobRecord) -> list[dict[str, Any]]:
    """``FineTuningListCheckpointsResponse.data``: the checkpoints saved so far, oldest first."""
    times = _step_times(job)
    steps = checkpoint_steps(job)
    done = completed_at(job)
    kind = "adapter" if _is_lora(job) else "model"
    out: list[dict[str, Any]] = []
    for step in steps:
        final = step == job.total_steps
        if final:
            if done is None or job.now() < done:
                continue
            at: float = done
        elif step in times:
            at = times[step]
        else:
            continue
        out.append(
            {
                "checkpoint_type": "Final" if final else "Intermediate",
                "created_at": iso(at),
                "path": checkpoint_path(job, step),
                "step": step,
                "checkpoint": kind,
                "object_name": f"{job.fine_tuned_name}-step-{step}",
            }
        )
    return out


def job_events(job: JobRecord) -> list[dict[str, Any]]:
    """``FineTuningListEventsResponse.data``: the job's history in Together's words, oldest first.

    Read from the shared record's events (the Trainer dates each at the moment it
    happened), plus the phases after training, each once the clock has reached it.
    """
    now = job.now()
    total = job.total_steps
    per_epoch = job.steps_per_epoch
    saved = set(checkpoint_steps(job)) - {total}
    out: list[dict[str, Any]] = []

    def add(at: float, kind: str, message: str, level: str = "info", **more: Any) -> None:
        out.append(
            {
                "object": "fine-tune-event",
                "created_at": iso(at),
                "level": level,
                "message": message,
                "type": kind,
                **_EVENT_ZEROS,
                **more,
            }
        )

    for event in job.events:
        message, at, level = event["message"], event["created_at"], event.get("level", "info")
        if event.get("type") == "metrics":
            step = int(event["data"]["step"])
            if per_epoch and step % per_epoch == 0:
                epoch = step // per_epoch
                add(
                    at,
                    "epoch_complete",
                    f"Epoch {epoch} completed, at step {step}",
                    step=step,
                    total_steps=total,
                )
            if step in saved:
                add(
                    at,
                    "checkpoint_save",
                    f"New checkpoint saved at step {step}",
                    step=step,
                    total_steps=total,
                    checkpoint_path=checkpoint_path(job, step),
                )
        elif message.startswith("Created fine-tuning job"):
            add(at, "job_pending", "Fine-tune request created")
        elif message == "Fine-tuning job started":
            add(at, "job_start", "Job started")
            add(at, "training_start", "Training started", total_steps=total)
        elif message.startswith("New fine-tuned model created"):
            trained = job.phase_started if job.status == "succeeded" else at
            add(trained, "training_complete", "Training completed", step=total, total_steps=total)
        elif message == "Fine-tuning job cancelled":
            add(at, "cancel_requested", "Cancel requested")
            if now >= job.phase_started + CANCELLING_SECONDS:
                add(job.phase_started + CANCELLING_SECONDS, "job_stopped", "Job stopped")
        elif level == "error":
            add(at, "job_error", message, level="error")
        elif level == "warn":
            add(at, "warning", message, level="warning")
    if job.status == "succeeded":
        trained = job.phase_started
        add(trained, "model_compressing", "Compressing output model")
        uploading = trained + COMPRESSING_SECONDS
        if now >= uploading:
            add(uploading, "model_uploading", "Uploading output model")
        done = uploading + UPLOADING_SECONDS
        if now >= done:
            add(done, "model_upload_complete", f"Model upload complete: {job.fine_tuned_name}")
            add(done, "job_complete", "Job finished")
    return out


def metrics_rows(job: JobRecord) -> list[dict[str, float]]:
    """``FineTuningListMetricsResponse.metrics``: one row of floats per training step so far."""
    rows: list[dict[str, float]] = []
    per_epoch = job.steps_per_epoch or 1
    rate = float(request_of(job).get("learning_rate") or 0.0)
    for row in job.metrics:
        step = float(row["step"])
        shown = {
            "global_step": step,
            "epoch": round(step / per_epoch, 4),
            "train_loss": float(row["train_loss"]),
            "learning_rate": rate,
        }
        if "valid_loss" in row:
            shown["eval_loss"] = float(row["valid_loss"])
        rows.append(shown)
    return rows


def _progress(job: JobRecord, status: str) -> dict[str, Any] | None:
    if status != "running" or job.script is not None:
        return None
    left = job.phase_started + (job.run_total - job.run_done) - job.now()
    return {"estimate_available": True, "seconds_remaining": max(0, math.ceil(left))}


def job_object(job: JobRecord, *, with_events: bool = False) -> dict[str, Any]:
    """``FinetuneResponse`` (and a ``FineTuningListResponse`` item): a job as Together shows it.

    ``suffix``, ``training_file`` and ``validation_file`` echo the request exactly; no
    credential it carried (``wandb_key``, ``hf_api_token``) is ever shown. A field with
    no value (no ``suffix`` asked for, not started yet...) is absent.
    """
    request = request_of(job)
    status = together_status(job)
    events = job_events(job)
    started = next((e["created_at"] for e in events if e["type"] == "job_start"), None)
    steps = job.steps_emitted if job.status != "succeeded" else job.total_steps
    per_epoch = job.steps_per_epoch or 1
    report = job.report
    body: dict[str, Any] = {
        "id": job.id,
        "status": status,
        "user_id": job.organization_id,
        "created_at": iso(job.created_at),
        "updated_at": events[-1]["created_at"] if events else iso(job.created_at),
        "started_at": started,
        "model": job.model,
        "model_output_name": job.fine_tuned_name,
        "adapter_output_name": f"{job.fine_tuned_name}-adapter" if _is_lora(job) else None,
        "from_checkpoint": request.get("from_checkpoint"),
        "training_file": request.get("training_file"),
        "validation_file": request.get("validation_file"),
        "suffix": request.get("suffix"),
        "n_epochs": request.get("n_epochs"),
        "n_checkpoints": request.get("n_checkpoints"),
        "n_evals": request.get("n_evals"),
        "batch_size": request.get("batch_size"),
        "learning_rate": request.get("learning_rate"),
        "lr_scheduler": request.get("lr_scheduler"),
        "warmup_ratio": request.get("warmup_ratio"),
        "max_grad_norm": request.get("max_grad_norm"),
        "weight_decay": request.get("weight_decay"),
        "max_seq_length": request.get("max_seq_length"),
        "packing": request.get("packing"),
        "random_seed": request.get("random_seed"),
        "training_type": request.get("training_type"),
        "training_method": request.get("training_method"),
        "train_on_inputs": request.get("training_method", {}).get("train_on_inputs"),
        "multimodal_params": request.get("multimodal_params"),
        "wandb_project_name": request.get("wandb_project_name"),
        "wandb_name": request.get("wandb_name"),
        "wandb_entity": request.get("wandb_entity"),
        "token_count": report.tokens if report is not None else None,
        "trainingfile_numlines": report.examples if report is not None else None,
        "trainingfile_size": request.get("training_file_size"),
        "total_steps": job.total_steps or None,
        "steps_completed": steps,
        "epochs_completed": steps // per_epoch,
        "evals_completed": 0,
        "queue_depth": 0 if status == "queued" else None,
        "progress": _progress(job, status),
    }
    if with_events:
        body["events"] = events
    # A field with no value is left out, not null: the spec types none of them nullable,
    # and the SDK reads a missing field as None all the same.
    return {key: value for key, value in body.items() if value is not None}


# ------------------------------------------------------------------ files
def processing_status(record: FileRecord) -> str | None:
    """``processing_status``: PENDING until preprocessed, QUEUED, RUNNING, then the verdict.

    Files of a purpose that is not validated (anything but a ``fine-tune`` JSONL file)
    have none.
    """
    options = record.options
    if not options.get("validated", True):
        return None
    started = options.get("preprocess_started")
    if started is None:
        return "PENDING"
    now = record.now()
    if now < record.processed_at:
        halfway = started + (record.processed_at - started) / 2
        return "QUEUED" if now < halfway else "RUNNING"
    report: dict[str, Any] = options.get("report", {})
    if report.get("valid"):
        return "COMPLETED"
    return "INVALID_FORMAT" if report.get("error_type") == "INVALID_FORMAT" else "FAILED"


def file_object(record: FileRecord) -> dict[str, Any]:
    """``FileResponse``: a file as Together shows it (``FileType`` so spelled, Unix times)."""
    options = record.options
    status = processing_status(record)
    body: dict[str, Any] = {
        "id": record.id,
        "object": "file",
        "bytes": len(record.content),
        "created_at": record.created_at,
        "filename": record.filename,
        "FileType": options.get("file_type", "jsonl"),
        "purpose": record.purpose,
        # Required by the spec; the together SDK 3.1.1 reads processing_status instead.
        # True once the verdict is in.
        "Processed": status in ("COMPLETED", "FAILED", "INVALID_FORMAT"),
    }
    if status is not None:
        body["processing_status"] = status
    if status in ("COMPLETED", "FAILED", "INVALID_FORMAT"):
        body["validation_report"] = {"file_id": record.id, **options.get("report", {})}
    return body

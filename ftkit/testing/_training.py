"""How a job moves in the fake: a pure function of the virtual clock (or of a script).

:meth:`Trainer.advance` replays every transition whose time has come, dating
each one at the moment it happened (not when it was observed):

- ``validating_files`` for ``Timings.validating_files`` seconds, then the training
  (and validation) file is judged with ftkit's rules: ``failed`` with
  ``invalid_training_file`` / ``invalid_validation_file`` or ``queued``;
- ``queued`` for ``Timings.queued`` seconds, then ``running``;
- ``running`` for ``max(Timings.min_running, total_steps * Timings.seconds_per_step)``
  seconds, emitting one metrics event per step and a checkpoint at each of the last
  three epochs, then ``succeeded`` with the fine-tuned model, ``trained_tokens`` and a
  result file;
- ``pausing`` lasts ``Timings.pausing`` seconds, then ``paused`` (pause and resume
  themselves are job operations, in ``_jobs``).

A scripted job (``script_next_job``) ignores the clock: :meth:`Trainer.play_script`
moves it one scripted status per retrieve. So the same sequence of calls and clock
moves always yields the same answers.
"""

from __future__ import annotations

import base64
import math
import random
from dataclasses import dataclass

from ._chat import FakeChat
from ._core import Core
from ._files import FileStore
from ._job_record import TERMINAL, JobRecord, add_event
from ._models import ModelStore
from ._serverside import FileReport, auto_batch_size, auto_epochs, inspect_training_file

__all__ = ["Trainer"]

_RESULT_COLUMNS = (
    "step",
    "train_loss",
    "train_mean_token_accuracy",
    "valid_loss",
    "valid_mean_token_accuracy",
)
_RESULT_HEADER = "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"


# A timed phase that only hands over: what follows it, and the event saying so.
_HANDOVERS = {
    "queued": ("running", "Fine-tuning job started"),
    "pausing": ("paused", "Fine-tuning job paused"),
}


@dataclass(frozen=True)
class Trainer:
    """Moves jobs through their phases and produces what a succeeded job leaves behind.

    Attributes:
        core: the clock, ids and timings.
        files: where training files are read and result files stored.
        models: where a succeeded job's model and checkpoints are published.
        chat: told what each fine-tuned model learned.
        result_files_base64: store result files base64-encoded.
    """

    core: Core
    files: FileStore
    models: ModelStore
    chat: FakeChat
    result_files_base64: bool

    def advance(self, job: JobRecord) -> None:
        """Bring a (clock-driven) job up to the current virtual time."""
        if job.script is not None:
            return
        now = self.core.now()
        while job.status in ("validating_files", "queued", "running", "pausing"):
            end = job.phase_started + self._duration(job)
            if job.status == "running":
                self._emit_steps(job, min(now, end))
            if now < end:
                return
            if job.status == "validating_files":
                self._validate(job, end)
            elif job.status == "running":
                job.run_done = job.run_total
                self._succeed(job, end)
            else:
                job.status, message = _HANDOVERS[job.status]
                job.phase_started = end
                add_event(self.core, job, int(end), message)

    def _duration(self, job: JobRecord) -> float:
        """How long the job's current phase lasts (what is left of it, for training)."""
        t = self.core.timings
        if job.status == "running":
            return job.run_total - job.run_done
        timed = {"validating_files": t.validating_files, "queued": t.queued, "pausing": t.pausing}
        return timed[job.status]

    def play_script(self, job: JobRecord) -> None:
        """Move a scripted job to its next status (the last one repeats)."""
        assert job.script is not None
        status = job.script.popleft() if len(job.script) > 1 else job.script[0]
        if status == job.status and status not in TERMINAL:
            return
        at = self.core.now()
        if status == "succeeded":
            if job.report is None:
                record = self.files.find(job.request.training_file)
                job.report = inspect_training_file(
                    record.content if record else b"", method=job.request.method, model=job.base
                )
                if not job.report.ok:
                    job.report = FileReport(job.report.examples or 1, job.report.tokens)
                self._resolve_hyperparameters(job, job.report)
            job.run_done = job.run_total
            self._emit_steps(job, job.phase_started)
            self._succeed(job, at)
        elif status == "failed":
            job.error = job.script_error or {
                "code": "internal_error",
                "param": None,
                "message": "The job failed due to an internal error.",
            }
            job.close("failed", at)
            add_event(self.core, job, int(at), str(job.error.get("message")), level="error")
        elif status == "cancelled":
            job.close("cancelled", at)
            add_event(self.core, job, int(at), "Fine-tuning job cancelled")
        else:
            job.status, job.phase_started = status, at
            add_event(self.core, job, int(at), f"Job status changed to {status}")

    # -------------------------------------------------------------- validating
    def _validate(self, job: JobRecord, at: float) -> None:
        for param, file_id in (
            ("training_file", job.request.training_file),
            ("validation_file", job.request.validation_file),
        ):
            if file_id is None:
                continue
            which = param.split("_")[0]
            record = self.files.find(file_id)
            if record is None:
                self._fail_file(job, at, param, f"The {which} file {file_id} no longer exists.")
                return
            report = inspect_training_file(
                record.content,
                method=job.request.method,
                model=job.base,
                is_validation_file=param == "validation_file",
            )
            if not report.ok:
                self._fail_file(job, at, param, str(report.error_message))
                return
            if param == "training_file":
                job.report = report
        assert job.report is not None
        self._resolve_hyperparameters(job, job.report)
        if job.report.truncated:
            add_event(
                self.core,
                job,
                int(at),
                (
                    f"{job.report.truncated} example(s) exceed "
                    f"{job.base.limit(job.request.method)} tokens "
                    "and will be truncated"
                ),
                level="warn",
            )
        job.status, job.phase_started = "queued", at
        add_event(self.core, job, int(at), "Files validated, moving job to queued state")

    def _fail_file(self, job: JobRecord, at: float, param: str, detail: str) -> None:
        which = param.split("_")[0]
        message = f"The job failed due to an invalid {which} file. {detail}"
        job.error = {"code": f"invalid_{param}", "message": message, "param": param}
        job.close("failed", at)
        add_event(self.core, job, int(at), message, level="error")

    def _resolve_hyperparameters(self, job: JobRecord, report: FileReport) -> None:
        hp = job.hyperparameters
        method = job.request.method
        if hp.get("n_epochs", "auto") == "auto":
            hp["n_epochs"] = auto_epochs(report.examples)
        if hp.get("batch_size", "auto") == "auto":
            hp["batch_size"] = auto_batch_size(report.examples)
        if hp.get("learning_rate_multiplier", "auto") == "auto":
            hp["learning_rate_multiplier"] = 2.0 if method == "supervised" else 1.0
        if method == "dpo" and hp.get("beta", "auto") == "auto":
            hp["beta"] = 0.1
        epochs, batch = int(hp["n_epochs"]), int(hp["batch_size"])
        job.steps_per_epoch = max(1, math.ceil(report.examples / batch))
        job.total_steps = job.steps_per_epoch * epochs
        timings = self.core.timings
        job.run_total = max(timings.min_running, job.total_steps * timings.seconds_per_step)

    # ---------------------------------------------------------------- training
    def _emit_steps(self, job: JobRecord, until: float) -> None:
        done = job.run_done + (until - job.phase_started)
        per_step = job.run_total / job.total_steps
        reached = min(job.total_steps, int(done / per_step + 1e-9))
        epochs = int(job.hyperparameters["n_epochs"])
        for step in range(job.steps_emitted + 1, reached + 1):
            at = job.phase_started + (step * per_step - job.run_done)
            row = _metrics(job, step)
            job.metrics.append(row)
            text = f"Step {step}/{job.total_steps}: training loss={row['train_loss']:.4f}"
            if "valid_loss" in row:
                text += f", validation loss={row['valid_loss']:.4f}"
            add_event(
                self.core,
                job,
                int(at),
                text,
                data={**row, "total_steps": job.total_steps},
                type="metrics",
            )
            epoch, rest = divmod(step, job.steps_per_epoch)
            if rest == 0 and epoch > epochs - 3:
                self._checkpoint(job, step, int(at), row)
        job.steps_emitted = max(job.steps_emitted, reached)

    def _checkpoint(self, job: JobRecord, step: int, at: int, row: dict[str, float]) -> None:
        name = f"{job.fine_tuned_name}:ckpt-step-{step}"
        job.checkpoints.append(
            {
                "object": "fine_tuning.job.checkpoint",
                "id": self.core.new_id("ftckpt_"),
                "created_at": at,
                "fine_tuned_model_checkpoint": name,
                "fine_tuning_job_id": job.id,
                "metrics": {**row, "step": float(step)},
                "step_number": step,
            }
        )
        add_event(self.core, job, at, f"Checkpoint created at step {step} with Snapshot ID: {name}")

    def _succeed(self, job: JobRecord, at: float) -> None:
        assert job.report is not None
        epochs = int(job.hyperparameters["n_epochs"])
        job.trained_tokens = job.report.tokens * epochs
        lines = [_RESULT_HEADER]
        lines += [",".join(_cell(row.get(k)) for k in _RESULT_COLUMNS) for row in job.metrics]
        csv = ("\n".join(lines) + "\n").encode()
        if self.result_files_base64:
            csv = base64.b64encode(csv)
        result = self.files.add(
            "step_metrics.csv", "fine-tune-results", csv, int(at), processing=False
        )
        job.result_files = [result.id]
        job.fine_tuned_model = job.fine_tuned_name
        self.models.publish(
            job.fine_tuned_name,
            created=int(at),
            base=job.base,
            checkpoints=[
                (c["fine_tuned_model_checkpoint"], c["created_at"]) for c in job.checkpoints
            ],
        )
        add_event(self.core, job, int(at), "Evaluating model against our usage policies")
        add_event(self.core, job, int(at), f"New fine-tuned model created: {job.fine_tuned_name}")
        job.close("succeeded", at)
        add_event(self.core, job, int(at), "The job has successfully completed")
        training = self.files.find(job.request.training_file)
        self.chat.learn(
            job.fine_tuned_name,
            parent=job.model,
            training=training.content if training is not None else None,
        )


def _metrics(job: JobRecord, step: int) -> dict[str, float]:
    """Plausible, seeded metrics for one step: the same job id and step give the same row."""
    noise = random.Random(f"{job.id}:{step}")
    progress = step / job.total_steps
    row: dict[str, float] = {
        "step": step,
        "train_loss": round(0.15 + 1.9 * math.exp(-4 * progress) + noise.uniform(-0.05, 0.05), 4),
        "train_mean_token_accuracy": round(
            min(0.99, 0.55 + 0.4 * (1 - math.exp(-4 * progress)) + noise.uniform(-0.02, 0.02)),
            4,
        ),
    }
    if job.request.validation_file:
        row["valid_loss"] = round(row["train_loss"] + 0.08 + noise.uniform(0, 0.05), 4)
        row["valid_mean_token_accuracy"] = round(row["train_mean_token_accuracy"] - 0.03, 4)
        if step == job.total_steps:
            row["full_valid_loss"] = row["valid_loss"]
            row["full_valid_mean_token_accuracy"] = row["valid_mean_token_accuracy"]
    return row


def _cell(value: float | None) -> str:
    if value is None:
        return ""
    return str(value) if isinstance(value, int) else repr(float(value))

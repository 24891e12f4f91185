"""What a finished run returns: the model, and per stage the evidence."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..evaluation import EvalReport
    from ._manifest import Manifest

__all__ = ["RunResult", "StageResult"]


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


@dataclass(frozen=True)
class RunResult:
    """A finished run: ``fine_tuned_model`` is the last stage's model."""

    run_id: str
    fine_tuned_model: str | None
    stages: list[StageResult]
    manifest_path: Path | None = None

    @classmethod
    def from_manifest(cls, manifest: Manifest, path: Path | None = None) -> RunResult:
        """Build the result from a manifest (the manifest is the source of truth)."""
        stages = [
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
        final = stages[-1].fine_tuned_model if stages else None
        return cls(
            run_id=manifest.run_id, fine_tuned_model=final, stages=stages, manifest_path=path
        )

    def __str__(self) -> str:
        lines = [f"run {self.run_id}: {self.fine_tuned_model or 'no model'}"]
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
            client: the openai client to call the models with (None: the environment's).
            **options: passed to :func:`ftkit.evaluate` (``scorer``, ``concurrency``,
                ``max_examples``, ``retry``, ``out``, ``progress``, ``prices``...).

        Raises:
            UsageError: the run has no fine-tuned model yet.
        """
        from .._exceptions import UsageError
        from ..evaluation import evaluate

        trained = [s for s in self.stages if s.fine_tuned_model]
        if not self.fine_tuned_model or not trained or not self.stages[0].base_model:
            raise UsageError(f"run {self.run_id} has no fine-tuned model to evaluate yet")
        models = {"base": self.stages[0].base_model}
        if len(trained) == 1:
            models["fine-tuned"] = self.fine_tuned_model
        else:
            models.update({s.name: str(s.fine_tuned_model) for s in trained})
        return evaluate(models, test_source, client=client, **options)


def _last(rows: list[dict[str, Any]], key: str) -> float | None:
    for row in reversed(rows):
        value = row.get(key)
        if isinstance(value, (int, float)):
            return float(value)
    return None

"""What a finished run returns: the model, and per stage the evidence."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
        from html import escape

        rows = "".join(
            "<tr>"
            + "".join(
                f"<td>{escape(str(v)) if v is not None else ''}</td>"
                for v in (
                    s.name,
                    s.job_id,
                    s.status,
                    s.base_model,
                    s.fine_tuned_model,
                    s.estimated_trained_tokens,
                    s.trained_tokens,
                )
            )
            + "</tr>"
            for s in self.stages
        )
        head = "".join(
            f"<th>{h}</th>"
            for h in (
                "stage",
                "job",
                "status",
                "base model",
                "fine-tuned model",
                "estimated tokens",
                "trained tokens",
            )
        )
        return (
            f"<div><strong>ftkit run {escape(self.run_id)}</strong>: "
            f"<code>{escape(self.fine_tuned_model or '-')}</code>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>"
        )

"""The pipeline's configuration as immutable values, checked when each piece is given.

Every rule here runs before any network call, so a typo in a hyperparameter
costs a ``UsageError`` naming the fix, not an uploaded file and a failed job.
Ranges are the jobs API's (fine-tuning facts, "Jobs API").
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .._exceptions import UsageError

__all__ = [
    "Auto",
    "PipelineConfig",
    "StageConfig",
    "check_metadata",
    "file_digest",
]

Auto = Literal["auto"]
IntOrAuto = int | Auto
FloatOrAuto = float | Auto

#: Metadata keys ftkit sets on every job, to find it again after an ambiguous failure.
RUN_KEY = "ftkit_run"
STAGE_KEY = "ftkit_stage"
_MAX_METADATA_PAIRS = 16


def _int_or_auto(name: str, value: Any, low: int, high: int) -> IntOrAuto:
    if value == "auto" and isinstance(value, str):
        return "auto"
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise UsageError(
            f"{name} must be 'auto' or a whole number from {low} to {high}, got {value!r}"
        )
    return value


def _float_or_auto(
    name: str, value: Any, *, above: float, at_most: float | None = None
) -> FloatOrAuto:
    if value == "auto" and isinstance(value, str):
        return "auto"
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    number = float(value) if ok else math.nan
    if (
        not ok
        or not math.isfinite(number)
        or number <= above
        or (at_most is not None and number > at_most)
    ):
        bound = f"in ({above:g}, {at_most:g}]" if at_most is not None else f"above {above:g}"
        raise UsageError(f"{name} must be 'auto' or a number {bound}, got {value!r}")
    return number


def _existing_file(role: str, path: str | os.PathLike[str]) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise UsageError(f"{role} must be a path to a .jsonl file, got {type(path).__name__}")
    resolved = Path(path)
    if not resolved.is_file():
        raise UsageError(f"{role} file not found: {resolved}")
    return resolved


@dataclass(frozen=True)
class StageConfig:
    """One training stage: its method, files and hyperparameters (``"auto"`` = server default)."""

    method: Literal["supervised", "dpo"]
    train: Path
    validation: Path | None = None
    epochs: IntOrAuto = "auto"
    batch_size: IntOrAuto = "auto"
    learning_rate_multiplier: FloatOrAuto = "auto"
    beta: FloatOrAuto = "auto"

    @property
    def name(self) -> str:
        """``"sft"`` or ``"dpo"``: the stage's name in manifests, metadata and events."""
        return "sft" if self.method == "supervised" else "dpo"

    @classmethod
    def build(
        cls,
        method: Literal["supervised", "dpo"],
        train: str | os.PathLike[str],
        *,
        validation: str | os.PathLike[str] | None = None,
        epochs: Any = "auto",
        batch_size: Any = "auto",
        learning_rate_multiplier: Any = "auto",
        beta: Any = "auto",
    ) -> StageConfig:
        """Check every argument and build the stage.

        Raises:
            UsageError: a missing file, the same file for training and validation,
                or a hyperparameter outside the API's range.
        """
        train_path = _existing_file("training", train)
        validation_path = _existing_file("validation", validation) if validation else None
        if validation_path is not None and validation_path.resolve() == train_path.resolve():
            raise UsageError(
                "the validation file is the training file; hold out separate examples "
                "(ftkit.Dataset.load(path).split(test_size=0.1))"
            )
        return cls(
            method=method,
            train=train_path,
            validation=validation_path,
            epochs=_int_or_auto("epochs", epochs, 1, 50),
            batch_size=_int_or_auto("batch_size", batch_size, 1, 256),
            learning_rate_multiplier=_float_or_auto(
                "learning_rate_multiplier", learning_rate_multiplier, above=0.0
            ),
            beta=_float_or_auto("beta", beta, above=0.0, at_most=2.0)
            if method == "dpo"
            else "auto",
        )

    def hyperparameters(self) -> dict[str, Any]:
        """The explicitly chosen hyperparameters (``"auto"`` ones are left to the server)."""
        chosen: dict[str, Any] = {
            "n_epochs": self.epochs,
            "batch_size": self.batch_size,
            "learning_rate_multiplier": self.learning_rate_multiplier,
        }
        if self.method == "dpo":
            chosen["beta"] = self.beta
        return {k: v for k, v in chosen.items() if v != "auto"}

    def method_object(self) -> dict[str, Any]:
        """The ``method`` parameter of ``jobs.create``."""
        return {"type": self.method, self.method: {"hyperparameters": self.hyperparameters()}}


def check_metadata(metadata: Mapping[str, Any]) -> dict[str, str]:
    """Validate user metadata against the API's limits, leaving room for ftkit's two keys."""
    if not isinstance(metadata, Mapping):
        raise UsageError("metadata must be a mapping of str to str")
    out: dict[str, str] = {}
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise UsageError(f"metadata keys and values must be strings, got {key!r}: {value!r}")
        if not 1 <= len(key) <= 64:
            raise UsageError(f"metadata key {key!r} must be 1 to 64 characters")
        if len(value) > 512:
            raise UsageError(f"metadata value of {key!r} is over 512 characters")
        if key in (RUN_KEY, STAGE_KEY):
            raise UsageError(f"metadata key {key!r} is reserved by ftkit to find its own jobs")
        out[key] = value
    if len(out) > _MAX_METADATA_PAIRS - 2:
        raise UsageError(
            f"at most {_MAX_METADATA_PAIRS - 2} metadata pairs: the API allows "
            f"{_MAX_METADATA_PAIRS} and ftkit uses 2 to find its jobs"
        )
    return out


@dataclass(frozen=True)
class PipelineConfig:
    """Everything that defines a run; its fingerprint guards resumption."""

    model: str | None = None
    sft: StageConfig | None = None
    dpo: StageConfig | None = None
    suffix: str | None = None
    seed: int | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    training_type: str | None = None
    """Azure's training type in the catalog's words (``ftkit.providers.TRAINING_TYPES``)."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """Provider-specific job settings in the provider's words (Together's ``lora_r``...)."""

    @property
    def stages(self) -> list[StageConfig]:
        """The stages in training order: SFT first, then DPO on the SFT model."""
        return [s for s in (self.sft, self.dpo) if s is not None]

    def require_complete(self) -> str:
        """The base model, once the configuration can run.

        Raises:
            UsageError: no model, or no stage.
        """
        if not self.model:
            raise UsageError("no base model: call .model('gpt-4.1-mini-2025-04-14') first")
        if not self.stages:
            raise UsageError("nothing to train: call .sft(train_file) and/or .dpo(pairs_file)")
        return self.model

    def fingerprint(self, digests: Mapping[str, str]) -> str:
        """A stable hash of the configuration and of every file's content."""
        stages = [
            {
                "method": s.method,
                "train": digests[str(s.train)],
                "validation": digests[str(s.validation)] if s.validation else None,
                "hyperparameters": s.hyperparameters(),
            }
            for s in self.stages
        ]
        identity: dict[str, Any] = {
            "model": self.model,
            "stages": stages,
            "suffix": self.suffix,
            "seed": self.seed,
            "metadata": dict(sorted(self.metadata.items())),
        }
        if self.training_type is not None:  # absent otherwise: older runs keep their hash
            identity["training_type"] = self.training_type
        if self.options:
            identity["options"] = dict(sorted(self.options.items()))
        canonical = json.dumps(
            identity,
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


def file_digest(path: Path) -> tuple[str, int]:
    """``(sha256 hex, size)`` of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size

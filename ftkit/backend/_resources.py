"""ftkit's own view of a provider's resources: jobs, files, uploads, checkpoints, models.

Every adapter translates its provider's objects into these once, at the edge
(:mod:`._openai` does it for OpenAI and Azure OpenAI); nothing above
``backend`` reads a provider object except through ``.raw``. They are lenient
outputs: a job status ftkit does not know is ``"unknown"`` (the provider's own
word stays in ``raw_status``), and a field the provider left out is ``None``
or empty, never an error. ``raw`` is kept for evidence and debugging; it takes
no part in equality and is not shown by ``repr``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeVar

# Exactly what ftkit.backend exports (it star-imports this module).
__all__ = [
    "Checkpoint",
    "Job",
    "JobError",
    "JobStatus",
    "Page",
    "PriceQuote",
    "RemoteModel",
    "TrainingFile",
    "UploadSession",
    "UploadedPart",
]

JobStatus = Literal[
    "validating", "queued", "running", "paused", "succeeded", "failed", "cancelled", "unknown"
]
"""A job's status in ftkit's words, whichever provider runs it."""


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


T = TypeVar("T", bound=_Identified)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a cursor-paginated listing.

    Attributes:
        data: the items, in the order the API returned them.
        has_more: whether another page follows (request it with ``after=page.last_id``).
    """

    data: Sequence[T]
    has_more: bool = False

    @property
    def last_id(self) -> str | None:
        """The cursor for the next page: the id of the last item, if any."""
        return self.data[-1].id if self.data else None


@dataclass(frozen=True, kw_only=True)
class JobError:
    """Why a job failed, as the provider says it (each part may be missing)."""

    code: str | None = None
    message: str | None = None
    param: str | None = None


@dataclass(frozen=True, kw_only=True)
class Job:
    """A fine-tuning job.

    Attributes:
        id: the provider's job id.
        provider: who runs it (``"openai"``, ``"azure"``...).
        status: the normalised status (see :data:`JobStatus`).
        raw_status: the provider's own status word (``"validating_files"``...).
        model: the base model it trains.
        fine_tuned_model: the model it produced, once it succeeded.
        trained_tokens: the tokens the provider trained (and bills).
        error: why it failed; ``None`` when the provider reports no error.
        created_at, finished_at: Unix seconds.
        estimated_finish: the provider's estimate (Unix seconds) of when it ends.
        metadata: the key-value pairs it was created with (empty where the API keeps none).
        suffix: the suffix it was created with, as the provider echoes it.
        method: the training method, as the provider names it (``"supervised"``, ``"dpo"``).
        hyperparameters: the method's hyperparameters, as the provider reports them.
        training_file, validation_file: the file ids it trains and validates on.
        result_files: the ids of its result files (the metrics CSV).
        progress: how far it is, in percent, where the provider says (Fireworks'
            ``jobProgress``).
        updated_at: when the provider last changed it (Unix seconds), where it says.
        raw: the provider's object.
    """

    id: str
    provider: str
    status: JobStatus
    raw_status: str
    model: str | None = None
    fine_tuned_model: str | None = None
    trained_tokens: int | None = None
    error: JobError | None = None
    created_at: int | None = None
    finished_at: int | None = None
    estimated_finish: int | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    suffix: str | None = None
    method: str | None = None
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    training_file: str | None = None
    validation_file: str | None = None
    result_files: tuple[str, ...] = ()
    progress: float | None = None
    updated_at: int | None = None
    raw: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class TrainingFile:
    """A file stored at the provider (training data, or a job's result file).

    Attributes:
        id: the provider's file id.
        filename: the name it was uploaded under.
        bytes: its size.
        purpose: what it is for (``"fine-tune"``...).
        status: the provider's processing status, if it reports one.
        created_at: Unix seconds.
        status_details: why the provider refused it, in its words (Together's
            validation report), when it did.
        raw: the provider's object.
    """

    id: str
    filename: str | None = None
    bytes: int | None = None
    purpose: str | None = None
    status: str | None = None
    created_at: int | None = None
    status_details: str | None = None
    raw: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class PriceQuote:
    """The provider's own price for a job before it is created (Together's ``estimate-price``).

    Attributes:
        available: whether the provider could price it (``unavailable_reason`` says why not).
        total_usd: the estimated price of the whole job.
        allowed_to_proceed: the provider's credit check: ``False`` means the account
            cannot pay for it and the job would be refused or stopped.
        user_limit_usd: the account's spending limit, as the provider reports it.
        train_tokens, eval_tokens: the tokens the price counts.
        unavailable_reason: the provider's reason when it gave no price.
        raw: the provider's object.
    """

    available: bool
    total_usd: float | None = None
    allowed_to_proceed: bool | None = None
    user_limit_usd: float | None = None
    train_tokens: int | None = None
    eval_tokens: int | None = None
    unavailable_reason: str | None = None
    raw: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class UploadSession:
    """A multi-part upload in progress (it becomes a :class:`TrainingFile` once completed).

    Attributes:
        id: the provider's upload id.
        status: the provider's word (``"pending"``, ``"completed"``...).
        created_at, expires_at: Unix seconds, when the provider says.
        file: the file it produced, once completed.
        raw: the provider's object.
    """

    id: str
    status: str | None = None
    created_at: int | None = None
    expires_at: int | None = None
    file: TrainingFile | None = None
    raw: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class UploadedPart:
    """One part of an :class:`UploadSession`, received by the provider."""

    id: str
    raw: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class Checkpoint:
    """A model a job saved along the way.

    Attributes:
        id: the provider's checkpoint id.
        step: the training step it was taken at.
        model: the checkpoint's model name (usable for inference).
        metrics: the metrics at that step (missing ones are ``None``).
        created_at: Unix seconds.
        raw: the provider's object.
    """

    id: str
    step: int | None = None
    model: str | None = None
    metrics: Mapping[str, Any] = field(default_factory=dict)
    created_at: int | None = None
    raw: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class RemoteModel:
    """A model as the provider's model lookup describes it (not ftkit's catalog entry).

    Attributes:
        id: the model name.
        owned_by: who owns it (``"system"``, an organisation).
        retires_on: the ISO date from which it can no longer be trained, when published.
        raw: the provider's object.
    """

    id: str
    owned_by: str | None = None
    retires_on: str | None = None
    raw: Any = field(default=None, compare=False, repr=False)

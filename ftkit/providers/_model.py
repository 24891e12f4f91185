"""One model's facts, as the catalog holds them: :class:`ModelInfo` and its dated prices.

The validator, the token counter, the cost estimate, the evaluation's costs and
the fake API all read these objects, so they agree by construction. The words
are fixed: methods are ``sft``, ``dpo`` and ``rft``; features are ``vision``
and ``tools``; training types (Azure's tiers) are ``standard``,
``globalstandard`` and ``developer``. A provider's own spelling (OpenAI's
``supervised`` and ``reinforcement``, Microsoft's ``globalStandard`` and
``developerTier``) is translated at the edge (:func:`canonical_method`,
:func:`canonical_training_type`).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Literal, TypeVar

from .._exceptions import UsageError

# Exactly what ftkit.providers exports (it star-imports this module).
__all__ = [
    "DEFAULT_TRAINING_TYPE",
    "FEATURES",
    "JOB_LIMITS",
    "METHODS",
    "TRAINING_TYPES",
    "Feature",
    "InferencePrice",
    "Method",
    "ModelInfo",
    "TrainingPrice",
    "TrainingType",
    "canonical_method",
    "canonical_training_type",
]

Method = Literal["sft", "dpo", "rft"]
"""A fine-tuning method: supervised (``sft``), preference (``dpo``) or reinforcement (``rft``)."""
Feature = Literal["vision", "tools"]
"""What a model's training files may contain beyond text: images, tool definitions and calls."""

METHODS: tuple[Method, ...] = ("sft", "dpo", "rft")
FEATURES: tuple[Feature, ...] = ("vision", "tools")

TrainingType = Literal["standard", "globalstandard", "developer"]
"""Where a provider with tiers trains (Azure OpenAI): in the resource's region
(``standard``), on global capacity (``globalstandard``: cheaper, no data residency)
or on idle capacity (``developer``: cheapest, may be preempted, no data residency)."""
TRAINING_TYPES: tuple[TrainingType, ...] = ("standard", "globalstandard", "developer")
DEFAULT_TRAINING_TYPE: TrainingType = "standard"
"""What a provider with training types trains on when a job names none (Azure: Standard)."""

JOB_LIMITS: tuple[str, ...] = (
    "max_epochs",
    "max_evals",
    "max_checkpoints",
    "min_learning_rate",
    "max_learning_rate",
    "max_lora_rank",
)
"""The bounds a provider puts on a job's hyperparameters, by the catalog's names
(Together's ``GET /v1/fine-tunes/models/limits``: ``max_num_epochs``, ``max_num_evals``,
``max_num_checkpoints``, the learning-rate range, ``lora_training.max_rank``)."""

_METHOD_NAMES: dict[str, Method] = {
    "sft": "sft",
    "supervised": "sft",
    "dpo": "dpo",
    "rft": "rft",
    "reinforcement": "rft",
}


def canonical_method(name: str) -> Method:
    """The catalog's word for a method: ``supervised`` → ``sft``, ``reinforcement`` → ``rft``.

    Raises:
        UsageError: a name that is no fine-tuning method.
    """
    method = _METHOD_NAMES.get(name) if isinstance(name, str) else None
    if method is None:
        raise UsageError(f"unknown fine-tuning method {name!r}; expected one of {list(METHODS)}")
    return method


_TRAINING_TYPE_NAMES: dict[str, TrainingType] = {
    **{t: t for t in TRAINING_TYPES},
    "global": "globalstandard",
    "global_standard": "globalstandard",
    "developertier": "developer",
    "developer_tier": "developer",
}


def canonical_training_type(name: str) -> TrainingType:
    """The catalog's word for a training type: ``globalStandard`` → ``globalstandard``,
    ``developerTier`` → ``developer`` (any case).

    Raises:
        UsageError: a name that is no training type.
    """
    word = _TRAINING_TYPE_NAMES.get(name.lower()) if isinstance(name, str) else None
    if word is None:
        raise UsageError(f"unknown training type {name!r}; expected one of {list(TRAINING_TYPES)}")
    return word


def utc_today() -> _dt.date:
    """Today in UTC: the day a shutdown date is compared with, as the provider does."""
    return _dt.datetime.now(_dt.timezone.utc).date()


@dataclass(frozen=True, slots=True)
class TrainingPrice:
    """What training one model with one method costs, and when that was checked."""

    per_1m_tokens: float | None = None
    """Per 1M billed training tokens (trained tokens x epochs); ``None`` when not per token."""
    per_hour: float | None = None
    """Per hour of training (reinforcement fine-tuning)."""
    as_of: str | None = None
    """When the price was checked (``YYYY-MM`` or ``YYYY-MM-DD``)."""
    currency: str = "USD"

    def __post_init__(self) -> None:
        if self.per_1m_tokens is None and self.per_hour is None:
            raise UsageError("a training price needs per_1m_tokens or per_hour")


@dataclass(frozen=True, slots=True)
class InferencePrice:
    """Per 1M tokens of inference on a model, and when that was checked."""

    input: float
    output: float
    cached_input: float | None = None
    as_of: str | None = None
    """When the price was checked (``YYYY-MM`` or ``YYYY-MM-DD``)."""
    currency: str = "USD"

    def __post_init__(self) -> None:
        if self.input is None or self.output is None:
            raise UsageError("an inference price needs input and output")


_K = TypeVar("_K")
_V = TypeVar("_V")


def _frozen(mapping: Mapping[_K, _V]) -> Mapping[_K, _V]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class ModelInfo:
    """What ftkit knows about fine-tuning one model of one provider.

    A listed entry describes one dated snapshot. A model the catalog does not
    list but whose name belongs to a known family (``gpt-4o-2024-11-20``,
    ``gpt-5-mini``) gets the family's facts: its tokenizer and limit, and
    ``fine_tunable=False`` where the provider offers no fine-tuning for the
    family; ``family`` then names the prefix the facts came from.
    """

    name: str
    """The snapshot name (after aliases and fine-tuned names are resolved)."""
    provider: str = "openai"
    """The service that trains it (``openai``, ``azure``, ``together``, ``fireworks``)."""
    aliases: tuple[str, ...] = ()
    """Other names that mean this snapshot (``gpt-4.1-mini`` for ``gpt-4.1-mini-2025-04-14``)."""
    tokenizer: str | None = None
    """The tiktoken encoding its tokens are counted with (``o200k_base``)."""
    tokenizer_repo: str | None = None
    """The Hugging Face repository whose ``tokenizer.json`` counts an open model's tokens,
    where the provider's id is not that repository's (Fireworks'
    ``accounts/fireworks/models/llama-v3p1-8b-instruct`` is
    ``meta-llama/Llama-3.1-8B-Instruct``); ``None``: the id itself, or not an open model."""
    methods: frozenset[Method] = frozenset()
    """The fine-tuning methods the provider accepts for it."""
    features: frozenset[Feature] = frozenset()
    """What its training files may contain beyond text (``vision``, ``tools``)."""
    example_limits: Mapping[Method, int] = field(default_factory=dict)
    """Max tokens per training example, by method; longer examples are truncated."""
    training_prices: Mapping[Method, TrainingPrice] = field(default_factory=dict)
    """Training price by method, for every training type unless
    :attr:`training_prices_by_type` prices that type."""
    training_types: frozenset[TrainingType] = frozenset()
    """The training types it trains on (Azure's tiers); empty for a provider without any."""
    training_prices_by_type: Mapping[TrainingType, Mapping[Method, TrainingPrice]] = field(
        default_factory=dict
    )
    """Training price by training type, then method (where the types are priced apart)."""
    inference_price: InferencePrice | None = None
    """Inference on a model fine-tuned from it (the "FT input" / "FT output" rates)."""
    base_inference_price: InferencePrice | None = None
    """Inference on the snapshot itself."""
    hosting_per_hour: float | None = None
    """USD per hour that one deployment of a fine-tune of it costs while it exists, used
    or not (Azure's hosting fee); ``None``: unknown, or no such fee."""
    shutdown: str | None = None
    """Announced shutdown date (``YYYY-MM-DD``) of it and its fine-tunes: no new jobs from then."""
    shutdown_confirmed: bool = True
    """Whether a primary source confirms :attr:`shutdown` (``False``: only secondary reports;
    ftkit's fake API does not enforce such a date unless asked to)."""
    created: int | None = None
    """Unix seconds the provider published it (its Models API ``created``), when known."""
    fine_tunable: bool | None = None
    """Whether it can be fine-tuned at all; ``None``: unknown (only family facts are known)."""
    note: str = ""
    """Why it cannot be fine-tuned, for messages (``"it is retired for fine-tuning"``)."""
    family: str | None = None
    """The name prefix the facts came from, for a model the catalog does not list."""
    sources: Mapping[str, str] = field(default_factory=dict)
    """Where each fact comes from: field name -> source (document and date)."""
    full_training: bool | None = None
    """Whether full (not LoRA) fine-tuning is offered for it (Together trains LoRA by
    default); ``None``: unknown, or a provider without the choice."""
    job_limits: Mapping[str, float] = field(default_factory=dict)
    """Bounds on a job's hyperparameters, by the names of :data:`JOB_LIMITS`
    (``max_epochs``, ``max_learning_rate``...); a bound not given is unknown."""
    unconfirmed: frozenset[str] = frozenset()
    """The facts no primary source confirms: field names (``features``) or one key of a
    field (``example_limits.dpo``). :meth:`confirmed` reads it; :attr:`shutdown_confirmed`
    says the same of the shutdown date."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "aliases", tuple(self.aliases))
        object.__setattr__(self, "methods", frozenset(self.methods))
        object.__setattr__(self, "features", frozenset(self.features))
        object.__setattr__(self, "example_limits", _frozen(self.example_limits))
        object.__setattr__(self, "training_prices", _frozen(self.training_prices))
        object.__setattr__(self, "training_types", frozenset(self.training_types))
        object.__setattr__(
            self,
            "training_prices_by_type",
            _frozen({t: _frozen(p) for t, p in self.training_prices_by_type.items()}),
        )
        object.__setattr__(self, "sources", _frozen(self.sources))
        object.__setattr__(self, "job_limits", _frozen(self.job_limits))
        object.__setattr__(self, "unconfirmed", frozenset(self.unconfirmed))
        if self.fine_tunable is None and self.family is None:
            object.__setattr__(self, "fine_tunable", bool(self.methods))

    def limit(self, method: str = "sft") -> int | None:
        """Max tokens per training example for ``method``, or ``None`` if undocumented.

        Raises:
            UsageError: an unknown method name.
        """
        return self.example_limits.get(canonical_method(method))

    def confirmed(self, fact: str) -> bool:
        """Whether a primary source confirms ``fact``: a field (``"features"``) or one
        of its keys (``"example_limits.dpo"``, also unconfirmed when its whole field is).
        """
        head = fact.split(".", 1)[0]
        if head == "shutdown" and not self.shutdown_confirmed:
            return False
        return fact not in self.unconfirmed and head not in self.unconfirmed

    def training_price(
        self, method: str = "sft", training_type: str | None = None
    ) -> TrainingPrice | None:
        """The dated training price for ``method`` on ``training_type``, or ``None`` if unknown.

        A model with training types trains on :data:`DEFAULT_TRAINING_TYPE` when none
        is named, so ``None`` means that type for it. The type's own price wins; else
        the price of every type (:attr:`training_prices`).

        Raises:
            UsageError: an unknown method or training type name.
        """
        kind = canonical_method(method)
        tier = None if training_type is None else canonical_training_type(training_type)
        if tier is None and self.training_types:
            tier = DEFAULT_TRAINING_TYPE
        typed = None if tier is None else self.training_prices_by_type.get(tier, {}).get(kind)
        return typed if typed is not None else self.training_prices.get(kind)

    def retired(self, today: _dt.date | None = None) -> bool:
        """Whether the shutdown date has come: no new jobs on or after it.

        Args:
            today: the date to compare with (UTC today by default).
        """
        if self.shutdown is None:
            return False
        day = today or utc_today()
        if isinstance(day, _dt.datetime):
            day = day.date()
        return self.shutdown <= day.isoformat()

    def __hash__(self) -> int:
        return hash((self.provider, self.name, self.family))

    def __reduce__(self) -> tuple[Any, ...]:
        # Frozen mappings do not pickle; their dicts do, and ``__post_init__`` freezes
        # them again (a spawned validation worker receives the caller's entry so).
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in ("example_limits", "training_prices", "sources", "job_limits"):
            values[name] = dict(values[name])
        values["training_prices_by_type"] = {
            t: dict(p) for t, p in self.training_prices_by_type.items()
        }
        return (_model_info, (values,))


def _model_info(values: dict[str, Any]) -> ModelInfo:
    return ModelInfo(**values)

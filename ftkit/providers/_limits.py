"""Together's live model limits as a catalog entry: ``GET /v1/fine-tunes/models/limits``.

The shipped ``together.json`` says what Together's documents said when they were
read; the limits endpoint says what Together enforces today, per model: the
context length of SFT and DPO examples, whether it takes images and tool calls,
whether it trains in full as well as LoRA, and the bounds on epochs, evaluations,
checkpoints, the learning rate and the LoRA rank. :func:`model_limits_info` turns
one answer into a :class:`ModelInfo`, so that a caller holding a client can
refresh an entry before it validates or plans::

    answer = client.fine_tuning.model_limits(model_name=name)   # together SDK
    ftkit.providers.register(model_limits_info(answer, base=find_model(name, "together")))

It is pure (no request, no clock): the caller fetches, this reads. It accepts
the SDK's ``FinetuneModelLimits`` or the raw JSON, and tolerates the fields the
published OpenAPI spec leaves optional (the SDK's ``max_seq_length_sft`` and
``supports_full_training`` are missing from the spec of 2026-04): a fact the
answer does not give is kept from ``base``, or stays unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .._exceptions import UsageError
from ._model import Feature, Method, ModelInfo

__all__ = ["model_limits_info"]

LIMITS_SOURCE = "Together GET /v1/fine-tunes/models/limits (the live answer)"
"""What an entry built by :func:`model_limits_info` names as the source of its facts."""

# Catalog bound -> the answer's field (``max_lora_rank`` lives in ``lora_training``).
_BOUNDS = {
    "max_epochs": "max_num_epochs",
    "max_evals": "max_num_evals",
    "max_checkpoints": "max_num_checkpoints",
    "min_learning_rate": "min_learning_rate",
    "max_learning_rate": "max_learning_rate",
}
_CONTEXTS: dict[Method, str] = {"sft": "max_seq_length_sft", "dpo": "max_seq_length_dpo"}


def model_limits_info(limits: Any, *, base: ModelInfo | None = None) -> ModelInfo:
    """A Together catalog entry from one ``GET /v1/fine-tunes/models/limits`` answer.

    The answer's facts replace ``base``'s and lose their ``unconfirmed`` marks;
    everything the answer does not speak of (tokenizer, aliases, prices, dates,
    the methods) is ``base``'s. Without ``base``, the model trains SFT and DPO
    (Together offers both on every fine-tuning model) and the rest is unknown.

    Args:
        limits: the SDK's ``FinetuneModelLimits``, or the JSON object it is read from.
        base: the catalog's entry of the same model (``find_model(name, "together")``),
            whose other facts the result keeps.

    Returns:
        The entry, ``provider="together"``, named as the answer names the model.

    Raises:
        UsageError: an answer that is no object, lacks ``model_name``, or holds a
            value of the wrong kind (naming the field).
    """
    data = _as_mapping(limits)
    name = data.get("model_name")
    if not isinstance(name, str) or not name.strip():
        raise UsageError("a model limits answer needs its model_name")
    name = name.strip()
    info = base if base is not None else ModelInfo(name=name, provider="together")
    if info.provider != "together":
        raise UsageError(f"base must be a Together entry, got one of {info.provider!r}")
    given: set[str] = set()  # the facts this answer states, as unconfirmed marks name them

    limits_by_method = dict(info.example_limits)
    for method, key in _CONTEXTS.items():
        tokens = _count(data, key)
        if tokens is not None and tokens > 0:
            limits_by_method[method] = tokens
            given.add(f"example_limits.{method}")
    if {"example_limits.sft", "example_limits.dpo"} <= given:
        given.add("example_limits")

    features = set(info.features)
    flags: tuple[tuple[Feature, str], ...] = (
        ("vision", "supports_vision"),
        ("tools", "supports_tools"),
    )
    for feature, key in flags:
        flag = _flag(data, key)
        if flag is not None:
            given.add(f"features.{feature}")
            _toggle(features, feature, flag)
    if {"features.vision", "features.tools"} <= given:
        given.add("features")

    full = _full_training(data)
    if full is not None:
        given.add("full_training")

    bounds: dict[str, float] = dict(info.job_limits)
    for bound, key in _BOUNDS.items():
        value = _rate(data, key) if bound.endswith("_learning_rate") else _count(data, key)
        if value is not None:
            bounds[bound] = value
            given.add(f"job_limits.{bound}")
    lora = data.get("lora_training")
    if lora is not None:
        rank = _count(_as_mapping(lora, "lora_training"), "max_rank", "lora_training.")
        if rank is not None:
            bounds["max_lora_rank"] = rank
            given.add("job_limits.max_lora_rank")

    sources = dict(info.sources)
    for field in {mark.split(".", 1)[0] for mark in given}:
        sources[field] = LIMITS_SOURCE
    return replace(
        info,
        name=name,
        methods=info.methods or frozenset({"sft", "dpo"}),
        example_limits=limits_by_method,
        features=frozenset(features),
        full_training=info.full_training if full is None else full,
        job_limits=bounds,
        fine_tunable=True,  # Together answers limits only for models it fine-tunes
        family=None,
        unconfirmed=frozenset(m for m in info.unconfirmed if m not in given),
        sources=sources,
    )


def _as_mapping(value: Any, what: str = "a model limits answer") -> Mapping[str, Any]:
    """The JSON object of ``value``: a mapping, or an SDK model dumped by its wire names."""
    if isinstance(value, Mapping):
        return value
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        dumped = dump(by_alias=True)  # ``model_name`` is ``api_model_name`` in the SDK
        if isinstance(dumped, Mapping):
            return dumped
    raise UsageError(f"{what} must be a JSON object or the SDK's model, got {type(value).__name__}")


def _toggle(features: set[Feature], feature: Feature, on: bool) -> None:
    if on:
        features.add(feature)
    else:
        features.discard(feature)


def _full_training(data: Mapping[str, Any]) -> bool | None:
    """Whether full training is offered: the flag, or else a ``full_training`` block's presence.

    The SDK reads ``supports_full_training``; the spec's answer has only the block,
    which Together reports zeroed (or omits) for a LoRA-only model.
    """
    flag = _flag(data, "supports_full_training")
    if flag is not None:
        return flag
    if "full_training" not in data:
        return None
    block = data["full_training"]
    if block is None:
        return False
    sizes = _as_mapping(block, "full_training")
    return bool(_count(sizes, "max_batch_size", "full_training.") or 0)


def _flag(data: Mapping[str, Any], key: str) -> bool | None:
    value = data.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise UsageError(f"model limits: {key} must be true or false, got {value!r}")


def _count(data: Mapping[str, Any], key: str, prefix: str = "") -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UsageError(f"model limits: {prefix}{key} must be a whole number >= 0, got {value!r}")
    return value


def _rate(data: Mapping[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise UsageError(f"model limits: {key} must be a number >= 0, got {value!r}")
    return float(value)

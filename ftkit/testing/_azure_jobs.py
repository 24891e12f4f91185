"""Azure OpenAI's job requests: the training type, and the dated API's rules for a body.

Both of Azure's APIs take a ``trainingType`` next to OpenAI's fields, though
neither spec lists it: Microsoft's own scripts send ``"standard"``,
``"globalStandard"`` or ``"developerTier"`` (Learn writes ``"globalstandard"``), so
the fake reads it without regard to case; third-party clients send the numbers
``0`` (Standard, refused for open-source models) and ``1`` (Global Standard,
unconfirmed), which it takes too. Without it Azure trains Standard. A base model
whose catalog entry lists its tiers (``ModelInfo.training_types``) refuses any
other with Microsoft's message ("... does not support fine-tuning with Standard
TrainingType"); the open-source models list only ``globalstandard``.

The dated API (``2025-04-01-preview``) also has no job ``metadata`` (a body with
it is refused; what Azure itself answers is unconfirmed), a suffix of at most 40
characters from ``[A-Za-z0-9_-]``, supervised hyperparameters at the top level
next to ``method: {"type": "supervised"}``, DPO's ``l2_multiplier``, and no
reinforcement method. :func:`dated_request` turns such a body into the OpenAI
form the job store reads.
"""

from __future__ import annotations

import re
from typing import Any

from ..providers import ModelInfo
from ._core import WireError
from ._service import FakeService

__all__ = [
    "DATED_EXTRA_HYPERPARAMETERS",
    "DATED_SUFFIX_CHARS",
    "TRAINING_TYPE_WORDS",
    "check_training_type",
    "dated_request",
    "invalid_payload",
    "take_training_type",
    "training_types",
]

TRAINING_TYPE_WORDS = {
    "standard": "standard",
    "globalstandard": "globalstandard",
    "developertier": "developer",
}
"""``trainingType`` on the wire (lower-cased) -> ftkit's word for the tier."""
_NUMBERED = {0: "standard", 1: "globalstandard"}
_IN_MESSAGES = {
    "standard": "Standard",
    "globalstandard": "GlobalStandard",
    "developer": "Developer",
}

DATED_SUFFIX_CHARS = 40
_SUFFIX = re.compile(r"[A-Za-z0-9_-]+")
DATED_EXTRA_HYPERPARAMETERS: dict[str, tuple[str, ...]] = {"dpo": ("l2_multiplier",)}
"""Hyperparameters the dated API takes beyond OpenAI's (``DpoHyperparamsRequest``)."""
_DATED_METHODS = ("supervised", "dpo")


def invalid_payload(message: str, *, param: str | None = None) -> WireError:
    """A 400 ``invalidPayload``, the dated spec's code for "the request data is invalid"."""
    return WireError(400, message, param=param, code="invalidPayload")


def take_training_type(body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The body without ``trainingType``, and the tier it asks for in ftkit's words.

    Raises:
        WireError: 400 ``invalidPayload`` for a value that names no tier.
    """
    if "trainingType" not in body:
        return body, "standard"
    rest = {k: v for k, v in body.items() if k != "trainingType"}
    value = body["trainingType"]
    word: str | None = None
    if isinstance(value, str):
        word = TRAINING_TYPE_WORDS.get(value.strip().lower())
    elif isinstance(value, int) and not isinstance(value, bool):
        word = _NUMBERED.get(value)
    if word is None:
        raise invalid_payload(
            f"Invalid value for trainingType: {value!r}. Expected 'standard', "
            "'globalStandard' or 'developerTier'.",
            param="trainingType",
        )
    return rest, word


def training_types(info: ModelInfo) -> frozenset[str]:
    """The tiers the catalog says a model trains on (empty: not known, any is taken)."""
    tiers: frozenset[str] = getattr(info, "training_types", None) or frozenset()
    return tiers


def check_training_type(service: FakeService, model: Any, word: str) -> None:
    """Refuse a tier the job's base model does not train on.

    A model the fake does not serve is left to job creation to refuse.

    Raises:
        WireError: 400 ``invalidPayload`` with Microsoft's message.
    """
    resolved = service.models.resolve(model) if isinstance(model, str) else None
    if resolved is None:
        return
    base = resolved[1]
    tiers = training_types(base)
    if tiers and word not in tiers:
        raise invalid_payload(
            f"The specified base model {base.name} does not support fine-tuning with "
            f"{_IN_MESSAGES[word]} TrainingType.",
            param="trainingType",
        )


def dated_request(body: dict[str, Any]) -> dict[str, Any]:
    """A dated API job body in the form the job store reads (OpenAI's), or a refusal.

    Raises:
        WireError: 400 ``invalidPayload`` for ``metadata``, a suffix the dated API does
            not take, a method other than supervised and DPO, or OpenAI's nested
            ``method.supervised`` (the dated spec has none; whether Azure refuses it is
            unconfirmed, and the fake is strict so a client bug shows).
    """
    if "metadata" in body:
        raise invalid_payload(
            "Unrecognized request argument supplied: metadata. Fine-tuning jobs of this "
            "API version keep no metadata (Azure OpenAI's v1 API, /openai/v1/, does).",
            param="metadata",
        )
    suffix = body.get("suffix")
    if isinstance(suffix, str) and not (
        len(suffix) <= DATED_SUFFIX_CHARS and _SUFFIX.fullmatch(suffix)
    ):
        raise invalid_payload(
            f"Invalid suffix {suffix!r}: the suffix can contain up to {DATED_SUFFIX_CHARS} "
            "characters (a-z, A-Z, 0-9, - and _).",
            param="suffix",
        )
    method = body.get("method")
    if not isinstance(method, dict):
        return body
    kind = method.get("type")
    if kind not in _DATED_METHODS:
        raise invalid_payload(
            f"Invalid value for method.type: {kind!r}. This API version supports "
            "'supervised' and 'dpo'.",
            param="method.type",
        )
    if kind == "supervised" and "supervised" in method:
        # The dated spec's SupervisedMethodRequest is ``{type}`` alone: OpenAI's nested
        # form is refused here, so a client that sends it is caught on the fake.
        raise invalid_payload(
            "Unrecognized request argument supplied: method.supervised. Send supervised "
            "hyperparameters at the top level with this API version.",
            param="method.supervised",
        )
    hyper = body.get("hyperparameters")
    if kind == "supervised" and hyper is not None:
        # The dated API's supervised form: hyperparameters beside ``{"type": "supervised"}``.
        rest = {k: v for k, v in body.items() if k != "hyperparameters"}
        return {**rest, "method": {**method, "supervised": {"hyperparameters": hyper}}}
    return body

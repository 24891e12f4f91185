"""What the provider would refuse about a run, read from the model catalog before any upload.

A plan lists every refusal with its message, ``plan().ok`` is then false, and
``run()`` / ``start()`` raise the first one before any request
(:meth:`~ftkit.pipeline.Plan.raise_for_refusal`). The rules are the same for
every provider; the catalog's facts decide:

- ``model_retired``: the base model's shutdown date has come;
- ``model_not_available``: the provider does not fine-tune the model, because the
  catalog says so, or, on a provider whose table is the list of what it trains
  (Azure: its Models API reports ``fine_tune: false`` even for models it trains),
  because the table does not list it;
- ``method_not_available``: the provider does not train the model with a stage's method;
- ``training_type_not_available``: the model does not train on the run's training
  type, the default one included (Azure trains Standard when a job names none,
  which open-source models do not take), or the provider has no training types
  at all (OpenAI). ftkit never picks a training type itself: Global Standard and
  Developer may process the data outside the resource's region.

A model the catalog does not know, on a provider whose table is not the list
(OpenAI), is not refused: the validator reports it as ``unknown_model`` and the
API decides.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable
from dataclasses import dataclass

from .._exceptions import FtkitError, TrainingUnavailable, UsageError
from ..providers import DEFAULT_TRAINING_TYPE, TRAINING_TYPES, ModelInfo, find_model, models
from ..providers import providers as catalog_providers
from ..providers._names import base_model, provider_name

__all__ = ["Refusal", "find_refusals", "run_training_type"]

#: Providers whose catalog table lists every model they fine-tune: others are refused.
LISTED_ONLY = frozenset({"azure"})

#: Training types without a data-residency guarantee (Azure: Global Standard, Developer).
_NO_RESIDENCY = frozenset({"globalstandard", "developer"})

_STAGE_OF = {"sft": ".sft(...)", "dpo": ".dpo(...)", "rft": "a reinforcement job"}


@dataclass(frozen=True)
class Refusal:
    """One thing the provider would refuse about a run, found before any request.

    Attributes:
        code: ``model_retired``, ``model_not_available``, ``method_not_available``
            or ``training_type_not_available``.
        param: the setting to change: ``model``, ``method`` or ``training_type``.
        summary: a few words, for the plan's verdict.
        message: what is refused, why, and what to do instead.
        model: the run's base model.
        shutdown: the shutdown date, for ``model_retired``.
    """

    code: str
    param: str
    summary: str
    message: str
    model: str
    shutdown: str | None = None

    def error(self) -> FtkitError:
        """The exception ``run()`` raises for it: what the provider would answer.

        A model the provider does not train (retired or not offered) is
        :class:`~ftkit.TrainingUnavailable`, as the API's own refusal is; a method
        or training type that does not fit the model is a :class:`~ftkit.UsageError`
        naming the setting to change.
        """
        if self.code == "model_retired":
            from ..backend._errors import training_unavailable_for_model

            return training_unavailable_for_model(self.model, str(self.shutdown))
        if self.code == "model_not_available":
            return TrainingUnavailable(self.message, code=self.code, param=self.param)
        return UsageError(self.message)

    def to_dict(self) -> dict[str, str]:
        """``code``, ``param`` and ``message``, JSON-ready."""
        return {"code": self.code, "param": self.param, "message": self.message}


def run_training_type(info: ModelInfo | None, given: str | None) -> str | None:
    """The training type a job trains on: the one given, else the provider's default
    where the model has training types (Azure: ``standard``), else ``None``."""
    if given is not None:
        return given
    return DEFAULT_TRAINING_TYPE if info is not None and info.training_types else None


def find_refusals(
    model: str,
    methods: Iterable[str],
    *,
    provider: str | None,
    training_type: str | None,
    today: _dt.date,
) -> tuple[Refusal, ...]:
    """Everything ``provider`` would refuse about training ``model`` with ``methods``.

    Args:
        model: the run's base model (``ft:`` and ``.ft-`` names use their base's facts).
        methods: the stages' methods in the catalog's words (``sft``, ``dpo``).
        provider: the provider that will train it (``None``: the first that lists it).
        training_type: the run's training type as given (``None``: none chosen).
        today: the day shutdown dates are compared with.
    """
    base = base_model(model)
    info = find_model(base, provider)
    where = provider_name(provider or (info.provider if info is not None else "openai"))
    found: list[Refusal] = []
    tiered = _tiered_providers()
    if training_type is not None and provider is not None and provider not in tiered:
        found.append(_no_training_types(model, where, training_type, tiered))
    if info is None or info.fine_tunable is None:
        if provider in LISTED_ONLY:
            found.append(_not_listed(model, base, provider))
        return tuple(found)
    if not info.fine_tunable:
        found.append(
            Refusal(
                "model_not_available",
                "model",
                f"{where} does not fine-tune {base}",
                f"{model!r} cannot be fine-tuned on {where}: {info.note}. Fine-tunable "
                f"models there: {', '.join(_trainable(info.provider))}",
                model,
            )
        )
        return tuple(found)
    if info.retired(today):
        found.append(
            Refusal(
                "model_retired",
                "model",
                f"the base model was retired on {info.shutdown}",
                f"{info.name} was shut down on {info.shutdown}: no new fine-tuning jobs can "
                "be created on it or on its fine-tunes",
                model,
                shutdown=info.shutdown,
            )
        )
    for method in dict.fromkeys(methods):
        if method not in info.methods:
            found.append(_method_refused(model, info, method, where))
    tier = run_training_type(info, training_type)
    if tier is not None and info.training_types and tier not in info.training_types:
        found.append(_tier_refused(model, info, tier, given=training_type is not None))
    return tuple(found)


def _tiered_providers() -> list[str]:
    return [p for p in catalog_providers() if any(m.training_types for m in models(p))]


def _trainable(provider: str, method: str | None = None) -> list[str]:
    return [
        m.name
        for m in models(provider)
        if m.fine_tunable and (method is None or method in m.methods)
    ]


def _no_training_types(model: str, where: str, given: str, tiered: list[str]) -> Refusal:
    owners = " and ".join(provider_name(p) for p in tiered) or "another provider"
    return Refusal(
        "training_type_not_available",
        "training_type",
        f"{where} takes no training type",
        f"{where} takes no training type: .training_type({given!r}) is a setting of "
        f"{owners}; drop it, or train there with that provider's client",
        model,
    )


def _not_listed(model: str, base: str, provider: str) -> Refusal:
    where = provider_name(provider)
    example = json.dumps({"provider": provider, "models": {base: {"methods": ["sft"]}}})
    return Refusal(
        "model_not_available",
        "model",
        f"{where} does not fine-tune {base}",
        f"{where} does not fine-tune {model!r}: ftkit's catalog lists the models it "
        f"trains ({', '.join(_trainable(provider))}), and this is not one of them. If "
        f"{where} has added it, add it in a catalog file such as {example} (named in "
        "$FTKIT_MODELS, or loaded with ftkit.providers.register_file)",
        model,
    )


def _method_refused(model: str, info: ModelInfo, method: str, where: str) -> Refusal:
    word = method.upper()
    takes = " and ".join(m.upper() for m in ("sft", "dpo", "rft") if m in info.methods)
    offered = _trainable(info.provider, method)
    elsewhere = [
        provider_name(p)
        for p in catalog_providers()
        if p != info.provider
        and (other := find_model(info.name, p)) is not None
        and other.fine_tunable
        and method in other.methods
    ]
    message = (
        f"{where} trains {info.name} with {takes or 'no method'} only, not {word}"
        + (f"; {where} offers {word} on {', '.join(offered)}" if offered else "")
        + (f" ({' and '.join(elsewhere)} allows {word} on {info.name})" if elsewhere else "")
        + f". Train another model, or drop the {_STAGE_OF[method]} stage"
    )
    return Refusal(
        "method_not_available",
        "method",
        f"{where} does not train {info.name} with {word}",
        message,
        model,
    )


def _tier_refused(model: str, info: ModelInfo, tier: str, *, given: bool) -> Refusal:
    where = provider_name(info.provider)
    takes = [t for t in TRAINING_TYPES if t in info.training_types]
    suggest = takes[0]
    unchosen = "" if given else " (the one a job trains on when none is chosen)"
    message = (
        f"{info.name} does not train on {where}'s {tier} training type{unchosen}; it trains "
        f"on {', '.join(takes)} only. Choose it with .training_type({suggest!r})"
    )
    if suggest in _NO_RESIDENCY:
        message += (
            f". ftkit does not choose it for you: {suggest} training may process your data "
            "outside your resource's region (no data-residency guarantee), which is your "
            "decision to make"
        )
    return Refusal(
        "training_type_not_available",
        "training_type",
        f"{info.name} does not train on {tier}",
        message,
        model,
    )

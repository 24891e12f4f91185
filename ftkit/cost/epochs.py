"""How many epochs a run trains for, including what ``"auto"`` means.

The service does not publish its ``"auto"`` rule; ftkit uses the rule of
OpenAI's data-preparation cookbook: 3 epochs, raised so that small datasets
see about 100 examples and lowered so that large ones see about 25,000,
bounded to 1-25. Explicit epochs are used as given.

A provider whose jobs default to a fixed count instead (Together AI: ``n_epochs=1``
when none is given) has it in :data:`PROVIDER_DEFAULT_EPOCHS`, and ``"auto"`` means
that count there. Fireworks AI is not in it: no Fireworks source gives the default of
a supervised or DPO job's ``epochs``, so ``"auto"`` is the rule above there, and a
backend sends the count it resolves so that the job trains what was estimated.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, TypeAlias

from .._exceptions import UsageError

__all__ = ["PROVIDER_DEFAULT_EPOCHS", "EpochsArg", "default_epochs", "resolve_epochs"]

TARGET_EPOCHS = 3
MIN_TARGET_EXAMPLES = 100
MAX_TARGET_EXAMPLES = 25_000
MIN_DEFAULT_EPOCHS = 1
MAX_DEFAULT_EPOCHS = 25
MAX_EPOCHS = 50  # n_epochs accepted by the jobs API

EpochsArg: TypeAlias = "int | Literal['auto'] | None"

PROVIDER_DEFAULT_EPOCHS: Mapping[str, int] = MappingProxyType({"together": 1})
"""Epochs a provider's job trains for when none is given, where it has no "auto" rule
(Together's ``n_epochs`` defaults to 1: its SDK and API reference)."""


def default_epochs(examples: int) -> int:
    """The epochs ``"auto"`` is expected to choose for ``examples`` training examples."""
    if examples <= 0:
        return TARGET_EPOCHS
    if examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        return min(MAX_DEFAULT_EPOCHS, MIN_TARGET_EXAMPLES // examples)
    if examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        return max(MIN_DEFAULT_EPOCHS, MAX_TARGET_EXAMPLES // examples)
    return TARGET_EPOCHS


def resolve_epochs(
    epochs: EpochsArg, examples: int, provider: str | None = None
) -> tuple[int, bool]:
    """``(epochs, chosen_automatically)`` for an ``epochs=`` argument.

    ``None``/``"auto"`` is the default rule, or the provider's fixed default
    (:data:`PROVIDER_DEFAULT_EPOCHS`) for a provider that has one.

    Raises:
        UsageError: epochs that are not ``None``, ``"auto"`` or an int in 1-50.
    """
    if epochs is None or epochs == "auto":
        fixed = PROVIDER_DEFAULT_EPOCHS.get(provider) if provider is not None else None
        return (default_epochs(examples) if fixed is None else fixed), True
    if isinstance(epochs, bool) or not isinstance(epochs, int):
        raise UsageError(f"epochs must be 'auto' or an integer from 1 to 50, got {epochs!r}")
    if not 1 <= epochs <= MAX_EPOCHS:
        raise UsageError(f"epochs must be from 1 to {MAX_EPOCHS}, got {epochs}")
    return epochs, False

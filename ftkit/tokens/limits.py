"""How many tokens one training example may hold, per base model.

Examples longer than the limit are truncated from the end by the service
(usually cutting the assistant target), not rejected. The table is data, kept
beside its sources: the fine-tuning best-practices guide (gpt-4o, gpt-4.1)
and the 2024 fine-tuning guide (gpt-3.5-turbo).
"""

from __future__ import annotations

from .encoding import base_model

__all__ = ["EXAMPLE_LIMITS", "example_limit"]

# Base-model prefix -> max tokens per training example. Longest matching prefix wins.
EXAMPLE_LIMITS: dict[str, int] = {
    "gpt-4.1": 65_536,
    "gpt-4o": 65_536,
    "gpt-3.5-turbo-0125": 16_385,
    "gpt-3.5-turbo-1106": 16_385,
    "gpt-3.5-turbo-0613": 4_096,
    "gpt-35-turbo-0125": 16_385,  # Azure spellings
    "gpt-35-turbo-1106": 16_385,
    "gpt-35-turbo-0613": 4_096,
}

# Undated aliases resolve to the current fine-tunable snapshot.
_ALIASES: dict[str, str] = {
    "gpt-3.5-turbo": "gpt-3.5-turbo-0125",
    "gpt-35-turbo": "gpt-35-turbo-0125",
}


def example_limit(model: str) -> int | None:
    """The per-example token limit of ``model`` (its base model for ``ft:`` names).

    Returns:
        The limit, or ``None`` when ftkit has no documented limit for the model
        (nothing is then treated as over the limit).
    """
    base = base_model(model)
    base = _ALIASES.get(base, base)
    best = ""
    for prefix in EXAMPLE_LIMITS:
        if base.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return EXAMPLE_LIMITS[best] if best else None

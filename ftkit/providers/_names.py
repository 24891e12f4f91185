"""Model names as providers spell them: fine-tuned names lead back to their base snapshot.

A fine-tuned model is counted, limited and priced as the snapshot it was trained
from, so every lookup in the catalog starts by reading that snapshot out of the
name. OpenAI writes ``ft:<base>:<org>:<suffix>:<id>`` (checkpoints add
``:ckpt-step-<n>``); Azure writes ``<base>.ft-<id>``. Providers have names too:
the catalog's key (``azure``) and the one messages use (``Azure OpenAI``).
"""

from __future__ import annotations

from .._exceptions import UsageError

__all__ = ["base_model", "parse_fine_tuned_name", "provider_name"]

_PROVIDER_NAMES = {
    "openai": "OpenAI",
    "azure": "Azure OpenAI",
    "together": "Together AI",
    "fireworks": "Fireworks AI",
}


def provider_name(provider: str) -> str:
    """A provider as messages name it: ``azure`` → ``Azure OpenAI`` (others as given)."""
    return _PROVIDER_NAMES.get(provider, provider)


def base_model(model: str) -> str:
    """The base snapshot of a model name: ``ft:gpt-4.1-mini-2025-04-14:org::id`` → its base.

    Checkpoints (``ft:...:ckpt-step-N``) and Azure-style ``<base>.ft-<id>`` names resolve too.

    Raises:
        UsageError: an ``ft:`` name without a base model.
    """
    name = model.strip()
    if name.startswith("ft:"):
        parts = name.split(":")
        if len(parts) < 2 or not parts[1]:
            raise UsageError(f"cannot read the base model of {model!r}; expected ft:<base>:...")
        return parts[1]
    if ".ft-" in name:
        return name.split(".ft-", 1)[0]
    return name


def parse_fine_tuned_name(name: str) -> tuple[str, str, str, str] | None:
    """Split ``ft:<base>:<org>:<suffix>:<id>`` into its four fields, or None if malformed.

    A checkpoint name (``...:ckpt-step-<n>``) is accepted too; its suffix is ignored.
    """
    if not name.startswith("ft:"):
        return None
    fields = name[3:].split(":")
    if len(fields) == 5 and fields[4].startswith("ckpt-step-"):
        fields = fields[:4]
    if len(fields) != 4 or not fields[0] or not fields[1] or not fields[3]:
        return None
    base, org, suffix, ident = fields
    return base, org, suffix, ident

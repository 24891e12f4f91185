"""What each base model can be fine-tuned with, kept as data (facts §1-§4).

The validator reads this table to tell a user, before any upload, that a
model is not fine-tunable, does not take DPO, has no vision fine-tuning, or
truncates long examples. Providers change these facts; update the table, not
the checks. Per-example token limits come from :mod:`ftkit.tokens.limits`
so the analyzer and the validator never disagree.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from ..tokens.encoding import base_model
from ..tokens.limits import example_limit

__all__ = ["MODELS", "ModelInfo", "lookup_model", "utc_today"]


def utc_today() -> _dt.date:
    """Today in UTC: the day a shutdown date is compared with, as the provider does."""
    return _dt.datetime.now(_dt.timezone.utc).date()


@dataclass(frozen=True)
class ModelInfo:
    """Fine-tuning capabilities of one base model snapshot."""

    name: str
    methods: frozenset[str]
    """Fine-tuning methods the provider accepts: ``sft``, ``dpo``, ``rft``."""
    vision: bool = False
    """Whether image content parts may be trained."""
    shutdown: str | None = None
    """Announced shutdown date (``YYYY-MM-DD``) of the model and its fine-tunes."""
    fine_tunable: bool = True
    """False for models that exist but never took (chat) fine-tuning, or are retired."""
    note: str = ""
    """Why a model is not fine-tunable, for the message."""

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

    @property
    def limit(self) -> int | None:
        """Maximum tokens per training example, or ``None`` if undocumented."""
        return example_limit(self.name)


_SFT_DPO = frozenset({"sft", "dpo"})
_SFT = frozenset({"sft"})
_NONE: frozenset[str] = frozenset()

MODELS: dict[str, ModelInfo] = {
    info.name: info
    for info in (
        ModelInfo("gpt-4.1-2025-04-14", _SFT_DPO, shutdown="2027-01-14"),
        ModelInfo("gpt-4.1-mini-2025-04-14", _SFT_DPO, shutdown="2027-01-14"),
        ModelInfo("gpt-4.1-nano-2025-04-14", _SFT_DPO, shutdown="2026-10-23"),
        ModelInfo("gpt-4o-2024-08-06", _SFT_DPO, vision=True, shutdown="2027-01-14"),
        ModelInfo("gpt-4o-mini-2024-07-18", _SFT_DPO, shutdown="2027-01-14"),
        ModelInfo("gpt-3.5-turbo-0125", _SFT, shutdown="2026-10-23"),
        ModelInfo("gpt-3.5-turbo-1106", _SFT, shutdown="2026-10-23"),
        ModelInfo("gpt-35-turbo-0125", _SFT),  # Azure spelling
        ModelInfo("gpt-35-turbo-1106", _SFT),
        ModelInfo("o4-mini-2025-04-16", frozenset({"rft"}), shutdown="2026-10-23"),
        ModelInfo(
            "gpt-3.5-turbo-0613", _NONE, fine_tunable=False, note="it is retired for fine-tuning"
        ),
        ModelInfo(
            "gpt-35-turbo-0613", _NONE, fine_tunable=False, note="it is retired for fine-tuning"
        ),
        ModelInfo(
            "davinci-002",
            _NONE,
            fine_tunable=False,
            note="it only trains legacy prompt/completion files, not chat",
        ),
        ModelInfo(
            "babbage-002",
            _NONE,
            fine_tunable=False,
            note="it only trains legacy prompt/completion files, not chat",
        ),
    )
}
"""Known base models by exact snapshot name."""

# Undated names the API resolves to a snapshot.
_ALIASES: dict[str, str] = {
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano": "gpt-4.1-nano-2025-04-14",
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-3.5-turbo": "gpt-3.5-turbo-0125",
    "gpt-35-turbo": "gpt-35-turbo-0125",
    "o4-mini": "o4-mini-2025-04-16",
}

# Families that exist as chat models but have no (chat) fine-tuning. Prefix match.
_NOT_FINE_TUNABLE: tuple[str, ...] = (
    "gpt-5",
    "gpt-4.5",
    "o1",
    "o3",
    "chatgpt-",
    "gpt-4-",
    "gpt-4o-2024-05-13",
    "gpt-4o-2024-11-20",
    "gpt-4o-audio",
    "gpt-4o-realtime",
    "gpt-4o-search",
    "text-embedding",
    "dall-e",
    "whisper",
    "tts-",
    "omni-moderation",
)


def lookup_model(model: str) -> ModelInfo | None:
    """Capabilities of ``model`` (its base model for ``ft:`` names), or ``None`` if unknown.

    A known chat model that cannot be fine-tuned returns an entry with
    ``fine_tunable=False``, so the caller can tell "wrong model" from "new model".
    """
    try:
        base = base_model(model)
    except ValueError:
        return None
    base = _ALIASES.get(base, base)
    info = MODELS.get(base)
    if info is not None:
        return info
    if base in ("gpt-4", "gpt-4o") or base.startswith(_NOT_FINE_TUNABLE):
        return ModelInfo(base, _NONE, fine_tunable=False, note="it is not offered for fine-tuning")
    return None

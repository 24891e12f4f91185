"""The base models the fake knows: what each can train and when it shuts down.

Data, not logic: dates follow the provider's deprecation notices (see the
fine-tuning facts), methods follow the fine-tuning guides. A test can add or
replace entries through ``FakeFineTuningAPI(models=...)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

__all__ = ["DEFAULT_MODELS", "ModelInfo", "parse_fine_tuned_name"]


@dataclass(frozen=True)
class ModelInfo:
    """One model as the fake serves it from ``/models`` and checks it on job creation.

    Attributes:
        id: the dated snapshot name.
        created: Unix seconds the model was published.
        owned_by: the ``owned_by`` field of the Model object.
        shutdown_date: ``YYYY-MM-DD`` after which the model is retired (no new jobs), or None.
        methods: the fine-tuning methods it accepts (``supervised``, ``dpo``, ``reinforcement``).
        vision: whether training files may contain images.
        max_example_tokens: the per-example context limit (longer examples are truncated).
        aliases: short names that resolve to this snapshot on job creation.
    """

    id: str
    created: int
    owned_by: str = "system"
    shutdown_date: str | None = None
    methods: frozenset[str] = field(default_factory=lambda: frozenset({"supervised"}))
    vision: bool = False
    max_example_tokens: int = 65_536
    aliases: tuple[str, ...] = ()

    def retired_at(self, now: float) -> bool:
        """Whether ``now`` (Unix seconds) is on or after the shutdown date."""
        if self.shutdown_date is None:
            return False
        day = datetime.strptime(self.shutdown_date, "%Y-%m-%d").replace(tzinfo=timezone.utc)
        return now >= day.timestamp()

    def to_api(self) -> dict[str, object]:
        """The ``model`` object of ``GET /models/{id}``."""
        return {
            "id": self.id,
            "object": "model",
            "created": self.created,
            "owned_by": self.owned_by,
            "shutdown_date": self.shutdown_date,
        }


_SFT_DPO = frozenset({"supervised", "dpo"})

DEFAULT_MODELS: tuple[ModelInfo, ...] = (
    ModelInfo(
        "gpt-4.1-2025-04-14",
        1744315746,
        shutdown_date="2027-01-14",
        methods=_SFT_DPO,
        aliases=("gpt-4.1",),
    ),
    ModelInfo(
        "gpt-4.1-mini-2025-04-14",
        1744317547,
        shutdown_date="2027-01-14",
        methods=_SFT_DPO,
        aliases=("gpt-4.1-mini",),
    ),
    ModelInfo(
        "gpt-4.1-nano-2025-04-14",
        1744321707,
        shutdown_date="2026-10-23",
        methods=_SFT_DPO,
        aliases=("gpt-4.1-nano",),
    ),
    ModelInfo(
        "gpt-4o-2024-08-06", 1722814719, shutdown_date="2027-01-14", methods=_SFT_DPO, vision=True
    ),
    ModelInfo(
        "gpt-4o-mini-2024-07-18",
        1721172717,
        shutdown_date="2027-01-14",
        methods=_SFT_DPO,
        aliases=("gpt-4o-mini",),
    ),
    ModelInfo(
        "gpt-3.5-turbo-0125",
        1706048358,
        shutdown_date="2026-10-23",
        max_example_tokens=16_385,
        aliases=("gpt-3.5-turbo",),
    ),
    ModelInfo(
        "o4-mini-2025-04-16",
        1744133506,
        shutdown_date="2026-10-23",
        methods=frozenset({"reinforcement"}),
    ),
)
"""The fine-tunable snapshots of late 2026 (facts §1): the gpt-4.1 family, gpt-4o, gpt-4o-mini,
gpt-3.5-turbo-0125 and o4-mini (reinforcement only)."""


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

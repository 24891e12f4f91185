"""What every record check shares: how findings are emitted, and what a conversation sums to.

The checks run on the plain dicts ``json.loads`` returns (no model is built per
line) and report every problem of a line, each through one :data:`Emit` call. The
SFT and DPO checks both read messages, tool calls, tools and content parts; the
modules for those (``_checks_messages``, ``_checks_calls``, ``_checks_tools``,
``_checks_content``) build on the names here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..schema.formats import json_type_name

__all__ = [
    "DEFAULT_PROFILE",
    "FUNCTION_NAME",
    "CheckContext",
    "Emit",
    "MessageSummary",
    "Profile",
    "each_object",
    "emit_unknown_keys",
    "emit_unless_function",
    "emit_wrong_type",
    "shown",
]

Emit = Callable[[str, str, str, "str | None"], None]
"""``emit(code, path, message, hint)``: report one finding on the current line."""

FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""The API's pattern for function names and message ``name`` fields."""


@dataclass(frozen=True)
class Profile:
    """A provider's rules beyond the shared (OpenAI) format, as the checks read them.

    One object instead of provider names in the checks: a rule is switched on here,
    and the check that reads it does not know which provider asked.
    """

    provider: str = "openai"
    """The provider whose rules these are, for messages (``Together AI``)."""
    weight_roles: frozenset[str] = frozenset({"assistant"})
    """The roles a per-message ``weight`` (0 or 1) may be on."""
    sample_weight: bool = False
    """Whether an SFT record may carry a top-level ``weight`` (a number >= 0)."""
    alternation: bool = False
    """Whether user and assistant turns must alternate after an optional system message."""
    base64_images: bool = False
    """Whether images must be embedded as base64 data URLs (no https URLs)."""
    reasoning: bool = False
    """Whether assistant messages may carry ``reasoning`` / ``reasoning_content`` text."""
    sample_weight_negative: bool = False
    """Whether a sample ``weight`` may be negative (it then reverses the example's signal)."""
    sample_weight_everywhere: bool = False
    """Whether a sample ``weight`` on any SFT record must be on every one (a file-level rule)."""
    system_first: bool = False
    """Whether a system message may only be the first message of a conversation."""
    dpo_single_turn: bool = False
    """Whether DPO inputs should be one turn (a user message after an optional system one):
    a longer input is warned of, not refused, where only the provider's docs say so."""
    min_examples: int = 10
    """The fewest training examples the provider accepts in a file."""
    max_examples: int | None = None
    """The most training examples the provider accepts in a file (``None``: no maximum known)."""


DEFAULT_PROFILE = Profile()
"""OpenAI's rules, which Azure OpenAI shares."""


@dataclass(frozen=True)
class CheckContext:
    """What the checks know about the target, beyond the record itself."""

    vision: bool | None = None
    """Whether the model takes images: ``None`` when no (known) model was given."""
    model: str | None = None
    profile: Profile = DEFAULT_PROFILE
    """The provider's rules (:data:`DEFAULT_PROFILE`: OpenAI's)."""


@dataclass
class MessageSummary:
    """What the record-level checks and the quality stats need from a message list."""

    roles: list[str] = field(default_factory=list)
    assistants: int = 0
    trained: int = 0
    images: int = 0
    system_prompt: str | None = None
    responses: list[int] = field(default_factory=list)
    """Character lengths of trained assistant responses."""
    called_tools: list[tuple[str, str]] = field(default_factory=list)
    """``(path, name)`` of every tool or function call."""


def emit_wrong_type(
    emit: Emit, code: str, path: str, wanted: str, value: Any, hint: str | None = None
) -> None:
    """Report a value of the wrong JSON type as ``"<wanted>, got <its type>"``."""
    emit(code, path, f"{wanted}, got {json_type_name(value)}", hint)


def emit_unknown_keys(
    emit: Emit,
    obj: dict[str, Any],
    allowed: Collection[str],
    path: str,
    inside: str,
    code: str = "unknown_key",
) -> None:
    """Report each key of ``obj`` (at ``path``) not in ``allowed``: unknown key 'k' in <inside>."""
    for key in obj:
        if key not in allowed:
            emit(code, f"{path}.{key}", f"unknown key {key!r} in {inside}", None)


def emit_unless_function(emit: Emit, obj: dict[str, Any], path: str, code: str, what: str) -> None:
    """Report a ``type`` other than ``"function"`` (the default, and the only type there is)."""
    kind = obj.get("type", "function")
    if kind != "function":
        emit(code, f"{path}.type", f"{what} type must be 'function', got {kind!r}", None)


def each_object(
    items: list[Any], path: str, emit: Emit, code: str, wanted: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(path, item)`` of each object of a JSON array; any other item is reported as ``code``."""
    for index, item in enumerate(items):
        where = f"{path}[{index}]"
        if isinstance(item, dict):
            yield where, item
        else:
            emit_wrong_type(emit, code, where, wanted, item)


def shown(value: Any) -> str:
    """A value as a finding quotes it: its JSON, cut to 40 characters."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."

"""Provider profiles: the rules a provider adds to the shared (OpenAI) format.

OpenAI and Azure OpenAI read the same files, so they share the default profile.
Together AI reads the same records (``messages``, tools, OpenAI's preference
pairs) with rules of its own, which its server applies when the file is
preprocessed, after the upload [Together's data-preparation docs and its skill's
data-formats.md; the together-python client's ``validate_messages``, which ran
the same rules locally before 2.0]:

* after an optional system message, user and assistant turns alternate (tool
  results sit between an assistant's tool calls and its next reply);
* images are base64 data URLs only: Together does not fetch an https URL;
* a per-message ``weight`` (0 or 1) may be on user messages too, and an SFT
  record may carry a sample ``weight`` (a number >= 0) scaling its loss;
* assistant messages may carry their reasoning (``reasoning`` or
  ``reasoning_content``) beside the content.

Images in user messages only, at most 10 per example of at most 10 MB each, are
the shared rules already. :func:`profile_for` picks a provider's profile; the
checks read its flags and never the provider's name.
"""

from __future__ import annotations

from typing import Any

from ..providers._names import provider_name
from ._checks_common import DEFAULT_PROFILE, Emit, Profile, shown

__all__ = [
    "TOGETHER_PROFILE",
    "check_alternation",
    "check_sample_weight",
    "profile_for",
]

TOGETHER_PROFILE = Profile(
    provider="together",
    weight_roles=frozenset({"assistant", "user"}),
    sample_weight=True,
    alternation=True,
    base64_images=True,
    reasoning=True,
)
"""Together AI's rules."""

_PROFILES = {"together": TOGETHER_PROFILE}
_CALLED = "assistant+calls"  # an assistant turn that calls tools: tool results may follow


def profile_for(provider: str | None) -> Profile:
    """The rules of ``provider`` (``None``, ``openai``, ``azure``, any other: OpenAI's)."""
    return _PROFILES.get(provider or "", DEFAULT_PROFILE)


def check_alternation(messages: Any, path: str, emit: Emit, profile: Profile) -> None:
    """Report the first turn that breaks the user/assistant alternation of ``messages``.

    The allowed order: an optional system message first, then a user turn, then
    assistant and user turns by turns; an assistant turn with tool calls may be
    followed by one or more tool results, after which the assistant speaks again.
    One finding per conversation (the first break), as the provider stops there too.
    Messages the structural checks already reject (no object, an unknown role)
    end the check silently: their own findings say what is wrong. A tool result
    after a turn without calls is left to ``unknown_tool_call_id``.
    """
    if not isinstance(messages, list):
        return
    previous: str | None = None  # the kind of the previous turn; None: only a system message
    for index, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if not isinstance(role, str) or not isinstance(message, dict):
            return
        if role in ("system", "developer"):
            if index == 0:
                continue
            problem = f"a {role} message after the first message"
        elif role in ("tool", "function"):
            previous = "tool"
            continue
        elif role == "user":
            if previous in (None, "assistant", _CALLED):
                previous = "user"
                continue
            problem = (
                "a user message right after another user message"
                if previous == "user"
                else "a user message right after a tool result, before the assistant's reply"
            )
        elif role == "assistant":
            if previous in ("user", "tool"):
                calls = message.get("tool_calls") or message.get("function_call")
                previous = _CALLED if calls else "assistant"
                continue
            problem = (
                "an assistant message before any user message"
                if previous is None
                else "an assistant message right after another assistant message"
            )
        else:
            return
        emit(
            "roles_not_alternating",
            f"{path}[{index}]",
            f"{path}[{index}] is {problem}: on {provider_name(profile.provider)}, after an "
            "optional system message, user and assistant turns must alternate (tool "
            "results go between an assistant's tool calls and its next reply)",
            None,
        )
        return


def check_sample_weight(record: dict[str, Any], emit: Emit) -> None:
    """A record's sample ``weight`` scales its loss: a number >= 0 (not a boolean)."""
    if "weight" not in record:
        return
    weight = record["weight"]
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight >= 0:
        emit(
            "invalid_sample_weight",
            "weight",
            f"the sample weight must be a number >= 0, got {shown(weight)}",
            None,
        )

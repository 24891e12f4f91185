"""The record checks a provider's fake runs on uploaded training data (Together's, Fireworks').

Both providers validate an upload on their servers with rules of their own; their fakes
share these structural checks of a line's ``messages`` and preference outputs, and
differ only in the words around them (Together ends its sentences with a period).
Each check returns the first problem as text, or ``None``; ``flags`` collects what a
file holds (tools, images, message weights) for the provider's report.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ROLES", "check_messages", "check_preference_outputs"]

ROLES = frozenset({"system", "user", "assistant", "tool"})


def _has_image(content: Any) -> bool:
    return isinstance(content, list) and any(
        isinstance(part, dict) and part.get("type") == "image_url" for part in content
    )


def check_messages(
    messages: Any,
    where: str,
    *,
    need_assistant: bool,
    flags: dict[str, bool] | None = None,
    end: str = "",
) -> str | None:
    """The first problem of a ``messages`` list at ``where``, each sentence ending in ``end``."""
    seen = flags if flags is not None else {}
    if not isinstance(messages, list) or not messages:
        return f"'{where}' must be a non-empty list of messages{end}"
    for index, message in enumerate(messages):
        at = f"{where}[{index}]"
        if not isinstance(message, dict):
            return f"{at} must be an object{end}"
        role = message.get("role")
        if role not in ROLES:
            return f"{at}.role must be one of {', '.join(sorted(ROLES))} (got {role!r}){end}"
        content = message.get("content")
        if content is None and not message.get("tool_calls"):
            return f"{at} has no 'content'{end}"
        if content is not None and not isinstance(content, (str, list)):
            return f"{at}.content must be a string or a list of parts{end}"
        if _has_image(content):
            seen["dataset_is_multimodal"] = True
        if message.get("tool_calls") or role == "tool":
            seen["dataset_has_tools"] = True
        if "weight" in message:
            weight = message["weight"]
            if isinstance(weight, bool) or weight not in (0, 1):
                return f"{at}.weight must be 0 or 1{end}"
            seen["dataset_has_message_weights"] = True
    if need_assistant and not any(m.get("role") == "assistant" for m in messages):
        return f"'{where}' has no assistant message to train on{end}"
    return None


def check_preference_outputs(row: dict[str, Any], *, end: str = "") -> str | None:
    """The first problem of a preference row's two outputs (one assistant message each)."""
    for key in ("preferred_output", "non_preferred_output"):
        output = row[key]
        if (
            not isinstance(output, list)
            or len(output) != 1
            or not isinstance(output[0], dict)
            or output[0].get("role") != "assistant"
        ):
            return f"'{key}' must hold exactly one assistant message{end}"
    return None

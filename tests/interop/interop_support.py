"""What the interop tests share: records compared by value."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["by_value"]


def by_value(records: Any) -> list[Any]:
    """The records as dicts, each tool call's arguments parsed: TRL holds them as objects,
    so ``{"a":1}`` comes back as ``{"a": 1}``, the same arguments."""
    dumped = [record.model_dump(mode="json") for record in records]
    for record in dumped:
        for message in _messages(record):
            for call in message.get("tool_calls") or ():
                call["function"]["arguments"] = json.loads(call["function"]["arguments"])
    return dumped


def _messages(record: dict[str, Any]) -> list[dict[str, Any]]:
    if "messages" in record:
        return list(record["messages"])
    return [
        *record["input"]["messages"],
        *record["preferred_output"],
        *record["non_preferred_output"],
    ]

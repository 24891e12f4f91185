"""Small builders shared by the validator tests (imported as a plain module)."""

from __future__ import annotations

import json
from typing import Any

from ftkit.validation import ValidationReport, validate

# Codes about the whole file that a one-record test does not care about.
FILE_CODES = {"too_few_examples", "few_examples", "model_shutdown"}


def user(text: str = "What is 2+2?") -> dict[str, Any]:
    return {"role": "user", "content": text}


def assistant(text: str = "4", **extra: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": text, **extra}


def system(text: str = "You are a calculator.") -> dict[str, Any]:
    return {"role": "system", "content": text}


def sft(*messages: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"messages": list(messages), **extra}


def dpo(
    prompt: list[dict[str, Any]] | None = None,
    preferred: Any = None,
    non_preferred: Any = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "input": {"messages": prompt if prompt is not None else [user()]},
        "preferred_output": preferred if preferred is not None else [assistant("4")],
        "non_preferred_output": non_preferred if non_preferred is not None else [assistant("5")],
        **extra,
    }


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "Current weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def call(
    call_id: str | None = "c1", name: str | None = "weather", arguments: Any = '{"city": "Oslo"}'
) -> dict[str, Any]:
    function: dict[str, Any] = {}
    if name is not None:
        function["name"] = name
    function["arguments"] = arguments
    result: dict[str, Any] = {"type": "function", "function": function}
    if call_id is not None:
        result["id"] = call_id
    return result


def calls(*items: dict[str, Any]) -> dict[str, Any]:
    return {"role": "assistant", "tool_calls": list(items)}


def tool_result(call_id: str = "c1", content: str = "-3 C") -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": content}


def check(record: dict[str, Any], **kwargs: Any) -> ValidationReport:
    return validate([record], **kwargs)


def found(record: dict[str, Any], **kwargs: Any) -> set[tuple[str, str]]:
    """``(code, path)`` of the record's findings, without the one-record file noise."""
    return {(i.code, i.path) for i in check(record, **kwargs).issues if i.code not in FILE_CODES}


def codes(record: dict[str, Any], **kwargs: Any) -> set[str]:
    return {code for code, _ in found(record, **kwargs)}


def write_jsonl(path: Any, records: list[Any]) -> Any:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# Error codes the record models do not enforce (docs/validation.md lists them).
VALIDATOR_ONLY = {
    "special_token",
    "invalid_unicode",
    "arguments_invalid_json",
    "arguments_not_object",
    "duplicate_tool_call_id",
    "unknown_tool_call_id",
    "nothing_to_train",
    "invalid_tool_definition",
    "dpo_non_text_output",
    "invalid_dpo_output",
    "invalid_image_url",
    "invalid_image_data",
    "image_too_large",
    "image_in_system",
    "too_many_images",
    "images_not_supported",
}

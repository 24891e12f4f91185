"""Recognise what a JSON line is, and say what a foreign one looks like.

A user who feeds question/answer pairs or a legacy prompt/completion file
deserves "this is a question/answer file; chat fine-tuning needs messages",
not "field required". These helpers look only at top-level keys, so they are
cheap enough to run on every line that fails.
"""

from __future__ import annotations

from typing import Any, Literal

__all__ = ["describe_foreign", "detect_kind", "json_type_name"]

_DPO_KEYS = frozenset(
    {
        "input",
        "preferred_output",
        "non_preferred_output",
        "preferred_completion",
        "non_preferred_completion",
    }
)

_QA_PAIRS = (
    ("question", "answer"),
    ("instruction", "output"),
    ("instruction", "response"),
    ("query", "response"),
    ("input", "output"),
    ("prompt", "response"),
)

_SFT_EXPECTED = (
    'an SFT line is {"messages": [{"role": "user", "content": "..."}, '
    '{"role": "assistant", "content": "..."}]}'
)
_DPO_EXPECTED = (
    'a DPO line is {"input": {"messages": [...]}, "preferred_output": [{"role": "assistant", '
    '"content": "..."}], "non_preferred_output": [{"role": "assistant", "content": "..."}]}'
)


def detect_kind(obj: dict[str, Any]) -> Literal["sft", "dpo"] | None:
    """``"sft"`` for a line with ``messages``, ``"dpo"`` for a preference pair, else ``None``."""
    if "messages" in obj:
        return "sft"
    if (
        "preferred_output" in obj
        or "non_preferred_output" in obj
        or ("input" in obj and isinstance(obj.get("input"), dict))
        or "preferred_completion" in obj
    ):
        return "dpo"
    return None


def describe_foreign(obj: dict[str, Any], *, expected: Literal["sft", "dpo"] | None = None) -> str:
    """One sentence on what a line looks like and what was expected instead."""
    keys = sorted(str(k) for k in obj)
    shown = ", ".join(repr(k) for k in keys[:6]) + (", ..." if len(keys) > 6 else "")
    found = detect_kind(obj)
    if expected is not None and found is not None and found != expected:
        other = "an SFT (messages)" if found == "sft" else "a DPO (preference pair)"
        wanted = _SFT_EXPECTED if expected == "sft" else _DPO_EXPECTED
        return f"this line is {other} record, but this file is {expected.upper()}: {wanted}"
    keyset = set(obj)
    if not keyset:
        looks = "an empty object"
    elif {"prompt", "completion"} <= keyset:
        looks = (
            "a legacy prompt/completion record (babbage-002/davinci-002 only); "
            "convert it to chat messages"
        )
    elif any(a in keyset and b in keyset for a, b in _QA_PAIRS):
        pair = next(f"{a}/{b}" for a, b in _QA_PAIRS if a in keyset and b in keyset)
        looks = (
            f"{pair} pairs, not a chat fine-tuning record; put the {pair.split('/')[0]} in a "
            f"user message and the {pair.split('/')[1]} in an assistant message"
        )
    elif "conversations" in keyset or "conversation" in keyset:
        looks = "a ShareGPT-style conversation; rename it to messages with role/content keys"
    elif "chosen" in keyset and "rejected" in keyset:
        looks = (
            "a chosen/rejected preference pair (Hugging Face TRL style); use input, "
            "preferred_output and non_preferred_output"
        )
    elif "text" in keyset:
        looks = "raw text for language modelling, not a chat fine-tuning record"
    else:
        looks = f"an object with keys {shown}"
    wanted = {
        None: _SFT_EXPECTED + "; " + _DPO_EXPECTED,
        "sft": _SFT_EXPECTED,
        "dpo": _DPO_EXPECTED,
    }[expected]
    return f"neither an SFT nor a DPO record: it looks like {looks}. Expected: {wanted}"


# ``bool`` before ``int``: a JSON boolean parses as a Python bool, which is also an int.
_JSON_TYPE_NAMES: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "a boolean"),
    ((int, float), "a number"),
    (str, "a string"),
    (list, "an array"),
    (dict, "an object"),
)


def json_type_name(value: Any) -> str:
    """How messages name a parsed JSON value's type: ``"a number"``, ``"an array"``..."""
    if value is None:
        return "null"
    kinds = (name for kind, name in _JSON_TYPE_NAMES if isinstance(value, kind))
    return next(kinds, type(value).__name__)

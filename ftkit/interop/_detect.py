"""Tell a dataset's format from its first lines, and say what was seen.

Each of the first :data:`PROBE_LINES` lines that parse as a JSON object votes by its
keys. One format among the votes is the answer; none, or two different ones, is
refused with the lines that voted, so a file is never converted by a guess. Lines
that do not parse are left to the import, which reports them with their numbers.
"""

from __future__ import annotations

import json
import os
from typing import Any

from .._exceptions import UsageError
from ..jsonl import iter_lines

__all__ = ["FORMATS", "PROBE_LINES", "classify", "detect_format"]

#: The formats :func:`ftkit.interop.import_dataset` reads.
FORMATS: tuple[str, ...] = ("sharegpt", "alpaca", "trl", "openai")
PROBE_LINES = 20

_KNOWN_SHAPES = (
    "ShareGPT (conversations of from/value turns), Alpaca (instruction/input/output), "
    "TRL preferences (prompt/chosen/rejected) or OpenAI (messages, or input/"
    "preferred_output/non_preferred_output)"
)


def classify(obj: dict[str, Any]) -> tuple[str, str] | None:
    """``(format, what it looks like)`` for one line's object, or ``None`` if unknown."""
    if "conversations" in obj:
        turns = obj["conversations"]
        first = turns[0] if isinstance(turns, list) and turns else {}
        shape = "role/content" if isinstance(first, dict) and "role" in first else "from/value"
        prefs = " with chosen/rejected turns (preference data)" if "chosen" in obj else ""
        return "sharegpt", f"ShareGPT: conversations of {shape} turns{prefs}"
    if "instruction" in obj and ({"output", "chosen"} & obj.keys()):
        kind = "preference pairs (chosen/rejected)" if "chosen" in obj else "instruction/output"
        return "alpaca", f"Alpaca: {kind}"
    turns = obj.get("messages")
    first = turns[0] if isinstance(turns, list) and turns else {}
    if isinstance(first, dict) and "from" in first:
        return "sharegpt", "ShareGPT: messages of from/value turns"
    # Before messages: Axolotl's DPO layout (ftkit's own Axolotl export) has messages too.
    if "chosen" in obj and "rejected" in obj:
        if "messages" in obj and "prompt" not in obj:
            return "trl", (
                "Axolotl DPO (chat_template.default): messages, one chosen and one rejected message"
            )
        conversational = isinstance(obj["chosen"], list)
        kind = "conversational" if conversational else "standard"
        prompt = "explicit prompt" if "prompt" in obj else "implicit prompt"
        return "trl", f"TRL preference data: {kind}, {prompt}"
    if "messages" in obj:
        return "openai", (
            "OpenAI chat format: messages of role/content (ShareGPT variants with "
            "messages and TRL's conversational data use it as is)"
        )
    if isinstance(obj.get("input"), dict) and "preferred_output" in obj:
        return "openai", "OpenAI DPO format: input/preferred_output/non_preferred_output"
    return None


def detect_format(path: str | os.PathLike[str]) -> tuple[str, str]:
    """``(format, a sentence on what was detected)`` from the first lines of ``path``.

    Raises:
        UsageError: no line has a known shape, or lines disagree; the message names
            the lines and how to give the format.
    """
    votes: dict[str, tuple[int, str]] = {}
    unknown: list[tuple[int, list[str]]] = []
    seen = 0
    for raw in iter_lines(path):
        if seen >= PROBE_LINES:
            break
        try:
            obj = json.loads(raw.data)
        except ValueError:
            continue
        if not isinstance(obj, dict):
            continue
        seen += 1
        found = classify(obj)
        if found is None:
            unknown.append((raw.number, sorted(str(k) for k in obj)[:6]))
        else:
            votes.setdefault(found[0], (raw.number, found[1]))
    if len(votes) > 1:
        said = "; ".join(f"line {line} looks like {what}" for line, what in votes.values())
        raise UsageError(
            f"cannot tell the format of {path}: {said}. Give the format "
            "(format=... or --from) if one of them is right"
        )
    if not votes:
        if unknown:
            line, keys = unknown[0]
            seen_keys = ", ".join(repr(k) for k in keys) or "no keys"
            what = f"line {line} has {seen_keys}"
        else:
            what = "no line is a JSON object"
        raise UsageError(
            f"cannot tell the format of {path}: {what}, which matches none of {_KNOWN_SHAPES}"
        )
    ((name, (_, what)),) = votes.items()
    return name, what

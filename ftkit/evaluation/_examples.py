"""Test examples: the conversation to send and the reference reply to score against.

An SFT record becomes the messages before its last assistant turn (or, for
tool-calling scorers, its last turn that calls a tool) plus that turn as the
reference; a DPO record becomes its input and its preferred output. Assistant
``weight`` keys are dropped: they are training-only and Chat Completions refuses them.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._exceptions import UsageError
from ..schema import DPORecord, SFTRecord
from ._scorers import Target, Turn

__all__ = ["EvalExample", "TestSource", "chat_request", "load_examples", "without_weight"]

TestSource = str | os.PathLike[str] | Iterable[SFTRecord | DPORecord | Mapping[str, Any]]
"""A JSONL path, a :class:`~ftkit.Dataset`, or any iterable of records or record dicts."""


@dataclass(frozen=True)
class EvalExample:
    """One test example, ready to send.

    Attributes:
        index: 0-based position in the test source (the key results are stored under).
        line: the JSONL line it came from, when read from a file.
        messages: the conversation sent to each model (JSON-ready dicts).
        tools: the tool definitions sent with it, if the record has any.
        parallel_tool_calls: the record's setting, sent only with tools.
        reference: the assistant turn the reply is scored against.
    """

    index: int
    line: int | None
    messages: tuple[dict[str, Any], ...]
    tools: tuple[dict[str, Any], ...] | None
    parallel_tool_calls: bool | None
    reference: Turn

    def request(self, model: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """The keyword arguments of ``chat.completions.create`` for ``model``."""
        return chat_request(model, self.messages, self.tools, self.parallel_tool_calls, params)

    def fingerprint(self, params: Mapping[str, Any]) -> str:
        """A digest of what is asked (conversation, tools, parameters; not the model).

        A stored reply is reused only for the same fingerprint, so editing the
        test file or changing ``temperature`` asks again instead of mixing answers.
        """
        payload = {
            "messages": self.messages,
            "tools": self.tools,
            "parallel_tool_calls": self.parallel_tool_calls,
            "params": dict(params),
        }
        text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _records(source: TestSource) -> Iterator[SFTRecord | DPORecord]:
    if isinstance(source, (str, os.PathLike)):
        from ..dataset import read_jsonl

        yield from read_jsonl(source)
        return
    if isinstance(source, (bytes, Mapping)) or not isinstance(source, Iterable):
        raise UsageError(
            "test_source must be a JSONL path, a Dataset or an iterable of records, "
            f"got {type(source).__name__}"
        )
    from ..schema import parse_record

    for index, item in enumerate(source):
        if isinstance(item, (SFTRecord, DPORecord)):
            yield item
        elif isinstance(item, Mapping):
            yield parse_record(json.dumps(item), line_no=None)
        else:
            raise UsageError(
                f"test item {index} is a {type(item).__name__}; expected a record or a dict"
            )


def without_weight(message: Mapping[str, Any]) -> dict[str, Any]:
    """A training message as Chat Completions takes it: ``weight`` is training-only."""
    return {k: v for k, v in message.items() if k != "weight"}


def _from_sft(record: SFTRecord, index: int, target: Target) -> EvalExample | None:
    data = record.to_dict()
    messages: list[dict[str, Any]] = data["messages"]
    positions = [
        i
        for i, m in enumerate(messages)
        if m.get("role") == "assistant"
        and (target == "final" or m.get("tool_calls") or m.get("function_call"))
    ]
    if not positions:
        return None
    at = positions[-1]
    tools = data.get("tools")
    return EvalExample(
        index=index,
        line=record.line,
        messages=tuple(without_weight(m) for m in messages[:at]),
        tools=tuple(tools) if tools else None,
        parallel_tool_calls=data.get("parallel_tool_calls"),
        reference=Turn.from_message(messages[at]),
    )


def _from_dpo(record: DPORecord, index: int, target: Target) -> EvalExample | None:
    data = record.to_dict()
    preferred = data["preferred_output"][0]
    reference = Turn.from_message(preferred)
    if target == "tool_call" and not reference.tool_calls:
        return None
    source = data["input"]
    tools = source.get("tools")
    return EvalExample(
        index=index,
        line=record.line,
        messages=tuple(without_weight(m) for m in source["messages"]),
        tools=tuple(tools) if tools else None,
        parallel_tool_calls=source.get("parallel_tool_calls"),
        reference=reference,
    )


def load_examples(
    source: TestSource, *, target: Target = "final", max_examples: int | None = None
) -> tuple[list[EvalExample], int]:
    """Read the test examples.

    Args:
        source: a JSONL path, a Dataset, or records / record dicts.
        target: which assistant turn is the reference (see the scorers).
        max_examples: stop after this many usable examples.

    Returns:
        The examples, and how many records were skipped (no turn to score).

    Raises:
        UsageError: an unreadable source or a non-positive ``max_examples``.
        RecordError: a malformed line in a JSONL file.
    """
    if max_examples is not None and (isinstance(max_examples, bool) or max_examples < 1):
        raise UsageError(f"max_examples must be a positive integer, got {max_examples!r}")
    examples: list[EvalExample] = []
    skipped = 0
    for index, record in enumerate(_records(source)):
        if max_examples is not None and len(examples) >= max_examples:
            break
        example = (
            _from_sft(record, index, target)
            if isinstance(record, SFTRecord)
            else _from_dpo(record, index, target)
        )
        if example is None:
            skipped += 1
        else:
            examples.append(example)
    return examples, skipped


def chat_request(
    model: str,
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[Mapping[str, Any]] | None,
    parallel_tool_calls: bool | None,
    params: Mapping[str, Any],
) -> dict[str, Any]:
    """``chat.completions.create``'s keyword arguments for a conversation and its tools.

    ``parallel_tool_calls`` goes only with tools (the API refuses it alone); ``params``
    (temperature, max tokens...) come last. An evaluation's example and a
    distillation's prompt are sent alike.
    """
    body: dict[str, Any] = {"model": model, "messages": [dict(m) for m in messages]}
    if tools:
        body["tools"] = [dict(t) for t in tools]
        if parallel_tool_calls is not None:
            body["parallel_tool_calls"] = parallel_tool_calls
    body.update(params)
    return body

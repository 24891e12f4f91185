"""Prompt records: the conversations a teacher answers, read from a file, a Dataset or dicts.

A prompt is a conversation without its answer: a record's messages up to (not
including) a final assistant turn, so a test split works as prompts unchanged
and the removed turn serves as the reference a scorer filter may compare with
and as the length guess of the cost estimate. A conversation that ends on a
user or tool message is a prompt as it is. A DPO record's prompt is its
``input``. Assistant ``weight`` keys are dropped: they are training-only and
Chat Completions refuses them.

Prompt files are read line by line as JSON, not as training records, because a
prompt without an answer is not a valid SFT record.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .._exceptions import RecordError, UsageError
from ..backend import ChatAnswer
from ..evaluation._examples import chat_request, without_weight
from ..evaluation._scorers import Turn
from ..schema import DPORecord, SFTRecord

__all__ = ["Prompt", "PromptSource", "load_prompts"]

PromptSource = str | os.PathLike[str] | Iterable[SFTRecord | DPORecord | Mapping[str, Any]]
"""A JSONL path, a :class:`~ftkit.Dataset`, or any iterable of records or record dicts."""


@dataclass(frozen=True)
class Prompt:
    """One conversation to send to the teacher.

    Attributes:
        index: 0-based position in the prompt source.
        messages: the conversation sent (JSON-ready dicts, no ``weight``).
        tools: the tool definitions sent with it, if the record has any.
        parallel_tool_calls: the record's setting, sent only with tools.
        reference: the final assistant turn the record had (removed), if any.
    """

    index: int
    messages: tuple[dict[str, Any], ...]
    tools: tuple[dict[str, Any], ...] | None
    parallel_tool_calls: bool | None
    reference: Turn | None

    def request(self, model: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """The keyword arguments of ``chat.completions.create`` for ``model``."""
        return chat_request(model, self.messages, self.tools, self.parallel_tool_calls, params)

    @property
    def fingerprint(self) -> str:
        """A digest of the conversation and its tools: the key of its answers in the journal.

        The request's parameters are not in it: the journal holds one set of them for
        the whole output file, and a re-run with others is refused.
        """
        payload = {
            "messages": self.messages,
            "tools": self.tools,
            "parallel_tool_calls": self.parallel_tool_calls,
        }
        text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    def record(self, answer: ChatAnswer, *, call_prefix: str) -> dict[str, Any]:
        """The SFT record: this conversation and ``answer`` as its final assistant turn.

        Chat Completions returns tool calls with ids, but :class:`~ftkit.backend.ChatAnswer`
        keeps names and arguments only; each call gets a stable id made of
        ``call_prefix`` and its position (a training file needs one, and later turns of
        a record built on it would name it).
        """
        turn: dict[str, Any] = {"role": "assistant"}
        if answer.content is not None:
            turn["content"] = answer.content
        if answer.tool_calls:
            turn["tool_calls"] = [
                {
                    "id": f"call_{call_prefix}_{i}",
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                }
                for i, (name, arguments) in enumerate(answer.tool_calls)
            ]
        data: dict[str, Any] = {"messages": [*map(dict, self.messages), turn]}
        if self.tools:
            data["tools"] = [dict(t) for t in self.tools]
            if self.parallel_tool_calls is not None:
                data["parallel_tool_calls"] = self.parallel_tool_calls
        return data


def _prompt(data: Mapping[str, Any], index: int, where: str) -> Prompt:
    """A prompt from a record dict: SFT-shaped (``messages``) or DPO-shaped (``input``)."""
    source: Any = data.get("input") if "preferred_output" in data else data
    if not isinstance(source, Mapping):
        raise UsageError(f"{where}: a DPO record's input must be an object")
    messages = source.get("messages")
    if (
        not isinstance(messages, list)
        or not messages
        or not all(isinstance(m, Mapping) and isinstance(m.get("role"), str) for m in messages)
    ):
        raise UsageError(f"{where}: expected a non-empty list of messages, each with a role")
    reference = None
    if messages[-1].get("role") == "assistant":
        reference = Turn.from_message(messages[-1])
        messages = messages[:-1]
    if not messages:
        raise UsageError(f"{where}: nothing is left to ask once the final answer is removed")
    tools = source.get("tools")
    if tools is not None and not (
        isinstance(tools, list) and all(isinstance(t, Mapping) for t in tools)
    ):
        raise UsageError(f"{where}: tools must be a list of objects")
    # Only with tools: the request and the record carry it only then, so a prompt's
    # fingerprint is the same as the fingerprint of the record built on its answer.
    parallel = source.get("parallel_tool_calls") if tools else None
    return Prompt(
        index=index,
        messages=tuple(without_weight(m) for m in messages),
        tools=tuple(dict(t) for t in tools) if tools else None,
        parallel_tool_calls=parallel if isinstance(parallel, bool) else None,
        reference=reference,
    )


def _dicts(source: PromptSource) -> Iterator[tuple[Mapping[str, Any], str]]:
    if isinstance(source, (str, os.PathLike)):
        from ..jsonl import iter_lines

        path = os.fspath(source)
        if not os.path.isfile(path):
            raise UsageError(f"no such file: {path}")
        for raw in iter_lines(path):
            if raw.blank:
                continue
            try:
                value = json.loads(raw.data)
            except ValueError as exc:
                raise RecordError(
                    f"not JSON: {exc}", line=raw.number, code="invalid_json", source=path
                ) from None
            if not isinstance(value, Mapping):
                raise RecordError(
                    "each line must be a JSON object",
                    line=raw.number,
                    code="not_object",
                    source=path,
                )
            yield value, f"{path} line {raw.number}"
        return
    if isinstance(source, (bytes, Mapping)) or not isinstance(source, Iterable):
        raise UsageError(
            "prompts must be a JSONL path, a Dataset or an iterable of records, "
            f"got {type(source).__name__}"
        )
    for index, item in enumerate(source):
        if isinstance(item, (SFTRecord, DPORecord)):
            yield item.to_dict(), f"prompt {index}"
        elif isinstance(item, Mapping):
            yield item, f"prompt {index}"
        else:
            raise UsageError(
                f"prompt {index} is a {type(item).__name__}; expected a record or a dict"
            )


def load_prompts(source: PromptSource) -> list[Prompt]:
    """Read every prompt of ``source``, in order.

    Raises:
        UsageError: an unreadable source or a record without messages.
        RecordError: a line of a prompt file that is not a JSON object.
    """
    return [_prompt(data, index, where) for index, (data, where) in enumerate(_dicts(source))]

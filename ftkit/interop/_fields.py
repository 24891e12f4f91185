"""What one imported line did with its fields, counted only once the line is imported.

A converter reads one source line and writes what it mapped, kept, dropped and did not
recognise into a :class:`LineNotes`. The importer commits those notes into the file's
:class:`ImportTally` only when the line became a valid record, so a bad line (reported
as an error) never inflates the counts of what was converted. Unknown fields are
collected with the lines they were on, so the report names each one and where to look.

The helpers here are the shapes several source formats share: tool lists (OpenAI's or
the bare function definitions LLaMA-Factory writes), OpenAI-style message lists that
may carry keys the fine-tuning format does not have, tool calls written the way chat
templates read them (arguments as an object, no call ids: TRL's documented shape) and
image placeholders with their URLs in a separate ``images`` column (TRL's vision layout).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import RecordError
from ._loss import LossReport, LossTally

__all__ = [
    "CallIds",
    "ImportTally",
    "LineNotes",
    "clean_messages",
    "convert_tools",
    "pair_tool_calls",
    "place_images",
]

# How many line numbers an unknown field's note lists before it says "...".
FIRST_LINES = 5

# Every key an OpenAI chat message may have (ftkit.schema.messages); others are unknown.
MESSAGE_KEYS = frozenset(
    {"role", "content", "name", "tool_calls", "function_call", "refusal", "weight", "tool_call_id"}
)


@dataclass
class LineNotes:
    """What the conversion of one line did, waiting to be committed."""

    events: list[tuple[str, str, int, str]] = field(default_factory=list)
    unknown_fields: list[str] = field(default_factory=list)

    def kept(self, feature: str, n: int = 1, note: str = "") -> None:
        """``n`` occurrences of ``feature`` carried over as they were."""
        self.events.append(("kept", feature, n, note))

    def mapped(self, feature: str, n: int = 1, note: str = "") -> None:
        """``n`` occurrences of ``feature`` carried over in another shape (``note`` says how)."""
        self.events.append(("mapped", feature, n, note))

    def dropped(self, feature: str, n: int = 1, note: str = "") -> None:
        """``n`` occurrences of a known ``feature`` the records cannot hold (``note`` says why)."""
        self.events.append(("dropped", feature, n, note))

    def unknown(self, name: str) -> None:
        """A field this importer does not know: dropped, and named with its lines."""
        self.unknown_fields.append(name)


@dataclass
class ImportTally:
    """The counts of a whole import: committed lines, and unknown fields with their lines."""

    source: str
    target: str
    _tally: LossTally = field(init=False)
    _unknown: dict[str, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._tally = LossTally(self.source, self.target)

    def commit(self, notes: LineNotes, line: int | None) -> None:
        """Count a line that became a record."""
        self._tally.records += 1
        for slot, feature, n, note in notes.events:
            getattr(self._tally, slot)(feature, n, note)
        for name in notes.unknown_fields:
            # Counted once per line (0 when there is no line): "on 3 lines", not per message.
            lines = self._unknown.setdefault(name, [])
            if not lines or lines[-1] != (line or 0) or not line:
                lines.append(line or 0)

    def note(self, text: str) -> None:
        """A note on the whole import (once)."""
        self._tally.note(text)

    def report(self) -> LossReport:
        """The loss report: what was mapped, kept and dropped, then every unknown field."""
        for name, lines in self._unknown.items():
            shown = ", ".join(str(n) for n in lines[:FIRST_LINES] if n)
            more = f" and {len(lines) - FIRST_LINES} more" if len(lines) > FIRST_LINES else ""
            where = f"; on line{'s' if len(lines) > 1 else ''} {shown}{more}" if shown else ""
            self._tally.dropped(
                f"unknown field {name!r}", len(lines), f"not mapped to anything{where}"
            )
        self._unknown = {}
        return self._tally.report()


def convert_tools(value: Any, notes: LineNotes, *, path: str = "tools") -> list[dict[str, Any]]:
    """A tool list in OpenAI's shape, from OpenAI's shape or bare function definitions.

    LLaMA-Factory's ShareGPT files hold ``tools`` as a JSON *string* of
    ``{"name", "description", "parameters"}`` objects; OpenAI wraps each as
    ``{"type": "function", "function": {...}}``. Both are accepted; the report says
    which were rewrapped.

    Raises:
        RecordError: the value is neither (with ``path``).
    """
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise RecordError(
                "tools is a string that is not JSON; expected a list of function definitions",
                path=path,
                code="invalid_tools",
            ) from None
        notes.mapped("tools as a JSON string", 1, "parsed into a list")
    if not isinstance(value, list):
        raise RecordError(
            "tools must be a list of function definitions", path=path, code="invalid_tools"
        )
    tools: list[dict[str, Any]] = []
    for index, tool in enumerate(value):
        if isinstance(tool, dict) and tool.get("type") == "function" and "function" in tool:
            tools.append(tool)
            notes.kept("tools")
        elif isinstance(tool, dict) and isinstance(tool.get("name"), str):
            tools.append({"type": "function", "function": tool})
            notes.mapped("tools", 1, 'bare function definitions wrapped as {"type": "function"}')
        else:
            raise RecordError(
                "a tool must be a function definition with a name",
                path=f"{path}[{index}]",
                code="invalid_tools",
            )
    return tools


def clean_messages(value: Any, notes: LineNotes, *, path: str) -> list[Any]:
    """An OpenAI message list with the keys the format does not have set aside (and named).

    Hugging Face datasets in the ``messages`` layout often carry extra per-message keys
    (``id``, ``timestamp``, ``loss``...). They are not errors of the data, only fields
    ftkit cannot hold: each is reported as an unknown field ``PATH[].KEY``.

    Raises:
        RecordError: ``value`` is not a list of objects.
    """
    if not isinstance(value, list):
        raise RecordError(f"{path} must be a list of messages", path=path, code="wrong_type")
    messages: list[Any] = []
    for index, message in enumerate(value):
        if not isinstance(message, dict):
            raise RecordError(
                "each message must be an object with role and content",
                path=f"{path}[{index}]",
                code="wrong_type",
            )
        extra = [key for key in message if key not in MESSAGE_KEYS]
        for key in extra:
            notes.unknown(f"{path}[].{key}")
        messages.append({k: v for k, v in message.items() if k in MESSAGE_KEYS})
    return messages


class CallIds:
    """The call ids of one conversation: made up in order, answered oldest first.

    Formats without call ids (ShareGPT, TRL's tool-calling examples) pair a result with
    the call before it; OpenAI pairs them by id. Ids already in the conversation are
    never made up again, so a file that gives some ids and omits others stays unambiguous.
    """

    def __init__(self) -> None:
        self.made = 0
        self.used: set[str] = set()
        self.pending: list[str] = []
        self.names: dict[str, str] = {}

    def new(self) -> str:
        """A fresh id (``call_1``, ``call_2``...), waiting for its result."""
        self.made += 1
        while f"call_{self.made}" in self.used:
            self.made += 1
        return self.given(f"call_{self.made}")

    def given(self, call_id: str) -> str:
        """An id the source gave, waiting for its result."""
        self.used.add(call_id)
        self.pending.append(call_id)
        return call_id

    def answer(self, call_id: str | None) -> str | None:
        """The id a tool result answers: its own, or the oldest unanswered (``None``: none)."""
        if call_id is None:
            return self.pending.pop(0) if self.pending else None
        if call_id in self.pending:
            self.pending.remove(call_id)
        return call_id

    def copy(self) -> CallIds:
        """An independent copy: the two sides of a preference pair continue one prompt."""
        twin = CallIds()
        twin.made, twin.used, twin.pending = self.made, set(self.used), list(self.pending)
        twin.names = dict(self.names)
        return twin


_MADE_ID = "the source has no call ids: numbered call_1, call_2... within a conversation"
_PAIRED = "paired with the oldest unanswered call before it; the source gives no tool_call_id"
_NAMED = "the name of the call the result answers: that call keeps it"
_NAMELESS = "not the name of the call the result answers; OpenAI's tool messages have no name"


def pair_tool_calls(messages: list[Any], notes: LineNotes, calls: CallIds, *, path: str) -> None:
    """Rewrite, in place, tool calls as chat templates write them into OpenAI's shape.

    TRL documents tool calls with ``arguments`` as a JSON *object*, without ``id`` (and
    tool results without ``tool_call_id``, paired by order); OpenAI needs the arguments
    as a JSON string and every result naming its call. Each change is counted.

    Raises:
        RecordError: a tool result with no call before it to answer.
    """
    for index, message in enumerate(messages):
        role = message.get("role")
        if role == "assistant" and isinstance(message.get("tool_calls"), list):
            message["tool_calls"] = [_call(call, notes, calls) for call in message["tool_calls"]]
        elif role == "tool":
            _result(message, notes, calls, f"{path}[{index}]")


def _result(message: dict[str, Any], notes: LineNotes, calls: CallIds, where: str) -> None:
    call_id = message.get("tool_call_id")
    if call_id is None:
        call_id = calls.answer(None)
        if call_id is None:
            raise RecordError(
                "a tool result without tool_call_id answers no tool call before it",
                path=where,
                code="unanswered_tool_result",
            )
        message["tool_call_id"] = call_id
        notes.mapped("tool results without tool_call_id", 1, _PAIRED)
    elif isinstance(call_id, str):
        calls.answer(call_id)
    if "name" in message:
        # OpenAI's tool messages have no name; the name of the call answered is not lost.
        name = message.pop("name")
        if isinstance(call_id, str) and name == calls.names.get(call_id):
            notes.mapped("tool result names", 1, _NAMED)
        else:
            notes.dropped("tool result names", 1, _NAMELESS)


def _call(call: Any, notes: LineNotes, calls: CallIds) -> Any:
    if not isinstance(call, dict):
        return call  # the record's check says what is wrong with it
    call = dict(call)
    if isinstance(call.get("id"), str):
        calls.given(call["id"])
    elif call.get("id") is None:
        call["id"] = calls.new()
        notes.mapped("tool call ids", 1, _MADE_ID)
    if "type" not in call and isinstance(call.get("function"), dict):
        call["type"] = "function"
        notes.mapped("tool call type", 1, 'the missing type became "function"')
    function = call.get("function")
    named = isinstance(function, dict) and isinstance(function.get("name"), str)
    if named and isinstance(call.get("id"), str):
        calls.names[call["id"]] = function["name"]
    if isinstance(function, dict) and isinstance(function.get("arguments"), (dict, list)):
        call["function"] = {
            **function,
            # Spaced as the ShareGPT importer writes them: the source's spacing is not known.
            "arguments": json.dumps(function["arguments"], ensure_ascii=False),
        }
        notes.mapped("tool call arguments", 1, "a JSON object became the JSON string OpenAI reads")
    return call


_PLACED = (
    "TRL's vision layout: each {'type': 'image'} placeholder became an image_url part "
    "holding the next URL of the images column"
)
_AXOLOTL_IMAGE = "Axolotl's {'type': 'image', 'url': ...} parts became image_url parts"


def place_images(messages: list[Any], images: Any, notes: LineNotes, *, path: str) -> None:
    """Turn, in place, the image parts trainers write into OpenAI ``image_url`` parts.

    TRL writes ``{"type": "image"}`` where an image goes and the images, in order, in
    an ``images`` column; Axolotl writes ``{"type": "image", "url": ...}``. Both are
    what ftkit's own export writes, so they read back as the images they were.

    An ``images`` column beside messages with no placeholder at all (LLaMA-Factory's
    ``<image>`` tokens and file paths) is not TRL's layout: it is counted as dropped,
    as the ShareGPT importer counts media paths.

    Raises:
        RecordError: with placeholders, the ``images`` column is not a list of URLs, or
            it has more or fewer images than the messages have placeholders.
    """
    if images and not any(_is_placeholder(m) for m in messages):
        count = len(images) if isinstance(images, list) else 1
        notes.dropped(
            "images",
            count,
            "an images column with no {'type': 'image'} placeholder in the messages: media "
            "paths are not converted (an OpenAI image is an image_url content part)",
        )
        return
    urls = [] if images is None else images
    if not isinstance(urls, list) or not all(isinstance(url, str) for url in urls):
        raise RecordError(
            "images must be a list of image URLs (https:// or data:image/...;base64,)",
            path="images",
            code="invalid_images",
        )
    queue = list(urls)
    for index, message in enumerate(messages):
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for number, part in enumerate(content):
            if not isinstance(part, dict) or part.get("type") != "image":
                continue
            if isinstance(part.get("url"), str):
                content[number] = {"type": "image_url", "image_url": {"url": part["url"]}}
                notes.mapped("images", 1, _AXOLOTL_IMAGE)
            elif not queue:
                raise RecordError(
                    f"an image placeholder has no URL left in the images column ({len(urls)} "
                    "given)",
                    path=f"{path}[{index}].content[{number}]",
                    code="invalid_images",
                )
            else:
                content[number] = {"type": "image_url", "image_url": {"url": queue.pop(0)}}
                notes.mapped("images", 1, _PLACED)
    if queue:
        raise RecordError(
            f"the images column has {len(queue)} image(s) more than the messages have "
            "{'type': 'image'} placeholders",
            path="images",
            code="invalid_images",
        )


def _is_placeholder(message: Any) -> bool:
    """Whether ``message`` holds a TRL image placeholder (``{"type": "image"}``, no URL)."""
    content = message.get("content") if isinstance(message, dict) else None
    return isinstance(content, list) and any(
        isinstance(part, dict) and part.get("type") == "image" and "url" not in part
        for part in content
    )

"""TRL's conversational shapes: SFT ``messages``/``tools``, DPO ``prompt``/``chosen``/``rejected``.

TRL renders ``messages`` with the model's chat template and has no per-message
weight: every assistant turn is trained (with ``assistant_only_loss=True``; without
it, every token). A weight-0 turn therefore cannot be written as data. With a
tokenizer the SFT rows are pre-tokenized instead (:mod:`._labels`: ``input_ids``
and ``labels`` that honour every weight); without one a weight-0 turn is refused
unless the caller accepts to lose it (``lossy=True``), and every one lost is listed.

TRL documents a tool call's ``arguments`` as an object, and the chat templates it
renders with assume one (a string is encoded twice, or breaks the template), so each
call's JSON string is parsed into its object (counted as mapped); arguments that are
not a JSON object cannot be written so, and their record is refused (listed).
"""

from __future__ import annotations

import json
from typing import Any

from ..schema import AssistantMessage, DPORecord, ImagePart, SFTRecord, ToolMessage
from ._labels import Labeller
from ._loss import LossTally
from ._messages import (
    IMAGES,
    NAMES,
    PARALLEL,
    TOOL_CALLS,
    TOOLS,
    WEIGHTS,
    chat_message,
    tool_definitions,
)

__all__ = ["ARGUMENTS", "WEIGHT_1", "WeightLosses", "dpo_row", "sft_row", "tokenized_row"]

ARGUMENTS = "tool call arguments"
DETAIL = "image detail"
WEIGHT_1 = "weight 1 is TRL's default for an assistant turn (train with assistant_only_loss=True)"


def _image(part: ImagePart, tally: LossTally) -> dict[str, Any]:
    tally.mapped(
        IMAGES,
        note="TRL's vision layout: an {'type': 'image'} placeholder and the URL in an "
        "'images' column (load them as images if your collator needs PIL)",
    )
    if part.image_url.detail not in (None, "auto"):
        tally.dropped(DETAIL, note="TRL has no field for an image's detail")
    return {"type": "image"}


def _object_arguments(
    messages: list[dict[str, Any]], tally: LossTally, where: str, refused: list[str]
) -> None:
    """Each tool call's ``arguments`` parsed into its object, in place (TRL's shape).

    Arguments that are not a JSON object are left as they are and their place is added
    to ``refused``: the export refuses them rather than write what the template breaks on.
    """
    for index, message in enumerate(messages):
        for number, call in enumerate(message.get("tool_calls") or ()):
            function = call["function"]
            try:
                value = json.loads(function["arguments"])
            except ValueError:
                value = None
            if isinstance(value, dict):
                function["arguments"] = value
                tally.mapped(
                    ARGUMENTS, note="parsed from a JSON string into an object (TRL's shape)"
                )
            else:
                refused.append(
                    f"{where}{index}].tool_calls[{number}]: arguments are not a JSON object, "
                    "which TRL's chat templates need"
                )


class WeightLosses:
    """Where the weight-0 turns written without a tokenizer are: each one is reported."""

    def __init__(self) -> None:
        self.places: list[str] = []
        self.ones = 0
        self.where = ""

    def __call__(self, message: AssistantMessage, out: dict[str, Any], tally: LossTally) -> None:
        if message.weight == 1:
            self.ones += 1
        elif message.weight == 0:
            self.places.append(self.where)


def sft_row(
    record: SFTRecord, tally: LossTally, weights: WeightLosses, where: str, refused: list[str]
) -> dict[str, Any]:
    """One conversational SFT line: ``messages`` (no weights), ``tools``, ``images``.

    ``where`` names the record (``line 3``); a tool call TRL cannot hold is added to
    ``refused`` with its place.
    """
    legacy = [0]
    messages = []
    for index, message in enumerate(record.messages):
        weights.where = f"messages[{index}]"
        messages.append(
            chat_message(message, tally, image=_image, weight=weights, legacy_calls=legacy)
        )
    _object_arguments(messages, tally, f"{where} messages[", refused)
    row: dict[str, Any] = {"messages": messages}
    tools = tool_definitions(record.tools, record.functions, tally)
    if tools is not None:
        row["tools"] = tools
    images = _image_urls(record.messages)
    if images:
        row["images"] = images
    if record.parallel_tool_calls is not None:
        tally.dropped(PARALLEL, note="no TRL setting for it; calls stay as written")
    return row


def _image_urls(messages: Any) -> list[str]:
    """The URLs of the images in ``messages``, in order: TRL's ``images`` column."""
    return [
        part.image_url.url
        for m in messages
        if isinstance(m.content, list)
        for part in m.content
        if isinstance(part, ImagePart)
    ]


def tokenized_row(
    record: SFTRecord, tally: LossTally, labeller: Labeller, where: str = "this record"
) -> dict[str, Any]:
    """One pre-tokenized SFT line, every feature counted as the labels carry it."""
    rendered = f"rendered by {labeller.source}"
    for message in record.messages:
        if isinstance(message, AssistantMessage):
            if message.weight is not None:
                tally.mapped(WEIGHTS, note="as labels: -100 for every token of a weight-0 turn")
            calls = len(message.tool_calls or ()) + (message.function_call is not None)
            tally.mapped(TOOL_CALLS, calls, rendered)
            if message.refusal is not None:
                tally.dropped("refusals", note="no trainer field for a refusal; the content stays")
        if getattr(message, "name", None) is not None:
            tally.dropped(NAMES, note="not given to the chat template (it has no name field)")
        if isinstance(message, ToolMessage):
            tally.mapped("tool call ids", note="given to the chat template (as tool_call_id)")
    tally.mapped(TOOLS, len(record.tools or ()) + len(record.functions or ()), rendered)
    if record.parallel_tool_calls is not None:
        tally.dropped(PARALLEL, note="no TRL setting for it; calls stay as written")
    return labeller.row(record, where)


def dpo_row(record: DPORecord, tally: LossTally, where: str, refused: list[str]) -> dict[str, Any]:
    """One conversational preference line: ``prompt``, ``chosen``, ``rejected``, ``tools``."""
    source = record.input
    legacy = [0]

    def weightless(message: AssistantMessage, out: dict[str, Any], tally: LossTally) -> None:
        if message.weight is not None:
            tally.dropped(WEIGHTS, note="a DPO pair has no per-turn weight in TRL")

    def convert(messages: Any) -> list[dict[str, Any]]:
        return [
            chat_message(m, tally, image=_image, weight=weightless, legacy_calls=legacy)
            for m in messages
        ]

    row: dict[str, Any] = {
        "prompt": convert(source.messages),
        "chosen": convert(record.preferred_output),
        "rejected": convert(record.non_preferred_output),
    }
    for column, side in (
        ("prompt", "input.messages["),
        ("chosen", "preferred_output["),
        ("rejected", "non_preferred_output["),
    ):
        _object_arguments(row[column], tally, f"{where} {side}", refused)
    tools = tool_definitions(source.tools, None, tally)
    if tools is not None:
        row["tools"] = tools
    images = _image_urls(source.messages)
    if images:
        row["images"] = images
    if source.parallel_tool_calls is not None:
        tally.dropped(PARALLEL, note="no TRL setting for it; calls stay as written")
    return row

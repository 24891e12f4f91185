"""Axolotl's dataset shapes: ``chat_template`` for SFT, ``chat_template.default`` for DPO.

SFT is lossless for weights: Axolotl's ``chat_template`` strategy with
``message_field_training: weight`` reads each turn's ``weight`` and lets it override
``roles_to_train`` (a turn without one trains when its role is in ``roles_to_train``).
Tools go in a ``tools`` column (``field_tools``), tool calls stay in the messages.

DPO's ``chat_template.default`` loader reads the prompt's ``messages`` and one
``chosen`` and one ``rejected`` message, and keeps **only role and content** of
each: tool definitions, tool calls, tool call ids and names are dropped, and
counted as such. Once they are dropped, a side left without text is refused: the
loader finds the side's content in the rendered conversation, and ``""`` is found at
its start, so the whole prompt would be trained as the answer.

Images need Axolotl's multimodal mode (``processor_type``, ``skip_prepare_dataset``,
``remove_unused_columns: false``), which masks by role markers only: the section
written for a file with images turns it on, and the weights are then reported dropped.
"""

from __future__ import annotations

from typing import Any

from ..schema import (
    AssistantMessage,
    DPORecord,
    FunctionMessage,
    ImagePart,
    SFTRecord,
    ToolMessage,
)
from ._loss import LossTally
from ._messages import (
    FUNCTIONS,
    IMAGES,
    NAMES,
    PARALLEL,
    TOOL_CALLS,
    TOOLS,
    WEIGHTS,
    chat_message,
    text_of,
    tool_definitions,
)

__all__ = ["MULTIMODAL", "Weights", "dpo_row", "sft_row", "yaml_section"]

_DPO_NOTE = "Axolotl's chat_template.default DPO loader keeps only role and content"
MULTIMODAL = (
    "Axolotl's multimodal mode (needed for images) masks by role markers only: "
    "per-message weights are not applied"
)


def _image(part: ImagePart, tally: LossTally) -> dict[str, Any]:
    tally.mapped(
        IMAGES,
        note="as Axolotl's multimodal parts ({'type': 'image', 'url': ...}), read in its "
        "multimodal mode (the section written turns it on)",
    )
    if part.image_url.detail not in (None, "auto"):
        tally.dropped("image detail", note="Axolotl has no field for an image's detail")
    return {"type": "image", "url": part.image_url.url}


class Weights:
    """Writes each turn's ``weight`` and counts them: kept, or dropped if the file has images.

    Whether Axolotl applies them is known once every record is read (one image puts the
    whole dataset in the multimodal mode), so :meth:`count` tallies them at the end.
    """

    def __init__(self) -> None:
        self.written = 0

    def __call__(self, message: AssistantMessage, out: dict[str, Any], tally: LossTally) -> None:
        if message.weight is not None:
            out["weight"] = message.weight
            self.written += 1

    def count(self, tally: LossTally, *, images: bool) -> None:
        """Tally the weights written: dropped under the multimodal mode, else kept."""
        if images:
            tally.dropped(WEIGHTS, self.written, MULTIMODAL)
        else:
            tally.kept(WEIGHTS, self.written, "read by message_field_training: weight")


def sft_row(record: SFTRecord, tally: LossTally, weights: Weights) -> dict[str, Any]:
    """One line of the SFT file: ``messages`` (weights written) and ``tools``."""
    legacy = [0]
    row: dict[str, Any] = {
        "messages": [
            chat_message(m, tally, image=_image, weight=weights, legacy_calls=legacy)
            for m in record.messages
        ]
    }
    tools = tool_definitions(record.tools, record.functions, tally)
    if tools is not None:
        row["tools"] = tools
    if record.parallel_tool_calls is not None:
        tally.dropped(PARALLEL, note="no Axolotl setting for it; calls stay as written")
    return row


def dpo_row(record: DPORecord, tally: LossTally, where: str, refused: list[str]) -> dict[str, Any]:
    """One line of the DPO file: ``messages``, ``chosen`` and ``rejected``, role and content.

    A side left without text (a tool-call-only answer) is added to ``refused``, named by
    ``where`` (``line 3``) and the side.
    """
    source = record.input
    messages = [_role_and_content(m, tally) for m in source.messages]
    if source.tools:
        tally.dropped(TOOLS, len(source.tools), _DPO_NOTE)
    if source.parallel_tool_calls is not None:
        tally.dropped(PARALLEL, note=_DPO_NOTE)
    row: dict[str, Any] = {
        "messages": messages,
        "chosen": _role_and_content(record.preferred_output[0], tally),
        "rejected": _role_and_content(record.non_preferred_output[0], tally),
    }
    for column, side in (("chosen", "preferred_output"), ("rejected", "non_preferred_output")):
        if not row[column]["content"].strip():
            refused.append(
                f"{where} {side}: no text once its tool calls are dropped (Axolotl's DPO "
                "loader would train the whole prompt as this answer)"
            )
    return row


def _role_and_content(message: Any, tally: LossTally) -> dict[str, Any]:
    role = "system" if message.role == "developer" else message.role
    if role != message.role:
        tally.mapped("developer role", note="developer messages written as system messages")
    if isinstance(message, FunctionMessage):
        role = "tool"  # the loader's roles have no 'function'
        tally.mapped(FUNCTIONS, note="legacy function results written as tool messages")
    if isinstance(message.content, list):
        images = sum(isinstance(p, ImagePart) for p in message.content)
        tally.dropped(IMAGES, images, _DPO_NOTE + " (text parts joined)")
    if getattr(message, "name", None) is not None:
        tally.dropped(NAMES, note=_DPO_NOTE)
    if isinstance(message, ToolMessage):
        tally.dropped("tool call ids", note=_DPO_NOTE)
    if isinstance(message, AssistantMessage):
        calls = len(message.tool_calls or ()) + (message.function_call is not None)
        tally.dropped(TOOL_CALLS, calls, _DPO_NOTE)
        if message.weight is not None:
            tally.dropped(WEIGHTS, note="a DPO pair has no per-turn weight in Axolotl")
        if message.refusal is not None:
            tally.dropped("refusals", note=_DPO_NOTE)
    return {"role": role, "content": text_of(message.content)}


def yaml_section(kind: str, path: str, *, tools: bool, images: bool = False) -> str:
    """The ``datasets:`` section (and ``rl: dpo``) of an Axolotl config reading ``path``.

    Written by hand, not with a YAML library: it is a fixed shape, and ``path`` is
    quoted as JSON (a YAML flow scalar) so any file name stays one value. With
    ``images`` (SFT), the top-level settings of Axolotl's multimodal mode come first.
    """
    import json

    quoted = json.dumps(path)
    if kind == "dpo":
        return (
            "rl: dpo\n"
            "datasets:\n"
            f"  - path: {quoted}\n"
            "    ds_type: json\n"
            "    split: train\n"
            "    type: chat_template.default\n"
            "    field_messages: messages\n"
            "    field_chosen: chosen\n"
            "    field_rejected: rejected\n"
            "    message_property_mappings:\n"
            "      role: role\n"
            "      content: content\n"
        )
    lines = []
    if images:
        lines += [
            "# images: Axolotl's multimodal mode (masks by role markers; weights not applied)",
            "processor_type: AutoProcessor",
            "skip_prepare_dataset: true",
            "remove_unused_columns: false",
            "sample_packing: false",
        ]
    lines += [
        "datasets:",
        f"  - path: {quoted}",
        "    ds_type: json",
        "    split: train",
        "    type: chat_template",
        "    field_messages: messages",
        "    message_field_training: weight",
        "    roles_to_train: [assistant]",
        "    train_on_eos: turn",
    ]
    if tools:
        lines.append("    field_tools: tools")
    lines += [
        "    roles:",
        "      system: [system]",
        "      user: [user]",
        "      assistant: [assistant]",
        "      tool: [tool]",
    ]
    return "\n".join(lines) + "\n"

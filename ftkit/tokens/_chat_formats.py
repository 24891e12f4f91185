"""How an open model's chat template frames a conversation, family by family.

A Hugging Face model turns messages into one token sequence with its chat
template (Jinja, in ``tokenizer_config.json`` or ``chat_template.jinja``).
ftkit does not run templates (no Jinja dependency, and templates add text of
their own, such as dates). It knows instead the *framing* each family of
templates puts around a message: the special tokens and the few plain-text
pieces (role names, newlines) before and after the content. Counting that
framing with the model's own tokenizer, special token by special token, gives
the per-message overhead; the content is counted apart.

:func:`detect` picks the family from the markers in a chat template, else from
the special tokens of the vocabulary, else (for a stand-in tokenizer, when the
model's own is not at hand) from the model's name. A template ftkit does not
recognise gets :data:`GENERIC`, a ChatML-like guess marked ``known=False``.

What a family does *not* model, on purpose (see ``docs/cost.md``): text a
template writes by itself (Qwen 2.5's default system prompt, Llama 3.1's date
header, tool-use instructions), and the way a few templates merge or reorder
turns (consecutive tool results sharing one block).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["FAMILIES", "GENERIC", "ChatFormat", "detect", "format_named"]


def _frozen(mapping: Mapping[str, tuple[str, str]]) -> Mapping[str, tuple[str, str]]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class ChatFormat:
    """The framing a family of chat templates puts around messages.

    Every ``(before, after)`` pair is text around a part of the conversation;
    ``{role}`` stands for the (renamed) role and ``{name}`` for a called
    function's name. Special tokens in it count as one token each.
    """

    family: str
    """``llama3``, ``chatml``, ``gemma``, ``deepseek``, ``harmony``, ``mistral`` or ``generic``."""
    known: bool = True
    """Whether the framing is the family's (``False``: :data:`GENERIC`'s guess)."""
    begin: str = ""
    """Written once, before the first message (the BOS token)."""
    message: tuple[str, str] = ("", "")
    """Around each message's content, unless :attr:`roles` frames its role."""
    roles: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """Framing of particular roles (a system prompt merged into the first user turn, say)."""
    role_names: Mapping[str, str] = field(default_factory=dict)
    """How a role is spelled in the framing (Gemma's ``model`` for ``assistant``)."""
    reasoning: tuple[str, str] = ("", "")
    """Around an assistant's ``reasoning``/``reasoning_content`` (``<think>`` blocks)."""
    call: tuple[str, str] = ("", "")
    """Around each tool call."""
    call_style: str = "arguments"
    """How a call's text is written: ``arguments`` (``{"name": ..., "arguments": ...}``),
    ``parameters`` (the same with Llama's key) or ``raw`` (the arguments alone)."""
    tools: tuple[str, str] = ("", "")
    """Around the tool definitions, once."""
    tool: tuple[str, str] = ("", "")
    """Around each tool definition (its JSON)."""
    tools_indent: int | None = None
    """The JSON indent of tool definitions (Llama 3.1 writes them with 4)."""
    specials: tuple[str, ...] = ()
    """The family's special tokens: one token each when a stand-in tokenizer counts."""
    markers: tuple[str, ...] = ()
    """Strings that identify the family in a chat template, or as tokens of a vocabulary."""
    names: tuple[str, ...] = ()
    """Fragments of model names (lower case) that identify the family when nothing else does."""
    stand_in: str = "cl100k_base"
    """The tiktoken encoding that counts the family's text when its tokenizer is not at hand."""
    stand_in_exact: bool = False
    """Whether :attr:`stand_in` is the family's own vocabulary for ordinary text."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "roles", _frozen(self.roles))
        object.__setattr__(self, "role_names", MappingProxyType(dict(self.role_names)))

    def frame(self, role: str) -> tuple[str, str]:
        """``(before, after)`` the content of a message of ``role``."""
        found = self.roles.get(role)
        if found is not None:
            return found
        name = self.role_names.get(role, role)
        before, after = self.message
        return before.replace("{role}", name), after.replace("{role}", name)

    def texts(self) -> tuple[str, ...]:
        """Every framing text of the family (to find the special tokens they hold)."""
        pairs = [self.message, self.reasoning, self.call, self.tools, self.tool]
        pairs += list(self.roles.values())
        return (self.begin, *(text for pair in pairs for text in pair))


_LLAMA3 = ChatFormat(
    family="llama3",
    begin="<|begin_of_text|>",
    message=("<|start_header_id|>{role}<|end_header_id|>\n\n", "<|eot_id|>"),
    role_names={"tool": "ipython"},
    call_style="parameters",
    tool=("", "\n\n"),
    tools_indent=4,
    specials=(
        "<|begin_of_text|>",
        "<|start_header_id|>",
        "<|end_header_id|>",
        "<|eot_id|>",
        "<|eom_id|>",
        "<|python_tag|>",
    ),
    markers=("<|start_header_id|>", "<|end_header_id|>"),
    names=("llama-3", "llama3", "llama-4"),
)
"""Llama 3.x: ``<|start_header_id|>role<|end_header_id|>\\n\\n content <|eot_id|>``.

Its vocabulary holds cl100k_base's 100K tokens plus 28K more, with the same
pre-tokenizer, so cl100k_base is a close stand-in (slightly more tokens)."""

_CHATML = ChatFormat(
    family="chatml",
    message=("<|im_start|>{role}\n", "<|im_end|>\n"),
    roles={"tool": ("<|im_start|>user\n<tool_response>\n", "\n</tool_response><|im_end|>\n")},
    reasoning=("<think>\n", "\n</think>\n\n"),
    call=("\n<tool_call>\n", "\n</tool_call>"),
    tools=("<tools>", "\n</tools>"),
    tool=("\n", ""),
    specials=(
        "<|im_start|>",
        "<|im_end|>",
        "<|endoftext|>",
        "<tool_call>",
        "</tool_call>",
        "<tool_response>",
        "</tool_response>",
        "<think>",
        "</think>",
    ),
    markers=("<|im_start|>",),
    names=("qwen",),
)
"""ChatML, as Qwen 2.5 and Qwen 3 write it (tool calls in ``<tool_call>``, reasoning in
``<think>``); Qwen's byte-level BPE vocabulary also grew out of cl100k_base's."""

_GEMMA = ChatFormat(
    family="gemma",
    begin="<bos>",
    message=("<start_of_turn>{role}\n", "<end_of_turn>\n"),
    roles={"system": ("", "\n\n")},  # the system prompt opens the first user turn
    role_names={"assistant": "model"},
    specials=("<bos>", "<start_of_turn>", "<end_of_turn>"),
    markers=("<start_of_turn>",),
    names=("gemma",),
)
"""Gemma 2/3: ``<start_of_turn>user\\n ... <end_of_turn>\\n``, the assistant as ``model``."""

_DEEPSEEK = ChatFormat(
    family="deepseek",
    begin="<\uff5cbegin\u2581of\u2581sentence\uff5c>",
    roles={
        "system": ("", ""),
        "user": ("<\uff5cUser\uff5c>", ""),
        "assistant": ("<\uff5cAssistant\uff5c>", "<\uff5cend\u2581of\u2581sentence\uff5c>"),
        "tool": (
            "<\uff5ctool\u2581outputs\u2581begin\uff5c><\uff5ctool\u2581output\u2581begin\uff5c>",
            "<\uff5ctool\u2581output\u2581end\uff5c><\uff5ctool\u2581outputs\u2581end\uff5c>",
        ),
    },
    reasoning=("<think>\n", "\n</think>\n\n"),
    call=(
        "<\uff5ctool\u2581calls\u2581begin\uff5c><\uff5ctool\u2581call\u2581begin\uff5c>function"
        "<\uff5ctool\u2581sep\uff5c>{name}\n```json\n",
        "\n```<\uff5ctool\u2581call\u2581end\uff5c><\uff5ctool\u2581calls\u2581end\uff5c>",
    ),
    call_style="raw",
    specials=(
        "<\uff5cbegin\u2581of\u2581sentence\uff5c>",
        "<\uff5cend\u2581of\u2581sentence\uff5c>",
        "<\uff5cUser\uff5c>",
        "<\uff5cAssistant\uff5c>",
        "<\uff5ctool\u2581calls\u2581begin\uff5c>",
        "<\uff5ctool\u2581calls\u2581end\uff5c>",
        "<\uff5ctool\u2581call\u2581begin\uff5c>",
        "<\uff5ctool\u2581call\u2581end\uff5c>",
        "<\uff5ctool\u2581sep\uff5c>",
        "<\uff5ctool\u2581outputs\u2581begin\uff5c>",
        "<\uff5ctool\u2581outputs\u2581end\uff5c>",
        "<\uff5ctool\u2581output\u2581begin\uff5c>",
        "<\uff5ctool\u2581output\u2581end\uff5c>",
    ),
    markers=("<\uff5cAssistant\uff5c>",),
    names=("deepseek",),
)
"""DeepSeek R1 and its distills (on Llama or Qwen vocabularies): ``<｜User｜>`` /
``<｜Assistant｜>`` turns, the system prompt bare after the BOS token."""

_HARMONY = ChatFormat(
    family="harmony",
    message=("<|start|>{role}<|message|>", "<|end|>"),
    roles={
        "system": ("<|start|>developer<|message|># Instructions\n\n", "<|end|>"),
        "developer": ("<|start|>developer<|message|># Instructions\n\n", "<|end|>"),
        "assistant": ("<|start|>assistant<|channel|>final<|message|>", "<|end|>"),
        "tool": ("<|start|>functions to=assistant<|channel|>commentary<|message|>", "<|end|>"),
    },
    reasoning=("<|start|>assistant<|channel|>analysis<|message|>", "<|end|>"),
    call=(
        "<|start|>assistant to=functions.{name}<|channel|>commentary json<|message|>",
        "<|call|>",
    ),
    call_style="raw",
    specials=(
        "<|start|>",
        "<|message|>",
        "<|end|>",
        "<|channel|>",
        "<|call|>",
        "<|return|>",
        "<|constrain|>",
    ),
    markers=("<|start|>", "<|message|>", "<|channel|>"),
    names=("gpt-oss",),
    stand_in="o200k_base",
    stand_in_exact=True,
)
"""OpenAI's harmony format (gpt-oss). Its encoding, o200k_harmony, is o200k_base's
vocabulary and pre-tokenizer plus special tokens (tiktoken defines it so), so
o200k_base counts its ordinary text exactly."""

_MISTRAL = ChatFormat(
    family="mistral",
    begin="<s>",
    roles={
        "system": ("", "\n\n"),
        "user": ("[INST] ", " [/INST]"),
        "assistant": ("", "</s>"),
        "tool": ("[TOOL_RESULTS] ", " [/TOOL_RESULTS]"),
    },
    call=("[TOOL_CALLS] ", ""),
    tools=("[AVAILABLE_TOOLS] ", " [/AVAILABLE_TOOLS]"),
    specials=(
        "<s>",
        "</s>",
        "[INST]",
        "[/INST]",
        "[TOOL_CALLS]",
        "[AVAILABLE_TOOLS]",
        "[/AVAILABLE_TOOLS]",
        "[TOOL_RESULTS]",
        "[/TOOL_RESULTS]",
    ),
    markers=("[INST]",),
    names=("mistral", "mixtral", "ministral"),
)
"""Mistral's ``[INST] ... [/INST]`` turns (the system prompt opens a user turn)."""

GENERIC = ChatFormat(
    family="generic",
    known=False,
    message=_CHATML.message,
    reasoning=_CHATML.reasoning,
    call=_CHATML.call,
    tools=_CHATML.tools,
    tool=_CHATML.tool,
    specials=("<|im_start|>", "<|im_end|>"),
)
"""A ChatML-like guess (two special tokens, the role and two newlines per message) for a
template ftkit does not recognise: close to every family's overhead, never exact."""

FAMILIES: tuple[ChatFormat, ...] = (_HARMONY, _DEEPSEEK, _LLAMA3, _GEMMA, _CHATML, _MISTRAL)
"""The recognised families, in the order they are tried (DeepSeek's distills carry Llama's
or Qwen's vocabulary, so their own markers are looked for first)."""

_BY_NAME = {f.family: f for f in (*FAMILIES, GENERIC)}


def format_named(family: str) -> ChatFormat:
    """The :class:`ChatFormat` of ``family`` (:data:`GENERIC` for a name it does not know)."""
    return _BY_NAME.get(family, GENERIC)


def detect(
    template: str | None = None, tokens: Collection[str] = (), model: str | None = None
) -> ChatFormat:
    """The family of a chat template, a vocabulary or a model name, in that order.

    Args:
        template: the model's chat template (Jinja source), when it is known.
        tokens: the vocabulary's added tokens (their text), when a tokenizer is known.
        model: the model's name; only consulted when neither of the others is given,
            which is the case of a stand-in tokenizer.

    Returns:
        The first family whose markers the template holds (or whose markers are all
        tokens of the vocabulary); :data:`GENERIC` when none matches.
    """
    if template:
        for family in FAMILIES:
            if all(marker in template for marker in family.markers):
                return family
    if tokens:
        vocabulary = set(tokens)
        for family in FAMILIES:
            if all(marker in vocabulary for marker in family.markers):
                return family
    if template is None and not tokens and model:
        name = model.lower()
        for family in FAMILIES:
            if any(fragment in name for fragment in family.names):
                return family
    return GENERIC

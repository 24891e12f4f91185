"""Provider profiles: the rules a provider adds to the shared (OpenAI) format.

OpenAI and Azure OpenAI read the same files, so they share the default profile.
Together AI reads the same records (``messages``, tools, OpenAI's preference
pairs) with rules of its own, which its server applies when the file is
preprocessed, after the upload [Together's data-preparation docs and its skill's
data-formats.md; the together-python client's ``validate_messages``, which ran
the same rules locally before 2.0]:

* after an optional system message, user and assistant turns alternate (tool
  results sit between an assistant's tool calls and its next reply);
* images are base64 data URLs only: Together does not fetch an https URL;
* a per-message ``weight`` (0 or 1) may be on user messages too, and an SFT
  record may carry a sample ``weight`` (a number >= 0) scaling its loss;
* assistant messages may carry their reasoning (``reasoning`` or
  ``reasoning_content``) beside the content.

Images in user messages only, at most 10 per example of at most 10 MB each, are
the shared rules already.

Fireworks AI reads OpenAI's records unchanged ("OpenAI-compatible chat format ...
work on Fireworks with no changes" [its SFT docs, fine-tuning-models]) and adds:

* a file holds at least 3 and at most 3 million examples, SFT and DPO alike [its
  SFT and DPO docs];
* a system message, when there is one, is the first message [its SFT docs'
  message schema];
* an SFT record may carry a sample ``weight``, any number (negative reverses the
  example's signal), and a file that uses it must give it on every record: "mixing
  weighted and unweighted samples is not supported" [its weighted-training page,
  headed for RFT; its page on debugging SFT tokenization names the "sample-level
  weight" of supervised jobs, so ftkit applies the rule to SFT files];
* assistant messages may carry thinking traces (``reasoning_content`` is the
  field Fireworks' chat API returns them in [its reasoning guide]);
* DPO takes OpenAI's preference fields, and its docs support one-turn inputs only
  ("we currently only support one-turn conversations"): a longer input is warned
  of, since no source says whether the server refuses it or trains it.

A per-message ``weight`` of 0 or 1 stays the shared rule (assistant messages): the
docs' schema lists it among any message's fields, but what a weight on a user
message does is not documented. :func:`profile_for` picks a provider's profile;
the checks read its flags and never the provider's name.
"""

from __future__ import annotations

from typing import Any

from ..providers._names import provider_name
from ._checks_common import DEFAULT_PROFILE, Emit, Profile, shown

__all__ = [
    "FIREWORKS_PROFILE",
    "TOGETHER_PROFILE",
    "SampleWeights",
    "check_alternation",
    "check_dpo_turns",
    "check_sample_weight",
    "check_system_first",
    "profile_for",
]

TOGETHER_PROFILE = Profile(
    provider="together",
    weight_roles=frozenset({"assistant", "user"}),
    sample_weight=True,
    alternation=True,
    base64_images=True,
    reasoning=True,
)
"""Together AI's rules."""

FIREWORKS_PROFILE = Profile(
    provider="fireworks",
    sample_weight=True,
    sample_weight_negative=True,
    sample_weight_everywhere=True,
    system_first=True,
    reasoning=True,
    dpo_single_turn=True,
    min_examples=3,
    max_examples=3_000_000,
)
"""Fireworks AI's rules."""

_PROFILES = {"together": TOGETHER_PROFILE, "fireworks": FIREWORKS_PROFILE}
_SHOWN_LINES = 20
"""Line numbers a file-level finding lists before it says how many more there are."""
_CALLED = "assistant+calls"  # an assistant turn that calls tools: tool results may follow


def profile_for(provider: str | None) -> Profile:
    """The rules of ``provider`` (``None``, ``openai``, ``azure``, any other: OpenAI's)."""
    return _PROFILES.get(provider or "", DEFAULT_PROFILE)


def check_alternation(messages: Any, path: str, emit: Emit, profile: Profile) -> None:
    """Report the first turn that breaks the user/assistant alternation of ``messages``.

    The allowed order: an optional system message first, then a user turn, then
    assistant and user turns by turns; an assistant turn with tool calls may be
    followed by one or more tool results, after which the assistant speaks again.
    One finding per conversation (the first break), as the provider stops there too.
    Messages the structural checks already reject (no object, an unknown role)
    end the check silently: their own findings say what is wrong. A tool result
    after a turn without calls is left to ``unknown_tool_call_id``.
    """
    if not isinstance(messages, list):
        return
    previous: str | None = None  # the kind of the previous turn; None: only a system message
    for index, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if not isinstance(role, str) or not isinstance(message, dict):
            return
        if role in ("system", "developer"):
            if index == 0:
                continue
            problem = f"a {role} message after the first message"
        elif role in ("tool", "function"):
            previous = "tool"
            continue
        elif role == "user":
            if previous in (None, "assistant", _CALLED):
                previous = "user"
                continue
            problem = (
                "a user message right after another user message"
                if previous == "user"
                else "a user message right after a tool result, before the assistant's reply"
            )
        elif role == "assistant":
            if previous in ("user", "tool"):
                calls = message.get("tool_calls") or message.get("function_call")
                previous = _CALLED if calls else "assistant"
                continue
            problem = (
                "an assistant message before any user message"
                if previous is None
                else "an assistant message right after another assistant message"
            )
        else:
            return
        emit(
            "roles_not_alternating",
            f"{path}[{index}]",
            f"{path}[{index}] is {problem}: on {provider_name(profile.provider)}, after an "
            "optional system message, user and assistant turns must alternate (tool "
            "results go between an assistant's tool calls and its next reply)",
            None,
        )
        return


def check_sample_weight(record: dict[str, Any], emit: Emit, profile: Profile) -> None:
    """A record's sample ``weight`` scales its loss: a number (not a boolean), >= 0 unless
    the profile takes negative weights. (NaN and Infinity never get here: the line
    reader refuses them as ``invalid_json``.)"""
    if "weight" not in record:
        return
    weight = record["weight"]
    number = not isinstance(weight, bool) and isinstance(weight, (int, float))
    if number and (profile.sample_weight_negative or weight >= 0):
        return
    wanted = "a number" if profile.sample_weight_negative else "a number >= 0"
    emit(
        "invalid_sample_weight",
        "weight",
        f"the sample weight must be {wanted} on {provider_name(profile.provider)}, "
        f"got {shown(weight)}",
        None,
    )


def check_system_first(messages: Any, path: str, emit: Emit, profile: Profile) -> None:
    """Report each system message that is not the first message of ``messages``."""
    if not isinstance(messages, list):
        return
    for index, message in enumerate(messages[1:], 1):
        if isinstance(message, dict) and message.get("role") == "system":
            emit(
                "system_not_first",
                f"{path}[{index}]",
                f"{path}[{index}] is a system message after the first message: on "
                f"{provider_name(profile.provider)} a system message may only open the "
                "conversation",
                None,
            )


def check_dpo_turns(messages: Any, emit: Emit, profile: Profile) -> None:
    """Warn of a DPO input longer than one turn (one user message after an optional system one).

    Fireworks' DPO docs "only support one-turn conversations", the outputs being the
    last assistant message; whether its server refuses a longer input or trains it is
    not documented, hence a warning. Inputs the structural checks reject are left to them.
    """
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        return
    roles = [m.get("role") for m in messages]
    turns = [role for role in roles if role != "system"]
    if len(turns) <= 1:
        return
    emit(
        "dpo_multi_turn_input",
        "input.messages",
        f"the input has {len(turns)} turns besides the system message "
        f"({', '.join(map(str, turns))}); {provider_name(profile.provider)}'s DPO docs "
        "support one-turn inputs only (an optional system message and one user message)",
        None,
    )


class SampleWeights:
    """Which SFT records of a file carry a sample ``weight``: the rule "all or none".

    A file-level rule, so it is kept per pass (a file, or a worker's chunk of one) and
    merged in file order like the pass's findings: the count of records with and
    without the weight, the first line that has it, and the first lines that lack it.
    """

    __slots__ = ("first_weighted", "missing", "missing_lines", "weighted")

    def __init__(self) -> None:
        self.weighted = 0
        self.missing = 0
        self.first_weighted: int | None = None
        self.missing_lines: list[int] = []

    def __getstate__(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            setattr(self, name, value)

    def add(self, line: int, record: dict[str, Any]) -> None:
        """Note one SFT record of the file, on ``line``."""
        if "weight" in record:
            self.weighted += 1
            if self.first_weighted is None:
                self.first_weighted = line
        else:
            self.missing += 1
            if len(self.missing_lines) < _SHOWN_LINES:
                self.missing_lines.append(line)

    def shift(self, offset: int) -> None:
        """Make chunk-relative line numbers absolute."""
        if self.first_weighted is not None:
            self.first_weighted += offset
        self.missing_lines = [line + offset for line in self.missing_lines]

    def merge(self, other: SampleWeights) -> None:
        """Append the records of the chunk that follows this one."""
        self.weighted += other.weighted
        self.missing += other.missing
        if self.first_weighted is None:
            self.first_weighted = other.first_weighted
        room = _SHOWN_LINES - len(self.missing_lines)
        self.missing_lines.extend(other.missing_lines[: max(0, room)])

    def finding(self, profile: Profile) -> str | None:
        """The message of the file-level finding, or ``None`` when the file keeps the rule."""
        if not self.weighted or not self.missing:
            return None
        lines = ", ".join(map(str, self.missing_lines))
        more = self.missing - len(self.missing_lines)
        total = self.weighted + self.missing
        return (
            f"{self.weighted} of {total} examples have a sample weight (the first on line "
            f"{self.first_weighted}) but {self.missing} {'do' if self.missing > 1 else 'does'} "
            "not: line"
            f"{'s' if self.missing > 1 else ''} {lines}{f' and {more:,} more' if more else ''}; "
            f"on {provider_name(profile.provider)} a file that weights its examples must "
            "weight every one"
        )

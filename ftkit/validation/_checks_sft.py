"""Checks of SFT records, on the plain dicts ``json.loads`` returns.

The pydantic models in :mod:`ftkit.schema` define what a record *is*; these
checks are what the validator runs per line (no model is built per line) and
go further: every problem of a line is reported, not only the first, with a
code of its own and the rules the service applies beyond the JSON shape
(tool-call pairing, weights, images, trailing turns). This module holds the
record-level rules; the messages, calls, tools and content have modules of
their own, shared with the DPO checks.
"""

from __future__ import annotations

from typing import Any

from ._checks_common import CheckContext, Emit, MessageSummary
from ._checks_content import check_images
from ._checks_messages import check_messages
from ._checks_tools import check_tools
from ._profiles import check_alternation, check_sample_weight, check_system_first

__all__ = ["check_sft"]

_SFT_KEYS = frozenset({"messages", "tools", "parallel_tool_calls", "functions"})
_WEIGHTED_KEYS = _SFT_KEYS | {"weight"}
"""The keys of a record where the profile takes a sample weight (Together, Fireworks)."""
_RFT_HINT = (
    "it looks like a reinforcement fine-tuning (RFT) prompt: it has only system/user turns. "
    "SFT needs the reference reply as an assistant message; RFT files cannot train with SFT or DPO"
)


def check_sft(record: dict[str, Any], emit: Emit, ctx: CheckContext) -> MessageSummary | None:
    """Check one SFT record; return its summary when ``messages`` could be read."""
    profile = ctx.profile
    keys = _WEIGHTED_KEYS if profile.sample_weight else _SFT_KEYS
    unknown = [key for key in record if key not in keys]
    declared = check_tools(record, "", emit)
    summary = check_messages(
        record.get("messages"),
        "messages",
        emit,
        declared=declared,
        refusal_warning=True,
        profile=profile,
    )
    if profile.sample_weight:
        check_sample_weight(record, emit, profile)
    if profile.alternation and summary is not None:
        check_alternation(record["messages"], "messages", emit, profile)
    if profile.system_first and summary is not None:
        check_system_first(record["messages"], "messages", emit, profile)
    # A prompt with keys beside messages (the fields RFT graders read) is an RFT record; a
    # prompt without them is an SFT example that lacks its reply (the file may still be a set
    # of RFT prompts: the engine says so when no example of the file has an assistant reply).
    looks_rft = (
        bool(unknown)
        and summary is not None
        and not summary.assistants
        and set(summary.roles) <= {"system", "developer", "user"}
    )
    for key in unknown:
        emit(
            "unknown_key",
            str(key),
            f"unknown top-level key {key!r}",
            "extra keys beside messages are reinforcement fine-tuning (RFT) grader fields; "
            "SFT records only take messages, tools, parallel_tool_calls and functions"
            if looks_rft
            else None,
        )
    if summary is None:
        return None
    if not summary.assistants:
        message = "messages has no assistant message, so there is nothing to train"
        emit(
            "no_assistant_message",
            "messages",
            f"{message}; with its extra keys ({', '.join(map(str, unknown[:3]))}) {_RFT_HINT}"
            if looks_rft
            else message,
            None,
        )
    elif not summary.trained:
        emit(
            "nothing_to_train",
            "messages",
            f"all {summary.assistants} assistant messages have weight 0",
            None,
        )
    elif summary.roles[-1] != "assistant":
        emit(
            "ends_on_non_assistant",
            f"messages[{len(summary.roles) - 1}]",
            f"the example ends on a {summary.roles[-1]} message after the last assistant reply",
            None,
        )
    if "user" not in summary.roles and "?" not in summary.roles and summary.assistants:
        emit(
            "no_user_message",
            "messages",
            "the example has no user message: the assistant replies to nothing",
            None,
        )
    check_images(summary, "messages", emit, ctx)
    return summary

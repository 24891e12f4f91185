"""The fast path of ``check_messages`` finds exactly what the general path finds.

Most messages take the fast path, which reports nothing and builds no JSON path;
it is only correct if the general path, given the same message, would report
nothing either and summarise it the same way. Records mixing every role, content
parts, tool calls, weights and unicode text are checked twice, once with the fast
path switched off (no role takes it), and the findings and summaries compared.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from validate_support import WEATHER_TOOL

from ftkit.validation import _checks_messages
from ftkit.validation._checks_common import CheckContext, MessageSummary
from ftkit.validation._checks_messages import check_messages
from ftkit.validation._checks_sft import check_sft

Found = list[tuple[str, str, str, "str | None"]]

TEXT = st.text(max_size=6) | st.sampled_from(
    ["", " ", "\n\t", "4", "héllo 🌍", "\u2028", "\x1c", "\u3000", "  ok  ", "\ud800x"]
)
WEIGHT = st.sampled_from([0, 1, 2, -1, True, False, 1.0, 0.0, "1", None, [1]])
CALL_ID = st.sampled_from(["c1", "c2", "c3", None, 5])
PART = st.one_of(
    st.fixed_dictionaries({"type": st.just("text"), "text": TEXT | st.integers()}),
    st.just({"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}),
    st.just({"type": "image_url", "image_url": {"url": "http://x", "detail": "max"}}),
    st.just({"type": "input_audio"}),
    st.just({"text": "no type"}),
    TEXT,
)
CONTENT = TEXT | st.lists(PART, max_size=3) | st.none() | st.integers() | st.just({"a": 1})
ARGUMENTS = st.sampled_from(['{"city": "Oslo"}', "{}", "not json", '"{}"', "[1]", 3])
FUNCTION = st.fixed_dictionaries(
    {"name": st.sampled_from(["weather", "other", "bad name", 7])},
    optional={"arguments": ARGUMENTS},
)
TOOL_CALL = st.fixed_dictionaries(
    {"id": CALL_ID, "function": FUNCTION},
    optional={"type": st.sampled_from(["function", "web"]), "extra": st.integers()},
)
TOOL_CALLS = st.lists(TOOL_CALL, max_size=3) | st.just("[]") | st.just({"id": "c1"})

plain = st.fixed_dictionaries(
    {"role": st.sampled_from(["system", "user", "assistant"]), "content": TEXT}
)
weighted = st.fixed_dictionaries(
    {"role": st.sampled_from(["assistant", "user"]), "content": TEXT, "weight": WEIGHT}
)
general = st.fixed_dictionaries(
    {
        "role": st.sampled_from(
            ["system", "developer", "user", "assistant", "tool", "function", "bot"]
        )
        | st.none()
        | st.integers()
    },
    optional={
        "content": CONTENT,
        "weight": WEIGHT,
        "tool_calls": TOOL_CALLS,
        "tool_call_id": CALL_ID,
        "function_call": FUNCTION,
        "name": st.sampled_from(["bob", "a b", "", 7]),
        "refusal": st.sampled_from(["no", 3]),
        "extra": st.integers(),
    },
)
MESSAGE = st.one_of(plain, plain, weighted, general, st.integers(), st.just(["role", "user"]))
MESSAGES = st.lists(MESSAGE, max_size=8)


def _checked(messages: Any, **options: Any) -> tuple[Found, MessageSummary | None]:
    found: Found = []
    summary = check_messages(
        messages, "messages", lambda *finding: found.append(finding), **options
    )
    return found, summary


def _sft(record: dict[str, Any]) -> tuple[Found, MessageSummary | None]:
    found: Found = []
    context = CheckContext(vision=False, model="m")
    return found, check_sft(record, lambda *finding: found.append(finding), context)


def _general_path() -> Any:
    return mock.patch.object(_checks_messages, "_FAST_ROLES", frozenset())


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    messages=MESSAGES,
    declared=st.none() | st.sets(st.sampled_from(["weather", "other"])),
    check_declared=st.booleans(),
    refusal_warning=st.booleans(),
)
def test_the_fast_path_reports_and_summarises_what_the_general_path_does(
    messages: list[Any], declared: set[str] | None, check_declared: bool, refusal_warning: bool
) -> None:
    options = {
        "declared": declared,
        "check_declared": check_declared,
        "refusal_warning": refusal_warning,
    }
    fast = _checked(messages, **options)
    with _general_path():
        slow = _checked(messages, **options)
    assert fast == slow


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages=MESSAGES, tools=st.booleans())
def test_sft_records_get_the_same_findings_on_both_paths(messages: list[Any], tools: bool) -> None:
    record: dict[str, Any] = {"messages": messages}
    if tools:
        record["tools"] = [WEATHER_TOOL]
    fast = _sft(record)
    with _general_path():
        slow = _sft(record)
    assert fast == slow


def test_most_plain_messages_take_the_fast_path() -> None:
    """The comparison means something only if the fast path is taken at all."""
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "4", "weight": 1},
    ]
    with mock.patch.object(_checks_messages, "_check_message") as general_step:
        found, summary = _checked(messages)
    assert not general_step.called and found == []
    assert summary is not None and summary.trained == 1 and summary.system_prompt == "Be brief."

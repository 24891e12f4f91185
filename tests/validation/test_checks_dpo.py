"""DPO pair checks."""

from __future__ import annotations

import pytest
from validate_support import WEATHER_TOOL, assistant, call, calls, check, dpo, found, user


def test_a_clean_pair_has_no_finding() -> None:
    assert found(dpo()) == set()


def test_pair_with_tools_in_the_input_is_clean() -> None:
    record = dpo(prompt=[user("Oslo?")])
    record["input"]["tools"] = [WEATHER_TOOL]
    record["input"]["parallel_tool_calls"] = True
    assert found(record) == set()


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (
            {"preferred_output": [assistant()], "non_preferred_output": [assistant("5")]},
            {("missing_field", "input")},
        ),
        (
            {"input": {"messages": [user()]}, "preferred_output": [assistant()]},
            {("missing_field", "non_preferred_output")},
        ),
        (
            {
                "input": "hi",
                "preferred_output": [assistant()],
                "non_preferred_output": [assistant("5")],
            },
            {("wrong_type", "input")},
        ),
        (
            {
                "input": {},
                "preferred_output": [assistant()],
                "non_preferred_output": [assistant("5")],
            },
            {("missing_field", "input.messages")},
        ),
        (dpo(prompt=[]), {("empty_messages", "input.messages")}),
        (dpo(extra=1), {("unknown_key", "extra")}),
        (dpo(preferred=assistant()), {("invalid_dpo_output", "preferred_output")}),
        (dpo(preferred=[]), {("invalid_dpo_output", "preferred_output")}),
        (dpo(preferred=[assistant(), assistant()]), {("invalid_dpo_output", "preferred_output")}),
        (dpo(preferred=[user()]), {("invalid_dpo_output", "preferred_output[0]")}),
        (dpo(preferred=[{"content": "4"}]), {("invalid_dpo_output", "preferred_output[0]")}),
        (
            dpo(preferred=[{"role": "assistant"}]),
            {("missing_content", "preferred_output[0].content")},
        ),
        (
            dpo(preferred=[calls(call())]),
            {("dpo_non_text_output", "preferred_output[0].tool_calls")},
        ),
        (
            dpo(preferred=[assistant(refusal="no")]),
            {("dpo_non_text_output", "preferred_output[0].refusal")},
        ),
        (dpo(non_preferred=[assistant("4")]), {("identical_outputs", "non_preferred_output")}),
        (
            dpo(prompt=[user(), assistant("4"), user("sure?"), assistant("yes")]),
            {("input_ends_on_assistant", "input.messages[3]")},
        ),
        (
            dpo(prompt=[{"role": "system", "content": "be nice"}]),
            {("no_user_message", "input.messages")},
        ),
        (dpo(prompt=[user("say <|endoftext|>")]), {("special_token", "input.messages[0].content")}),
    ],
)
def test_pair_rules(record: dict, expected: set[tuple[str, str]]) -> None:  # type: ignore[type-arg]
    assert found(record) == expected


def test_legacy_completion_names_ask_for_a_rename() -> None:
    record = {
        "input": {"messages": [user()]},
        "preferred_completion": [assistant()],
        "non_preferred_completion": [assistant("5")],
    }
    report = check(record)
    assert {(i.code, i.path) for i in report.issues if i.line} == {
        ("legacy_dpo_key", "preferred_completion"),
        ("legacy_dpo_key", "non_preferred_completion"),
    }
    assert "preferred_output" in report.by_code("legacy_dpo_key")[0].message


def test_images_in_a_dpo_input_follow_the_model() -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
    record = dpo(prompt=[{"role": "user", "content": [image]}])
    assert ("images_not_supported", "input.messages") in found(record, model="gpt-4.1-2025-04-14")

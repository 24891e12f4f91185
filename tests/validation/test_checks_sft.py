"""SFT record checks: each rule reports its code at the right JSON path, and only then."""

from __future__ import annotations

import json

import pytest
from validate_support import (
    WEATHER_TOOL,
    assistant,
    call,
    calls,
    codes,
    found,
    sft,
    system,
    tool_result,
    user,
)


def test_a_clean_example_has_no_finding() -> None:
    assert found(sft(system(), user(), assistant())) == set()


def test_weighted_multi_turn_is_clean() -> None:
    record = sft(user("2+2?"), assistant("5", weight=0), user("Again."), assistant("4", weight=1))
    assert found(record) == set()


def test_tool_round_trip_is_clean() -> None:
    record = sft(
        user("Oslo?"), calls(call()), tool_result(), assistant("-3 C"), tools=[WEATHER_TOOL]
    )
    assert found(record) == set()


def test_a_final_tool_call_is_the_target_not_an_unanswered_call() -> None:
    assert found(sft(user("Oslo?"), calls(call()), tools=[WEATHER_TOOL])) == set()


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"messages": "hi"}, {("wrong_type", "messages")}),
        ({"messages": []}, {("empty_messages", "messages")}),
        (sft("hello", assistant()), {("wrong_type", "messages[0]")}),
        (sft({"content": "hi"}, assistant()), {("unknown_role", "messages[0].role")}),
        (
            sft({"role": "human", "content": "hi"}, assistant()),
            {("unknown_role", "messages[0].role")},
        ),
        (sft(user(), {"role": "assistant"}), {("missing_content", "messages[1].content")}),
        (sft({"role": "user"}, assistant()), {("missing_content", "messages[0].content")}),
        (
            sft(user(), {"role": "assistant", "content": 5}),
            {("invalid_content", "messages[1].content")},
        ),
        (sft(user(), assistant("")), {("empty_content", "messages[1].content")}),
        (sft(user(), assistant("  ")), {("empty_content", "messages[1].content")}),
        (  # the spec's minItems: 1 (an error), not empty text (a warning)
            sft(user(), {"role": "assistant", "content": []}),
            {("invalid_content", "messages[1].content")},
        ),
        (sft(user(), assistant(reasoning="x")), {("unknown_key", "messages[1].reasoning")}),
        (sft(user(), assistant(), extra=1), {("unknown_key", "extra")}),
        (sft(user(), assistant(weight=2)), {("invalid_weight", "messages[1].weight")}),
        (sft(user(), assistant(weight=True)), {("invalid_weight", "messages[1].weight")}),
        (sft(user(), assistant(weight=0.5)), {("invalid_weight", "messages[1].weight")}),
        # Shapes next to the common-case short path take the general one.
        (sft(user(), assistant(weight=1.0)), {("invalid_weight", "messages[1].weight")}),
        (sft(user(), assistant(weight="1")), {("invalid_weight", "messages[1].weight")}),
        (sft({**user(), "name": "alice"}, assistant(weight=1)), set()),
        (sft({**user(), "weight": 1}, assistant()), {("weight_not_allowed", "messages[0].weight")}),
        (sft(user(), assistant(weight=0)), {("nothing_to_train", "messages")}),
        (sft(user(), assistant(), user("thanks")), {("ends_on_non_assistant", "messages[2]")}),
        (sft(system(), assistant()), {("no_user_message", "messages")}),
        (
            sft({"role": "developer", "content": "Be brief."}, user(), assistant()),
            {("developer_role", "messages[0].role")},
        ),
        (sft(user(), assistant(name=3)), {("wrong_type", "messages[1].name")}),
        (sft(user(), assistant(refusal=1)), {("wrong_type", "messages[1].refusal")}),
        (
            sft(user(), assistant(), parallel_tool_calls="yes"),
            {("wrong_type", "parallel_tool_calls")},
        ),
    ],
)
def test_structure_rules(record: dict, expected: set[tuple[str, str]]) -> None:  # type: ignore[type-arg]
    assert found(record) == expected


def test_no_assistant_message_says_that_first_and_rft_only_with_rft_keys() -> None:
    from validate_support import check

    # A prompt alone in an SFT file is a missing reply, not an RFT record.
    report = check(sft(user("Which is derived from fibroblasts?")))
    (issue,) = report.by_code("no_assistant_message")
    assert issue.message == "messages has no assistant message, so there is nothing to train"
    assert issue.line == 1 and issue.path == "messages"
    # With keys beside messages (what RFT graders read) it is named as RFT, after the fact.
    (issue,) = check(sft(user("Q?"), reference_answer="C")).by_code("no_assistant_message")
    assert issue.message.startswith("messages has no assistant message")
    assert "extra keys (reference_answer)" in issue.message and "(RFT)" in issue.message


def test_rft_extra_keys_get_an_rft_hint() -> None:
    from validate_support import check

    report = check(sft(user("Q?"), reference_answer="C"))
    (issue,) = report.by_code("unknown_key")
    assert issue.path == "reference_answer"
    assert "RFT" in issue.hint


def test_every_problem_of_a_line_is_reported() -> None:
    record = sft({"role": "user", "content": "hi", "weight": 1}, assistant(weight=7), extra=1)
    assert codes(record) == {"weight_not_allowed", "invalid_weight", "unknown_key"}


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (calls(call(call_id=None)), {("tool_call_missing_id", "messages[1].tool_calls[0].id")}),
        (
            calls(call(name=None)),
            {("tool_call_missing_name", "messages[1].tool_calls[0].function.name")},
        ),
        (
            calls(call(arguments={"city": "Oslo"})),
            {("arguments_not_string", "messages[1].tool_calls[0].function.arguments")},
        ),
        (
            calls(call(arguments="{city: Oslo}")),
            {("arguments_invalid_json", "messages[1].tool_calls[0].function.arguments")},
        ),
        (
            calls(call(arguments=json.dumps(json.dumps({"city": "Oslo"})))),
            {("arguments_not_object", "messages[1].tool_calls[0].function.arguments")},
        ),
        (
            calls(call(arguments="[1, 2]")),
            {("arguments_not_object", "messages[1].tool_calls[0].function.arguments")},
        ),
        (
            calls({"id": "c1", "type": "function"}),
            {("invalid_tool_call", "messages[1].tool_calls[0].function")},
        ),
        (
            calls({**call(), "type": "retrieval"}),
            {("invalid_tool_call", "messages[1].tool_calls[0].type")},
        ),
        (calls("weather(Oslo)"), {("invalid_tool_call", "messages[1].tool_calls[0]")}),
        (
            calls(call(name="forecast")),
            {("undeclared_tool", "messages[1].tool_calls[0].function.name")},
        ),
        (
            {"role": "assistant", "tool_calls": "x"},
            {("wrong_type", "messages[1].tool_calls")},  # one cause, one finding
        ),
    ],
)
def test_tool_call_rules(message: dict, expected: set[tuple[str, str]]) -> None:  # type: ignore[type-arg]
    assert found(sft(user("Oslo?"), message, tools=[WEATHER_TOOL])) == expected


def test_arguments_double_encoded_says_so() -> None:
    from validate_support import check

    record = sft(
        user(), calls(call(arguments=json.dumps('{"city": "Oslo"}'))), tools=[WEATHER_TOOL]
    )
    (issue,) = check(record).by_code("arguments_not_object")
    assert "twice" in issue.message


def test_tool_result_pairing() -> None:
    unknown = sft(user(), calls(call()), tool_result("c2"), assistant(), tools=[WEATHER_TOOL])
    assert ("unknown_tool_call_id", "messages[2].tool_call_id") in found(unknown)
    twice = sft(
        user(), calls(call()), tool_result(), tool_result(), assistant(), tools=[WEATHER_TOOL]
    )
    assert ("unknown_tool_call_id", "messages[3].tool_call_id") in found(twice)
    unanswered = sft(user(), calls(call()), assistant("It is cold."), tools=[WEATHER_TOOL])
    assert found(unanswered) == {("unanswered_tool_call", "messages[1].tool_calls")}
    duplicate = sft(user(), calls(call(), call()), tool_result(), assistant(), tools=[WEATHER_TOOL])
    assert ("duplicate_tool_call_id", "messages[1].tool_calls[1].id") in found(duplicate)
    no_id = sft(
        user(), calls(call()), {"role": "tool", "content": "x"}, assistant(), tools=[WEATHER_TOOL]
    )
    assert ("missing_field", "messages[2].tool_call_id") in found(no_id)


def test_parallel_calls_answered_in_any_order_are_clean() -> None:
    record = sft(
        user(),
        calls(call("a"), call("b")),
        tool_result("b"),
        tool_result("a"),
        assistant(),
        tools=[WEATHER_TOOL],
    )
    assert found(record) == set()


def test_calls_without_any_tools_declared() -> None:
    assert found(sft(user(), calls(call()))) == {
        ("undeclared_tool", "messages[1].tool_calls[0].function.name")
    }


@pytest.mark.parametrize(
    ("tools", "path"),
    [
        ("weather", "tools"),
        (["weather"], "tools[0]"),
        ([{"type": "retrieval", "function": {"name": "weather"}}], "tools[0].type"),
        ([{"type": "function"}], "tools[0].function"),
        ([{"type": "function", "function": {}}], "tools[0].function.name"),
        ([{"type": "function", "function": {"name": "get weather!"}}], "tools[0].function.name"),
        (
            [{"type": "function", "function": {"name": "w", "parameters": "x"}}],
            "tools[0].function.parameters",
        ),
        (
            [{"type": "function", "function": {"name": "w", "strict": 1}}],
            "tools[0].function.strict",
        ),
        (
            [{"type": "function", "function": {"name": "w", "description": 3}}],
            "tools[0].function.description",
        ),
        ([{"type": "function", "function": {"name": "w", "desc": "x"}}], "tools[0].function.desc"),
    ],
)
def test_invalid_tool_definitions(tools: object, path: str) -> None:
    assert ("invalid_tool_definition", path) in found(sft(user(), assistant(), tools=tools))


def test_duplicate_tool_names() -> None:
    record = sft(user(), assistant(), tools=[WEATHER_TOOL, WEATHER_TOOL])
    assert found(record) == {("duplicate_tool_name", "tools[1].function.name")}


def test_legacy_functions() -> None:
    functions = [{"name": f"f{i}"} for i in range(129)]
    record = sft(
        user(),
        {"role": "assistant", "function_call": {"name": "f1", "arguments": "{}"}},
        functions=functions,
    )
    assert codes(record) == {"too_many_functions", "legacy_function_call"}
    ok = sft(
        user(),
        {"role": "assistant", "function_call": {"name": "f1", "arguments": "{}"}},
        functions=functions[:3],
    )
    assert codes(ok) == {"legacy_function_call"}


def _image(url: str = "https://example.com/a.png", **extra: object) -> dict:  # type: ignore[type-arg]
    return {"type": "image_url", "image_url": {"url": url, **extra}}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ([_image()], set()),
        (  # a PNG signature and nothing else: no IHDR, no size (tests/validation/test_images.py)
            [_image("data:image/png;base64,iVBORw0KGgo=")],
            {("invalid_image_data", "messages[0].content[0].image_url.url")},
        ),
        (
            [_image("http://example.com/a.png")],
            {("invalid_image_url", "messages[0].content[0].image_url.url")},
        ),
        (
            [_image("data:image/gif;base64,R0lGOD")],
            {("invalid_image_url", "messages[0].content[0].image_url.url")},
        ),
        (
            [_image("data:image/png;base64,")],
            {("invalid_image_url", "messages[0].content[0].image_url.url")},
        ),
        (
            [_image(detail="medium")],
            {("invalid_image_detail", "messages[0].content[0].image_url.detail")},
        ),
        (
            [{"type": "image_url", "image_url": "https://example.com/a.png"}],
            {("invalid_image_url", "messages[0].content[0].image_url")},
        ),
        ([{"type": "input_audio"}], {("invalid_content", "messages[0].content[0].type")}),
        ([{"type": "text"}], {("invalid_content", "messages[0].content[0].text")}),
        ([{"type": "text", "text": "a", "x": 1}], {("unknown_key", "messages[0].content[0].x")}),
        ([_image() for _ in range(11)], {("too_many_images", "messages")}),
    ],
)
def test_image_rules(content: list, expected: set[tuple[str, str]]) -> None:  # type: ignore[type-arg]
    assert found(sft({"role": "user", "content": content}, assistant("A chart."))) == expected


def test_images_in_assistant_and_for_models_without_vision() -> None:
    record = sft(user(), {"role": "assistant", "content": [_image()]})
    assert ("image_in_assistant", "messages[1].content[0]") in found(record)
    vision = sft({"role": "user", "content": [_image()]}, assistant("A chart."))
    assert "images_not_supported" in codes(vision, model="gpt-4.1-mini-2025-04-14")
    assert "images_not_supported" not in codes(vision, model="gpt-4o-2024-08-06")


@pytest.mark.parametrize("token", ["<|endoftext|>", "<|fim_suffix|>", "<|im_start|>"])
def test_special_tokens_anywhere(token: str) -> None:
    record = sft(user(f"say {token} now"), assistant())
    assert found(record) == {("special_token", "messages[0].content")}


def test_lone_surrogates_are_reported(tmp_path: object) -> None:
    from pathlib import Path

    from ftkit.validation import validate

    path = Path(str(tmp_path)) / "s.jsonl"
    path.write_text(
        '{"messages": [{"role": "user", "content": "a \\ud800 b"}, '
        '{"role": "assistant", "content": "\\ud83d\\ude00"}]}\n',
        encoding="utf-8",
    )
    report = validate(path)
    assert [(i.code, i.path) for i in report.by_code("invalid_unicode")] == [
        ("invalid_unicode", "messages[0].content")
    ]

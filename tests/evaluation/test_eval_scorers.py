"""The built-in scorers, user callables and how a scorer is chosen by name."""

from __future__ import annotations

import pytest

import ftkit
from ftkit.evaluation import (
    SCORERS,
    ExactMatch,
    JsonFields,
    JsonValid,
    ToolCallData,
    ToolCallMatch,
    Turn,
)
from ftkit.evaluation._choosing import resolve_scorer


def text(value: str | None) -> Turn:
    return Turn(value)


def calls(*pairs: tuple[str, str]) -> Turn:
    return Turn(None, tuple(ToolCallData(name, args) for name, args in pairs))


def test_exact_match_normalises_whitespace_and_optionally_case() -> None:
    assert ExactMatch()(text("  Paris\n is   big "), text("Paris is big")) == 1.0
    assert ExactMatch()(text("paris"), text("Paris")) == 0.0
    assert ExactMatch(ignore_case=True)(text("PARIS"), text("paris")) == 1.0
    assert ExactMatch(normalize_whitespace=False)(text("a  b"), text("a b")) == 0.0
    assert ExactMatch()(text(None), text("")) == 1.0


def test_json_valid_ignores_the_reference() -> None:
    assert JsonValid()(text('{"a": 1}'), text("anything")) == 1.0
    assert JsonValid()(text("[1, 2]"), text("x")) == 1.0
    assert JsonValid(require_object=True)(text("[1, 2]"), text("x")) == 0.0
    assert JsonValid()(text("Sure! {a: 1}"), text("x")) == 0.0
    assert JsonValid()(text(None), text("x")) == 0.0


def test_json_fields_counts_matching_fields() -> None:
    reference = text('{"player": "Ana", "team": "Porto", "sport": "futsal", "gender": "women"}')
    reply = text('{"sport": "futsal", "team": "Porto", "player": "Anna", "gender": "women"}')
    assert JsonFields()(reply, reference) == 0.75
    assert JsonFields(fields=("team", "sport"))(reply, reference) == 1.0
    assert JsonFields()(text("not json"), reference) == 0.0
    assert JsonFields()(text("[1]"), reference) == 0.0
    shouting = text('{"player": "ANA ", "team": "porto", "sport": "futsal", "gender": "women"}')
    assert JsonFields(ignore_case=True)(shouting, reference) == 1.0
    extra = text('{"player": "Ana", "team": "Porto", "sport": "futsal", "gender": "women", "x": 1}')
    assert JsonFields()(extra, reference) == 1.0
    assert JsonFields(penalize_extra=True)(extra, reference) == 0.8
    assert JsonFields()(text('{"n": 1.0}'), text('{"n": 1}')) == 1.0


def test_json_fields_refuses_references_that_are_not_objects() -> None:
    with pytest.raises(ftkit.UsageError, match="JSON references"):
        JsonFields()(text("{}"), text("plain text"))


def test_tool_call_match_compares_names_and_arguments_as_json() -> None:
    reference = calls(("get_weather", '{"city": "Oslo", "unit": "celsius"}'))
    assert (
        ToolCallMatch()(calls(("get_weather", '{"unit":"celsius","city":"Oslo"}')), reference) == 1
    )
    assert ToolCallMatch()(calls(("get_weather", '{"city": "Oslo"}')), reference) == 0
    assert (
        ToolCallMatch()(calls(("get_time", '{"city": "Oslo", "unit": "celsius"}')), reference) == 0
    )
    assert ToolCallMatch()(text("It is cold in Oslo."), reference) == 0


def test_tool_call_match_scores_parallel_calls_in_any_order() -> None:
    reference = calls(("a", '{"x": 1}'), ("b", '{"y": 2}'))
    assert ToolCallMatch()(calls(("b", '{"y": 2}'), ("a", '{"x": 1}')), reference) == 1.0
    assert ToolCallMatch()(calls(("a", '{"x": 1}')), reference) == 0.5
    extra = calls(("a", '{"x": 1}'), ("b", '{"y": 2}'), ("c", "{}"))
    assert ToolCallMatch()(extra, reference) == pytest.approx(2 / 3)


def test_tool_call_match_on_a_text_reference_is_an_exact_match() -> None:
    assert ToolCallMatch()(text("It is 3 C."), text("It is 3 C.")) == 1.0
    assert ToolCallMatch()(calls(("a", "{}")), text("It is 3 C.")) == 0.0


def test_turns_read_api_messages_and_round_trip() -> None:
    message = {
        "role": "assistant",
        "content": [{"type": "text", "text": "Hi "}, {"type": "text", "text": "there"}],
        "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
        ],
    }
    turn = Turn.from_message(message)
    assert turn.content == "Hi there"
    assert turn.tool_calls == (ToolCallData("f", "{}"),)
    assert Turn.from_dict(turn.to_dict()) == turn
    legacy = Turn.from_message(
        {"role": "assistant", "function_call": {"name": "g", "arguments": "1"}}
    )
    assert str(legacy) == "g(1)"


def test_scorers_resolve_by_name_with_their_target() -> None:
    assert set(SCORERS) == {
        "auto",
        "exact",
        "json",
        "json-fields",
        "tool-calls",
        "token-f1",
        "similarity",
        "pairwise",
        "rubric",
    }
    assert resolve_scorer("tool-calls").target == "tool_call"
    assert resolve_scorer("json-fields").target == "final"
    with pytest.raises(ftkit.UsageError, match="unknown scorer 'fuzzy'"):
        resolve_scorer("fuzzy")
    with pytest.raises(ftkit.UsageError):
        resolve_scorer(42)  # type: ignore[arg-type]


def test_a_user_callable_is_named_and_checked() -> None:
    def starts_alike(reply: Turn, reference: Turn) -> bool:
        return reply.text[:3] == reference.text[:3]

    scorer = resolve_scorer(starts_alike)
    assert scorer.name == "starts_alike"
    assert scorer(text("Paris!"), text("Paris")) == 1.0

    out_of_range = resolve_scorer(lambda reply, reference: 2.0)
    with pytest.raises(ftkit.UsageError, match=r"in \[0, 1\]"):
        out_of_range(text("a"), text("b"))

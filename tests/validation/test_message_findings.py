"""Message-level findings and root causes: names, refusals, 0/1 numbers, a BOM, one per cause."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from validate_support import (
    WEATHER_TOOL,
    assistant,
    call,
    check,
    codes,
    dpo,
    found,
    sft,
    system,
    tool_result,
    user,
    write_jsonl,
)

import ftkit
from ftkit import RecordError
from ftkit.jsonl import BOM, sniff, sniff_file
from ftkit.schema import parse_record
from ftkit.validation import _scheduler, validate

# -- message names ------------------------------------------------------------------------------

BAD_NAMES = ["Dr. Smith", "ana maria", "@bob", "josé", "", "x" * 65, "a/b"]


def _named(role: str, name: str) -> dict[str, Any]:
    if role == "function":  # the legacy function result: the name is required
        return sft(
            user(),
            {"role": "assistant", "function_call": {"name": name, "arguments": "{}"}},
            {"role": "function", "name": name, "content": "4"},
            assistant(),
        )
    message = {"system": system(), "developer": system(), "user": user(), "assistant": assistant()}
    named = {**message[role], "role": role, "name": name}
    return sft(named, assistant()) if role != "assistant" else sft(user(), named)


@pytest.mark.parametrize("role", ["system", "developer", "user", "assistant", "function"])
@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_name_outside_the_pattern_is_an_error_for_every_role(role: str, name: str) -> None:
    record = _named(role, name)
    index = 2 if role == "function" else (1 if role == "assistant" else 0)
    report = check(record)
    (issue,) = report.by_code("invalid_name")
    assert issue.severity.value == "error" and issue.path == f"messages[{index}].name"
    # The record models refuse it too (the validator and the models agree on every error).
    with pytest.raises(RecordError) as caught:
        parse_record(json.dumps(record))
    assert caught.value.path == f"messages[{index}].name"


def test_the_name_message_says_what_is_wrong() -> None:
    (issue,) = check(_named("user", "Dr. Smith")).by_code("invalid_name")
    assert "a space, '.'" in issue.message and "^[a-zA-Z0-9_-]{1,64}$" in issue.message
    assert "Dr_Smith" in issue.hint
    (long,) = check(_named("user", "x" * 65)).by_code("invalid_name")
    assert "65 characters" in long.message
    (empty,) = check(_named("user", "")).by_code("invalid_name")
    assert "empty" in empty.message


@pytest.mark.parametrize("name", ["bob", "Dr_Smith", "agent-7", "x" * 64])
def test_names_inside_the_pattern_are_clean(name: str) -> None:
    for role in ("system", "user", "assistant", "function"):
        assert "invalid_name" not in codes(_named(role, name))
        parse_record(json.dumps(_named(role, name)))


def test_tool_call_names_keep_their_own_rule() -> None:
    record = sft(
        user(),
        {"role": "assistant", "tool_calls": [call(name="weather")]},
        tool_result(),
        assistant(),
        tools=[{"type": "function", "function": {"name": "bad name"}}],
    )
    got = codes(record)
    assert "invalid_name" not in got and "invalid_tool_definition" in got


# -- refusal ------------------------------------------------------------------------------------


def test_a_refusal_on_an_sft_assistant_message_is_a_warning() -> None:
    report = check(sft(user(), assistant("I can't help.", refusal="I can't help.")))
    (issue,) = report.by_code("refusal_not_trained")
    assert issue.severity.value == "warning" and issue.path == "messages[1].refusal"
    assert not [i for i in report.errors if i.line is not None]  # a warning, not an error
    assert "refusal_not_trained" not in codes(sft(user(), assistant(refusal=None)))


def test_a_refusal_in_a_dpo_output_is_one_finding() -> None:
    got = found(dpo(preferred=[assistant(refusal="no")]))
    assert got == {("dpo_non_text_output", "preferred_output[0].refusal")}


def test_the_cost_estimate_leaves_refusals_out() -> None:
    model = "gpt-4o-mini-2024-07-18"
    plain = [sft(user(f"q{i}"), assistant("a")) for i in range(10)]
    refused = [sft(user(f"q{i}"), assistant("a", refusal="no " * 200)) for i in range(10)]
    with_refusal = validate(refused, model=model)
    assert with_refusal.tokens is not None and with_refusal.cost is not None
    without = validate(plain, model=model)
    assert without.tokens is not None and without.cost is not None
    assert with_refusal.cost.billed_tokens == without.cost.billed_tokens


# -- numbers equal to 0 or 1 --------------------------------------------------------------------


@pytest.mark.parametrize(("weight", "write"), [(1.0, 1), (0.0, 0)])
def test_a_float_weight_is_told_to_be_an_integer(weight: float, write: int) -> None:
    record = sft(user(), assistant(weight=weight))
    (issue,) = check(record).by_code("invalid_weight")
    expected = f"weight must be 0 or 1 written as an integer, not {weight!r}: write {write}"
    assert issue.message == expected
    with pytest.raises(RecordError) as caught:
        parse_record(json.dumps(record))
    assert caught.value.reason == expected


def test_other_weights_keep_their_message() -> None:
    (issue,) = check(sft(user(), assistant(weight=0.5))).by_code("invalid_weight")
    assert issue.message == "weight must be 0 or 1, got 0.5"


# -- empty content ------------------------------------------------------------------------------


def test_an_empty_parts_list_is_invalid_content_not_empty_text() -> None:
    for role_record in (
        sft(user(), {"role": "assistant", "content": []}),
        sft({"role": "user", "content": []}, assistant()),
    ):
        got = codes(role_record)
        assert "invalid_content" in got and "empty_content" not in got
        with pytest.raises(RecordError, match="empty list"):
            parse_record(json.dumps(role_record))


def test_an_empty_trained_reply_is_a_warning_with_its_reason() -> None:
    report = check(sft(user(), assistant("")))
    (issue,) = report.by_code("empty_content")
    assert issue.severity.value == "warning" and "answer with nothing" in issue.message
    # Not trained (weight 0): nothing is taught, so no reason is given.
    (context,) = check(sft(user(), assistant("", weight=0), user(), assistant())).by_code(
        "empty_content"
    )
    assert "answer with nothing" not in context.message


# -- tool_calls of the wrong type: one finding ---------------------------------------------------


@pytest.mark.parametrize(
    ("calls", "fix"),
    [
        (
            {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{}"}},
            "[{",
        ),
        (json.dumps([call()]), "not a string"),
    ],
)
def test_tool_calls_of_the_wrong_type_are_one_finding(calls: Any, fix: str) -> None:
    record = sft(
        user("Oslo?"),
        {"role": "assistant", "tool_calls": calls},
        tool_result(),
        assistant("-3 C"),
        tools=[WEATHER_TOOL],
    )
    report = check(record)
    errors = [i for i in report.errors if i.line is not None]
    assert [(i.code, i.path) for i in errors] == [("wrong_type", "messages[1].tool_calls")]
    assert fix in errors[0].hint


def test_a_wrong_tool_call_id_after_good_calls_is_still_reported() -> None:
    record = sft(user(), {"role": "assistant", "tool_calls": [call()]}, tool_result("c2"))
    assert "unknown_tool_call_id" in codes(record, model=None)


# -- no assistant message: that first, RFT only on evidence --------------------------------------


def test_a_prompt_in_an_sft_file_is_a_missing_reply(tmp_path: Path) -> None:
    records = [sft(user(f"Q{i}?"), assistant(f"A{i}")) for i in range(12)]
    records[4] = sft(user("Q4?"))
    report = validate(write_jsonl(tmp_path / "t.jsonl", records))
    (issue,) = report.by_code("no_assistant_message")
    assert issue.message == "messages has no assistant message, so there is nothing to train"


def test_a_file_of_prompts_is_named_as_rft(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "t.jsonl", [sft(user(f"Q{i}?")) for i in range(12)])
    issues = validate(path).by_code("no_assistant_message")
    assert len(issues) == 12
    for issue in issues:
        assert issue.message.startswith("messages has no assistant message")
        assert "reinforcement fine-tuning (RFT) prompts" in issue.message


def test_rft_grader_keys_name_the_line_as_rft() -> None:
    (issue,) = check(sft(user("Q?"), reference_answer="C", level=2)).by_code("no_assistant_message")
    assert issue.message.startswith("messages has no assistant message, so there is nothing")
    assert "extra keys (level, reference_answer)" in issue.message and "(RFT)" in issue.message


def test_the_real_rft_file_is_still_named_as_rft(real_datasets: Path) -> None:
    report = validate(real_datasets / "foundry_rft_medmcq_validation.jsonl", max_per_code=3)
    assert report.counts == {"no_assistant_message": report.examples}
    for issue in report.issues:
        assert issue.message.startswith("messages has no assistant message")
        assert "reinforcement fine-tuning" in issue.message


# -- a UTF-8 byte-order mark ---------------------------------------------------------------------


def _lines(n: int) -> bytes:
    return "".join(
        json.dumps(sft(user(f"Q{i}?"), assistant(f"A{i}"))) + "\n" for i in range(n)
    ).encode()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_bom_is_accepted_with_one_warning(tmp_path: Path, workers: int) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(BOM + _lines(60))
    report = validate(path, workers=workers)
    assert report.ok and report.examples == 60
    assert report.counts == {"utf8_bom": 1}
    (issue,) = report.issues
    assert issue.line == 1 and issue.severity.value == "warning"
    assert "other" in issue.hint and "json.loads" in issue.message
    assert sniff(path) is None and sniff_file(path).bom


def test_no_bom_no_warning(tmp_path: Path) -> None:
    path = tmp_path / "plain.jsonl"
    path.write_bytes(_lines(60))
    assert validate(path).counts == {}
    assert not sniff_file(path).bom


def test_a_bom_inside_the_file_is_named_on_its_line(tmp_path: Path) -> None:
    path = tmp_path / "joined.jsonl"  # two files saved with a BOM, joined with cat
    path.write_bytes(BOM + _lines(30) + BOM + _lines(30))
    report = validate(path)
    (issue,) = report.by_code("invalid_json")
    assert issue.line == 31 and "byte-order mark" in issue.message
    assert report.counts["utf8_bom"] == 1


def test_dataset_write_strips_the_bom(tmp_path: Path) -> None:
    source = tmp_path / "bom.jsonl"
    source.write_bytes(BOM + _lines(12))
    out = ftkit.Dataset.load(source).write(tmp_path / "out.jsonl")
    data = out.read_bytes()
    assert not data.startswith(BOM) and BOM not in data
    assert ftkit.Dataset.load(out) == ftkit.Dataset.load(source)
    assert "utf8_bom" not in validate(out).counts and "utf8_bom" in validate(source).counts


# -- a record spread over many lines --------------------------------------------------------------


def test_a_spread_record_in_a_later_chunk_has_its_absolute_range(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_scheduler, "_CHUNK_MIN", 1)
    records = [json.dumps(sft(user(f"Q{i}?"), assistant(f"A{i}"))) for i in range(200)]
    records[150] = json.dumps(sft(user("Pretty?"), assistant("Yes")), indent=2)
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(records) + "\n", encoding="utf-8")
    for workers in (1, 2):
        (issue,) = validate(path, workers=workers).by_code("multiline_json")
        assert issue.line == 151
        assert issue.message == (
            "a JSON record spans lines 151-162 (12 lines): write one JSON object per line"
        )


def test_a_pretty_printed_file_gives_its_true_record_count(tmp_path: Path) -> None:
    records = [sft(user(f"Q{i}?"), assistant(f"A{i}")) for i in range(7)]
    path = tmp_path / "pretty.jsonl"
    path.write_text("".join(json.dumps(r, indent=2) + "\n" for r in records), encoding="utf-8")
    (issue,) = validate(path).issues
    assert issue.code == "multiline_json" and issue.line == 1
    assert "its first record spans lines 1-12; it holds 7 records in 84 lines" in issue.message

"""Records mirror the file formats: real files round-trip, bad lines fail at the right place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ftkit
from ftkit import AssistantMessage, DPORecord, RecordError, SFTRecord, UserMessage
from ftkit.schema import parse_record

SFT_FILES = [
    "openai-cookbook_toy_chat_fine_tuning.jsonl",
    "foundry_sft_gsm8k_train.jsonl",
    "foundry_sft_stock_toolcall_train.jsonl",
    "foundry_sft_chartqa_vision_train.jsonl",
    "foundry_sft_retail_agent_tools.jsonl",
    "foundry_sft_cnn_dailymail_validation.jsonl",
]
DPO_FILES = ["foundry_dpo_orca_pairs_validation.jsonl"]


@pytest.mark.parametrize("name", SFT_FILES + DPO_FILES)
def test_real_files_round_trip(real_datasets: Path, name: str) -> None:
    path = real_datasets / name
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    records = list(ftkit.read_jsonl(path))
    assert len(records) == len(lines)
    expected_kind = "dpo" if name in DPO_FILES else "sft"
    for record, line in zip(records, lines, strict=True):
        assert record.kind == expected_kind
        assert json.loads(record.to_json()) == json.loads(line)


def test_tool_file_keeps_null_content_and_tool_calls(real_datasets: Path) -> None:
    records = list(ftkit.read_jsonl(real_datasets / "foundry_sft_retail_agent_tools.jsonl"))
    calls = [
        m for r in records for m in r.messages if isinstance(m, AssistantMessage) and m.tool_calls
    ]
    assert calls, "the retail file has tool calls"
    assert all(isinstance(c.tool_calls[0].function.arguments, str) for c in calls if c.tool_calls)


def test_rft_file_is_rejected_with_a_clear_reason(real_datasets: Path) -> None:
    with pytest.raises(RecordError) as info:
        list(ftkit.read_jsonl(real_datasets / "foundry_rft_medmcq_validation.jsonl"))
    err = info.value
    assert err.line == 1
    assert "no assistant message" in err.reason
    assert "reinforcement fine-tuning" in err.reason


def test_question_answer_file_is_rejected_as_foreign(real_datasets: Path) -> None:
    with pytest.raises(RecordError) as info:
        list(ftkit.read_jsonl(real_datasets / "foundry_distilling_sarcasm_qa.jsonl"))
    err = info.value
    assert (err.line, err.code) == (1, "unknown_format")
    assert "question/answer pairs" in err.reason
    assert '"messages"' in err.reason  # says what is expected


U = '{"role":"user","content":"q"}'
A = '{"role":"assistant","content":"a"}'


@pytest.mark.parametrize(
    ("line", "path", "fragment"),
    [
        (
            f'{{"messages":[{U},{{"role":"assistant","content":"a","weight":2}}]}}',
            "messages[1].weight",
            "weight must be 0 or 1, got 2",
        ),
        (
            f'{{"messages":[{U},{{"role":"assistant","content":"a","weight":true}}]}}',
            "messages[1].weight",
            "weight must be 0 or 1",
        ),
        (
            f'{{"messages":[{U},{{"role":"assistant","content":"a","weight":1.0}}]}}',
            "messages[1].weight",
            "weight must be 0 or 1",
        ),
        (
            f'{{"messages":[{{"role":"user","content":"q","weight":1}},{A}]}}',
            "messages[0]",
            "only allowed on assistant messages",
        ),
        (
            f'{{"messages":[{U},{{"role":"assistant","tool_calls":[{{"id":"c","type":"function",'
            '"function":{"name":"f","arguments":{"x":1}}}]}]}',
            "messages[1].tool_calls[0].function.arguments",
            "must be a JSON string",
        ),
        (
            f'{{"messages":[{U},{{"role":"assistant","content":[{{"type":"image_url",'
            '"image_url":{"url":"https://example.com/a.png"}}]}]}',
            "messages[1]",
            "images are not allowed in assistant messages",
        ),
        (f'{{"messages":[{U},{{"role":"robot","content":"a"}}]}}', "messages[1]", "unknown role"),
        (
            f'{{"messages":[{U},{{"role":"assistant","content":"a","mood":"ok"}}]}}',
            "messages[1].mood",
            "unknown key 'mood'",
        ),
        (
            f'{{"messages":[{{"role":"user","content":5}},{A}]}}',
            "messages[0].content",
            "string or a list of content parts",
        ),
        (
            f'{{"messages":[{{"role":"user","content":[{{"type":"text","text":5}}]}},{A}]}}',
            "messages[0].content[0].text",
            "valid string",
        ),
        (f'{{"messages":[{U},{{"role":"assistant"}}]}}', "messages[1]", "needs content"),
        (
            f'{{"messages":[{U},{{"role":"tool","content":"r"}},{A}]}}',
            "messages[1].tool_call_id",
            "Field required",
        ),
        ('{"messages":[]}', "messages", "at least 1 item"),
        (
            f'{{"messages":[{U},{A}],"tools":[{{"type":"function","function":{{"description":"d"}}}}]}}',
            "tools[0].function.name",
            "Field required",
        ),
        (
            '{"input":{"messages":[' + U + ']},"preferred_output":[' + A + "," + A + "],"
            '"non_preferred_output":[' + A + "]}",
            "preferred_output",
            "at most 1 item",
        ),
        (
            '{"input":{"messages":[' + U + ']},"preferred_output":[' + U + "],"
            '"non_preferred_output":[' + A + "]}",
            "preferred_output[0].role",
            "'assistant'",
        ),
        (
            '{"input":{"messages":[' + U + ']},"preferred_completion":[' + A + "],"
            '"non_preferred_completion":[' + A + "]}",
            "",
            "old name of 'preferred_output'",
        ),
    ],
)
def test_rejections_name_line_and_path(line: str, path: str, fragment: str) -> None:
    with pytest.raises(RecordError) as info:
        parse_record(line, line_no=12)
    err = info.value
    assert err.line == 12
    assert err.path == path
    assert fragment in err.reason
    assert str(err).startswith("line 12")


@pytest.mark.parametrize(
    ("line", "code", "fragment"),
    [
        ('{"messages": [', "invalid_json", "invalid JSON"),
        ("[1, 2]", "not_an_object", "JSON object, got an array"),
        ('"text"', "not_an_object", "got a string"),
        ('{"prompt": "p", "completion": "c"}', "unknown_format", "legacy prompt/completion"),
        ('{"chosen": "a", "rejected": "b"}', "unknown_format", "chosen/rejected"),
        ("{}", "unknown_format", "empty object"),
    ],
)
def test_foreign_and_broken_lines(line: str, code: str, fragment: str) -> None:
    with pytest.raises(RecordError) as info:
        parse_record(line, line_no=3)
    assert info.value.code == code
    assert fragment in info.value.reason


def test_kind_mismatch_says_which_kind() -> None:
    dpo = DPORecord.pair("q", "good", "bad").to_json()
    with pytest.raises(RecordError) as info:
        parse_record(dpo, kind="sft", line_no=4)
    assert "DPO (preference pair) record, but this file is SFT" in info.value.reason


def test_constructors_serialise_like_files() -> None:
    rec = SFTRecord.single_turn("2+2?", "4", system="Be brief.")
    assert json.loads(rec.to_json()) == {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "2+2?"},
            {"role": "assistant", "content": "4"},
        ]
    }
    multi = SFTRecord.multi_turn(
        [("user", "2+2?"), ("assistant", "5", 0), ("user", "Again."), ("assistant", "4", 1)]
    )
    assert [getattr(m, "weight", None) for m in multi.messages] == [None, 0, None, 1]
    assert json.loads(multi.to_json())["messages"][1] == {
        "role": "assistant",
        "content": "5",
        "weight": 0,
    }
    assert SFTRecord.from_json(multi.to_json()) == multi
    pair = DPORecord.pair("Summarise X.", "Short.", "Long ramble.")
    assert json.loads(pair.to_json()) == {
        "input": {"messages": [{"role": "user", "content": "Summarise X."}]},
        "preferred_output": [{"role": "assistant", "content": "Short."}],
        "non_preferred_output": [{"role": "assistant", "content": "Long ramble."}],
    }


def test_weight_on_user_turn_in_multi_turn_constructor_fails() -> None:
    with pytest.raises(ValueError, match="only allowed on assistant"):
        SFTRecord.multi_turn([("user", "hi", 1), ("assistant", "yo")])


def test_records_are_frozen_and_compare_by_content() -> None:
    a = SFTRecord.from_json(f'{{"messages":[{U},{A}]}}', line_no=1)
    b = SFTRecord.from_json(f'{{"messages":[{A.replace("a", "a")}]}}'.replace(A, A), line_no=9)
    assert a.line == 1 and b.line == 9
    assert a != b
    c = SFTRecord.from_json(f'{{"messages":[{U},{A}]}}', line_no=5)
    assert a == c  # the line is provenance, not content
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises ValidationError on frozen assignment
        a.messages = []  # type: ignore[misc]


def test_strict_mode_rejects_coercion() -> None:
    with pytest.raises(RecordError):
        parse_record(
            '{"messages":[{"role":"user","content":"q"},{"role":"assistant",'
            '"content":"a"}],"parallel_tool_calls":"true"}'
        )


def test_user_message_direct_construction() -> None:
    msg = UserMessage(content="hi")
    assert msg.model_dump(exclude_unset=True) == {"role": "user", "content": "hi"}

"""Format detection, OpenAI-like lines with extra keys, and what is refused as a whole file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ftkit import DPORecord, RecordError, UsageError, read_jsonl
from ftkit.interop import import_dataset

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "interop"
REAL = REPO / "tests" / "data" / "real"


def _write(path: Path, *lines: Any) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sharegpt_chat.jsonl", "sharegpt"),
        ("sharegpt_tools.jsonl", "sharegpt"),
        ("sharegpt_prefs.jsonl", "sharegpt"),
        ("alpaca.jsonl", "alpaca"),
        ("alpaca_prefs.jsonl", "alpaca"),
        ("trl_standard.jsonl", "trl"),
        ("trl_conversational.jsonl", "trl"),
        ("trl_implicit.jsonl", "trl"),
    ],
)
def test_each_format_is_detected(name: str, expected: str) -> None:
    assert import_dataset(DATA / name).format == expected


def test_real_openai_files_are_detected_and_imported_unchanged() -> None:
    for name in (
        "foundry_sft_stock_toolcall_train.jsonl",
        "foundry_dpo_orca_pairs_validation.jsonl",
    ):
        result = import_dataset(REAL / name)
        assert result.format == "openai"
        assert list(result.dataset) == list(read_jsonl(REAL / name))
        assert result.report.lossless


def test_ambiguous_file_is_refused_naming_the_lines() -> None:
    with pytest.raises(UsageError) as caught:
        import_dataset(DATA / "mixed_formats.jsonl")
    message = str(caught.value)
    assert "line 1 looks like ShareGPT" in message and "line 2 looks like Alpaca" in message
    assert "--from" in message


def test_unknown_file_is_refused_naming_its_keys() -> None:
    with pytest.raises(UsageError, match=r"line 1 has 'meta', 'text', which matches none of"):
        import_dataset(DATA / "unknown_format.jsonl")


def test_a_given_format_reads_the_lines_it_can_and_reports_the_others() -> None:
    result = import_dataset(DATA / "mixed_formats.jsonl", format="alpaca")
    assert result.detection == "given, not detected"
    assert len(result.dataset) == 1 and result.dataset[0].line == 2
    (error,) = result.errors
    assert (error.line, error.code, error.path) == (1, "missing_field", "instruction")


def test_unknown_format_name_and_missing_file_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not one of sharegpt, alpaca, trl, openai"):
        import_dataset(DATA / "alpaca.jsonl", format="dolly")
    with pytest.raises(UsageError, match="no such file"):
        import_dataset(tmp_path / "absent.jsonl")


def test_a_json_array_is_refused_as_a_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "alpaca_data.json"
    rows = [{"instruction": "Say hi.", "input": "", "output": "Hi."}] * 2
    path.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    with pytest.raises(RecordError) as caught:
        import_dataset(path)
    assert caught.value.code == "multiline_json"


def test_sharegpt_variant_with_messages_is_openai_like_and_extra_keys_are_named(
    tmp_path: Path,
) -> None:
    path = _write(
        tmp_path / "variant.jsonl",
        {
            "id": "a1",
            "source": "forum",
            "messages": [
                {"role": "user", "content": "Hi", "timestamp": 1},
                {"role": "assistant", "content": "Hello"},
            ],
        },
        {
            "id": "a2",
            "messages": [
                {"role": "user", "content": "Yo"},
                {"role": "assistant", "content": "Hey"},
            ],
        },
    )
    result = import_dataset(path)
    assert result.format == "openai"
    assert "ShareGPT variants" in result.detection
    assert result.ok and len(result.dataset) == 2
    assert result.dataset[0].to_dict() == {
        "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    }
    dropped = result.report.dropped
    assert dropped == {
        "unknown field 'id'": 2,
        "unknown field 'source'": 1,
        "unknown field 'messages[].timestamp'": 1,
    }


def test_sharegpt_turns_under_messages_are_sharegpt(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "s.jsonl",
        {"messages": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}]},
    )
    result = import_dataset(path)
    assert result.format == "sharegpt" and result.ok
    assert [m.role for m in result.dataset[0].messages] == ["user", "assistant"]  # type: ignore[union-attr]


def test_a_line_of_the_other_kind_is_an_error(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "a.jsonl",
        {"instruction": "Say hi.", "input": "", "output": "Hi."},
        {"instruction": "Say hi.", "input": "", "chosen": "Hi.", "rejected": "No."},
    )
    result = import_dataset(path)
    assert result.dataset.kind == "sft" and len(result.dataset) == 1
    (error,) = result.errors
    assert error.line == 2 and "DPO" in error.reason


def test_converted_record_that_is_not_valid_is_a_line_error(tmp_path: Path) -> None:
    # Converts fine, but a conversation without an assistant reply trains nothing.
    path = _write(tmp_path / "s.jsonl", {"conversations": [{"from": "human", "value": "Hi"}]})
    (error,) = import_dataset(path, format="sharegpt").errors
    assert error.line == 1
    assert error.reason.startswith("the converted record is not valid")
    assert "no assistant message" in error.reason


def test_trl_documented_tool_calling_shape_is_imported(tmp_path: Path) -> None:
    # TRL's dataset_formats example: arguments as an object, no call ids, the result
    # named instead of paired by id, and tools as a JSON string (how Arrow stores it).
    tool = {
        "type": "function",
        "function": {
            "name": "control_light",
            "description": "Controls the lights in a room.",
            "parameters": {
                "type": "object",
                "properties": {"room": {"type": "string"}, "state": {"type": "string"}},
                "required": ["room", "state"],
            },
        },
    }
    call = {
        "type": "function",
        "function": {"name": "control_light", "arguments": {"room": "living room", "state": "on"}},
    }
    line = {
        "messages": [
            {"role": "user", "content": "Turn on the living room lights."},
            {"role": "assistant", "tool_calls": [call]},
            {"role": "tool", "name": "control_light", "content": "The lights are now on."},
            {"role": "assistant", "tool_calls": [call, call]},
            {"role": "tool", "content": "Already on."},
            {"role": "tool", "content": "Still on."},
            {"role": "assistant", "content": "Done!"},
        ],
        "tools": json.dumps([tool]),
    }
    result = import_dataset(_write(tmp_path / "trl.jsonl", line))
    assert result.ok, [str(e) for e in result.errors]
    (record,) = result.dataset
    data = json.loads(record.to_json())
    calls = [c for m in data["messages"] for c in m.get("tool_calls") or ()]
    assert [c["id"] for c in calls] == ["call_1", "call_2", "call_3"]
    assert {c["function"]["arguments"] for c in calls} == {'{"room": "living room", "state": "on"}'}
    results = [m["tool_call_id"] for m in data["messages"] if m["role"] == "tool"]
    assert results == ["call_1", "call_2", "call_3"]
    assert data["tools"] == [tool]
    report = result.report
    assert report.lossless  # the result's name is its call's: carried by the pairing
    for feature, mapped in (
        ("tool call ids", 3),
        ("tool call arguments", 3),
        ("tool results without tool_call_id", 3),
        ("tool result names", 1),
        ("tools as a JSON string", 1),
    ):
        entry = report.entry(feature)
        assert entry is not None and entry.mapped == mapped, feature


def test_given_call_ids_are_kept_and_never_made_up_again(tmp_path: Path) -> None:
    call = {"type": "function", "function": {"name": "f", "arguments": "{}"}}
    line = {
        "messages": [
            {"role": "user", "content": "go"},
            {"role": "assistant", "tool_calls": [{**call, "id": "call_2"}, call]},
            {"role": "tool", "tool_call_id": "call_2", "content": "a"},
            {"role": "tool", "content": "b"},
            {"role": "tool", "name": "other", "content": "c"},
        ]
    }
    result = import_dataset(_write(tmp_path / "ids.jsonl", line))
    (error,) = result.errors  # the third result answers no call
    assert (error.line, error.path, error.code) == (1, "messages[4]", "unanswered_tool_result")
    line["messages"] = [*line["messages"][:4], {"role": "assistant", "content": "ok"}]
    (record,) = import_dataset(_write(tmp_path / "ids.jsonl", line)).dataset
    data = json.loads(record.to_json())
    assert [c["id"] for c in data["messages"][1]["tool_calls"]] == ["call_2", "call_1"]
    assert [m.get("tool_call_id") for m in data["messages"][2:4]] == ["call_2", "call_1"]


def test_a_tool_result_name_that_is_not_its_calls_is_reported_dropped(tmp_path: Path) -> None:
    line = {
        "messages": [
            {"role": "user", "content": "go"},
            {
                "role": "assistant",
                "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {}}}],
            },
            {"role": "tool", "name": "g", "content": "a"},
            {"role": "assistant", "content": "ok"},
        ]
    }
    result = import_dataset(_write(tmp_path / "name.jsonl", line))
    assert result.ok
    assert result.report.dropped == {"tool result names": 1}


def test_axolotl_dpo_layout_is_preference_data_not_sft(tmp_path: Path) -> None:
    line = {
        "messages": [{"role": "user", "content": "Name a colour."}],
        "chosen": {"role": "assistant", "content": "Blue."},
        "rejected": {"role": "assistant", "content": "Seven."},
    }
    result = import_dataset(_write(tmp_path / "axolotl.jsonl", line, line))
    assert result.format == "trl" and "Axolotl DPO" in result.detection
    assert result.ok and result.dataset.kind == "dpo" and len(result.dataset) == 2
    record = result.dataset[0]
    assert isinstance(record, DPORecord)
    assert record.preferred_output[0].content == "Blue."
    assert result.report.lossless


@pytest.mark.parametrize(
    ("images", "said"),
    [
        ([], "no URL left"),
        (["https://example.com/a.png", "https://example.com/b.png"], "1 image(s) more"),
        ([{"path": "a.png"}], "list of image URLs"),
    ],
)
def test_image_placeholders_and_the_images_column_must_agree(
    images: Any, said: str, tmp_path: Path
) -> None:
    line = {
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "What?"}, {"type": "image"}]},
            {"role": "assistant", "content": "A chart."},
        ],
        "images": images,
    }
    (error,) = import_dataset(_write(tmp_path / "img.jsonl", line)).errors
    assert error.line == 1 and error.code == "invalid_images" and said in error.reason


def test_an_images_column_without_placeholders_is_counted_dropped(tmp_path: Path) -> None:
    # LLaMA-Factory's layout: <image> in the text and file paths, not TRL's placeholders.
    line = {
        "messages": [
            {"role": "user", "content": "<image>What is this?"},
            {"role": "assistant", "content": "A chart."},
        ],
        "images": ["charts/0.png"],
    }
    result = import_dataset(_write(tmp_path / "lf.jsonl", line))
    assert result.ok
    assert result.report.dropped == {"images": 1}

"""ShareGPT import: speakers, system, weights, LLaMA-Factory tool turns, preferences, and a
round trip of real OpenAI files through ShareGPT."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ftkit import Dataset, DPORecord, RecordError, SFTRecord, read_jsonl
from ftkit.interop import import_dataset

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "interop"
REAL = REPO / "tests" / "data" / "real"
EXAMPLES = REPO / "examples" / "data"


def test_chat_file_maps_speakers_system_and_weights() -> None:
    result = import_dataset(DATA / "sharegpt_chat.jsonl")
    assert result.format == "sharegpt"
    assert "from/value" in result.detection
    assert [r.line for r in result.dataset] == [1, 2, 3, 6]
    first, second, third, _ = result.dataset
    assert first.to_dict() == {
        "messages": [
            {"role": "user", "content": "What is the boiling point of water at sea level?"},
            {"role": "assistant", "content": "100 °C (212 °F) at standard atmospheric pressure."},
        ]
    }
    assert isinstance(second, SFTRecord)
    assert second.messages[0].role == "system"
    assert second.messages[0].content == "You are a terse assistant for a bike shop."
    assert [m.weight for m in second.assistant_messages] == [0, 1]
    assert [m.role for m in third.messages] == ["system", "user", "assistant"]
    report = result.report
    assert report.records == 4
    frm = report.entry("from")
    assert frm is not None and frm.mapped == 2 + 4 + 3 + 2  # the bad lines are not counted
    weights = report.entry("message weights")
    assert weights is not None and weights.kept == 2
    system = report.entry("system")
    assert system is not None and system.mapped == 1


def test_unknown_fields_are_named_with_their_lines() -> None:
    report = import_dataset(DATA / "sharegpt_chat.jsonl").report
    ids = report.entry("unknown field 'id'")
    assert ids is not None and ids.dropped == 4
    assert "lines 1, 2, 3, 6" in ids.note
    markdown = report.entry("unknown field 'conversations[].markdown'")
    assert markdown is not None and markdown.dropped == 1 and "line 3" in markdown.note
    assert not report.lossless
    assert "unknown field 'id': 4 dropped" in str(report)


def test_bad_lines_are_errors_with_line_numbers_and_the_rest_imports() -> None:
    result = import_dataset(DATA / "sharegpt_chat.jsonl")
    assert [(e.line, e.code) for e in result.errors] == [
        (4, "unknown_role"),
        (5, "invalid_json"),
    ]
    assert result.errors[0].path == "conversations[1].from"
    assert "'narrator'" in result.errors[0].reason
    assert not result.ok


def test_strict_raises_the_first_bad_line() -> None:
    with pytest.raises(RecordError) as caught:
        import_dataset(DATA / "sharegpt_chat.jsonl", strict=True)
    assert caught.value.line == 4
    assert "sharegpt_chat.jsonl, line 4" in str(caught.value)


def test_function_call_and_observation_turns_become_tool_calls() -> None:
    result = import_dataset(DATA / "sharegpt_tools.jsonl")
    single, parallel = result.dataset
    assert isinstance(single, SFTRecord) and isinstance(parallel, SFTRecord)
    call = single.messages[1]
    assert call.role == "assistant" and call.tool_calls is not None
    assert call.tool_calls[0].id == "call_1"
    assert json.loads(call.tool_calls[0].function.arguments) == {"city": "Oslo"}
    assert single.messages[2].model_dump(exclude_unset=True) == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": '{"temp_c": 4, "sky": "overcast"}',
    }
    assert single.tools is not None and single.tools[0].function.name == "get_weather"
    # Parallel calls: one turn with a list of calls, one observation with a list of results.
    assert [c.id for c in parallel.messages[1].tool_calls or []] == ["call_1", "call_2"]
    results = [(m.tool_call_id, m.content) for m in parallel.messages[2:4]]
    assert results == [("call_1", '{"temp_c": 4}'), ("call_2", '{"temp_c": 7}')]
    tools = result.report.entry("tools")
    assert tools is not None and tools.mapped == 2 and "wrapped" in tools.note
    calls = result.report.entry("function_call turns")
    assert calls is not None and calls.mapped == 2 and "call_1" in calls.note
    (error,) = result.errors
    assert (error.line, error.code, error.path) == (
        3,
        "unanswered_tool_result",
        "conversations[1].value",
    )


def test_preference_layout_becomes_dpo_records() -> None:
    result = import_dataset(DATA / "sharegpt_prefs.jsonl")
    assert result.ok and result.dataset.kind == "dpo"
    first, second = result.dataset
    assert isinstance(second, DPORecord)
    assert [m.role for m in second.input.messages] == ["system", "user"]
    assert second.preferred_output[0].content == "No: 91 = 7 × 13."
    assert second.non_preferred_output[0].content == "Yes, 91 is prime."
    assert isinstance(first, DPORecord)
    chosen = result.report.entry("chosen")
    assert chosen is not None and chosen.mapped == 2


def test_media_columns_are_reported_dropped(tmp_path: Path) -> None:
    path = tmp_path / "vision.jsonl"
    line = {
        "conversations": [
            {"from": "human", "value": "<image>What is in the picture?"},
            {"from": "gpt", "value": "A cat."},
        ],
        "images": ["pictures/cat.jpg"],
    }
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    report = import_dataset(path).report
    images = report.entry("images")
    assert images is not None and images.dropped == 1 and "image_url" in images.note
    assert report.dropped == {"images": 1}


# --- round trip: real OpenAI files -> ShareGPT (written here) -> import -------------------


def _to_sharegpt(record: SFTRecord) -> dict[str, Any]:
    """One SFT record as LLaMA-Factory's ShareGPT layout (text content only)."""
    turns: list[dict[str, Any]] = []
    for message in record.messages:
        data = message.model_dump(exclude_unset=True)
        role = data["role"]
        if role == "assistant" and data.get("tool_calls"):
            calls = [
                {"name": c["function"]["name"], "arguments": json.loads(c["function"]["arguments"])}
                for c in data["tool_calls"]
            ]
            turns.append(
                {
                    "from": "function_call",
                    "value": json.dumps(calls[0] if len(calls) == 1 else calls),
                }
            )
            continue
        speaker = {"system": "system", "user": "human", "assistant": "gpt", "tool": "observation"}
        turn: dict[str, Any] = {"from": speaker[role], "value": data["content"]}
        if "weight" in data:
            turn["weight"] = data["weight"]
        turns.append(turn)
    line: dict[str, Any] = {"conversations": turns}
    if record.tools:
        line["tools"] = json.dumps(
            [t.function.model_dump(exclude_unset=True) for t in record.tools]
        )
    return line


def _comparable(record: SFTRecord) -> dict[str, Any]:
    """The record as ShareGPT can hold it: call ids numbered per conversation (it has no
    ids), arguments parsed (it holds JSON objects), no explicit ``content: null``."""
    data = record.to_dict()
    ids: dict[str, str] = {}
    for message in data["messages"]:
        if message.get("content", "") is None:
            del message["content"]
        for call in message.get("tool_calls", []):
            ids[call["id"]] = call["id"] = f"call_{len(ids) + 1}"
            call["function"]["arguments"] = json.loads(call["function"]["arguments"])
        if message["role"] == "tool":
            message["tool_call_id"] = ids[message["tool_call_id"]]
    return data


@pytest.mark.parametrize(
    "source",
    [
        REAL / "openai-cookbook_toy_chat_fine_tuning.jsonl",
        REAL / "foundry_sft_gsm8k_train.jsonl",
        REAL / "foundry_sft_stock_toolcall_train.jsonl",
        REAL / "foundry_sft_retail_agent_tools.jsonl",
        EXAMPLES / "weighted_multiturn_sft.jsonl",
        EXAMPLES / "tool_calling_sft.jsonl",
    ],
    ids=lambda p: p.name,
)
def test_real_openai_files_round_trip_through_sharegpt(source: Path, tmp_path: Path) -> None:
    original = list(read_jsonl(source, kind="sft"))
    shared = tmp_path / "sharegpt.jsonl"
    shared.write_text(
        "".join(json.dumps(_to_sharegpt(r), ensure_ascii=False) + "\n" for r in original),  # type: ignore[arg-type]
        encoding="utf-8",
    )
    result = import_dataset(shared)
    assert result.format == "sharegpt"
    assert result.errors == ()
    assert result.report.lossless, str(result.report)
    assert [_comparable(r) for r in result.dataset] == [_comparable(r) for r in original]  # type: ignore[arg-type]
    if not any(r.tools for r in original):  # type: ignore[union-attr]
        # Without tools nothing is renumbered: the very same records come back.
        assert result.dataset == Dataset(original)
    back = result.write(tmp_path / "back.jsonl")
    assert Dataset.load(back) == result.dataset


def test_role_content_turns_and_weights_on_context_turns(tmp_path: Path) -> None:
    path = tmp_path / "variant.jsonl"
    line = {
        "conversations": [
            {"role": "user", "content": "Hi", "weight": 1},
            {"role": "assistant", "content": "Hello", "weight": 0},
            {"role": "user", "content": "Bye"},
            {"role": "assistant", "content": "Goodbye"},
        ]
    }
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    result = import_dataset(path)
    assert "role/content turns" in result.detection
    record = result.dataset[0]
    assert isinstance(record, SFTRecord)
    assert [(m.role, m.content) for m in record.messages] == [
        ("user", "Hi"),
        ("assistant", "Hello"),
        ("user", "Bye"),
        ("assistant", "Goodbye"),
    ]
    assert [m.weight for m in record.assistant_messages] == [0, None]
    turns = result.report.entry("role/content turns")
    assert turns is not None and turns.kept == 4
    assert result.report.dropped == {"weights on non-assistant turns": 1}


def test_weights_on_tool_turns_are_kept_on_the_call_or_counted_dropped(tmp_path: Path) -> None:
    # A weight-0 function_call must stay untrained: the weight goes on the call message.
    call = json.dumps({"name": "get_weather", "arguments": {"city": "Oslo"}})
    line = {
        "conversations": [
            {"from": "human", "value": "Weather in Oslo?"},
            {"from": "function_call", "value": call, "weight": 0},
            {"from": "observation", "value": '{"temp": 3}', "weight": 1},
            {"from": "gpt", "value": "3 °C.", "weight": 1},
        ]
    }
    path = tmp_path / "tools.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    result = import_dataset(path)
    (record,) = result.dataset
    assert isinstance(record, SFTRecord)
    call_message, reply = record.assistant_messages
    assert call_message.tool_calls is not None and call_message.weight == 0
    assert reply.weight == 1
    weights = result.report.entry("message weights")
    assert weights is not None and weights.kept == 2
    assert result.report.dropped == {"weights on non-assistant turns": 1}  # the observation's

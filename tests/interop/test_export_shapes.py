"""What the trainers' loaders need: TRL's object arguments, Axolotl DPO sides with text,
the multimodal modes (and what they cost), and an image's detail counted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import ftkit
from ftkit.interop._export import export

REPO = Path(__file__).resolve().parents[2]
REAL = REPO / "tests" / "data" / "real"
EXAMPLES = REPO / "examples" / "data"
TOOLS = EXAMPLES / "tool_calling_sft.jsonl"
CHARTS = REAL / "foundry_sft_chartqa_vision_train.jsonl"
PIXEL = "data:image/png;base64,iVBORw0KGgo="


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def _call(arguments: str, call_id: str = "c1") -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": "f", "arguments": arguments}}


def _image_record(detail: str | None = None, weight: int | None = None) -> dict[str, Any]:
    url: dict[str, Any] = {"url": PIXEL}
    if detail is not None:
        url["detail"] = detail
    answer: dict[str, Any] = {"role": "assistant", "content": "A dot."}
    if weight is not None:
        answer["weight"] = weight
    return {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is it?"},
                    {"type": "image_url", "image_url": url},
                ],
            },
            answer,
        ]
    }


def test_trl_tool_call_arguments_are_objects(tmp_path: Path) -> None:
    result = export(TOOLS, "trl", tmp_path)
    entry = result.report.entry("tool call arguments")
    assert entry is not None and entry.mapped == 26 and "object" in entry.note
    assert result.report.lossless
    records = list(ftkit.read_jsonl(TOOLS))
    for row, record in zip(_rows(result.files[0]), records, strict=True):
        written = [c for m in row["messages"] for c in m.get("tool_calls") or ()]
        assert isinstance(record, ftkit.SFTRecord)
        given = [c for m in record.assistant_messages for c in m.tool_calls or ()]
        assert [c["function"]["arguments"] for c in written] == [
            json.loads(c.function.arguments) for c in given
        ]
    # Axolotl keeps the string (its templates and the OpenAI shape agree there).
    axolotl = _rows(export(TOOLS, "axolotl", tmp_path / "a").files[0])
    calls = [c for row in axolotl for m in row["messages"] for c in m.get("tool_calls") or ()]
    assert calls and all(isinstance(c["function"]["arguments"], str) for c in calls)


def test_trl_dpo_and_legacy_call_arguments_are_objects(tmp_path: Path) -> None:
    pair = {
        "input": {"messages": [{"role": "user", "content": "Oslo?"}]},
        "preferred_output": [
            {"role": "assistant", "content": None, "tool_calls": [_call('{"city":"Oslo"}')]}
        ],
        "non_preferred_output": [{"role": "assistant", "content": "No idea."}],
    }
    row = _rows(export([pair], "trl", tmp_path / "dpo").files[0])[0]
    assert row["chosen"][0]["tool_calls"][0]["function"]["arguments"] == {"city": "Oslo"}
    legacy = {
        "messages": [
            {"role": "user", "content": "Time?"},
            {"role": "assistant", "function_call": {"name": "now", "arguments": '{"tz": "UTC"}'}},
            {"role": "function", "name": "now", "content": "12:00"},
            {"role": "assistant", "content": "Noon."},
        ]
    }
    row = _rows(export([legacy], "trl", tmp_path / "sft").files[0])[0]
    assert row["messages"][1]["tool_calls"][0]["function"]["arguments"] == {"tz": "UTC"}


def test_trl_refuses_arguments_that_are_not_a_json_object_and_lists_each(
    tmp_path: Path,
) -> None:
    good = {
        "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    }

    def calling(*arguments: str) -> dict[str, Any]:
        calls = [_call(a, f"c{i}") for i, a in enumerate(arguments)]
        return {
            "messages": [
                {"role": "user", "content": "Go"},
                {"role": "assistant", "content": None, "tool_calls": calls},
                *(
                    {"role": "tool", "tool_call_id": f"c{i}", "content": "ok"}
                    for i in range(len(calls))
                ),
                {"role": "assistant", "content": "Done."},
            ]
        }

    source = tmp_path / "calls.jsonl"
    lines = [good, calling('{"a": 1}', "not json"), good, calling("[1, 2]")]
    source.write_text("".join(json.dumps(r) + "\n" for r in lines), "utf-8")
    out = tmp_path / "out"
    with pytest.raises(ftkit.UsageError) as caught:
        export(source, "trl", out)
    text = str(caught.value)
    assert "2 parts cannot be written for trl" in text
    assert "line 2 messages[1].tool_calls[1]: arguments are not a JSON object" in text
    assert "line 4 messages[1].tool_calls[0]: arguments are not a JSON object" in text
    assert "tool_calls[0]" not in text.split("line 4")[0]  # line 2's first call is fine
    assert not out.exists()


def test_axolotl_dpo_refuses_a_side_left_without_text(tmp_path: Path) -> None:
    def pair(preferred: dict[str, Any], rejected: dict[str, Any]) -> dict[str, Any]:
        return {
            "input": {"messages": [{"role": "user", "content": "Weather in Oslo?"}]},
            "preferred_output": [preferred],
            "non_preferred_output": [rejected],
        }

    calls_only = {"role": "assistant", "content": None, "tool_calls": [_call('{"city": "Oslo"}')]}
    text = {"role": "assistant", "content": "Cold."}
    records = [pair(text, text), pair(calls_only, text), pair(text, calls_only)]
    with pytest.raises(ftkit.UsageError) as caught:
        export(records, "axolotl", tmp_path / "out")
    message = str(caught.value)
    assert "2 parts cannot be written for axolotl" in message
    assert "record 2 preferred_output: no text once its tool calls are dropped" in message
    assert "record 3 non_preferred_output: no text" in message
    assert "record 1" not in message
    assert not (tmp_path / "out").exists()
    # TRL keeps the calls, so the same pairs export there.
    assert export(records, "trl", tmp_path / "trl").report.records == 3


def test_axolotl_dpo_writes_legacy_function_results_as_tool_messages(tmp_path: Path) -> None:
    pair = {
        "input": {
            "messages": [
                {"role": "user", "content": "Time?"},
                {"role": "assistant", "function_call": {"name": "now", "arguments": "{}"}},
                {"role": "function", "name": "now", "content": "12:00"},
            ]
        },
        "preferred_output": [{"role": "assistant", "content": "Noon."}],
        "non_preferred_output": [{"role": "assistant", "content": "Midnight."}],
    }
    result = export([pair], "axolotl", tmp_path)
    row = _rows(result.files[0])[0]
    assert [m["role"] for m in row["messages"]] == ["user", "assistant", "tool"]
    assert row["messages"][2]["content"] == "12:00"
    assert result.report.entry("legacy functions").mapped == 1  # type: ignore[union-attr]


def test_axolotl_images_turn_on_the_multimodal_mode(tmp_path: Path) -> None:
    result = export(CHARTS, "axolotl", tmp_path)
    config = result.config or ""
    for line in (
        "processor_type: AutoProcessor",
        "skip_prepare_dataset: true",
        "remove_unused_columns: false",
        "type: chat_template",
    ):
        assert line in config
    assert config.index("processor_type") < config.index("datasets:")  # top-level keys first
    text_only = export(EXAMPLES / "sarcasm_sft.jsonl", "axolotl", tmp_path / "t").config or ""
    assert "processor_type" not in text_only


def test_axolotl_weights_are_dropped_under_the_multimodal_mode(tmp_path: Path) -> None:
    plain = {
        "messages": [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hey", "weight": 0},
        ]
    }
    result = export([plain, _image_record(weight=1)], "axolotl", tmp_path)
    entry = result.report.entry("message weights")
    assert entry is not None and (entry.kept, entry.dropped) == (0, 2)
    assert "role markers" in entry.note and "not applied" in entry.note
    assert not result.report.lossless
    # Without images the same weights are kept.
    text = export([plain, plain], "axolotl", tmp_path / "text").report.entry("message weights")
    assert text is not None and (text.kept, text.dropped) == (2, 0)


def test_trl_images_report_that_user_turns_get_trained(tmp_path: Path) -> None:
    result = export(CHARTS, "trl", tmp_path)
    entry = result.report.entry("assistant-only loss")
    assert entry is not None and entry.dropped == 100
    assert "user turns" in entry.note and "vision-language" in entry.note
    assert not result.report.lossless
    text = export(EXAMPLES / "sarcasm_sft.jsonl", "trl", tmp_path / "t").report
    assert text.entry("assistant-only loss") is None and text.lossless


@pytest.mark.parametrize("to", ["axolotl", "trl"])
def test_an_image_detail_is_counted_as_dropped(to: str, tmp_path: Path) -> None:
    records = [_image_record("high"), _image_record("auto"), _image_record()]
    report = export(records, to, tmp_path).report
    entry = report.entry("image detail")
    assert entry is not None and entry.dropped == 1  # 'auto' is what no detail means
    assert "image detail" in report.dropped

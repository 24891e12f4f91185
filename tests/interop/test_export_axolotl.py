"""Export to Axolotl: the real and example files, the loss counts, and the YAML to paste."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import ftkit
from ftkit.interop._export import InvalidRecords, export

REPO = Path(__file__).resolve().parents[2]
REAL = REPO / "tests" / "data" / "real"
EXAMPLES = REPO / "examples" / "data"


def _sft(path: Path) -> list[ftkit.SFTRecord]:
    records = list(ftkit.read_jsonl(path, kind="sft"))
    assert all(isinstance(r, ftkit.SFTRecord) for r in records)
    return records  # type: ignore[return-value]


def _dpo(path: Path) -> list[ftkit.DPORecord]:
    records = list(ftkit.read_jsonl(path, kind="dpo"))
    assert all(isinstance(r, ftkit.DPORecord) for r in records)
    return records  # type: ignore[return-value]


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def test_weights_are_kept_where_message_field_training_reads_them(tmp_path: Path) -> None:
    source = EXAMPLES / "weighted_multiturn_sft.jsonl"
    result = export(source, "axolotl", tmp_path)
    data, config = result.files
    assert data == tmp_path / "weighted_multiturn_sft.axolotl.jsonl"
    assert result.report.lossless
    assert result.report.entry("message weights") is not None
    assert result.report.entry("message weights").kept == 44  # type: ignore[union-attr]
    originals = _sft(source)
    for row, record in zip(_rows(data), originals, strict=True):
        assert [m.get("weight") for m in row["messages"]] == [
            getattr(m, "weight", None) for m in record.messages
        ]
        assert [m["content"] for m in row["messages"]] == [m.content for m in record.messages]
    text = config.read_text("utf-8")
    assert text == result.config
    for line in (
        "type: chat_template",
        "field_messages: messages",
        "message_field_training: weight",
        f"path: {json.dumps(str(data))}",
    ):
        assert line in text
    assert "field_tools" not in text  # no tools in this file


def test_tools_and_tool_calls_stay_in_the_sft_file(tmp_path: Path) -> None:
    result = export(REAL / "foundry_sft_retail_agent_tools.jsonl", "axolotl", tmp_path)
    report = result.report
    assert report.records == 103
    assert report.lossless
    assert report.entry("tools").kept == 1545  # type: ignore[union-attr]
    assert report.entry("tool calls").kept == 584  # type: ignore[union-attr]
    assert "field_tools: tools" in (result.config or "")
    rows = _rows(result.files[0])
    first = next(m for m in rows[0]["messages"] if m.get("tool_calls"))
    assert first["tool_calls"][0]["function"]["arguments"]  # the JSON string as given
    assert any(m["role"] == "tool" and m["tool_call_id"] for m in rows[0]["messages"])


def test_images_become_axolotl_image_parts(tmp_path: Path) -> None:
    result = export(REAL / "foundry_sft_chartqa_vision_train.jsonl", "axolotl", tmp_path)
    assert result.report.entry("images").mapped == 100  # type: ignore[union-attr]
    parts = _rows(result.files[0])[0]["messages"][0]["content"]
    image = next(p for p in parts if p["type"] == "image")
    assert image["url"].startswith(("https://", "data:image/"))


def test_dpo_keeps_role_and_content_and_reports_what_the_loader_drops(tmp_path: Path) -> None:
    result = export(REAL / "foundry_dpo_orca_pairs_validation.jsonl", "axolotl", tmp_path)
    assert result.report.records == 284 and result.report.lossless
    row = _rows(result.files[0])[0]
    assert set(row) == {"messages", "chosen", "rejected"}
    assert row["chosen"]["role"] == "assistant" and isinstance(row["chosen"]["content"], str)
    config = result.config or ""
    assert "rl: dpo" in config and "type: chat_template.default" in config

    pair = {
        "input": {
            "messages": [{"role": "user", "content": "Weather in Oslo?", "name": "ann"}],
            "tools": [{"type": "function", "function": {"name": "weather"}}],
            "parallel_tool_calls": False,
        },
        "preferred_output": [
            {
                "role": "assistant",
                "content": "Checking.",
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city": "Oslo"}'},
                    }
                ],
            }
        ],
        "non_preferred_output": [{"role": "assistant", "content": "No idea."}],
    }
    lossy = export([pair, pair], "axolotl", tmp_path / "tools")
    assert lossy.report.dropped == {
        "names": 2,
        "tools": 2,
        "parallel_tool_calls": 2,
        "tool calls": 2,
    }
    assert lossy.files[0].name == "dpo.axolotl.jsonl"
    assert _rows(lossy.files[0])[0]["chosen"] == {"role": "assistant", "content": "Checking."}


@pytest.mark.parametrize(
    "name",
    [
        "foundry_sft_gsm8k_train.jsonl",
        "foundry_sft_cnn_dailymail_validation.jsonl",
        "foundry_sft_stock_toolcall_train.jsonl",
        "openai-cookbook_toy_chat_fine_tuning.jsonl",
    ],
)
def test_every_record_of_the_real_sft_files_is_exported(name: str, tmp_path: Path) -> None:
    result = export(REAL / name, "axolotl", tmp_path)
    expected = sum(1 for _ in ftkit.read_jsonl(REAL / name))
    assert result.report.records == expected == len(_rows(result.files[0]))
    assert result.report.lossless


def test_a_file_with_bad_lines_writes_nothing_and_names_every_line(tmp_path: Path) -> None:
    good = (EXAMPLES / "sarcasm_sft.jsonl").read_text("utf-8").splitlines()
    source = tmp_path / "mixed.jsonl"
    source.write_text("\n".join([good[0], "{not json", good[1], '{"messages": []}']) + "\n")
    out = tmp_path / "out"
    with pytest.raises(InvalidRecords) as caught:
        export(source, "axolotl", out)
    assert [e.line for e in caught.value.errors] == [2, 4]
    assert "line 2" in str(caught.value) and "line 4" in str(caught.value)
    assert not out.exists()  # no data file, no temporary file, no config, no folder


def test_parallel_tool_calls_and_legacy_functions_are_counted(tmp_path: Path) -> None:
    record = {
        "messages": [
            {"role": "developer", "content": "Use tools."},
            {"role": "user", "content": "Time?"},
            {"role": "assistant", "function_call": {"name": "now", "arguments": "{}"}},
            {"role": "function", "name": "now", "content": "12:00"},
            {"role": "assistant", "content": "Noon.", "refusal": "no"},
        ],
        "functions": [{"name": "now"}],
        "parallel_tool_calls": True,
    }
    result = export([record], "axolotl", tmp_path)
    report = result.report
    assert report.dropped == {"parallel_tool_calls": 1, "refusals": 1}
    assert report.entry("legacy functions").mapped == 3  # type: ignore[union-attr]
    assert report.entry("developer role").mapped == 1  # type: ignore[union-attr]
    row = _rows(result.files[0])[0]
    call = row["messages"][2]["tool_calls"][0]
    assert row["messages"][3] == {
        "role": "tool",
        "tool_call_id": call["id"],
        "name": "now",
        "content": "12:00",
    }
    assert row["tools"] == [{"type": "function", "function": {"name": "now"}}]
    assert row["messages"][0]["role"] == "system"

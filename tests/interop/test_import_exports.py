"""ftkit's own Axolotl and TRL exports import back as the records they were written from.

The export writes the shapes the trainers read (Axolotl's DPO layout, TRL's image
placeholders with an ``images`` column, Axolotl's image parts, tool calls as chat
templates read them); reading a file ftkit wrote must not need the user to guess.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ftkit import DPORecord, read_jsonl
from ftkit.interop import import_dataset
from ftkit.interop._export import export

REPO = Path(__file__).resolve().parents[2]
REAL = REPO / "tests" / "data" / "real"
EXAMPLES = REPO / "examples" / "data"


def _data_file(result: Any) -> Path:
    """The JSONL data file among an export's files (the YAML section is not data)."""
    (found,) = [Path(f) for f in result.files if str(f).endswith(".jsonl")]
    return found


def test_axolotl_dpo_export_is_detected_and_imported_back(tmp_path: Path) -> None:
    source = EXAMPLES / "sarcasm_dpo.jsonl"
    exported = _data_file(export(source, "axolotl", tmp_path / "out"))
    result = import_dataset(exported)
    assert result.format == "trl" and "Axolotl DPO" in result.detection
    assert result.ok, [str(e) for e in result.errors]
    # The Axolotl DPO layout keeps role and content, which is all these records have.
    assert list(result.dataset) == list(read_jsonl(source))
    assert result.report.entry("Axolotl DPO sides").mapped == 2 * len(result.dataset)  # type: ignore[union-attr]


def _without_detail(record: Any) -> Any:
    """The record as JSON without image ``detail`` (the exports do not keep it)."""
    data = json.loads(record.to_json())
    for message in data["messages"]:
        for part in message["content"] if isinstance(message["content"], list) else ():
            part.get("image_url", {}).pop("detail", None)
    return data


def test_trl_and_axolotl_image_exports_import_back_with_their_images(tmp_path: Path) -> None:
    source = REAL / "foundry_sft_chartqa_vision_train.jsonl"
    expected = [_without_detail(r) for r in read_jsonl(source)]
    for target in ("trl", "axolotl"):
        exported = _data_file(export(source, target, tmp_path / target))
        result = import_dataset(exported)
        assert result.ok, (target, [str(e) for e in result.errors][:3])
        assert [_without_detail(r) for r in result.dataset] == expected, target
        entry = result.report.entry("images")
        assert entry is not None and entry.mapped == len(expected), target


def test_trl_dpo_images_are_placed_in_the_prompt(tmp_path: Path) -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/chart.png"}}
    record = {
        "input": {
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "What is shown?"}, image]}
            ]
        },
        "preferred_output": [{"role": "assistant", "content": "A bar chart."}],
        "non_preferred_output": [{"role": "assistant", "content": "A cat."}],
    }
    exported = _data_file(export([record], "trl", tmp_path / "out"))
    line = json.loads(exported.read_text(encoding="utf-8"))
    assert line["images"] == ["https://example.com/chart.png"]  # the layout read back here
    (imported,) = import_dataset(exported).dataset
    assert isinstance(imported, DPORecord)
    assert json.loads(imported.to_json()) == record


def test_trl_tool_calling_export_imports_back(tmp_path: Path) -> None:
    source = EXAMPLES / "tool_calling_sft.jsonl"
    exported = _data_file(export(source, "trl", tmp_path / "out"))
    result = import_dataset(exported)
    assert result.ok, [str(e) for e in result.errors][:3]
    # TRL's export writes arguments as objects; read back, they are JSON strings again.
    assert [_parsed_arguments(r) for r in result.dataset] == [
        _parsed_arguments(r) for r in read_jsonl(source)
    ]
    entry = result.report.entry("tool call arguments")
    assert entry is not None and entry.mapped > 0


def _parsed_arguments(record: Any) -> Any:
    """The record as JSON with each call's arguments parsed (their spacing is not data),
    and a null content left out (the export writes one where the source had none)."""
    data = json.loads(record.to_json())
    for message in data["messages"]:
        if message.get("content", "") is None:
            del message["content"]
        for call in message.get("tool_calls") or ():
            call["function"]["arguments"] = json.loads(call["function"]["arguments"])
    return data

"""Export then import (``ftkit.interop._import``) gives back the records the target can hold."""

from __future__ import annotations

from pathlib import Path

import pytest
from interop_support import by_value

import ftkit
from ftkit.interop import import_dataset
from ftkit.interop._export import export

REPO = Path(__file__).resolve().parents[2]
REAL = REPO / "tests" / "data" / "real"
EXAMPLES = REPO / "examples" / "data"


@pytest.mark.parametrize(
    ("source", "to"),
    [
        (EXAMPLES / "weighted_multiturn_sft.jsonl", "axolotl"),  # weights held exactly
        (EXAMPLES / "tool_calling_sft.jsonl", "axolotl"),
        (REAL / "foundry_sft_retail_agent_tools.jsonl", "axolotl"),
        (EXAMPLES / "tool_calling_sft.jsonl", "trl"),
        (REAL / "foundry_sft_gsm8k_train.jsonl", "trl"),
        (EXAMPLES / "sarcasm_dpo.jsonl", "trl"),
        (REAL / "foundry_dpo_orca_pairs_validation.jsonl", "trl"),
    ],
)
def test_a_lossless_export_imports_back_to_the_same_records(
    source: Path, to: str, tmp_path: Path
) -> None:
    result = export(source, to, tmp_path)
    assert result.report.lossless
    back = import_dataset(result.files[0])
    assert back.ok, back.errors
    assert by_value(back.dataset) == by_value(ftkit.read_jsonl(source))

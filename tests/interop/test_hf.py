"""Hugging Face ``datasets``: to_hf / from_hf round trips, save_to_disk, ``export --to hf``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from interop_support import by_value
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

import ftkit
from ftkit import Dataset, cli
from ftkit._optional import MissingExtra
from ftkit.interop import from_hf, import_dataset, to_hf
from ftkit.interop._export import InvalidRecords, export

datasets = pytest.importorskip("datasets")

REPO = Path(__file__).resolve().parents[2]
REAL = REPO / "tests" / "data" / "real"
EXAMPLES = REPO / "examples" / "data"
WEIGHTED = EXAMPLES / "weighted_multiturn_sft.jsonl"
VISION = REAL / "foundry_sft_chartqa_vision_train.jsonl"
# Not SFT/DPO training data (distillation prompts, RFT): Dataset.load refuses them.
NOT_TRAINING = {"foundry_distilling_sarcasm_qa.jsonl", "foundry_rft_medmcq_validation.jsonl"}
FILES = [
    p
    for p in sorted(REAL.glob("*.jsonl")) + sorted(EXAMPLES.glob("*.jsonl"))
    if p.name not in NOT_TRAINING
]
# TRL's columns hold everything of these but the weights (weighted) and the image
# parts (vision: placeholders plus an images column, which the importers do not read).
TRL_EXACT = [p for p in FILES if p not in (WEIGHTED, VISION)]


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach the hub: datasets and huggingface_hub refuse to go online."""
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


#: The model's own chat template (a plain ChatML one): labels are rendered with it.
CHATML_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


def _chatml() -> Tokenizer:
    """A small byte-level BPE with ChatML's special tokens, trained on the weighted file."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<|im_start|>", "<|im_end|>", "<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(WEIGHTED.read_text("utf-8").splitlines(), trainer)
    return tok


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_openai_layout_round_trips_every_file_exactly(path: Path) -> None:
    records = Dataset.load(path)
    hf, report = to_hf(records, target="openai", report=True)
    assert isinstance(hf, datasets.Dataset) and len(hf) == len(records)
    assert report.lossless and report.records == len(records)
    assert from_hf(hf) == records


@pytest.mark.parametrize("path", TRL_EXACT, ids=lambda p: p.name)
def test_trl_columns_round_trip_the_unweighted_files(path: Path) -> None:
    records = Dataset.load(path)
    hf = to_hf(records)
    expected = {"sft": "messages", "dpo": "chosen"}[records.kind or ""]
    assert expected in hf.column_names
    # TRL holds tool-call arguments as objects: they come back as the same arguments.
    assert by_value(from_hf(hf)) == by_value(records)


def test_trl_columns_are_the_rows_export_writes(tmp_path: Path) -> None:
    source = REAL / "foundry_sft_retail_agent_tools.jsonl"
    (written,) = export(source, "trl", tmp_path).files
    rows = [json.loads(line) for line in written.read_text("utf-8").splitlines()]
    hf = to_hf(Dataset.load(source))
    assert hf.column_names == ["messages", "tools"]
    # Arrow stores an absent key and a null one alike (content: null beside tool calls).
    assert [_without_nulls(row) for row in hf] == [_without_nulls(row) for row in rows]


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def test_weight_0_turns_are_refused_for_trl_unless_lossy() -> None:
    records = Dataset.load(WEIGHTED)
    with pytest.raises(ftkit.UsageError, match=r"weight 0.*tokenizer"):
        to_hf(records)
    hf, report = to_hf(records, lossy=True, report=True)
    assert len(hf) == 20
    weights = report.entry("message weights")
    assert weights is not None and weights.dropped == 22
    assert not report.lossless and report.target == "hf"
    # The weights are gone from the data, so reading it back trains every turn.
    assert from_hf(hf) != records


def test_a_tokenizer_writes_labels_that_honour_the_weights() -> None:
    records = Dataset.load(WEIGHTED)
    hf, report = to_hf(records, tokenizer=_chatml(), chat_format=CHATML_TEMPLATE, report=True)
    assert hf.column_names == ["input_ids", "labels"]
    row = hf[0]
    assert len(row["input_ids"]) == len(row["labels"])
    assert -100 in row["labels"] and any(label != -100 for label in row["labels"])
    weights = report.entry("message weights")
    assert weights is not None and weights.mapped > 0 and weights.dropped == 0
    # Token ids are no conversation: reading them back is refused, naming why.
    with pytest.raises(ftkit.UsageError, match="pre-tokenized"):
        from_hf(hf)


def test_the_openai_layout_takes_no_trl_options() -> None:
    with pytest.raises(ftkit.UsageError, match="target='trl' only"):
        to_hf(Dataset.load(WEIGHTED), target="openai", lossy=True)
    with pytest.raises(ftkit.UsageError, match="not one of"):
        to_hf(Dataset.load(WEIGHTED), target="axolotl")  # type: ignore[call-overload]


def test_save_to_disk_folders_and_dataset_dicts_are_read(tmp_path: Path) -> None:
    records = Dataset.load(EXAMPLES / "sarcasm_sft.jsonl")
    train, test = records.split(10)
    parts = datasets.DatasetDict(train=to_hf(train), test=to_hf(test))
    parts.save_to_disk(str(tmp_path / "dict"))
    to_hf(train).save_to_disk(str(tmp_path / "one"))
    assert from_hf(tmp_path / "one") == train
    assert from_hf(str(tmp_path / "dict"), split="test") == test
    assert from_hf(parts, split="train") == train
    with pytest.raises(ftkit.UsageError, match="'train', 'test'; pass split="):
        from_hf(parts)
    with pytest.raises(ftkit.UsageError, match="no split 'validation'"):
        from_hf(parts, split="validation")
    assert from_hf(datasets.DatasetDict(only=to_hf(train))) == train


def test_a_hub_name_is_refused_never_downloaded() -> None:
    with pytest.raises(ftkit.UsageError, match=r"never downloads.*load_dataset"):
        from_hf("HuggingFaceH4/ultrachat_200k", split="train_sft")


def test_a_jsonl_file_is_pointed_to_the_jsonl_readers() -> None:
    with pytest.raises(ftkit.UsageError, match="is a file"):
        from_hf(WEIGHTED)


def test_sharegpt_and_alpaca_rows_are_imported_with_the_report() -> None:
    sharegpt = datasets.Dataset.from_list(
        [
            {"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Yo"}]},
            {"conversations": [{"from": "human", "value": "2+2?"}, {"from": "gpt", "value": "4"}]},
        ]
    )
    result = import_dataset(sharegpt)
    assert result.ok and result.format == "sharegpt" and len(result.dataset) == 2
    assert result.dataset[1].messages[1].content == "4"  # type: ignore[union-attr]
    assert result.report.records == 2
    alpaca = datasets.Dataset.from_list([{"instruction": "Add", "input": "2 and 2", "output": "4"}])
    assert from_hf(alpaca, format="alpaca")[0].messages[-1].content == "4"  # type: ignore[union-attr]


def test_bad_rows_are_listed_with_their_numbers() -> None:
    rows = [
        {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]},
        {"messages": [{"role": "wizard", "content": "Hi"}]},
        {"messages": [{"role": "user", "content": "A"}, {"role": "assistant", "content": "B"}]},
        {"messages": []},
    ]
    hf = datasets.Dataset.from_list(rows)
    result = import_dataset(hf)
    assert [e.line for e in result.errors] == [2, 4]
    assert len(result.dataset) == 2
    with pytest.raises(InvalidRecords, match="line 2") as caught:
        from_hf(hf)
    assert "row n" in str(caught.value)
    assert [e.line for e in caught.value.errors] == [2, 4]
    with pytest.raises(ftkit.RecordError) as first:
        import_dataset(hf, strict=True)
    assert first.value.line == 2


def test_a_value_that_is_not_json_is_a_row_error() -> None:
    hf = datasets.Dataset.from_list(
        [{"messages": [{"role": "user", "content": "Hi"}], "blob": b"\x00\x01"}]
    )
    result = import_dataset(hf)
    (error,) = result.errors
    assert error.line == 1 and error.code == "not_json" and error.path == "blob"


def test_export_to_hf_saves_atomically_and_replaces(tmp_path: Path) -> None:
    source = EXAMPLES / "tool_calling_sft.jsonl"
    result = export(source, "hf", tmp_path)
    (folder,) = result.files
    assert folder == tmp_path / "tool_calling_sft" and folder.is_dir()
    assert by_value(from_hf(folder)) == by_value(Dataset.load(source))
    assert result.report.target == "hf" and result.report.records == 20
    export(EXAMPLES / "sarcasm_sft.jsonl", "hf", tmp_path / "x")
    (tmp_path / "x" / "sarcasm_sft").rename(tmp_path / "x" / "tool_calling_sft")
    export(source, "hf", tmp_path / "x")  # replaces the folder whole
    assert len(datasets.load_from_disk(str(tmp_path / "x" / "tool_calling_sft"))) == 20
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == ["tool_calling_sft"]


def test_a_refused_export_to_hf_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(ftkit.UsageError, match="weight 0"):
        export(WEIGHTED, "hf", tmp_path)
    assert list(tmp_path.iterdir()) == []
    bad = tmp_path / "bad.jsonl"
    bad.write_text(WEIGHTED.read_text("utf-8").splitlines()[0] + "\n{oops\n", "utf-8")
    with pytest.raises(InvalidRecords, match="line 2"):
        export(bad, "hf", tmp_path / "out")
    assert not (tmp_path / "out").exists()  # the folder it created is removed too


@pytest.fixture
def _registered(monkeypatch: pytest.MonkeyPatch) -> None:
    if "export" not in cli.COMMANDS:
        monkeypatch.setattr(cli, "COMMANDS", (*cli.COMMANDS, "export"))


@pytest.mark.usefixtures("_registered")
def test_cli_export_to_hf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["export", str(WEIGHTED), "--to", "hf", "--out", str(tmp_path), "--lossy", "--json"]
    assert cli.main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["files"] == [str(tmp_path / "weighted_multiturn_sft")]
    assert data["report"]["target"] == "hf" and data["report"]["lossless"] is False
    assert len(datasets.load_from_disk(data["files"][0])) == 20
    assert cli.main(["export", str(WEIGHTED), "--to", "hf", "--out", str(tmp_path / "o")]) == 2
    assert "--tokenizer" in capsys.readouterr().err


def test_without_datasets_the_extra_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)  # import datasets -> ImportError
    with pytest.raises(MissingExtra, match=r"ftkit\[hf\]"):
        to_hf(Dataset.load(WEIGHTED), target="openai")


def test_import_ftkit_does_not_import_datasets() -> None:
    code = (
        "import sys, ftkit, ftkit.interop, ftkit.dataset, ftkit.interop._export; "
        "print('datasets' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_an_export_to_hf_never_replaces_a_folder_that_is_not_a_saved_dataset(
    tmp_path: Path,
) -> None:
    keep = tmp_path / "sarcasm_sft"
    keep.mkdir()
    (keep / "notes.txt").write_text("precious", "utf-8")
    with pytest.raises(ftkit.UsageError, match="not a saved dataset"):
        export(EXAMPLES / "sarcasm_sft.jsonl", "hf", tmp_path)
    assert (keep / "notes.txt").read_text("utf-8") == "precious"

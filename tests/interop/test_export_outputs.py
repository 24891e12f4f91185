"""Export's outputs: named by target, never the source, no folder left by a failure, JSON always."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import ftkit
from ftkit import cli
from ftkit.interop._export import export

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "data"
WEIGHTED = EXAMPLES / "weighted_multiturn_sft.jsonl"
SARCASM = EXAMPLES / "sarcasm_sft.jsonl"


@pytest.fixture(autouse=True)
def _registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command as the lead will register it (its name in COMMANDS)."""
    if "export" not in cli.COMMANDS:
        monkeypatch.setattr(cli, "COMMANDS", (*cli.COMMANDS, "export"))


def test_exporting_into_the_source_folder_leaves_the_source_as_it_was(tmp_path: Path) -> None:
    source = tmp_path / "train.jsonl"
    shutil.copy(WEIGHTED, source)
    before = source.read_bytes()
    trl = export(source, "trl", tmp_path, lossy=True)
    axolotl = export(source, "axolotl", tmp_path)
    assert source.read_bytes() == before
    assert [f.name for f in trl.files] == ["train.trl.jsonl"]
    assert [f.name for f in axolotl.files] == ["train.axolotl.jsonl", "train.axolotl.yaml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "train.axolotl.jsonl",
        "train.axolotl.yaml",
        "train.jsonl",
        "train.trl.jsonl",
    ]
    # Records (not a file) are named by their kind and the target.
    records = list(ftkit.read_jsonl(SARCASM))
    assert export(records, "trl", tmp_path / "r").files[0].name == "sft.trl.jsonl"


def test_an_output_that_is_the_source_through_a_link_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "data" / "train.jsonl"
    source.parent.mkdir()
    shutil.copy(SARCASM, source)
    before = source.read_bytes()
    out = tmp_path / "out"
    out.mkdir()
    (out / "train.trl.jsonl").symlink_to(source)
    (out / "train.axolotl.yaml").hardlink_to(source)
    with pytest.raises(ftkit.UsageError, match="would replace the source"):
        export(source, "trl", out)
    with pytest.raises(ftkit.UsageError, match=r"train\.axolotl\.yaml would replace the source"):
        export(source, "axolotl", out)
    assert source.read_bytes() == before
    assert (out / "train.trl.jsonl").is_symlink()


def test_an_hf_folder_holding_the_source_is_refused(tmp_path: Path) -> None:
    # --to hf replaces the folder DIR/<stem> whole: data/train/train.jsonl with --out data.
    source = tmp_path / "data" / "train" / "train.jsonl"
    source.parent.mkdir(parents=True)
    shutil.copy(SARCASM, source)
    with pytest.raises(ftkit.UsageError, match="would replace the source"):
        export(source, "hf", tmp_path / "data")
    assert source.read_bytes() == SARCASM.read_bytes()


def test_a_refused_export_removes_the_folders_it_made_and_only_those(tmp_path: Path) -> None:
    with pytest.raises(ftkit.UsageError, match="weight 0"):
        export(WEIGHTED, "trl", tmp_path / "a" / "b" / "c")
    assert list(tmp_path.iterdir()) == []
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "notes.txt").write_text("mine", "utf-8")
    with pytest.raises(ftkit.UsageError, match="weight 0"):
        export(WEIGHTED, "trl", kept)
    assert [p.name for p in kept.iterdir()] == ["notes.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ftkit.UsageError, match="weight 0"):
        export(WEIGHTED, "trl", empty)
    assert empty.is_dir()  # the caller's folder, even empty, stays


def test_json_prints_a_usage_refusal_on_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "o"
    argv = ["export", str(WEIGHTED), "--to", "trl", "--out", str(out), "--json"]
    assert cli.main(argv) == 2
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False
    assert "22 assistant turns have weight 0" in data["error"]
    assert "--tokenizer" in data["error"] and "--lossy" in data["error"]
    assert not out.exists()
    missing = ["export", str(tmp_path / "none.jsonl"), "--to", "trl", "--out", str(out), "--json"]
    assert cli.main(missing) == 2
    assert json.loads(capsys.readouterr().out)["ok"] is False


def test_the_cli_refuses_an_out_folder_that_would_replace_the_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "train.jsonl"
    shutil.copy(SARCASM, source)
    (tmp_path / "train.trl.jsonl").symlink_to(source)
    argv = ["export", str(source), "--to", "trl", "--out", str(tmp_path)]
    assert cli.main(argv) == 2
    assert "would replace the source" in capsys.readouterr().err
    assert cli.main([*argv, "--json"]) == 2
    assert "would replace the source" in json.loads(capsys.readouterr().out)["error"]
    assert source.read_bytes() == SARCASM.read_bytes()

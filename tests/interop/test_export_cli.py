"""``ftkit export``: the report printed, ``--json``, and the exit codes 0, 1 and 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftkit import cli

REPO = Path(__file__).resolve().parents[2]
WEIGHTED = REPO / "examples" / "data" / "weighted_multiturn_sft.jsonl"


@pytest.fixture(autouse=True)
def _registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command as the lead will register it (its name in COMMANDS)."""
    if "export" not in cli.COMMANDS:
        monkeypatch.setattr(cli, "COMMANDS", (*cli.COMMANDS, "export"))


def test_axolotl_prints_the_report_and_the_config_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["export", str(WEIGHTED), "--to", "axolotl", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "20 records, nothing lost" in out
    assert "message weights: 44 kept" in out
    assert "weighted_multiturn_sft.axolotl.yaml" in out
    assert (tmp_path / "weighted_multiturn_sft.axolotl.jsonl").is_file()


def test_json_prints_the_result(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["export", str(WEIGHTED), "--to", "trl", "--out", str(tmp_path), "--lossy", "--json"]
    assert cli.main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["tokenized"] is False
    assert data["report"]["lossless"] is False
    weights = next(e for e in data["report"]["entries"] if e["feature"] == "message weights")
    assert weights["dropped"] == 22


def test_weights_without_a_tokenizer_or_lossy_are_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["export", str(WEIGHTED), "--to", "trl", "--out", str(tmp_path / "o")])
    assert code == 2
    assert "--tokenizer" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_invalid_records_exit_1_with_their_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "bad.jsonl"
    source.write_text(WEIGHTED.read_text("utf-8").splitlines()[0] + "\n[1]\n{oops\n", "utf-8")
    out = tmp_path / "out"
    assert cli.main(["export", str(source), "--to", "axolotl", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "line 2" in err and "line 3" in err
    assert cli.main(["export", str(source), "--to", "axolotl", "--out", str(out), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [e["line"] for e in data["errors"]] == [2, 3]
    assert not out.exists()


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    argv = ["export", str(tmp_path / "none.jsonl"), "--to", "trl", "--out", str(tmp_path)]
    assert cli.main(argv) == 2


def test_json_is_printed_when_the_output_cannot_be_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ftkit.cli import main

    blocker = tmp_path / "a-file"
    blocker.write_text("x", "utf-8")
    source = Path(__file__).resolve().parents[2] / "examples" / "data" / "sarcasm_sft.jsonl"
    code = main(["export", str(source), "--to", "trl", "--out", str(blocker / "sub"), "--json"])
    shown = json.loads(capsys.readouterr().out)
    assert code == 2 and shown["ok"] is False

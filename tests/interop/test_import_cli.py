"""``ftkit import``: what it prints, what it writes, and its exit codes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from ftkit import Dataset, cli
from ftkit._commands import import_data

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "interop"


def _main(argv: list[str]) -> int:
    """Run ``ftkit import`` through the CLI's dispatch, with only this command registered."""
    parser = argparse.ArgumentParser(prog="ftkit")
    import_data.register(cli._Subparsers(parser.add_subparsers(dest="command")))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return cli._dispatch(args, False)


def test_clean_file_exits_0_and_writes_the_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "prefs.jsonl"
    assert _main(["import", str(DATA / "sharegpt_prefs.jsonl"), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("format: sharegpt (ShareGPT: conversations of from/value turns")
    assert "from: 6 mapped" in text
    assert f"wrote 2 dpo records to {out}" in text
    assert Dataset.load(out).kind == "dpo" and len(Dataset.load(out)) == 2


def test_bad_lines_exit_1_are_listed_and_the_good_ones_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "train.jsonl"
    assert _main(["import", str(DATA / "alpaca.jsonl"), "--out", str(out)]) == 1
    text = capsys.readouterr().out
    assert "2 line(s) not imported:" in text
    assert "line 5, output: output is missing" in text
    assert "line 6, output: output is not a string" in text
    assert "unknown field 'category': 2 dropped (not mapped to anything; on lines 3, 4)" in text
    assert len(Dataset.load(out)) == 4


def test_strict_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "train.jsonl"
    assert _main(["import", str(DATA / "alpaca.jsonl"), "--out", str(out), "--strict"]) == 1
    assert "line 5" in capsys.readouterr().err
    assert not out.exists()


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "p.jsonl"
    argv = ["import", str(DATA / "trl_implicit.jsonl"), "--out", str(out), "--json"]
    assert _main(argv) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["format"] == "trl" and data["kind"] == "dpo" and data["records"] == 2
    assert data["written"] == str(out)
    assert data["errors"] == [
        {
            "line": 3,
            "path": "prompt",
            "code": "missing_field",
            "message": "no prompt: the line has no prompt field and chosen and rejected share "
            "no beginning",
        }
    ]
    assert data["report"]["lossless"] is True


def test_from_overrides_detection(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o.jsonl"
    argv = ["import", str(DATA / "mixed_formats.jsonl"), "--out", str(out), "--from", "sharegpt"]
    assert _main(argv) == 1
    assert "format: sharegpt (given, not detected)" in capsys.readouterr().out
    assert len(Dataset.load(out)) == 1


def test_nothing_importable_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "bad.jsonl"
    source.write_text('{"instruction": "x"}\n', encoding="utf-8")
    out = tmp_path / "o.jsonl"
    assert _main(["import", str(source), "--out", str(out), "--from", "alpaca"]) == 1
    assert "nothing written" in capsys.readouterr().out
    assert not out.exists()


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (
            ["import", str(DATA / "mixed_formats.jsonl"), "--out", "o.jsonl"],
            "cannot tell the format",
        ),
        (["import", str(DATA / "unknown_format.jsonl"), "--out", "o.jsonl"], "matches none of"),
        (["import", "absent.jsonl", "--out", "o.jsonl"], "absent.jsonl"),
        (["import", "-", "--out", "o.jsonl"], "standard input"),
        (
            ["import", str(DATA / "alpaca.jsonl"), "--out", "o.jsonl", "--from", "dolly"],
            "invalid choice",
        ),
        (["import", str(DATA / "alpaca.jsonl")], "--out"),
    ],
)
def test_usage_errors_exit_2(
    argv: list[str],
    said: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert _main(argv) == 2
    assert said in capsys.readouterr().err
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.parametrize(
    ("argv", "code", "error_type", "said"),
    [
        (
            ["import", str(DATA / "unknown_format.jsonl"), "--out", "o.jsonl"],
            2,
            "UsageError",
            "matches none of",
        ),
        (["import", "absent.jsonl", "--out", "o.jsonl"], 2, "UsageError", "absent.jsonl"),
        (
            ["import", str(DATA / "alpaca.jsonl"), "--out", "o.jsonl", "--strict"],
            1,
            "RecordError",
            "line 5",
        ),
        (["import", str(DATA / "alpaca.jsonl"), "--out", "."], 2, "UsageError", "is a folder"),
    ],
)
def test_json_is_printed_on_every_refusal(
    argv: list[str],
    code: int,
    error_type: str,
    said: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert _main([*argv, "--json"]) == code
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False
    assert data["error"]["type"] == error_type and said in data["error"]["message"]
    if error_type == "RecordError":
        assert (data["error"]["line"], data["error"]["code"]) == (5, "missing_field")
    assert not (tmp_path / "o.jsonl").exists()


def test_out_equal_to_the_input_is_refused_and_the_source_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "chat.jsonl"
    original = (DATA / "sharegpt_chat.jsonl").read_bytes()
    source.write_bytes(original)
    monkeypatch.chdir(tmp_path)
    # Another spelling of the same file is the same file.
    assert _main(["import", "chat.jsonl", "--out", str(tmp_path / "." / "chat.jsonl")]) == 2
    assert "is the file being imported" in capsys.readouterr().err
    assert source.read_bytes() == original


def test_out_folder_is_named_as_given_not_as_a_temporary_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    assert _main(["import", str(DATA / "alpaca.jsonl"), "--out", str(folder)]) == 2
    err = capsys.readouterr().err
    assert f"the output {folder} is a folder" in err and ".tmp" not in err
    assert list(folder.iterdir()) == []


def test_result_write_refuses_its_own_source(tmp_path: Path) -> None:
    from ftkit import UsageError
    from ftkit.interop import import_dataset

    source = tmp_path / "chat.jsonl"
    source.write_bytes((DATA / "sharegpt_chat.jsonl").read_bytes())
    result = import_dataset(source)
    with pytest.raises(UsageError, match="replace the source"):
        result.write(source)

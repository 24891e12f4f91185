"""``ftkit validate``: exit codes, text and JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from validate_support import assistant, sft, user, write_jsonl

from ftkit.cli import main


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return write_jsonl(
        tmp_path / "good.jsonl", [sft(user(f"{i}?"), assistant(f"{i}")) for i in range(60)]
    )


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "bad.jsonl", [sft(user("x")), "{oops"])


def test_clean_file_exits_0(good: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(good)]) == 0
    assert "OK - SFT, 60 examples" in capsys.readouterr().out


def test_errors_exit_1(good: Path, bad: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(good), str(bad)]) == 1
    out = capsys.readouterr().out
    assert "good.jsonl: OK" in out and "bad.jsonl: INVALID" in out
    assert "line 2: error [invalid_json]" in out


def test_missing_file_and_bad_flags_exit_2(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(good), str(tmp_path / "nope.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["validate", str(good), str(good), "--validation", str(good)]) == 2
    with pytest.raises(SystemExit) as exited:
        main(["validate", str(good), "--max-per-code", "-1"])
    assert exited.value.code == 2
    with pytest.raises(SystemExit) as exited:
        main(["validate", str(good), "--method", "rft"])
    assert exited.value.code == 2


def test_json_output(good: Path, bad: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(bad), str(good), "--json", "--max-per-code", "1"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False
    assert [r["ok"] for r in data["reports"]] == [False, True]
    assert data["reports"][0]["counts"]["invalid_json"] == 1


def test_model_method_and_validation_flags(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    val = write_jsonl(tmp_path / "val.jsonl", [sft(user("1?"), assistant("1"))])
    code = main(
        [
            "validate",
            str(good),
            "--model",
            "gpt-4o-mini-2024-07-18",
            "--method",
            "sft",
            "--validation",
            str(val),
            "--json",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)["reports"][0]
    assert report["model"] == "gpt-4o-mini-2024-07-18" and report["tokens"]["examples"] == 60
    assert report["cost"]["cost_usd"] > 0
    assert report["validation"]["counts"] == {"train_validation_overlap": 1}
    assert main(["validate", str(good), "--method", "dpo"]) == 1

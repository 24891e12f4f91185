"""The pipeline commands through the real entry point, with the in-process fake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import EXAMPLES, MODEL, fake_run_argv

from ftkit.cli import main


def test_run_fake_status_runs_resume(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = str(tmp_path / "state")
    code = main(fake_run_argv(Path(state), "--json", "--beta", "0.1", "--suffix", "marv"))
    out = capsys.readouterr()
    assert code == 0, out.err
    result = json.loads(out.out)
    assert [s["status"] for s in result["stages"]] == ["succeeded", "succeeded"]
    assert result["fine_tuned_model"].startswith(f"ft:{MODEL}:")
    assert "plan for" in out.err and "step 90/90" in out.err

    run_id = result["run_id"]
    assert main(["status", run_id, "--state-dir", state, "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["status"] == "succeeded"

    assert main(["runs", "--state-dir", state]) == 0
    assert run_id in capsys.readouterr().out

    # A finished run resumes to its result without any client or network.
    assert main(["resume", run_id, "--state-dir", state, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["run_id"] == run_id


def test_plan_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--model", MODEL, "--sft", str(EXAMPLES / "sarcasm_sft.jsonl")]) == 0
    assert "total: $" in capsys.readouterr().out
    bad = tmp_path / "qa.jsonl"
    bad.write_text('{"question": "q", "answer": "a"}\n' * 12)
    assert main(["plan", "--model", MODEL, "--sft", str(bad)]) == 1
    assert main(["plan", "--model", MODEL, "--sft", str(tmp_path / "missing.jsonl")]) == 2
    assert "--sft: no such file" in capsys.readouterr().err
    assert main(["plan", "--model", MODEL]) == 2


def test_run_refuses_bad_data_with_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "qa.jsonl"
    bad.write_text('{"question": "q", "answer": "a"}\n' * 12)
    assert (
        main(["run", "--fake", "--model", MODEL, "--sft", str(bad), "--state-dir", str(tmp_path)])
        == 1
    )
    err = capsys.readouterr().err
    assert "lines 1-12: error [unknown_format]" in err  # every line, shown once
    assert not (tmp_path / "runs").exists()


def test_unknown_run_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "ftr-nope", "--state-dir", str(tmp_path)]) == 2
    assert "no run 'ftr-nope'" in capsys.readouterr().err

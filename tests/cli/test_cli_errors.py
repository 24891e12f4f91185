"""Errors are one sentence and a hint, with the documented exit codes; --debug adds tracebacks."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

import ftkit
from ftkit import cli
from ftkit.cli import main


def _subcommands() -> list[str]:
    parser = cli.build_parser()
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return sorted(action.choices)


def test_every_documented_command_is_registered() -> None:
    expected = {"validate", "estimate", "plan", "run", "status", "resume", "cancel", "runs"}
    expected |= {"events", "metrics", "fake-server"}
    assert expected <= set(_subcommands())


@pytest.mark.parametrize("command", _subcommands())
def test_help_has_examples_and_json(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out
    assert "--debug" in out
    if command not in ("eval",):  # another team's command documents its own output
        assert "--json" in out


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "usage: ftkit" in err and "exit codes" in err


def test_usage_error_is_one_sentence_and_a_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "ftr-nope", "--state-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("ftkit: error: no run 'ftr-nope'")
    assert lines[1].startswith("  hint: ")
    assert "Traceback" not in err


def test_debug_before_or_after_the_command_shows_the_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (
        ["--debug", "status", "ftr-nope", "--state-dir", str(tmp_path)],
        ["status", "ftr-nope", "--state-dir", str(tmp_path), "--debug"],
    ):
        assert main(argv) == 2  # the exit code of the same error without --debug
        err = capsys.readouterr().err
        assert "Traceback (most recent call last)" in err
        assert "UsageError: no run 'ftr-nope'" in err
        assert "ftkit: error: no run 'ftr-nope'" in err


def _patched(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    """Make ``ftkit runs`` raise ``exc`` (the command's code is not under test here)."""
    from ftkit._commands import runs

    def boom(args: argparse.Namespace) -> int:
        raise exc

    monkeypatch.setattr(runs, "_runs", boom)


@pytest.mark.parametrize(
    ("exc", "code", "said", "hint"),
    [
        (
            ftkit.JobFailed(job_id="ftjob-1", status="failed", code="invalid_file", run_id="ftr-1"),
            1,
            "JobFailed: job ftjob-1 failed: invalid_file",
            "ftkit events ftr-1",
        ),
        (
            ftkit.WaitTimeout(
                "gave up after 6h", job_id="ftjob-1", last_status="running", run_id="ftr-1"
            ),
            1,
            "WaitTimeout: gave up after 6h",
            "ftkit resume ftr-1",
        ),
        (ftkit.DatasetInvalid("train.jsonl: 2 error(s)"), 1, "DatasetInvalid", "ftkit validate"),
        (ftkit.APIError("server said no", status_code=500), 1, "APIError", "API key"),
        (PermissionError(13, "Permission denied", "train.jsonl"), 2, "train.jsonl:", "permissions"),
        (RuntimeError("bug"), 1, "unexpected RuntimeError: bug", "--debug"),
    ],
)
def test_errors_map_to_exit_codes_with_hints(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    exc: BaseException,
    code: int,
    said: str,
    hint: str,
) -> None:
    _patched(monkeypatch, exc)
    assert main(["runs"]) == code
    err = capsys.readouterr().err
    assert said in err and hint in err
    assert "Traceback" not in err
    # --debug adds the traceback and keeps the exit code (it used to re-raise: exit 1).
    assert main(["runs", "--debug"]) == code
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and said in err


def test_ctrl_c_exits_130(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    _patched(monkeypatch, KeyboardInterrupt())
    assert main(["runs"]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert main(["runs", "--debug"]) == 130


def test_argparse_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as exited:
        main(["events"])  # RUN missing
    assert exited.value.code == 2
    with pytest.raises(SystemExit) as exited:
        main(["events", "x", "--limit", "-3"])
    assert exited.value.code == 2


def test_entry_point_runs_as_a_program(tmp_path: Path) -> None:
    """The installed entry point (``python -m ftkit``) and its exit codes, in a real process."""
    ok = subprocess.run(
        [sys.executable, "-m", "ftkit", "--version"], capture_output=True, text=True, timeout=120
    )
    assert ok.returncode == 0 and ok.stdout.startswith("ftkit ")
    missing = subprocess.run(
        [sys.executable, "-m", "ftkit", "validate", str(tmp_path / "nope.jsonl")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 2
    assert "no such file" in missing.stderr and "hint:" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_library_warnings_reach_the_terminal_only_through_the_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import logging

    import ftkit._commands.runs as runs

    def warn_then_succeed(args: object) -> int:
        logging.getLogger("ftkit.pipeline").warning("stopped waiting; resume later")
        logging.getLogger("ftkit.pipeline").info("not shown without --debug")
        return 0

    monkeypatch.setattr(runs, "_runs", warn_then_succeed)
    assert main(["runs"]) == 0
    err = capsys.readouterr().err
    assert "ftkit: WARNING: stopped waiting; resume later" in err
    assert "not shown" not in err
    # Outside the CLI the library prints nothing: its NullHandler keeps Python's
    # last-resort handler away (checked in a fresh interpreter, without pytest's handlers).
    code = "import logging, ftkit; logging.getLogger('ftkit.pipeline').warning('library only')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr == ""

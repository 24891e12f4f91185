"""Every command spells methods, prices, flags, data files and exit codes the same way."""

from __future__ import annotations

import io
import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_support import EXAMPLES, MODEL

from ftkit._commands import estimate as estimate_command
from ftkit._commands._args import flag_text
from ftkit.cli import main

SFT = EXAMPLES / "sarcasm_sft.jsonl"
DPO = EXAMPLES / "sarcasm_dpo.jsonl"
DOCS = Path(__file__).resolve().parents[2] / "docs"


def _json(capsys: pytest.CaptureFixture[str]) -> Any:
    return json.loads(capsys.readouterr().out)


def _usage_exit(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run a command that argparse must refuse; its stderr."""
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    return capsys.readouterr().err


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


# -- methods ---------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["validate", "estimate"])
def test_every_method_flag_takes_sft_dpo_and_the_supervised_alias(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    base = [command, str(SFT), "--model", MODEL, "--json"]
    results = []
    for spelling in ("sft", "supervised"):
        assert main([*base, "--method", spelling]) == 0, spelling
        results.append(_json(capsys))
    assert results[0] == results[1]
    assert main([command, str(DPO), "--model", MODEL, "--method", "dpo"]) == 0
    capsys.readouterr()
    err = _usage_exit([*base, "--method", "rft"], capsys)
    assert "argument --method: expected sft|dpo" in err and "'rft'" in err


@pytest.mark.parametrize("command", ["validate", "estimate"])
def test_help_shows_the_one_spelling(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    assert "--method sft|dpo" in out
    assert "{supervised,dpo}" not in out and "{sft,dpo}" not in out


def test_stage_flags_take_the_supervised_alias(
    finished_run: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run_id, state = finished_run
    for command in ("metrics", "events"):
        outputs = []
        for spelling in ("sft", "supervised"):
            argv = [command, run_id, "--state-dir", str(state), "--stage", spelling, "--json"]
            assert main(argv) == 0, (command, spelling)
            outputs.append(_json(capsys))
        assert outputs[0] == outputs[1]


# -- prices ----------------------------------------------------------------------------------


def test_prices_inline_json_or_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inline = '{"gpt-4.1-mini-2025-04-14": 10}'
    assert main(["estimate", str(SFT), "--model", MODEL, "--prices", inline, "--json"]) == 0
    by_inline = _json(capsys)
    assert by_inline["price_per_1m"] == 10.0
    file = tmp_path / "prices.json"
    file.write_text(inline)
    assert main(["estimate", str(SFT), "--model", MODEL, "--prices", str(file), "--json"]) == 0
    assert _json(capsys) == by_inline


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("missing.json", "--prices: no such file: missing.json"),
        (".", "--prices: . is a directory, not a JSON file"),
        ("bad.json", "--prices: bad.json is not valid JSON"),
        ("list.json", "--prices: list.json must hold a JSON object, got an array"),
        ('{"m": 1', "--prices: the inline JSON is not valid JSON"),
        ('{"m": -1}', "--prices: price of 'm' must be a non-negative number"),
    ],
)
def test_bad_prices_are_usage_errors_naming_the_flag(
    value: str,
    said: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.json").write_text("{nope")
    (tmp_path / "list.json").write_text("[1, 2]")
    assert main(["estimate", str(SFT), "--model", MODEL, "--prices", value]) == 2
    err = capsys.readouterr().err
    assert f"ftkit: error: {said}" in err
    assert "hint:" in err and "Traceback" not in err


def test_the_help_example_with_an_unknown_model_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ftkit estimate --help` and docs/cost.md show `--model my-model --prices prices.json`."""
    (example,) = [
        line.strip()
        for line in estimate_command._EPILOG.splitlines()
        if "--model my-model --prices prices.json" in line
    ]
    assert example in (DOCS / "cost.md").read_text()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.jsonl").write_bytes(SFT.read_bytes())
    (tmp_path / "prices.json").write_text('{"my-model": 4.0}')
    argv = shlex.split(example)
    assert argv[0] == "ftkit"
    assert main(argv[1:]) == 0
    assert "--json" in argv
    captured = capsys.readouterr()
    out, err = json.loads(captured.out), captured.err
    assert out["model"] == "my-model" and out["price_per_1m"] == 4.0
    assert "ftkit does not know 'my-model'" in err
    # What was assumed is said, and shows in the estimate.
    assert out["base_model"] == MODEL and out["limit"] == 65_536
    assert out["cost_usd"] == pytest.approx(out["billed_tokens"] * 4.0 / 1e6)


def test_an_unknown_model_is_counted_as_its_priced_base_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text(
        json.dumps({"my-model": {"per_1m_tokens": 2.0, "base_model": "gpt-3.5-turbo-0125"}})
    )
    argv = ["estimate", str(SFT), "--model", "my-model", "--prices", str(prices), "--json"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["base_model"] == "gpt-3.5-turbo-0125" and out["limit"] == 16_385
    assert out["price_per_1m"] == 2.0
    assert "WARNING" not in captured.err  # nothing assumed
    # gpt-3.5 counts with cl100k_base: other token counts than the o200k default.
    assert main([*argv[:4], "--prices", '{"my-model": 2.0}', "--json"]) == 0
    assert _json(capsys)["total_tokens"] != out["total_tokens"]


def test_the_assumption_for_an_unknown_model_is_a_warning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["estimate", str(SFT), "--model", "my-model", "--prices", '{"my-model": 1}']) == 0
    err = capsys.readouterr().err
    assert "ftkit: WARNING: ftkit does not know 'my-model'" in err
    assert "o200k_base, 65,536 tokens per example" in err and '"base_model"' in err


def test_an_unknown_unpriced_model_says_how_to_price_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["estimate", str(SFT), "--model", "my-model"]) == 2
    err = capsys.readouterr().err
    assert "unknown model 'my-model'" in err and "--prices" in err
    bad_base = '{"my-model": {"per_1m_tokens": 1, "base_model": "nope-1"}}'
    assert main(["estimate", str(SFT), "--model", "my-model", "--prices", bad_base]) == 2
    assert "base_model of 'my-model' in the prices, 'nope-1'" in capsys.readouterr().err


def test_a_missing_price_is_explained_in_flags(capsys: pytest.CaptureFixture[str]) -> None:
    # gpt-4.5 has a tokenizer (o200k_base) but no price in ftkit's table.
    assert main(["estimate", str(SFT), "--model", "gpt-4.5-preview"]) == 0
    out = capsys.readouterr().out
    assert 'pass --prices {"gpt-4.5-preview": <USD per 1M tokens>}' in out
    assert "prices=" not in out


# -- messages name flags ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("python", "cli"),
    [
        (
            "the estimated cost $3.00 is over max_cost_usd=$1.00; raise the cap, reduce epochs",
            "the estimated cost $3.00 is over --max-cost $1.00; raise the cap, reduce epochs",
        ),
        (
            "max_cost_usd is set but the cost is unknown; pass prices or drop the cap",
            "--max-cost is set but the cost is unknown; drop --max-cost",
        ),
        ("epochs must be 'auto' or a whole number", "--epochs must be 'auto' or a whole number"),
        ("beta must be 'auto' or a number", "--beta must be 'auto' or a number"),
        ("set state_dir / FTKIT_STATE_DIR", "set --state-dir / FTKIT_STATE_DIR"),
        # Words that are not the parameter stay.
        ("unknown model 'x': pass a known model", "unknown model 'x': pass a known model"),
        ("raise the cap, reduce epochs or the data", "raise the cap, reduce epochs or the data"),
    ],
)
def test_api_parameter_names_become_flags(python: str, cli: str) -> None:
    assert flag_text(python) == cli


def test_run_refusals_name_the_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    common = ["--fake", "--model", MODEL, "--sft", str(SFT), "--state-dir", str(tmp_path)]
    assert main(["run", *common, "--max-cost", "0.0001", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "over --max-cost $0.00" in err and "max_cost_usd" not in err
    assert main(["plan", *common, "--epochs", "0"]) == 2
    assert "ftkit: error: --epochs must be" in capsys.readouterr().err
    assert main(["plan", *common, "--dpo", str(DPO), "--beta", "9"]) == 2
    assert "ftkit: error: --beta must be" in capsys.readouterr().err
    assert main(["status", "ftr-nope", "--state-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--state-dir / FTKIT_STATE_DIR" in err and "state_dir" not in err.replace("-dir", "")


# -- --debug keeps the exit code ---------------------------------------------------------------


def test_debug_keeps_every_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    for argv, code in (
        (["validate", str(tmp_path / "nope.jsonl")], 2),
        (["validate", str(empty)], 1),
        (["estimate", str(SFT), "--model", "nope"], 2),
    ):
        assert main(argv) == code, argv
        plain = capsys.readouterr().err
        assert main([*argv, "--debug"]) == code, argv
        debug = capsys.readouterr().err
        assert "Traceback" not in plain
        if code == 2:
            assert "Traceback (most recent call last)" in debug
            assert plain.splitlines()[0] in debug  # the same sentence, after the traceback


# -- data files ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["validate", "estimate"])
def test_a_directory_is_named_as_one(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, str(tmp_path), "--model", MODEL]) == 2
    err = capsys.readouterr().err
    assert f"ftkit: error: {tmp_path} is a directory, not a data file (.jsonl)" in err
    assert "no such file" not in err


def test_validation_and_upload_flags_name_themselves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(SFT), "--validation", str(tmp_path)]) == 2
    assert f"--validation: {tmp_path} is a directory" in capsys.readouterr().err
    assert main(["plan", "--model", MODEL, "--sft", str(tmp_path)]) == 2
    assert f"--sft: {tmp_path} is a directory" in capsys.readouterr().err
    assert main(["plan", "--model", MODEL, "--sft", str(SFT), "--dpo", "-"]) == 2
    assert "--dpo: standard input (-) cannot be uploaded" in capsys.readouterr().err
    if Path("/dev/null").exists():
        assert main(["plan", "--model", MODEL, "--sft", "/dev/null"]) == 2
        assert "--sft: /dev/null is not a regular file" in capsys.readouterr().err


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="no /dev/null")
def test_dev_null_is_an_empty_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "/dev/null", "--json"]) == 1
    (report,) = _json(capsys)["reports"]
    assert report["source"] == "/dev/null"
    assert [(i["code"], i["message"]) for i in report["issues"]] == [
        ("empty_file", "the file has no examples")
    ]
    assert main(["estimate", "/dev/null", "--model", MODEL]) == 1
    assert "nothing to estimate in /dev/null: it holds no record" in capsys.readouterr().err


def test_dash_reads_stdin_like_the_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(SFT), "--model", MODEL, "--json"]) == 0
    (from_file,) = _json(capsys)["reports"]
    # A byte-order mark and CRLF endings are read as from a file.
    _stdin(monkeypatch, b"\xef\xbb\xbf" + SFT.read_bytes().replace(b"\n", b"\r\n"))
    assert main(["validate", "-", "--model", MODEL, "--json"]) == 0
    (from_stdin,) = _json(capsys)["reports"]
    assert from_stdin["source"] == "<stdin>"
    for key in ("examples", "lines", "counts", "tokens", "cost", "stats"):
        assert from_stdin[key] == from_file[key], key
    _stdin(monkeypatch, b'{"messages": []}\nnot json\n')
    assert main(["validate", "-"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("<stdin>: INVALID") and "line 2: error [invalid_json]" in out

    _stdin(monkeypatch, SFT.read_bytes())
    assert main(["estimate", "-", "--model", MODEL, "--json"]) == 0
    assert _json(capsys)["examples"] == from_file["examples"]


def test_stdin_is_read_once(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    _stdin(monkeypatch, SFT.read_bytes())
    assert main(["validate", "-", "--validation", "-"]) == 2
    assert "standard input (-) can be read once" in capsys.readouterr().err


def test_stdin_through_the_real_entry_point() -> None:
    data = SFT.read_bytes()
    validated = subprocess.run(
        [sys.executable, "-m", "ftkit", "validate", "-", "--json"],
        input=data,
        capture_output=True,
        timeout=120,
    )
    assert validated.returncode == 0, validated.stderr
    (report,) = json.loads(validated.stdout)["reports"]
    assert report["source"] == "<stdin>" and report["examples"] == 30
    estimated = subprocess.run(
        [sys.executable, "-m", "ftkit", "estimate", "-", "--model", MODEL],
        input=b"not a record\n",
        capture_output=True,
        timeout=120,
    )
    assert estimated.returncode == 1
    assert b"nothing to estimate in <stdin>" in estimated.stderr


# -- estimate: nothing countable exits 1 -----------------------------------------------------


def test_estimate_without_a_valid_record_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    assert main(["estimate", str(empty), "--model", MODEL]) == 1
    err = capsys.readouterr().err
    assert f"ftkit: error: nothing to estimate in {empty}: it holds no record" in err
    junk = tmp_path / "junk.jsonl"
    junk.write_text("nope\n{}\n")
    assert main(["estimate", str(junk), "--model", MODEL, "--json"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["examples"] == 0  # the shape is still printed
    assert "2 lines are not valid records and were not counted" in captured.err

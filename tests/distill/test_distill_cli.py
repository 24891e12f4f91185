"""``ftkit distill stored | generate`` on the fake: the report, --json, the cap, a rerun."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from distill_support import BASE, JSON_FILE, TOOLS_FILE, rows

from ftkit.cli import main
from ftkit.dataset import Dataset


@pytest.fixture
def prompts(tmp_path: Path) -> Path:
    return Path(shutil.copyfile(JSON_FILE, tmp_path / "test.jsonl"))


def _generate(prompts: Path, out: Path, *extra: str) -> int:
    argv = ["distill", "generate", str(prompts), "--model", BASE, "--out", str(out), "--fake"]
    return main([*argv, *extra])


def test_generate_prints_kept_dropped_tokens_and_cost(
    prompts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "distilled.jsonl"
    assert _generate(prompts, out, "--max-tokens", "30") == 0
    printed = capsys.readouterr()
    assert f"into {out}" in printed.out and "dropped: length" in printed.out
    assert "tokens:" in printed.out and "$" in printed.out
    assert "answered 20/20" in printed.err  # progress lines on stderr
    kept = len(rows(out))
    assert 0 < kept < len(rows(JSON_FILE))
    assert len(Dataset.load(out)) == kept


def test_generate_json_and_quiet(
    prompts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "distilled.jsonl"
    assert _generate(prompts, out, "--json", "--quiet", "--filter", "json", "--n", "2") == 0
    printed = capsys.readouterr()
    data = json.loads(printed.out)
    assert data["samples"] == 2 and data["prompts"] == 20
    assert data["dropped"] == {"json": 40} and data["kept"] == 0  # the base model's prose
    assert data["estimate"]["calls"] == 40 and printed.err == ""


def test_a_cap_under_the_estimate_exits_2_having_asked_nothing(
    prompts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "distilled.jsonl"
    assert _generate(prompts, out, "--max-cost-usd", "0.00001") == 2
    err = capsys.readouterr().err
    assert "nothing was asked" in err and "--max-cost $0.0000" in err
    assert not out.exists()


def test_other_settings_on_the_same_out_are_refused(
    prompts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "distilled.jsonl"
    assert _generate(prompts, out, "--quiet") == 0
    assert _generate(prompts, out, "--quiet", "--temperature", "0.5") == 2
    assert "other settings: temperature None (now 0.5)" in capsys.readouterr().err


def test_stored_reads_the_fake_traffic_back(
    prompts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "stored.jsonl"
    argv = ["distill", "stored", "--model", BASE, "--metadata", "task=x", "--out", str(out)]
    assert main([*argv, "--fake", "--fake-traffic", str(prompts), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data == {"out": str(out), "records": 20}
    written = rows(out)
    source = rows(JSON_FILE)
    assert [r["messages"][:-1] for r in written] == [
        [{k: v for k, v in m.items() if k != "weight"} for m in r["messages"][:-1]] for r in source
    ]


def test_stored_takes_tools_and_a_time_window(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps(rows(TOOLS_FILE)[0]["tools"]), encoding="utf-8")
    traffic = Path(shutil.copyfile(TOOLS_FILE, tmp_path / "traffic.jsonl"))
    out = tmp_path / "stored.jsonl"
    argv = ["distill", "stored", "--out", str(out), "--tools", str(tools), "--since", "2026-11-01"]
    assert main([*argv, "--fake", "--fake-traffic", str(traffic), "--limit", "3"]) == 0
    assert "wrote 3 records" in capsys.readouterr().out
    assert all(r["tools"] == rows(TOOLS_FILE)[0]["tools"] for r in rows(out))
    assert (
        main([*argv[:-2], "--until", "2026-11-01", "--fake", "--fake-traffic", str(traffic)]) == 0
    )
    assert "wrote 0 records" in capsys.readouterr().out  # the fake's traffic is on 2026-11-02


def test_distill_without_a_mode_shows_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["distill"]) == 2
    assert "generate" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["distill", "generate", "--help"])
    assert "--max-cost-usd" in capsys.readouterr().out

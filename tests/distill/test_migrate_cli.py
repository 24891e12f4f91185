"""``ftkit distill migrate`` on the fakes: the report, --json, Fireworks' --deploy, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from distill_support import BASE, JSON_FILE, rows

from ftkit.cli import main

pytest.importorskip("together")

TOGETHER = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"
FIREWORKS = "accounts/fireworks/models/llama-v3p1-8b-instruct"


def _migrate(work: Path, *extra: str, to: str = "together", student: str = TOGETHER) -> int:
    argv = ["distill", "migrate", str(JSON_FILE), "--teacher", BASE, "--to", to]
    argv += ["--student-model", student, "--workdir", str(work), "--holdout", "5", "--quiet"]
    return main([*argv, *extra])


def test_migrate_to_together_prints_how_close_the_student_came(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = tmp_path / "migration"
    assert _migrate(work, "--fake", "--fake-train", str(JSON_FILE)) == 0
    printed = capsys.readouterr()
    assert "  trained ft:" in printed.err and "on the fake" in printed.err
    assert "migrated ft:" in printed.out and "(together, from " in printed.out
    assert "student: " in printed.out and "5 held-out prompts" in printed.out
    assert len(rows(work / "train.jsonl")) == 15 and len(rows(work / "holdout.jsonl")) == 5
    report = json.loads((work / "migration.json").read_text("utf-8"))
    assert report["provider"] == "together" and report["teacher"].startswith("ft:")
    assert report["closeness"]["mean"] > report["base_closeness"]["mean"]


def test_migrate_json_to_fireworks_with_deploy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = tmp_path / "fw"
    code = _migrate(
        work, "--fake", "--fake-train", str(JSON_FILE), "--deploy", "--json",
        to="fireworks", student=FIREWORKS,
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr()
    report = json.loads(printed.out)
    assert report["provider"] == "fireworks" and report["holdout_records"] == 5
    assert "deployed " in printed.err and "scales to zero" in printed.err
    assert report == json.loads((work / "migration.json").read_text("utf-8"))


@pytest.mark.parametrize(
    ("extra", "to", "message"),
    [
        ((), "fireworks", "--to fireworks needs --deploy"),
        (("--deploy",), "together", "--deploy is for --to fireworks only"),
        (("--fake-train", str(JSON_FILE)), "together", "--fake-train needs --fake"),
        (("--holdout", "half"), "together", "expected a fraction"),
        (("--scorer", "pairwise"), "together", "invalid choice"),
        (("--filter", "json", "--no-filter"), "together", "not allowed with argument"),
    ],
)
def test_migrate_refusals_exit_2_before_anything_is_written(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: tuple[str, ...],
    to: str,
    message: str,
) -> None:
    student = FIREWORKS if to == "fireworks" else TOGETHER
    fake = () if "--fake-train" in extra else ("--fake",)
    try:
        code = _migrate(tmp_path / "w", *fake, *extra, to=to, student=student)
    except SystemExit as exit:  # argparse refuses a bad flag value itself
        code = exit.code  # type: ignore[assignment]
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "w").exists()

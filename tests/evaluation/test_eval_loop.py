"""The whole loop offline: split, train with the pipeline, evaluate, and the CLI and example."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest
from chat_support import BASE, EXAMPLES, JSON_FILE, retry_on

import ftkit
from ftkit.cli import main
from ftkit.polling import PollPolicy
from ftkit.testing import FakeFineTuningAPI


def run_pipeline(fake: FakeFineTuningAPI, train: Path, state: Path) -> ftkit.RunResult:
    clock = fake.clock
    return (
        ftkit.FineTune(fake.client(max_retries=0))
        .model(BASE)
        .sft(train)
        .retry(retry_on(fake))
        .poll(PollPolicy(initial_delay=30.0, sleep=clock.sleep, clock=clock.now))
        .state_dir(state)
        .run()
    )


def test_split_train_evaluate(fake: FakeFineTuningAPI, tmp_path: Path) -> None:
    train, test = ftkit.Dataset.load(JSON_FILE).split(test_size=0.25, seed=7)
    result = run_pipeline(fake, train.write(tmp_path / "train.jsonl"), tmp_path / "state")

    held_out = result.evaluate(
        test, client=fake.client(), scorer="json", retry=retry_on(fake), out=tmp_path / "eval"
    )
    assert list(held_out.models) == ["base", "fine-tuned"]
    assert held_out.models["fine-tuned"] == result.fine_tuned_model
    assert held_out.scores["fine-tuned"].mean == 1.0  # the format is learned ...
    assert held_out.scores["base"].mean == 0.0
    fields = result.evaluate(
        test, client=fake.client(), scorer="json-fields", out=tmp_path / "eval"
    )
    assert fields.asked == 0  # ... re-scored from the logged replies
    tuned = fields.scores["fine-tuned"].mean
    assert tuned is not None and 0.0 <= tuned < 1.0  # ... the unseen names are not
    assert fields.pair("fine-tuned", "base").losses == 0

    seen = result.evaluate(train, client=fake.client(), scorer="json-fields")
    assert seen.scores["fine-tuned"].mean == 1.0  # error_rate 0: training data recalled


def test_a_two_stage_run_compares_every_stage(fake: FakeFineTuningAPI, tmp_path: Path) -> None:
    clock = fake.clock
    result = (
        ftkit.FineTune(fake.client(max_retries=0))
        .model(BASE)
        .sft(EXAMPLES / "sarcasm_sft.jsonl")
        .dpo(EXAMPLES / "sarcasm_dpo.jsonl")
        .retry(retry_on(fake))
        .poll(PollPolicy(initial_delay=30.0, sleep=clock.sleep, clock=clock.now))
        .state_dir(tmp_path)
        .run()
    )
    report = result.evaluate(EXAMPLES / "sarcasm_dpo.jsonl", client=fake.client(), max_examples=5)
    assert list(report.models) == ["base", "sft", "dpo"]
    assert report.scores["dpo"].mean == 1.0
    assert report.pair("dpo", "base").wins == 5


def test_a_run_without_a_model_cannot_be_evaluated() -> None:
    empty = ftkit.RunResult(run_id="r", fine_tuned_model=None, stages=[])
    with pytest.raises(ftkit.UsageError, match="no fine-tuned model"):
        empty.evaluate(JSON_FILE)


def test_cli_eval_with_fake_training(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "eval",
            str(JSON_FILE),
            "--fake-train",
            str(JSON_FILE),
            "--model",
            BASE,
            "--scorer",
            "json-fields",
            "--max-examples",
            "6",
            "--out",
            str(tmp_path / "out"),
            "--json",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data = json.loads(captured.out)
    assert list(data["models"]) == ["base", "fine-tuned"]
    assert data["models"]["fine-tuned"].startswith(f"ft:{BASE}:")
    assert data["pairwise"][0]["wins"] == 6
    assert "evaluated 12/12" in captured.err
    assert (tmp_path / "out" / "report.json").exists()


def test_cli_eval_labels_plain_text_and_plot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    png = tmp_path / "scores.png"
    code = main(
        [
            "eval",
            str(EXAMPLES / "sarcasm_sft_validation.jsonl"),
            "--fake",
            "--model",
            f"mini={BASE}",
            "--model",
            "4o-mini=gpt-4o-mini-2024-07-18",
            "--quiet",
            "--plot",
            str(png),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "mini (gpt-4.1-mini-2025-04-14)" in out
    assert "4o-mini vs mini: 0 wins, 10 ties, 0 losses" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_eval_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(JSON_FILE), "--fake"]) == 2
    assert "--model" in capsys.readouterr().err
    assert main(["eval", str(JSON_FILE), "--fake", "--model", "gpt-unknown-model"]) == 1
    assert "404" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["eval", str(JSON_FILE), "--model", BASE, "--scorer", "fuzzy"])


def test_the_example_script_runs(capsys: pytest.CaptureFixture[str]) -> None:
    script = Path(__file__).resolve().parents[2] / "examples" / "evaluate_with_fake.py"
    runpy.run_path(str(script), run_name="__main__")
    out = capsys.readouterr().out
    assert "15 training examples, 5 held out for testing" in out
    assert "scorer json-fields" in out
    assert "re-scored without asking again: 0 new requests" in out

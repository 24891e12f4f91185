"""The default scorer fits the references: free text is not scored by exact match."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from chat_support import BASE, EXAMPLES, JSON_FILE, TOOLS_FILE, retry_on, rows, train

from ftkit.cli import main
from ftkit.evaluation import (
    ExactMatch,
    JsonFields,
    TokenF1,
    ToolCallMatch,
    Turn,
    choose_scorer,
    evaluate,
)
from ftkit.evaluation._choosing import fit_scorer, resolve_scorer
from ftkit.evaluation._examples import load_examples
from ftkit.testing import FakeFineTuningAPI

SARCASM_TRAIN = EXAMPLES / "sarcasm_sft.jsonl"
SARCASM_TEST = EXAMPLES / "sarcasm_sft_validation.jsonl"


def text(value: str) -> Turn:
    return Turn(value)


def references(path: Path, target: str = "final") -> list[Turn]:
    examples, _ = load_examples(path, target=target)  # type: ignore[arg-type]
    return [e.reference for e in examples]


def test_token_f1_scores_word_overlap() -> None:
    f1 = TokenF1()
    assert f1(text("Au, from the Latin aurum."), text("au from the latin AURUM")) == 1.0
    assert f1(text("Paris"), text("Rome")) == 0.0
    # 2 shared words: precision 2/3, recall 2/4 -> F1 = 4/7.
    assert f1(text("the red sky"), text("the sky is blue")) == pytest.approx(4 / 7)
    # Repeats count once per occurrence in both.
    assert f1(text("no no no"), text("no")) == pytest.approx(0.5)
    assert f1(text(""), text("")) == 1.0
    assert f1(text("..."), text("something")) == 0.0
    assert TokenF1(ignore_case=False)(text("Paris"), text("paris")) == 0.0
    assert resolve_scorer("token-f1") == TokenF1()


def test_auto_chooses_from_the_references_of_the_example_files() -> None:
    free, why = choose_scorer(references(SARCASM_TEST))
    assert isinstance(free, TokenF1)
    assert why.startswith("the references are free text (median ")
    structured, why = choose_scorer(references(JSON_FILE))
    assert isinstance(structured, JsonFields) and "JSON objects" in why
    calls, _ = choose_scorer(references(TOOLS_FILE, target="tool_call"))
    assert isinstance(calls, ToolCallMatch)
    labels, why = choose_scorer([text("positive"), text("negative"), text("New York City")])
    assert isinstance(labels, ExactMatch) and "short answers" in why
    # One long answer among short ones: free text, scored by overlap.
    mixed, _ = choose_scorer([text("yes"), text("no, and here is a long explanation why")])
    assert isinstance(mixed, TokenF1)


def test_fit_scorer_notes_the_choice_and_warns_about_a_misfit(
    caplog: pytest.LogCaptureFixture,
) -> None:
    refs = references(SARCASM_TEST)
    auto = fit_scorer(resolve_scorer("auto"), refs)
    assert auto.name == "token-f1" and auto.target == "final"
    assert auto.note.startswith("scorer auto chose token-f1: the references are free text")
    with caplog.at_level(logging.WARNING, logger="ftkit.evaluation"):
        exact = fit_scorer(resolve_scorer("exact"), refs)
    assert exact.name == "exact"
    assert exact.note.startswith("warning: scorer exact does not fit this test set")
    assert "scorer='pairwise' or 'rubric' with judge='MODEL'" in exact.note
    assert "'token-f1' (word overlap)" in exact.note
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    json_valid = fit_scorer(resolve_scorer("json"), refs)
    assert "use scorer='token-f1'" in json_valid.note
    # A scorer that fits, or the user's own, is left as it is.
    fields = resolve_scorer("json-fields")
    assert fit_scorer(fields, references(JSON_FILE)) is fields
    assert fit_scorer(resolve_scorer("exact"), [text("yes"), text("no")]) == ExactMatch()


def test_default_scorer_on_free_text_is_not_zero_for_every_model() -> None:
    """The issue: `exact` by default printed 0.000 for a base and a fine-tune alike."""
    fake = FakeFineTuningAPI()
    tuned = train(fake, SARCASM_TRAIN)
    models = {"base": BASE, "fine-tuned": tuned}
    report = evaluate(models, SARCASM_TEST, client=fake.client(), retry=retry_on(fake))
    assert report.scorer == "token-f1"
    assert report.scorer_note is not None and "auto chose token-f1" in report.scorer_note
    means = {label: s.mean for label, s in report.scores.items()}
    assert all(m is not None and m > 0.05 for m in means.values()), means
    # The fine-tune answers like its training data: closer to the references than the base.
    assert report.pair("fine-tuned", "base").wins > report.pair("fine-tuned", "base").losses
    shown = str(report)
    assert "scorer auto chose token-f1" in shown.splitlines()[1]
    assert report.to_dict()["scorer_note"] == report.scorer_note
    assert "<div>scorer auto chose token-f1: the references are free text" in report._repr_html_()
    # A notebook saves the text form beside the table: the summary, not every reply.
    assert repr(report).startswith("EvalReport(scorer='token-f1', examples=10, models={")
    assert len(repr(report)) < 300

    exact = evaluate(models, SARCASM_TEST, client=fake.client(), scorer="exact")
    assert {s.mean for s in exact.scores.values()} == {0.0}
    assert exact.scorer_note is not None and exact.scorer_note.startswith("warning:")
    assert "warning: scorer exact does not fit" in str(exact)


def test_default_scorer_on_json_references_is_json_fields() -> None:
    fake = FakeFineTuningAPI()
    tuned = train(fake, JSON_FILE)
    report = evaluate(
        {"base": BASE, "fine-tuned": tuned}, rows(JSON_FILE)[:8], client=fake.client()
    )
    assert report.scorer == "json-fields"
    assert report.scorer_note == "scorer auto chose json-fields: the references are JSON objects"
    assert report.scores["fine-tuned"].mean is not None
    assert report.scores["fine-tuned"].mean > report.scores["base"].mean  # type: ignore[operator]


def test_cli_eval_says_which_scorer_and_warns_about_exact(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["eval", str(SARCASM_TEST), "--fake", "--model", BASE, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "evaluation: 10 examples, scorer token-f1"
    assert "auto chose token-f1: the references are free text" in out

    argv = ["eval", str(SARCASM_TEST), "--fake", "--model", BASE, "--quiet", "--json"]
    assert main([*argv, "--scorer", "exact"]) == 0
    captured = capsys.readouterr()
    assert "scorer exact does not fit this test set" in captured.err
    assert "--scorer pairwise --judge MODEL" in captured.err
    assert json.loads(captured.out)["scorer_note"].startswith("warning: scorer exact")

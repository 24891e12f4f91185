"""Label balance, JSON answer shapes and inference-prompt parity; honest statistics."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest
from validate_support import assistant, dpo, sft, system, user

import ftkit
from ftkit.cli import main
from ftkit.validation import validate
from ftkit.validation._quality import QualityStats

MODEL = "gpt-4.1-mini-2025-04-14"
PROMPT = "Classify the review as positive or negative."


def _labelled(*labels: tuple[str, int], prompt: str | None = PROMPT) -> list[dict[str, Any]]:
    items = []
    for label, count in labels:
        for i in range(count):
            head = [system(prompt)] if prompt is not None else []
            items.append(sft(*head, user(f"review {label} {i}"), assistant(label)))
    return items


def _json_answers(*answers: Any) -> list[dict[str, Any]]:
    return [
        sft(user(f"headline {i}"), assistant(a if isinstance(a, str) else json.dumps(a)))
        for i, a in enumerate(answers)
    ]


def _codes(report: ftkit.ValidationReport, code: str) -> list[tuple[int | None, str]]:
    return [(i.line, i.message) for i in report.by_code(code)]


# -- label balance -----------------------------------------------------------------------


def test_a_dominant_label_is_one_whole_file_finding_with_the_distribution() -> None:
    report = validate(_labelled(("positive", 90), ("negative", 10)))
    assert _codes(report, "label_imbalance") == [
        (
            None,
            "the final answer is 'positive' in 90 of 100 examples (90%); "
            "the other labels: 'negative' 10 (10%)",
        )
    ]
    assert report.stats["labels"] == {
        "examples": 100,
        "distinct": 2,
        "counts": {"positive": 90, "negative": 10},
        "other": 0,
    }
    assert "labels (final answers, 2 distinct): 'positive' 90 (90%), 'negative' 10 (10%)" in str(
        report
    )
    assert "label (final answer)" in report._repr_html_()


def test_a_rare_label_is_reported_on_its_first_line() -> None:
    items = _labelled(("positive", 120), ("negative", 100))
    items.insert(150, sft(user("typo"), assistant("Postive")))
    report = validate(items)
    assert _codes(report, "label_imbalance") == [
        (
            151,
            "the label 'Postive' is the final answer of only 1 of 221 examples (0.5%); "
            "'positive' has 120",
        )
    ]


def test_balanced_labels_and_free_text_give_no_finding() -> None:
    balanced = validate(_labelled(("positive", 30), ("negative", 25), ("neutral", 20)))
    assert "label_imbalance" not in balanced.counts
    assert balanced.stats["labels"]["distinct"] == 3
    # 30 different short answers: each is one example, not a label
    free = validate([sft(user(f"q{i}"), assistant(f"answer {i}")) for i in range(30)])
    assert "labels" not in free.stats
    # too few examples to call it classification
    few = validate(_labelled(("yes", 18), ("no", 1)))
    assert "labels" not in few.stats and "label_imbalance" not in few.counts


def test_long_answers_do_not_count_as_labels_and_break_the_coverage() -> None:
    items = _labelled(("positive", 90), ("negative", 5))
    items += [sft(user(f"q{i}"), assistant("x" * 65 + str(i))) for i in range(6)]
    report = validate(items)  # 95 of 101 short answers: under 95 %
    assert "labels" not in report.stats
    assert "label_imbalance" not in report.counts


def test_too_many_distinct_short_answers_stop_the_tracking() -> None:
    stats = QualityStats()
    for i in range(65):
        stats.add_final_answer(i + 1, [user(), assistant(f"label {i}")])
    assert stats.labels is None  # bounded: the 65th distinct answer gave up
    stats.add_final_answer(66, [user(), assistant("label 0")])
    assert stats.labels is None and stats.answers == 66


def test_only_the_final_trained_assistant_answer_is_a_label() -> None:
    stats = QualityStats()
    stats.add_final_answer(1, [user(), assistant("yes", weight=0)])
    stats.add_final_answer(2, [user(), assistant("yes"), user("ok")])
    stats.add_final_answer(3, [user(), {"role": "assistant", "content": None, "tool_calls": []}])
    assert stats.answers == 0
    stats.add_final_answer(4, [user(), assistant("yes", weight=1)])
    assert stats.labels == {"yes": [1, 4]}


def _fed(lines: list[tuple[int, str]]) -> QualityStats:
    stats = QualityStats()
    for line, answer in lines:
        stats.add_final_answer(line, [user(), assistant(answer)])
    return stats


def _merged(lines: list[tuple[int, str]], cut: int) -> QualityStats:
    # The worker protocol: chunk-relative lines, pickled, shifted, merged in file order.
    first = pickle.loads(pickle.dumps(_fed(lines[:cut])))
    second = pickle.loads(pickle.dumps(_fed([(n - cut, a) for n, a in lines[cut:]])))
    second.shift(cut)
    first.merge(second)
    return first


@pytest.mark.parametrize("cut", [1, 37, 150, 299])
def test_chunks_merge_to_the_findings_of_one_pass(cut: int) -> None:
    answers = ["positive"] * 250 + ["negative"] * 48 + ["Postive"] + ['{"a": 1}']
    answers[200] = '{"a": "x", "b": 2}'
    lines = list(enumerate(answers, 1))
    whole = _fed(lines)
    merged = _merged(lines, cut)
    assert list(merged.findings()) == list(whole.findings())
    assert merged.summary() == whole.summary()
    assert any(code == "label_imbalance" for _, code, _, _ in whole.findings())


def test_merging_gives_up_on_labels_when_the_union_is_too_varied() -> None:
    lines = [(i + 1, f"label {i}") for i in range(40)] + [(i + 41, f"other {i}") for i in range(40)]
    assert _merged(lines, 40).labels is None
    assert _fed(lines).labels is None


# -- JSON answer shapes ------------------------------------------------------------------


def test_a_key_missing_from_some_json_answers_names_their_lines() -> None:
    full = {"player": "Ana", "team": "Porto"}
    report = validate(_json_answers(*[full] * 6, {"player": "Sara"}, full, {"player": "Ivo"}))
    assert _codes(report, "inconsistent_json_answers") == [
        (7, "the key 'team' is missing from 2 of 9 JSON answers (lines 7, 9); the others have it")
    ]
    shapes = report.stats["json_answers"]["shapes"]
    assert shapes == [
        {"keys": {"player": "string", "team": "string"}, "count": 7, "first_line": 1},
        {"keys": {"player": "string"}, "count": 2, "first_line": 7},
    ]
    assert "JSON answers: 9 objects in 2 shapes" in str(report)
    assert "JSON answer shape" in report._repr_html_()


def test_a_key_whose_type_varies_is_reported_and_null_is_a_nullable_field() -> None:
    answers = [{"score": 3, "note": None}] * 5 + [{"score": "3", "note": "ok"}]
    answers += [{"score": 4, "note": "fine"}]
    report = validate(_json_answers(*answers))
    assert _codes(report, "inconsistent_json_answers") == [
        (6, "the key 'score' is a number in 6 JSON answers but a string in 1 (first on line 6)")
    ]


def test_an_answer_that_starts_with_a_brace_and_does_not_parse() -> None:
    answers: list[Any] = [{"a": 1}] * 5 + ['{"a": 1,', " {'a': 1}"]
    report = validate(_json_answers(*answers))
    [(line, message)] = _codes(report, "inconsistent_json_answers")
    assert line == 6
    assert message.startswith("2 of 7 final answers start with '{' but are not a JSON object (")
    assert message.endswith("lines 6, 7")


def test_consistent_or_occasional_json_answers_give_no_finding() -> None:
    same = validate(_json_answers(*[{"a": i, "b": "x"} for i in range(8)]))
    assert "inconsistent_json_answers" not in same.counts
    assert same.stats["json_answers"]["answers"] == 8
    # two JSON answers among 20 prose ones: not structured-output data
    mixed = _json_answers({"a": 1}, {"b": "x"}) + [
        sft(user(f"q{i}"), assistant(f"prose {i}")) for i in range(20)
    ]
    report = validate(mixed)
    assert "json_answers" not in report.stats
    assert "inconsistent_json_answers" not in report.counts


def test_shapes_tracked_are_capped() -> None:
    stats = QualityStats()
    for i in range(100):
        stats.add_final_answer(i + 1, [user(), assistant(json.dumps({f"k{i}": 1}))])
    assert len(stats.shapes) == 32 and stats.shapes_dropped == 68
    summary = stats.summary()["json_answers"]
    assert len(summary["shapes"]) == 10 and summary["more_shapes"] == 23


# -- inference parity --------------------------------------------------------------------


def _prompted() -> list[dict[str, Any]]:
    items = _labelled(("positive", 10), ("negative", 10))
    items[3] = sft(user("no prompt"), assistant("positive"))
    items[7] = sft(system(PROMPT.replace("positive", "Positive")), user("x"), assistant("negative"))
    items[9] = sft(system(PROMPT + " "), user("y"), assistant("negative"))
    return items


def test_examples_without_the_inference_prompt_or_with_another_are_reported() -> None:
    report = validate(_prompted(), inference_system_prompt=PROMPT)
    assert [(i.line, i.path, i.message) for i in report.by_code("system_prompt_mismatch")] == [
        (4, "messages", "this example has no system prompt, but inference sends one"),
        (
            8,
            "messages[0]",
            "this example's system prompt differs from the inference prompt from character "
            "24: ' the review as Positive or negative.' vs ' the review as positive or negative.'",
        ),
        (
            10,
            "messages[0]",
            "this example's system prompt differs from the inference prompt only in the "
            "whitespace at its start or end",
        ),
    ]
    assert report.stats["inference_system_prompt"] == {
        "examples": 20,
        "matching": 17,
        "different": 2,
        "missing": 1,
    }
    assert "inference system prompt: 17 of 20 examples match it" in str(report)
    # the drift check would say the same again: it is replaced
    assert "system_prompt_varies" not in report.counts
    assert "system_prompt_varies" in validate(_prompted()).counts


def test_an_empty_inference_prompt_means_none_is_sent() -> None:
    report = validate(_labelled(("yes", 6), ("no", 6)), inference_system_prompt="")
    assert _codes(report, "system_prompt_mismatch") == [
        (1, "this example has a system prompt (all 12 examples), but inference sends none")
    ]
    assert (
        "system_prompt_mismatch"
        not in validate(
            _labelled(("yes", 6), ("no", 6), prompt=None), inference_system_prompt=""
        ).counts
    )


def test_a_long_prompt_that_differs_late_and_the_validation_file(tmp_path: Path) -> None:
    prompt = "Be helpful. " * 40
    train = tmp_path / "train.jsonl"
    val = tmp_path / "val.jsonl"
    rows = [sft(system(prompt + "!"), user(f"q{i}"), assistant(f"a{i}")) for i in range(12)]
    train.write_text("".join(json.dumps(r) + "\n" for r in rows))
    val.write_text(json.dumps(sft(user("q"), assistant("a"))) + "\n")
    report = validate(train, validation=val, inference_system_prompt=prompt)
    [(line, message)] = _codes(report, "system_prompt_mismatch")
    assert line == 1 and "after its first 200 characters (all 12 examples)" in message
    assert report.validation is not None
    assert _codes(report.validation, "system_prompt_mismatch") == [
        (1, "this example has no system prompt, but inference sends one")
    ]


def test_the_inference_prompt_must_be_text() -> None:
    with pytest.raises(ftkit.UsageError, match="inference_system_prompt must be a string"):
        validate(_prompted(), inference_system_prompt=b"x")  # type: ignore[arg-type]


def test_cli_system_prompt_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in _prompted()))
    prompt = tmp_path / "prompt.txt"
    prompt.write_text(PROMPT + "\n")  # the editor's final line break is not part of it
    assert main(["validate", str(data), "--system-prompt", str(prompt), "--json"]) == 0
    found = json.loads(capsys.readouterr().out)["reports"][0]
    assert found["counts"]["system_prompt_mismatch"] == 3
    assert found["stats"]["inference_system_prompt"]["matching"] == 17
    assert main(["validate", str(data), "--system-prompt", str(tmp_path / "nope.txt")]) == 2
    assert "--system-prompt: no such file" in capsys.readouterr().err


# -- honest statistics -------------------------------------------------------------------


def _mixed_bag(tmp_path: Path) -> Path:
    good = [json.dumps(sft(user(f"q{i}"), assistant(f"a{i}"))) for i in range(12)]
    lines = [
        *good[:4],
        "not json",
        "[1, 2]",
        json.dumps({"prompt": "old format", "completion": "x"}),
        json.dumps(sft(user("q"), assistant("a", weight=3))),
        "",
        '{"messages": [',
        '{"role": "user", "content": "spread"}, {"role": "assistant", "content": "out"}',
        "]}",
        *good[4:],
    ]
    path = tmp_path / "bag.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_token_stats_say_how_many_lines_they_leave_out_and_why(tmp_path: Path) -> None:
    report = validate(_mixed_bag(tmp_path), model=MODEL)
    assert report.tokens is not None
    assert report.tokens.examples == 12
    assert report.tokens.skipped == {
        "invalid_json": 2,
        "multiline_json": 3,
        "unknown_format": 1,
        "invalid_record": 1,
    }
    tokens = report.to_dict()["tokens"]
    assert tokens["skipped"] == 7 and tokens["skipped_reasons"]["multiline_json"] == 3
    text = str(report)
    assert (
        "7 lines not counted (not a JSON object: 2, part of a record spread over several "
        "lines: 3, not an SFT or DPO record: 1, a record with errors: 1)"
    ) in text
    assert "7 lines not counted" in report._repr_html_()
    assert "note:" not in text and report.notes == ()


def test_estimate_says_why_lines_were_not_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _mixed_bag(tmp_path)
    est = ftkit.estimate(path, MODEL)
    assert est.examples == 12 and est.skipped == 7
    assert est.skipped_reasons == {
        "invalid_json": 2,
        "multiline_json": 3,
        "unknown_format": 1,
        "invalid_record": 1,
    }
    assert est.to_dict()["skipped_reasons"]["invalid_json"] == 2
    assert "12 (7 lines not counted (not a JSON object: 2" in str(est)
    assert "not a JSON object: 2" in est._repr_html_()
    assert main(["estimate", str(path), "--model", MODEL]) == 0
    err = capsys.readouterr().err
    assert "7 lines are not valid records and were not counted (not a JSON " in err


def test_records_of_the_other_method_are_left_out_when_the_method_is_given() -> None:
    items: list[Any] = [sft(user(f"q{i}"), assistant(f"a{i}")) for i in range(11)] + [dpo()]
    est = ftkit.estimate(items, MODEL, method="sft")
    assert (est.examples, est.skipped, est.skipped_reasons) == (11, 1, {"other_kind": 1})


def test_a_file_that_is_not_text_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "utf16.jsonl"
    path.write_bytes(('{"messages": []}\n' * 3).encode("utf-16"))
    report = validate(path, model=MODEL)
    assert report.tokens is not None
    assert report.tokens.skipped == {"unreadable_file": report.lines}
    assert "tokens: none counted; " in str(report)
    assert "lines not counted (in a file that is not UTF-8 text" in str(report)


def test_without_a_model_one_note_says_what_was_not_checked() -> None:
    report = validate(_labelled(("yes", 6), ("no", 6)), validation=_labelled(("yes", 2)))
    [note] = report.notes
    assert note.startswith("no model given: tokens, cost, the token limit per example")
    text = str(report)
    assert text.count("note: no model given") == 1  # once, not per example or per file
    assert report.to_dict()["notes"] == [note]
    assert "no model given" in report._repr_html_()
    assert report.info_count == 0  # a note, not a finding


def test_plot_labels_draws_the_distribution(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from ftkit.plots import plot_labels

    report = validate(_labelled(("positive", 90), ("negative", 10)))
    fig = plot_labels(report)
    fig.savefig(tmp_path / "labels.png")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["positive", "negative"]
    assert [round(p.get_height()) for p in ax.patches] == [90, 10]
    with pytest.raises(ftkit.UsageError, match="no label distribution"):
        plot_labels(validate([sft(user(f"q{i}"), assistant(f"a {i}")) for i in range(12)]))


def test_one_answer_everywhere_is_not_a_label_distribution() -> None:
    report = validate(_labelled(("yes", 30)))
    assert "labels" not in report.stats and "label_imbalance" not in report.counts

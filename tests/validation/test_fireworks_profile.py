"""Fireworks AI's validation profile: OpenAI's records unchanged, plus Fireworks' own rules.

Fireworks reads OpenAI's chat and preference files as they are, so the real files of
``tests/data/real`` get the same findings as on OpenAI; what differs is the example
count (3 to 3 million), the sample ``weight`` (any finite number, on every record or
none: a file-level finding naming the lines without it), the system message's place,
and a warning on multi-turn DPO inputs.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from validate_support import (
    FILE_CODES,
    WEATHER_TOOL,
    assistant,
    call,
    calls,
    dpo,
    sft,
    system,
    tool_result,
    user,
    write_jsonl,
)

import ftkit
from ftkit.validation import ValidationReport, _profiles, validate
from ftkit.validation._profiles import FIREWORKS_PROFILE, TOGETHER_PROFILE, profile_for

LLAMA = "accounts/fireworks/models/llama-v3p1-8b-instruct"
OPENAI = "gpt-4o-2024-08-06"
NOISE = FILE_CODES | {"tokens_unavailable", "duplicate_example", "system_prompt_varies"}
SIZE_CODES = {"too_few_examples", "few_examples"}


@pytest.fixture(autouse=True)
def _fresh_catalog() -> Iterator[None]:
    ftkit.providers.reset()
    yield
    ftkit.providers.reset()


def fireworks(records: Any, model: str = LLAMA, **kwargs: Any) -> ValidationReport:
    return validate(records, model=model, provider="fireworks", near_duplicates=None, **kwargs)


def findings(report: ValidationReport) -> set[tuple[str, int | None, str]]:
    return {(i.code, i.line, i.path) for i in report.issues if i.code not in NOISE}


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# ---------------------------------------------------------------- the profile


def test_the_profile_is_fireworks_own() -> None:
    assert profile_for("fireworks") is FIREWORKS_PROFILE
    assert (FIREWORKS_PROFILE.min_examples, FIREWORKS_PROFILE.max_examples) == (3, 3_000_000)
    # The per-message weight keeps the shared rule (assistant messages only).
    assert FIREWORKS_PROFILE.weight_roles == frozenset({"assistant"})
    assert profile_for("openai").min_examples == 10 and profile_for(None).max_examples is None


# ---------------------------------------------------------------- OpenAI's files, unchanged


@pytest.mark.parametrize(
    "name",
    [
        "foundry_sft_gsm8k_train.jsonl",
        "foundry_sft_retail_agent_tools.jsonl",
        "foundry_sft_stock_toolcall_train.jsonl",
        "foundry_sft_cnn_dailymail_validation.jsonl",
        "foundry_sft_chartqa_vision_train.jsonl",
        "foundry_dpo_orca_pairs_validation.jsonl",
    ],
)
def test_real_openai_files_get_the_same_findings_as_on_openai(
    real_datasets: Path, name: str
) -> None:
    path = real_datasets / name
    ours = validate(path, provider="fireworks", near_duplicates=None, max_per_code=10_000)
    openai = validate(path, near_duplicates=None, max_per_code=10_000)
    assert ours.counts == openai.counts
    assert [(i.code, i.line, i.path) for i in ours.issues] == [
        (i.code, i.line, i.path) for i in openai.issues
    ]


def test_the_cookbook_file_is_too_small_for_openai_but_not_for_fireworks(
    real_datasets: Path,
) -> None:
    path = real_datasets / "openai-cookbook_toy_chat_fine_tuning.jsonl"
    openai = validate(path, near_duplicates=None)
    ours = validate(path, provider="fireworks", near_duplicates=None)
    assert "too_few_examples" in openai.counts and not openai.ok
    assert ours.examples == 5 and "too_few_examples" not in ours.counts
    assert ours.counts["few_examples"] == 1  # the shared recommendation of 50 still holds


# ---------------------------------------------------------------- the example count


@pytest.mark.parametrize("records", [[sft(user(), assistant())] * 2, [dpo()] * 2])
def test_fewer_than_3_examples_are_refused(records: list[dict[str, Any]]) -> None:
    report = fireworks(records)
    (issue,) = [i for i in report.issues if i.code == "too_few_examples"]
    assert issue.line is None
    assert issue.message == "2 examples; the minimum for fine-tuning on Fireworks AI is 3"
    assert issue.hint == "add examples: Fireworks AI requires at least 3"
    assert "too_few_examples" not in fireworks(records + records[:1]).counts


def test_a_validation_file_has_no_minimum(tmp_path: Path) -> None:
    train = write_jsonl(tmp_path / "train.jsonl", [sft(user(f"{n}?"), assistant()) for n in "abc"])
    val = write_jsonl(tmp_path / "val.jsonl", [sft(user("x?"), assistant())])
    report = ftkit.validate(train, validation=val, provider="fireworks", near_duplicates=None)
    assert report.validation is not None and report.validation.examples == 1
    assert "too_few_examples" not in report.validation.counts
    assert "too_few_examples" not in report.counts  # the training file holds 3


def test_together_keeps_the_shared_minimum_and_its_words() -> None:
    report = validate(
        [sft(user(), assistant())] * 2,
        model="meta-llama/Llama-3.3-70B-Instruct-Reference",
        near_duplicates=None,
    )
    (issue,) = [i for i in report.issues if i.code == "too_few_examples"]
    assert issue.message == "2 examples; the minimum for fine-tuning is 10"


def test_more_examples_than_the_maximum_are_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # 3 million lines are too many for a unit test: the same profile with a maximum of 4.
    small = dataclasses.replace(FIREWORKS_PROFILE, max_examples=4)
    monkeypatch.setitem(_profiles._PROFILES, "fireworks", small)
    rows = [sft(user(f"{n}?"), assistant()) for n in range(5)]
    report = fireworks(write_jsonl(tmp_path / "five.jsonl", rows))
    (issue,) = [i for i in report.issues if i.code == "too_many_examples"]
    assert issue.line is None and not report.ok
    assert issue.message == "5 examples; Fireworks AI takes at most 4 per file"
    assert "too_many_examples" not in fireworks(rows[:4]).counts
    assert "too_many_examples" not in validate(rows, near_duplicates=None).counts  # OpenAI


# ---------------------------------------------------------------- the sample weight


@pytest.mark.parametrize("weight", [-2.5, -1, 0, 0.25, 1, 3])
def test_any_finite_sample_weight_is_accepted(weight: float) -> None:
    records = [sft(user(f"{n}?"), assistant(), weight=weight) for n in "abc"]
    assert findings(fireworks(records)) == set()


@pytest.mark.parametrize("weight", ["1", True, None, [1], {"w": 1}])
def test_a_sample_weight_must_be_a_number(weight: Any, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "one.jsonl", [sft(user(), assistant(), weight=weight)])
    report = fireworks(path)
    (issue,) = [i for i in report.issues if i.code == "invalid_sample_weight"]
    assert (issue.line, issue.path) == (1, "weight")
    assert issue.message.startswith("the sample weight must be a number on Fireworks AI, got ")


def test_infinity_is_no_json_number(tmp_path: Path) -> None:
    # Python's json writes Infinity; the line reader refuses it before any weight rule.
    path = tmp_path / "inf.jsonl"
    path.write_text(json.dumps(sft(user(), assistant(), weight=math.inf)) + "\n", "utf-8")
    assert findings(fireworks(path)) == {("invalid_json", 1, "")}


def test_a_negative_sample_weight_is_still_refused_on_together() -> None:
    report = validate(
        [sft(user(), assistant(), weight=-1)],
        model="meta-llama/Llama-3.3-70B-Instruct-Reference",
        near_duplicates=None,
    )
    (issue,) = [i for i in report.issues if i.code == "invalid_sample_weight"]
    assert "a number >= 0 on Together AI" in issue.message


def test_a_weight_on_some_records_only_is_one_file_level_finding(tmp_path: Path) -> None:
    rows: list[Any] = [
        sft(user("a?"), assistant(), weight=1.0),
        sft(user("b?"), assistant()),
        sft(user("c?"), assistant(), weight=2.0),
        sft(user("d?"), assistant()),
    ]
    path = tmp_path / "mixed.jsonl"
    lines = [json.dumps(r) for r in rows]
    lines.insert(2, "")  # a blank line: the numbers are the file's own
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = fireworks(path)
    (issue,) = [i for i in report.issues if i.code == "sample_weight_missing"]
    assert (issue.line, issue.path) == (None, "")
    assert issue.message == (
        "2 of 4 examples have a sample weight (the first on line 1) but 2 do not: lines 2, 5; "
        "on Fireworks AI a file that weights its examples must weight every one"
    )
    assert not report.ok and report.counts["sample_weight_missing"] == 1


def test_weights_on_every_record_or_on_none_pass() -> None:
    plain = [sft(user(f"{n}?"), assistant()) for n in "abc"]
    weighted = [{**r, "weight": 0.5} for r in plain]
    assert "sample_weight_missing" not in fireworks(plain).counts
    assert "sample_weight_missing" not in fireworks(weighted).counts


def test_an_invalid_weight_still_counts_as_given() -> None:
    # The record has a weight, a wrong one: one finding for it, none for the file.
    records = [sft(user(f"{n}?"), assistant(), weight=1) for n in "ab"]
    records.append(sft(user("c?"), assistant(), weight="heavy"))
    report = fireworks(records)
    assert findings(report) == {("invalid_sample_weight", 3, "weight")}


def test_a_real_file_missing_weights_names_the_lines_and_workers_agree(
    real_datasets: Path, tmp_path: Path
) -> None:
    rows = _rows(real_datasets / "foundry_sft_gsm8k_train.jsonl")
    for number, row in enumerate(rows, 1):
        if number not in (7, 300):
            row["weight"] = 1.0
    path = write_jsonl(tmp_path / "gsm8k.jsonl", rows)
    one = fireworks(path, workers=1)
    two = fireworks(path, workers=2)
    (issue,) = [i for i in one.issues if i.code == "sample_weight_missing"]
    assert issue.message.startswith(
        "447 of 449 examples have a sample weight (the first on line 1) but 2 do not: lines 7, 300;"
    )
    (again,) = [i for i in two.issues if i.code == "sample_weight_missing"]
    assert again.message == issue.message
    assert one.counts == two.counts


def test_many_missing_weights_list_the_first_lines_and_count_the_rest(tmp_path: Path) -> None:
    rows = [sft(user(f"{n}?"), assistant()) for n in range(30)]
    rows[0]["weight"] = 1
    report = fireworks(write_jsonl(tmp_path / "rows.jsonl", rows), workers=2)
    (issue,) = [i for i in report.issues if i.code == "sample_weight_missing"]
    listed = ", ".join(str(n) for n in range(2, 22))
    assert f"but 29 do not: lines {listed} and 9 more;" in issue.message


def test_openai_keeps_refusing_a_sample_weight() -> None:
    report = validate([sft(user(), assistant(), weight=1)], model=OPENAI, near_duplicates=None)
    assert findings(report) == {("unknown_key", 1, "weight")}
    assert "sample_weight_missing" not in report.counts


def test_a_dpo_pair_takes_no_sample_weight() -> None:
    assert ("unknown_key", 1, "weight") in findings(fireworks([dpo(weight=1)]))


# ---------------------------------------------------------------- messages


def test_a_system_message_after_the_first_is_refused() -> None:
    records = [
        sft(system(), user(), assistant()),
        sft(user(), system("Be terse."), assistant(), user("More?"), system(), assistant()),
    ]
    report = fireworks(records)
    assert findings(report) == {
        ("system_not_first", 2, "messages[1]"),
        ("system_not_first", 2, "messages[4]"),
    }
    (first, _) = [i for i in report.issues if i.code == "system_not_first"]
    assert "a system message may only open the conversation" in first.message
    assert "system_not_first" not in validate(records, model=OPENAI).counts


def test_a_dpo_input_with_a_late_system_message_is_refused() -> None:
    report = fireworks([dpo([user(), system()])])
    assert ("system_not_first", 1, "input.messages[1]") in findings(report)


def test_the_per_message_weight_keeps_the_shared_rule() -> None:
    records = [sft({**user(), "weight": 0}, assistant(weight=0), user("And?"), assistant("1"))]
    assert findings(fireworks(records)) == {("weight_not_allowed", 1, "messages[0].weight")}
    weighted = [sft(user(), assistant(weight=0), user("And?"), assistant("1", weight=1))]
    assert findings(fireworks(weighted)) == set()
    assert findings(fireworks([sft(user(), assistant(weight=2))])) == {
        ("invalid_weight", 1, "messages[1].weight")
    }


def test_thinking_traces_and_tools_are_accepted() -> None:
    record = sft(
        user("Weather in Oslo?"),
        calls(call()),
        tool_result(),
        assistant("It is -3 C.", reasoning_content="The tool said -3 C."),
        tools=[WEATHER_TOOL],
    )
    assert findings(fireworks([record])) == set()
    assert ("unknown_key", 1, "messages[3].reasoning_content") in findings(
        validate([record], model=OPENAI)
    )


# ---------------------------------------------------------------- DPO


def test_a_multi_turn_dpo_input_is_a_warning(real_datasets: Path) -> None:
    pairs = _rows(real_datasets / "foundry_dpo_orca_pairs_validation.jsonl")[:5]
    pairs[3]["input"]["messages"] += [assistant("Noted."), user("Now in French?")]
    report = fireworks(pairs)
    (issue,) = [i for i in report.issues if i.code == "dpo_multi_turn_input"]
    assert (issue.line, issue.path) == (4, "input.messages")
    assert issue.message.startswith(
        "the input has 3 turns besides the system message (user, assistant, user)"
    )
    assert report.ok  # a warning: the docs say one turn, no source says the server refuses
    assert "dpo_multi_turn_input" not in validate(pairs, model=OPENAI).counts


def test_a_one_turn_dpo_input_is_fine() -> None:
    pairs = [dpo([system(), user(f"{n}?")]) for n in "abc"]
    assert findings(fireworks(pairs)) == set()


def test_the_real_dpo_file_is_one_turn_throughout(real_datasets: Path) -> None:
    report = fireworks(real_datasets / "foundry_dpo_orca_pairs_validation.jsonl")
    assert "dpo_multi_turn_input" not in report.counts and report.examples == 284


# ---------------------------------------------------------------- whose rules


@pytest.mark.parametrize("model", [LLAMA, "llama-v3p1-8b-instruct", "qwen3-8b"])
def test_a_fireworks_model_gets_fireworks_rules_without_naming_the_provider(model: str) -> None:
    records = [sft(user(f"{n}?"), assistant(), weight=-1) for n in "abc"]
    assert findings(validate(records, model=model, near_duplicates=None)) == set()
    assert ("unknown_key", 1, "weight") in findings(validate(records, near_duplicates=None))


def test_an_unknown_fireworks_model_is_reported_as_elsewhere() -> None:
    report = fireworks([sft(user(), assistant())], model="accounts/fireworks/models/nope-9b")
    (issue,) = [i for i in report.issues if i.code == "unknown_model"]
    assert "on Fireworks AI" in issue.message


def test_together_and_fireworks_profiles_differ_only_where_the_providers_do() -> None:
    assert TOGETHER_PROFILE.alternation and not FIREWORKS_PROFILE.alternation
    assert (
        FIREWORKS_PROFILE.sample_weight_everywhere and not TOGETHER_PROFILE.sample_weight_everywhere
    )

"""Alpaca import: instruction + input -> user, output -> assistant, system, history, preferences."""

from __future__ import annotations

from pathlib import Path

from ftkit import DPORecord, SFTRecord
from ftkit.interop import import_dataset

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "interop"


def test_instruction_and_input_make_the_user_message() -> None:
    result = import_dataset(DATA / "alpaca.jsonl")
    assert result.format == "alpaca"
    assert result.detection == "Alpaca: instruction/output"
    tips, german, *_ = result.dataset
    assert tips.to_dict() == {
        "messages": [
            {"role": "user", "content": "Give three tips for staying healthy."},
            {
                "role": "assistant",
                "content": "1. Eat vegetables.\n2. Sleep eight hours.\n3. Walk every day.",
            },
        ]
    }
    assert german.to_dict()["messages"][0] == {
        "role": "user",
        "content": "Translate the sentence into German.\n\nThe train is late.",
    }
    report = result.report
    counts = {e.feature: (e.kept, e.mapped, e.dropped) for e in report.entries}
    assert counts["instruction"] == (0, 4, 0)
    assert counts["input"] == (0, 2, 0)  # empty inputs add nothing and are not counted
    assert counts["output"] == (0, 4, 0)


def test_system_and_history_come_before_the_last_exchange() -> None:
    record = import_dataset(DATA / "alpaca.jsonl").dataset[3]
    assert isinstance(record, SFTRecord)
    assert [(m.role, m.content) for m in record.messages] == [
        ("system", "You schedule meetings."),
        ("user", "Can we meet this week?"),
        ("assistant", "Sure, which day?"),
        ("user", "How about Tuesday?"),
        ("assistant", "Morning or afternoon?"),
        ("user", "Continue the conversation."),
        ("assistant", "Tuesday works for me."),
    ]
    history = import_dataset(DATA / "alpaca.jsonl").report.entry("history")
    assert history is not None and history.mapped == 2


def test_unknown_fields_and_bad_lines_are_reported_by_line() -> None:
    result = import_dataset(DATA / "alpaca.jsonl")
    category = result.report.entry("unknown field 'category'")
    assert category is not None and category.dropped == 2 and "lines 3, 4" in category.note
    assert [(e.line, e.code, e.path) for e in result.errors] == [
        (5, "missing_field", "output"),
        (6, "wrong_type", "output"),
    ]
    assert len(result.dataset) == 4


def test_chosen_and_rejected_make_a_dpo_record() -> None:
    result = import_dataset(DATA / "alpaca_prefs.jsonl")
    assert result.ok and result.dataset.kind == "dpo"
    (record,) = result.dataset
    assert isinstance(record, DPORecord)
    assert record.input.messages[0].content == "Explain recursion to a child."
    assert record.non_preferred_output[0].content == "Recursion is recursion."
    assert result.report.lossless

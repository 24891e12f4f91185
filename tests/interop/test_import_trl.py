"""TRL preference import: standard, conversational and implicit-prompt forms -> DPO records."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftkit import DPORecord
from ftkit.interop import import_dataset
from ftkit.interop._trl_prefs import extract_prompt

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "interop"


def _texts(record: object) -> tuple[list[tuple[str, object]], object, object]:
    assert isinstance(record, DPORecord)
    return (
        [(m.role, m.content) for m in record.input.messages],
        record.preferred_output[0].content,
        record.non_preferred_output[0].content,
    )


def test_standard_form_prompt_becomes_the_user_message() -> None:
    result = import_dataset(DATA / "trl_standard.jsonl")
    assert result.format == "trl" and "standard, explicit prompt" in result.detection
    assert _texts(result.dataset[0]) == ([("user", "The sky is")], " blue.", " green.")
    assert result.report.dropped == {"preference scores": 1}  # the line with scores


def test_conversational_form_keeps_messages_and_tools() -> None:
    result = import_dataset(DATA / "trl_conversational.jsonl")
    assert "conversational, explicit prompt" in result.detection
    first, second = result.dataset
    assert _texts(first) == ([("user", "What colour is the sky?")], "It is blue.", "It is green.")
    assert isinstance(second, DPORecord)
    assert [m.role for m in second.input.messages] == ["system", "user"]
    assert second.input.tools is not None
    assert second.input.tools[0].function.name == "convert_units"
    (error,) = result.errors
    assert (error.line, error.code, error.path) == (3, "invalid_preference", "chosen")
    assert "one assistant" in error.reason


def test_implicit_prompt_is_the_shared_beginning() -> None:
    result = import_dataset(DATA / "trl_implicit.jsonl")
    assert "implicit prompt" in result.detection
    hh, rome = result.dataset
    # TRL's rule: the space before the point of difference stays with the replies.
    assert _texts(hh) == (
        [("user", "\n\nHuman: What is the capital of France?\n\nAssistant:")],
        " Paris.",
        " Lyon, I think.",
    )
    assert _texts(rome) == (
        [("user", "Recommend a book on Rome.")],
        "SPQR by Mary Beard.",
        "Any book.",
    )
    implicit = result.report.entry("implicit prompt")
    assert implicit is not None and implicit.mapped == 2
    (error,) = result.errors
    assert (error.line, error.code) == (3, "missing_field")


@pytest.mark.parametrize(
    ("chosen", "rejected", "cut"),
    [
        ("Q: hi A: yes", "Q: hi A: no", 8),  # the space before "yes"/"no" goes to the replies
        ("abc", "abd", 2),
        ("same", "same", 4),
        ("x", "y", 0),
        ([1, 2, 3], [1, 2, 4], 2),
    ],
)
def test_extract_prompt_follows_trl(chosen: object, rejected: object, cut: int) -> None:
    assert extract_prompt(chosen, rejected) == cut


def test_real_openai_dpo_pairs_round_trip_through_trl(tmp_path: Path) -> None:
    import json

    from ftkit import read_jsonl

    real = Path(__file__).resolve().parents[2] / "tests" / "data" / "real"
    original = list(read_jsonl(real / "foundry_dpo_orca_pairs_validation.jsonl", kind="dpo"))
    path = tmp_path / "trl.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for record in original:
            data = record.to_dict()
            line = {
                "prompt": data["input"]["messages"],
                "chosen": data["preferred_output"],
                "rejected": data["non_preferred_output"],
            }
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    result = import_dataset(path)
    assert result.format == "trl" and result.ok
    assert list(result.dataset) == original


def test_an_hh_transcript_prompt_is_noted_as_one_user_message() -> None:
    # Anthropic HH-RLHF's implicit prompt is a whole "Human: ... Assistant:" transcript:
    # it becomes one user message, and the report must say so (it is not split in turns).
    result = import_dataset(DATA / "trl_implicit.jsonl")
    entry = result.report.entry("Human:/Assistant: transcripts")
    assert entry is not None and entry.mapped == 1  # the HH line, not the Rome one
    assert "one user message" in entry.note and "not split" in entry.note
    assert "Human:/Assistant: transcripts: 1 mapped" in str(result.report)

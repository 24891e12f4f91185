"""The validator on real third-party files says what a careful reader of each would say."""

from __future__ import annotations

from pathlib import Path

import pytest
from validate_support import VALIDATOR_ONLY

from ftkit import RecordError
from ftkit.jsonl import iter_lines
from ftkit.schema import parse_record
from ftkit.validation import Severity, ValidationReport, validate

FILE_LEVEL = {"mixed_kinds", "method_mismatch"}


def _validate(folder: Path, name: str, **kwargs: object) -> ValidationReport:
    return validate(folder / name, max_per_code=10_000, **kwargs)  # type: ignore[arg-type]


def _line_errors(report: ValidationReport) -> set[str]:
    return {i.code for i in report.errors if i.line is not None}


def test_sarcasm_qa_is_not_a_chat_file(real_datasets: Path) -> None:
    report = _validate(real_datasets, "foundry_distilling_sarcasm_qa.jsonl")
    assert not report.ok and report.kind is None and report.examples == 0
    assert report.counts == {"unknown_format": report.lines} and report.lines == 500
    first = report.issues[0]
    assert "question/answer" in first.message and "user message" in first.message


def test_rft_prompts_cannot_train_with_sft(real_datasets: Path) -> None:
    report = _validate(real_datasets, "foundry_rft_medmcq_validation.jsonl")
    assert not report.ok and report.kind == "sft"
    assert report.counts == {"no_assistant_message": report.examples}
    assert report.examples == report.lines > 6000
    assert all("reinforcement fine-tuning" in i.message for i in report.issues)


def test_dpo_pairs_are_valid(real_datasets: Path) -> None:
    report = _validate(
        real_datasets, "foundry_dpo_orca_pairs_validation.jsonl", model="gpt-4o-mini-2024-07-18"
    )
    assert report.ok and report.kind == "dpo" and report.examples == 284
    assert set(report.counts) == {"model_shutdown"}
    assert report.tokens is not None and report.tokens.examples == 284
    assert report.cost is not None and report.cost.method == "dpo"
    # DPO is not offered on gpt-3.5-turbo.
    legacy = _validate(
        real_datasets, "foundry_dpo_orca_pairs_validation.jsonl", model="gpt-3.5-turbo-0125"
    )
    assert "method_not_supported" in legacy.counts and not legacy.ok


def test_vision_file_needs_a_vision_model(real_datasets: Path) -> None:
    name = "foundry_sft_chartqa_vision_train.jsonl"
    plain = _validate(real_datasets, name)
    assert plain.ok and plain.counts == {} and plain.examples == 100
    assert _validate(real_datasets, name, model="gpt-4o-2024-08-06").ok
    text_only = _validate(real_datasets, name, model="gpt-4.1-mini-2025-04-14")
    assert text_only.counts["images_not_supported"] == 100 and not text_only.ok


@pytest.mark.parametrize(
    ("name", "examples"),
    [
        ("foundry_sft_gsm8k_train.jsonl", 449),
        ("foundry_sft_cnn_dailymail_validation.jsonl", 249),
        ("foundry_sft_stock_toolcall_train.jsonl", 86),
        ("foundry_sft_retail_agent_tools.jsonl", 103),
    ],
)
def test_clean_sft_files_have_no_finding(real_datasets: Path, name: str, examples: int) -> None:
    report = _validate(real_datasets, name, model="gpt-4.1-mini-2025-04-14")
    assert report.ok and report.kind == "sft" and report.examples == examples
    assert set(report.counts) == {"model_shutdown"}
    assert report.tokens is not None and report.tokens.examples == examples
    assert report.tokens.over_limit == 0


def test_tool_traces_end_on_the_call_to_learn(real_datasets: Path) -> None:
    # 36 stock examples and every retail trace end on an assistant tool call: that call is
    # the training target, so no call counts as unanswered.
    report = _validate(real_datasets, "foundry_sft_retail_agent_tools.jsonl")
    assert report.stats["roles"]["tool"] == 481
    assert "unanswered_tool_call" not in report.counts


def test_retail_traces_overflow_a_4k_model(real_datasets: Path) -> None:
    report = _validate(
        real_datasets, "foundry_sft_retail_agent_tools.jsonl", model="gpt-3.5-turbo-0613"
    )
    assert "model_not_fine_tunable" in report.counts
    assert report.counts["example_too_long"] > 90
    assert all("trained tokens" in i.message for i in report.by_code("example_too_long"))


def test_cookbook_toy_file_defects(real_datasets: Path) -> None:
    report = _validate(real_datasets, "openai-cookbook_toy_chat_fine_tuning.jsonl")
    assert not report.ok and report.examples == 5
    assert [(i.line, i.code) for i in report.issues] == [
        (None, "too_few_examples"),
        (3, "system_prompt_varies"),  # the only example without the shared system prompt
        (4, "no_user_message"),  # system + assistant only
        (5, "long_response"),  # a 26,000-character answer among ~30-character ones
    ]


def test_every_real_file_agrees_with_the_record_models(real_datasets: Path) -> None:
    files = sorted(real_datasets.glob("*.jsonl"))
    assert len(files) >= 9
    for path in files:
        report = _validate(real_datasets, path.name)
        bad_lines = {
            i.line
            for i in report.issues
            if i.severity is Severity.ERROR
            and i.line is not None
            and i.code not in VALIDATOR_ONLY | FILE_LEVEL
        }
        for raw in iter_lines(path):
            try:
                parse_record(raw.data)
            except RecordError:
                assert raw.number in bad_lines, (path.name, raw.number)
            else:
                assert raw.number not in bad_lines, (path.name, raw.number)

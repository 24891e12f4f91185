"""Together AI's validation profile: its rules on top of the shared format, OpenAI's untouched."""

from __future__ import annotations

import base64
import dataclasses
import json
import struct
import zlib
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
from ftkit.validation import ValidationReport, validate

LLAMA = "meta-llama/Llama-3.3-70B-Instruct-Reference"
VISION = "Qwen/Qwen3-VL-8B-Instruct"
OPENAI = "gpt-4o-2024-08-06"
NOISE = FILE_CODES | {"tokens_unavailable", "duplicate_example", "system_prompt_varies"}


@pytest.fixture(autouse=True)
def _fresh_catalog() -> Iterator[None]:
    ftkit.providers.reset()
    yield
    ftkit.providers.reset()


def together(records: Any, model: str = LLAMA, **kwargs: Any) -> ValidationReport:
    return validate(records, model=model, provider="together", near_duplicates=None, **kwargs)


def findings(report: ValidationReport) -> set[tuple[str, int | None, str]]:
    return {(i.code, i.line, i.path) for i in report.issues if i.code not in NOISE}


def png_url(width: int = 4, height: int = 4) -> str:
    """A complete RGB PNG as a base64 data URL."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    payload = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 8))
        + chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + base64.b64encode(payload).decode()


def image(url: str) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url}}


def looking(*parts: dict[str, Any]) -> dict[str, Any]:
    return {"role": "user", "content": [{"type": "text", "text": "What is this?"}, *parts]}


# ---------------------------------------------------------------- role alternation


def test_a_non_alternating_conversation_is_caught_with_its_line(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "train.jsonl",
        [
            sft(system(), user(), assistant()),
            sft(user(), assistant()),
            sft(user("Hi"), user("Are you there?"), assistant("Yes.")),
            sft(user(), assistant()),
        ],
    )
    report = together(path)
    assert not report.ok
    (issue,) = [i for i in report.issues if i.code == "roles_not_alternating"]
    assert (issue.line, issue.path, issue.severity.value) == (3, "messages[1]", "error")
    assert "a user message right after another user message" in issue.message
    assert "Together AI" in issue.message
    assert issue.file == str(path)
    # OpenAI takes the same file: its results are what they were.
    assert "roles_not_alternating" not in validate(path, model=OPENAI).counts


def test_the_real_cookbook_file_breaks_alternation_where_it_has_no_user(
    real_datasets: Path,
) -> None:
    name = real_datasets / "openai-cookbook_toy_chat_fine_tuning.jsonl"
    report = together(name)
    # Line 4 is system, assistant: the assistant answers before any user turn.
    assert findings(report) >= {("roles_not_alternating", 4, "messages[1]")}
    assert report.counts["roles_not_alternating"] == 1
    assert "roles_not_alternating" not in validate(name, model=OPENAI).counts


@pytest.mark.parametrize(
    ("messages", "path", "words"),
    [
        ([user(), assistant(), assistant("5")], "messages[2]", "after another assistant"),
        ([assistant(), user(), assistant()], "messages[0]", "before any user message"),
        ([system(), assistant()], "messages[1]", "before any user message"),
        ([user(), assistant(), system(), user(), assistant()], "messages[2]", "a system message"),
        (
            [user(), calls(call()), tool_result(), user(), assistant()],
            "messages[3]",
            "after a tool result",
        ),
        (
            [user(), assistant(), user(), user(), assistant(), assistant()],
            "messages[3]",
            "after another user",
        ),
    ],
)
def test_each_break_of_the_order_is_one_finding(
    messages: list[dict[str, Any]], path: str, words: str
) -> None:
    record = (
        sft(*messages, tools=[WEATHER_TOOL])
        if any("tool" in str(m) for m in messages)
        else sft(*messages)
    )
    report = together([record])
    found = [i for i in report.issues if i.code == "roles_not_alternating"]
    assert [(i.line, i.path) for i in found] == [(1, path)]  # the first break only
    assert words in found[0].message


@pytest.mark.parametrize(
    "messages",
    [
        [user(), assistant()],
        [system(), user(), assistant(), user(), assistant()],
        # Tool results (several) sit between the calls and the assistant's next reply.
        [
            user(),
            calls(call("c1"), call("c2")),
            tool_result("c1"),
            tool_result("c2"),
            assistant("Cold."),
            user("Thanks"),
            assistant("Bye"),
        ],
        [user(), calls(call())],  # the call itself is the training target
    ],
)
def test_alternating_conversations_pass(messages: list[dict[str, Any]]) -> None:
    report = together([sft(*messages, tools=[WEATHER_TOOL])])
    assert findings(report) == set(), str(report)


def test_a_dpo_input_must_alternate_but_the_pair_is_openais_format(real_datasets: Path) -> None:
    pairs = real_datasets / "foundry_dpo_orca_pairs_validation.jsonl"
    report = together(pairs, max_per_code=10_000)
    assert report.ok and report.kind == "dpo" and report.examples == 284
    assert set(report.counts) <= NOISE
    broken = together([dpo([user(), user("again")])])
    assert findings(broken) == {("roles_not_alternating", 1, "input.messages[1]")}
    assert "roles_not_alternating" not in validate([dpo([user(), user("again")])]).counts


def test_real_tool_traces_alternate(real_datasets: Path) -> None:
    for name in ("foundry_sft_stock_toolcall_train.jsonl", "foundry_sft_retail_agent_tools.jsonl"):
        report = together(real_datasets / name, max_per_code=10_000)
        assert "roles_not_alternating" not in report.counts, name
        openai = validate(real_datasets / name, model=OPENAI, max_per_code=10_000)
        # Together adds nothing to these files but the counts it cannot make.
        assert set(report.counts) - set(openai.counts) <= {"tokens_unavailable"}, name


# ---------------------------------------------------------------- images


def test_an_https_image_url_is_caught_before_upload(real_datasets: Path) -> None:
    # 100 real vision examples, each with an https image: Together fetches none of them.
    name = real_datasets / "foundry_sft_chartqa_vision_train.jsonl"
    report = together(name, model=VISION, max_per_code=10_000)
    assert not report.ok
    assert report.counts["image_url_not_base64"] == 100
    lines = sorted(i.line or 0 for i in report.issues if i.code == "image_url_not_base64")
    assert lines == list(range(1, 101))
    first = next(i for i in report.issues if i.code == "image_url_not_base64")
    assert first.path.endswith(".image_url.url") and "https://" in first.message
    assert "base64" in first.hint
    # The same file is clean for OpenAI, which fetches https images.
    assert (
        validate(name, model=OPENAI, max_per_code=10_000).counts.get("image_url_not_base64") is None
    )


def test_a_base64_image_is_accepted() -> None:
    report = together([sft(looking(image(png_url())), assistant("A square."))], model=VISION)
    assert findings(report) == set(), str(report)
    assert {i.code for i in report.errors} == {"too_few_examples"}  # one example only


def test_the_shared_image_rules_hold_on_together() -> None:
    eleven = sft(looking(*[image(png_url()) for _ in range(11)]), assistant("Many."))
    assert ("too_many_images", 1, "messages") in findings(together([eleven], model=VISION))
    in_reply = sft(user(), {"role": "assistant", "content": [image(png_url())]})
    assert ("image_in_assistant", 1, "messages[1].content[0]") in findings(
        together([in_reply], model=VISION)
    )
    # A text-only model takes no images, base64 or not.
    plain = together([sft(looking(image(png_url())), assistant("A square."))])
    assert "images_not_supported" in plain.counts


# ---------------------------------------------------------------- weights


@pytest.mark.parametrize("role_index", [0, 1])
def test_weight_2_is_refused(role_index: int) -> None:
    messages = [user(), assistant()]
    messages[role_index] = {**messages[role_index], "weight": 2}
    report = together([sft(*messages)])
    assert findings(report) == {("invalid_weight", 1, f"messages[{role_index}].weight")}


@pytest.mark.parametrize("weight", [0, 1])
def test_weight_0_or_1_on_a_user_message_is_accepted(weight: int) -> None:
    record = sft(
        system(), {**user(), "weight": weight}, assistant(), user("And 3+3?"), assistant("6")
    )
    assert findings(together([record])) == set()
    # OpenAI keeps its own rule: a weight belongs on assistant messages only.
    assert validate([record], model=OPENAI).counts.get("weight_not_allowed") == 1


def test_a_trained_user_turn_is_something_to_train() -> None:
    record = sft({**user(), "weight": 1}, assistant(weight=0))
    assert "nothing_to_train" not in together([record]).counts
    assert "nothing_to_train" in together([sft(user(), assistant(weight=0))]).counts


def test_weight_on_a_system_message_is_still_not_allowed() -> None:
    report = together([sft({**system(), "weight": 1}, user(), assistant())])
    (issue,) = [i for i in report.issues if i.code == "weight_not_allowed"]
    assert "assistant and user messages on Together AI" in issue.message
    openai = validate([sft({**system(), "weight": 1}, user(), assistant())], model=OPENAI)
    (before,) = [i for i in openai.issues if i.code == "weight_not_allowed"]
    assert before.message == "weight is only allowed on assistant messages, not on a system message"


@pytest.mark.parametrize("weight", [0, 0.5, 1, 2.5, 10])
def test_a_sample_weight_is_accepted_on_together(weight: float) -> None:
    record = sft(user(), assistant(), weight=weight)
    assert findings(together([record])) == set()
    # On OpenAI a top-level weight is a key the format does not have, as before.
    assert findings(validate([record], model=OPENAI)) == {("unknown_key", 1, "weight")}


@pytest.mark.parametrize("weight", [-1, "1", True, None, [1]])
def test_a_sample_weight_must_be_a_number_at_least_0(weight: Any) -> None:
    report = together([sft(user(), assistant(), weight=weight)])
    assert findings(report) == {("invalid_sample_weight", 1, "weight")}


def test_a_dpo_pair_takes_no_sample_weight() -> None:
    assert ("unknown_key", 1, "weight") in findings(together([dpo(weight=1)]))


# ---------------------------------------------------------------- reasoning


def test_assistant_reasoning_is_allowed_on_together() -> None:
    for key in ("reasoning", "reasoning_content"):
        record = sft(user(), assistant(**{key: "2 and 2 make 4"}))
        assert findings(together([record])) == set()
        assert ("unknown_key", 1, f"messages[1].{key}") in findings(
            validate([record], model=OPENAI)
        )
    wrong = sft(user(), assistant(reasoning=["step"]))
    assert findings(together([wrong])) == {("wrong_type", 1, "messages[1].reasoning")}


# ---------------------------------------------------------------- the model


def test_examples_over_the_catalog_context_length_are_reported() -> None:
    # Counted here with a tiktoken encoding and a small limit, registered as a user would:
    # the limit applied is Together's entry (SFT), not another provider's.
    info = ftkit.providers.model_info(LLAMA, provider="together")
    assert info.limit("sft") == 24_576
    ftkit.providers.register(
        dataclasses.replace(info, tokenizer="o200k_base", example_limits={"sft": 40, "dpo": 8})
    )
    records = [sft(user("hi " * n), assistant("ok")) for n in (1, 60, 2, 90)]
    report = together(records)
    over = [i for i in report.issues if i.code == "example_too_long"]
    assert [i.line for i in over] == [2, 4]
    assert "40 limit of meta-llama/Llama-3.3-70B-Instruct-Reference" in over[0].message
    assert report.tokens is not None and report.tokens.over_limit == 2


def test_an_unknown_model_gets_the_same_finding_as_elsewhere() -> None:
    report = together([sft(user(), assistant())], model="meta-llama/Llama-9-1T-Instruct")
    (issue,) = [i for i in report.issues if i.code == "unknown_model"]
    assert "on Together AI" in issue.message
    # An OpenAI model is not in Together's list either.
    assert "unknown_model" in together([sft(user(), assistant())], model=OPENAI).counts


def test_a_model_only_together_lists_gets_its_rules_without_naming_the_provider() -> None:
    record = sft(user(), user(), assistant(), weight=1)
    inferred = validate([record], model=LLAMA)
    assert "roles_not_alternating" in inferred.counts and "unknown_key" not in inferred.counts
    assert "roles_not_alternating" not in validate([record], model=OPENAI).counts
    assert "roles_not_alternating" not in validate([record]).counts  # no model: OpenAI's rules


def test_workers_apply_the_same_rules(real_datasets: Path, tmp_path: Path) -> None:
    source = real_datasets / "foundry_sft_chartqa_vision_train.jsonl"
    rows = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines()]
    rows[10]["messages"].insert(1, user("And?"))  # a second user turn on line 11
    path = write_jsonl(tmp_path / "charts.jsonl", rows * 3)
    one = together(path, model=VISION, workers=1, max_per_code=10_000)
    two = together(path, model=VISION, workers=2, max_per_code=10_000)
    assert one.counts == two.counts
    assert one.counts["image_url_not_base64"] == 300
    assert [i.line for i in two.issues if i.code == "roles_not_alternating"] == [11, 111, 211]

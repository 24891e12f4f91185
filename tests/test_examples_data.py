"""The example datasets shipped in examples/data parse and teach what their README says."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import ftkit
from ftkit.schema import AssistantMessage, DPORecord, SFTRecord, ToolMessage, UserMessage

DATA = Path(__file__).resolve().parents[1] / "examples" / "data"

EXPECTED = {
    "sarcasm_sft.jsonl": ("sft", 30),
    "sarcasm_sft_validation.jsonl": ("sft", 10),
    "sarcasm_dpo.jsonl": ("dpo", 30),
    "weighted_multiturn_sft.jsonl": ("sft", 20),
    "json_extraction_sft.jsonl": ("sft", 20),
    "tool_calling_sft.jsonl": ("sft", 20),
}
MARV = "Marv is a factual chatbot that is also sarcastic."


def _sft(name: str) -> list[SFTRecord]:
    records = list(ftkit.read_jsonl(DATA / name, kind="sft"))
    assert all(isinstance(r, SFTRecord) for r in records)
    return records  # type: ignore[return-value]


def _dpo(name: str) -> list[DPORecord]:
    records = list(ftkit.read_jsonl(DATA / name, kind="dpo"))
    assert all(isinstance(r, DPORecord) for r in records)
    return records  # type: ignore[return-value]


def test_readme_lists_every_file() -> None:
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    on_disk = {p.name for p in DATA.glob("*.jsonl")}
    assert on_disk == set(EXPECTED)
    for name, (_, count) in EXPECTED.items():
        row = next(line for line in readme.splitlines() if f"`{name}`" in line)
        assert f"| {count} |" in row


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_file_parses_with_expected_kind_and_count(name: str) -> None:
    kind, count = EXPECTED[name]
    records = list(ftkit.read_jsonl(DATA / name))
    assert len(records) == count
    assert {r.kind for r in records} == {kind}
    assert [r.line for r in records] == list(range(1, count + 1))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_file_is_clean_jsonl(name: str) -> None:
    raw = (DATA / name).read_bytes()
    text = raw.decode("utf-8")
    assert text.endswith("\n") and not text.endswith("\n\n")
    lines = text[:-1].split("\n")
    assert all(line.strip() for line in lines), "blank line"
    assert len(set(lines)) == len(lines), "duplicate line"
    for line in lines:
        assert isinstance(json.loads(line), dict)
        assert "\r" not in line
    for marker in ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|endofprompt|>"):
        assert marker not in text
    assert not re.search(r"sk-[A-Za-z0-9_-]{16,}|api[_-]?key", text, re.IGNORECASE)


def test_sarcasm_sft_has_the_marv_prompt_and_single_answers() -> None:
    for name in ("sarcasm_sft.jsonl", "sarcasm_sft_validation.jsonl"):
        for record in _sft(name):
            roles = [m.role for m in record.messages]
            assert roles == ["system", "user", "assistant"]
            assert record.messages[0].content == MARV
            answer = record.messages[2].content
            assert isinstance(answer, str) and answer.strip()


def test_training_and_validation_share_nothing() -> None:
    def lines(name: str) -> set[str]:
        return set((DATA / name).read_text(encoding="utf-8").splitlines())

    def questions(name: str) -> set[str]:
        return {str(r.messages[1].content) for r in _sft(name)}

    assert not lines("sarcasm_sft.jsonl") & lines("sarcasm_sft_validation.jsonl")
    assert not questions("sarcasm_sft.jsonl") & questions("sarcasm_sft_validation.jsonl")


def test_dpo_pairs_end_on_user_and_differ() -> None:
    for record in _dpo("sarcasm_dpo.jsonl"):
        messages = record.input.messages
        assert isinstance(messages[-1], UserMessage)
        assert messages[0].role == "system" and messages[0].content == MARV
        preferred = record.preferred_output[0].content
        non_preferred = record.non_preferred_output[0].content
        assert isinstance(preferred, str) and isinstance(non_preferred, str)
        assert preferred.strip() and non_preferred.strip()
        assert preferred != non_preferred


def test_weighted_lines_mask_a_bad_turn_and_train_the_last() -> None:
    for record in _sft("weighted_multiturn_sft.jsonl"):
        assistants = record.assistant_messages
        assert 2 <= len(assistants) <= 3
        assert all(m.weight in (0, 1) for m in assistants)
        assert any(m.weight == 0 for m in assistants)
        last = record.messages[-1]
        assert isinstance(last, AssistantMessage) and last.weight == 1 and last.trained
        # weight appears only on assistant turns in the raw line, too
        raw = record.to_dict()["messages"]
        assert all("weight" not in m for m in raw if m["role"] != "assistant")


def test_json_extraction_answers_are_exact_objects() -> None:
    keys = {"player", "team", "sport", "gender"}
    for record in _sft("json_extraction_sft.jsonl"):
        assert [m.role for m in record.messages] == ["system", "user", "assistant"]
        content = record.messages[-1].content
        assert isinstance(content, str)
        answer = json.loads(content)
        assert isinstance(answer, dict) and set(answer) == keys
        assert all(isinstance(v, str) and v for v in answer.values())
        assert answer["gender"] in {"men", "women", "unknown"}
        assert answer["player"] in str(record.messages[1].content)
        assert content == json.dumps(answer, ensure_ascii=False, separators=(",", ":"))


def _check_arguments(arguments: dict[str, Any], schema: dict[str, Any]) -> None:
    properties: dict[str, Any] = schema["properties"]
    assert set(arguments) <= set(properties)
    assert set(schema.get("required", [])) <= set(arguments)
    json_types: dict[str, type | tuple[type, ...]] = {
        "string": str,
        "number": (int, float),
        "integer": int,
        "boolean": bool,
    }
    for key, value in arguments.items():
        spec = properties[key]
        assert isinstance(value, json_types[spec["type"]])
        if "enum" in spec:
            assert value in spec["enum"]


def test_tool_calls_are_declared_valid_and_answered() -> None:
    for record in _sft("tool_calling_sft.jsonl"):
        assert record.tools is not None and 2 <= len(record.tools) <= 3
        declared = {t.function.name: t.function.parameters for t in record.tools}
        called: list[str] = []
        answered: list[str] = []
        for message in record.messages:
            if isinstance(message, AssistantMessage) and message.tool_calls:
                assert message.content is None
                for call in message.tool_calls:
                    assert call.type == "function"
                    assert call.function.name in declared
                    schema = declared[call.function.name]
                    assert schema is not None
                    arguments = json.loads(call.function.arguments)
                    assert isinstance(arguments, dict)
                    _check_arguments(arguments, schema)
                    called.append(call.id)
            elif isinstance(message, ToolMessage):
                assert message.tool_call_id in called
                assert isinstance(message.content, str) and message.content
                answered.append(message.tool_call_id)
        assert called and sorted(called) == sorted(answered)
        assert len(set(called)) == len(called)
        last = record.messages[-1]
        assert isinstance(last, AssistantMessage) and not last.tool_calls
        assert isinstance(last.content, str) and last.content.strip()

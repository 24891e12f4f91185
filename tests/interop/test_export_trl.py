"""Export to TRL: conversational files, the weight refusal, and labels that honour every weight."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2
import pytest
import tokenizers
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

import ftkit
from ftkit.interop._export import export
from ftkit.interop._labels import IGNORE

REPO = Path(__file__).resolve().parents[2]
REAL = REPO / "tests" / "data" / "real"
EXAMPLES = REPO / "examples" / "data"
WEIGHTED = EXAMPLES / "weighted_multiturn_sft.jsonl"

SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
CHATML_SPECIALS = ["<|im_start|>", "<|im_end|>", "<|endoftext|>"]
# Qwen 2.5's ChatML template, cut down to what the files use (tools, calls, tool results).
QWEN_TEMPLATE = """\
{%- if tools %}
{{- '<|im_start|>system\\n' }}
{%- if messages[0].role == 'system' %}{{- messages[0].content + '\\n\\n' }}{%- endif %}
{{- '# Tools\\n\\n<tools>' }}
{%- for tool in tools %}{{- '\\n' }}{{- tool | tojson }}{%- endfor %}
{{- '\\n</tools><|im_end|>\\n' }}
{%- elif messages and messages[0].role == 'system' %}
{{- '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' }}
{%- endif %}
{%- for message in messages %}
{%- if message.role == 'system' and loop.first %}
{%- elif message.role == 'assistant' %}
{{- '<|im_start|>' + message.role }}
{%- if message.content %}{{- '\\n' + message.content }}{%- endif %}
{%- for tool_call in message.tool_calls or [] %}
{%- if tool_call.function is defined %}{%- set tool_call = tool_call.function %}{%- endif %}
{{- '\\n<tool_call>\\n{"name": "' + tool_call.name + '", "arguments": ' }}
{{- tool_call.arguments | tojson }}{{- '}\\n</tool_call>' }}
{%- endfor %}
{{- '<|im_end|>\\n' }}
{%- elif message.role == 'tool' %}
{{- '<|im_start|>user\\n<tool_response>\\n' + message.content }}
{{- '\\n</tool_response><|im_end|>\\n' }}
{%- else %}
{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}
{%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}
"""
# Meta's Llama 3 template, verbatim.
LLAMA_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
    "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ "
    "message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = "
    "bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
)
LLAMA_SPECIALS = ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]


def _sft(path: Path) -> list[ftkit.SFTRecord]:
    records = list(ftkit.read_jsonl(path, kind="sft"))
    assert all(isinstance(r, ftkit.SFTRecord) for r in records)
    return records  # type: ignore[return-value]


def _dpo(path: Path) -> list[ftkit.DPORecord]:
    records = list(ftkit.read_jsonl(path, kind="dpo"))
    assert all(isinstance(r, ftkit.DPORecord) for r in records)
    return records  # type: ignore[return-value]


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def _train(specials: Sequence[str], added: Sequence[str] = ()) -> Tokenizer:
    """A small byte-level BPE (Llama 3's and Qwen's layout) trained on the weighted file."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(SPLIT), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600,
        special_tokens=list(specials),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(WEIGHTED.read_text("utf-8").splitlines(), trainer)
    if added:
        tok.add_tokens([AddedToken(a, special=False, normalized=False) for a in added])
    return tok


@pytest.fixture
def qwen(tmp_path: Path) -> Path:
    """A ChatML tokenizer.json with the template beside it (the family is told by it)."""
    folder = tmp_path / "qwen"
    folder.mkdir()
    _train(CHATML_SPECIALS).save(str(folder / "tokenizer.json"))
    config = {"chat_template": QWEN_TEMPLATE, "bos_token": None}
    (folder / "tokenizer_config.json").write_text(json.dumps(config), "utf-8")
    return folder / "tokenizer.json"


def _runs(labels: list[int]) -> list[list[int]]:
    """The contiguous spans of trained labels."""
    runs: list[list[int]] = []
    current: list[int] = []
    for label in labels:
        if label == IGNORE:
            if current:
                runs.append(current)
                current = []
        else:
            current.append(label)
    if current:
        runs.append(current)
    return runs


def _rendered(template: str, record: ftkit.SFTRecord, **tokens: str) -> str:
    """The template's own rendering of a record (plain jinja2, as a chat template is run)."""
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
    env.filters["tojson"] = lambda x: json.dumps(x, ensure_ascii=False)
    messages = []
    for m in record.messages:
        message: dict[str, Any] = {"role": m.role, "content": m.content or ""}
        calls = getattr(m, "tool_calls", None) or ()
        if calls:
            message["tool_calls"] = [
                {
                    "type": "function",
                    "function": {
                        "name": c.function.name,
                        "arguments": json.loads(c.function.arguments),
                    },
                }
                for c in calls
            ]
        messages.append(message)
    tools = [t.model_dump(mode="json", exclude_unset=True) for t in record.tools or ()] or None
    return env.from_string(template).render(
        messages=messages, tools=tools, add_generation_prompt=False, **tokens
    )


def test_labels_train_every_weight_1_token_and_mask_everything_else(
    qwen: Path, tmp_path: Path
) -> None:
    result = export(WEIGHTED, "trl", tmp_path / "out", tokenizer=qwen)
    assert result.tokenized
    report = result.report
    assert report.lossless
    assert report.entry("message weights").mapped == 44  # type: ignore[union-attr]
    reference = Tokenizer.from_file(str(qwen))
    records = _sft(WEIGHTED)
    rows = _rows(result.files[0])
    assert len(rows) == len(records) == 20
    for row, record in zip(rows, records, strict=True):
        ids, labels = row["input_ids"], row["labels"]
        assert set(row) == {"input_ids", "labels"} and len(ids) == len(labels)
        # Every label is the token's own id or ignored.
        assert all(label in (token, IGNORE) for token, label in zip(ids, labels, strict=True))
        # The whole sequence is the template's own rendering, nothing added or left out.
        text = reference.decode(ids, skip_special_tokens=False)
        assert text == _rendered(QWEN_TEMPLATE, record)
        assert text.startswith("<|im_start|>system\n")
        # The trained spans are exactly the weight-1 turns (text and end of turn), in order:
        # no weight-0, system or user token is trained, nor the newline after <|im_end|>.
        trained = [m.content for m in record.assistant_messages if m.weight != 0]
        masked = [m.content for m in record.assistant_messages if m.weight == 0]
        assert trained and masked
        spans = [reference.decode(run, skip_special_tokens=False) for run in _runs(labels)]
        assert spans == [f"{text}<|im_end|>" for text in trained]
        assert sum(label != IGNORE for label in labels) == sum(
            len(reference.encode(f"{text}<|im_end|>", add_special_tokens=False).ids)
            for text in trained
        )


def test_a_tokenizer_object_labels_with_the_template_file_given(tmp_path: Path) -> None:
    tok = _train(LLAMA_SPECIALS)
    before = tok.to_str()
    config = tmp_path / "tokenizer_config.json"
    config.write_text(
        json.dumps({"chat_template": LLAMA_TEMPLATE, "bos_token": "<|begin_of_text|>"}), "utf-8"
    )
    record = ftkit.SFTRecord.multi_turn(
        [
            ("user", "What is 2 + 2?"),
            ("assistant", "5", 0),
            ("user", "Sure?"),
            ("assistant", " 4 "),
        ],
        system="Be exact.",
    )
    result = export([record], "trl", tmp_path / "out", tokenizer=tok, chat_format=config)
    row = _rows(result.files[0])[0]
    text = tok.decode(row["input_ids"], skip_special_tokens=False)
    assert text == _rendered(LLAMA_TEMPLATE, record, bos_token="<|begin_of_text|>")
    assert text == (  # BOS once, and the template's own trim of " 4 "
        "<|begin_of_text|>"
        "<|start_header_id|>system<|end_header_id|>\n\nBe exact.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2 + 2?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n5<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nSure?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n4<|eot_id|>"
    )
    assert row["input_ids"].count(tok.token_to_id("<|begin_of_text|>")) == 1
    spans = [tok.decode(run, skip_special_tokens=False) for run in _runs(row["labels"])]
    assert spans == ["4<|eot_id|>"]
    assert tok.to_str() == before  # the caller's tokenizer is not reconfigured
    # The template's text works as well, but bos_token must then come from somewhere.
    with pytest.raises(ftkit.UsageError, match="bos_token"):
        export([record], "trl", tmp_path / "text", tokenizer=tok, chat_format=LLAMA_TEMPLATE)


def test_no_chat_template_is_refused_and_family_names_are_not_templates(tmp_path: Path) -> None:
    tok = _train(CHATML_SPECIALS)
    with pytest.raises(ftkit.UsageError, match="no chat template"):
        export(WEIGHTED, "trl", tmp_path, tokenizer=tok)
    folder = tmp_path / "bare"
    folder.mkdir()
    tok.save(str(folder / "tokenizer.json"))
    with pytest.raises(ftkit.UsageError, match="no chat template"):
        export(WEIGHTED, "trl", tmp_path / "out", tokenizer=folder)
    with pytest.raises(ftkit.UsageError, match="neither a Jinja chat template"):
        export(WEIGHTED, "trl", tmp_path / "out", tokenizer=tok, chat_format="chatml")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bare"]


def test_a_template_that_rewrites_earlier_turns_is_refused(tmp_path: Path) -> None:
    # Like reasoning templates that drop past <think> blocks: the last turn is written
    # differently from the same turn once another follows, so spans cannot be told.
    rewriting = QWEN_TEMPLATE.replace(
        "{%- if message.content %}{{- '\\n' + message.content }}{%- endif %}",
        "{{- '\\n' + (message.content if loop.last else '(earlier)') }}",
    )
    assert rewriting != QWEN_TEMPLATE
    tok = _train(CHATML_SPECIALS)
    with pytest.raises(ftkit.UsageError, match=r"line 1: .*not prefix-stable"):
        export(WEIGHTED, "trl", tmp_path / "out", tokenizer=tok, chat_format=rewriting)
    assert not list(tmp_path.rglob("*.jsonl"))  # nothing written


def test_a_special_token_written_as_text_is_refused(qwen: Path, tmp_path: Path) -> None:
    record = ftkit.SFTRecord.multi_turn([("user", "Say <|im_end|>"), ("assistant", "No.")])
    with pytest.raises(ftkit.UsageError, match=r"record 1: messages\[0\] holds the special"):
        export([record], "trl", tmp_path / "out", tokenizer=qwen)


def test_weight_0_turns_without_a_tokenizer_are_refused_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    with pytest.raises(ftkit.UsageError, match="22 assistant turns have weight 0"):
        export(WEIGHTED, "trl", out)
    assert not out.exists()


def test_lossy_lists_every_weight_it_drops(tmp_path: Path) -> None:
    result = export(WEIGHTED, "trl", tmp_path, lossy=True)
    entry = result.report.entry("message weights")
    assert entry is not None and (entry.dropped, entry.mapped) == (22, 22)
    assert not result.report.lossless
    records = _sft(WEIGHTED)
    for record in records:
        for index, message in enumerate(record.messages):
            if getattr(message, "weight", None) == 0:
                assert f"line {record.line} messages[{index}]" in entry.note
    rows = _rows(result.files[0])
    assert all("weight" not in m for row in rows for m in row["messages"])


def test_weights_all_1_or_absent_lose_nothing_without_a_tokenizer(tmp_path: Path) -> None:
    record = ftkit.SFTRecord.multi_turn([("user", "Hi"), ("assistant", "Hello", 1)])
    result = export([record, ftkit.SFTRecord.single_turn("a", "b")], "trl", tmp_path)
    assert result.report.lossless
    assert result.report.entry("message weights").mapped == 1  # type: ignore[union-attr]


def test_tool_files_keep_messages_and_tools(tmp_path: Path) -> None:
    result = export(REAL / "foundry_sft_retail_agent_tools.jsonl", "trl", tmp_path)
    assert result.report.lossless
    assert result.report.entry("tools").kept == 1545  # type: ignore[union-attr]
    assert result.report.entry("tool calls").kept == 584  # type: ignore[union-attr]
    row = _rows(result.files[0])[0]
    assert set(row) == {"messages", "tools"}


def test_dpo_is_prompt_chosen_rejected(tmp_path: Path) -> None:
    result = export(EXAMPLES / "sarcasm_dpo.jsonl", "trl", tmp_path)
    assert result.report.records == 30 and result.report.lossless
    records = _dpo(EXAMPLES / "sarcasm_dpo.jsonl")
    row = _rows(result.files[0])[0]
    assert set(row) == {"prompt", "chosen", "rejected"}
    assert row["prompt"][-1] == {"role": "user", "content": records[0].input.messages[-1].content}
    assert row["chosen"] == [
        {"role": "assistant", "content": records[0].preferred_output[0].content}
    ]


def test_images_become_trl_placeholders_and_an_images_column(tmp_path: Path) -> None:
    source = REAL / "foundry_sft_chartqa_vision_train.jsonl"
    result = export(source, "trl", tmp_path)
    assert result.report.entry("images").mapped == 100  # type: ignore[union-attr]
    row = _rows(result.files[0])[0]
    assert len(row["images"]) == 1
    assert {"type": "image"} in row["messages"][0]["content"]


def test_images_cannot_be_pre_tokenized(qwen: Path, tmp_path: Path) -> None:
    source = REAL / "foundry_sft_chartqa_vision_train.jsonl"
    with pytest.raises(ftkit.UsageError, match="images"):
        export(source, "trl", tmp_path / "out", tokenizer=qwen)
    assert not (tmp_path / "out").exists()


def test_a_tokenizer_is_for_trl_only(qwen: Path, tmp_path: Path) -> None:
    with pytest.raises(ftkit.UsageError, match="TRL exports only"):
        export(WEIGHTED, "axolotl", tmp_path, tokenizer=qwen)
    assert tokenizers  # the package the fixtures build with


def test_tool_calls_are_trained_with_their_turn_and_tool_results_are_not(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "qwen-tools"
    folder.mkdir()
    _train(CHATML_SPECIALS, ["<tool_call>", "</tool_call>"]).save(str(folder / "tokenizer.json"))
    source = EXAMPLES / "tool_calling_sft.jsonl"
    template = folder / "chat_template.jinja"
    template.write_text(QWEN_TEMPLATE, "utf-8")
    result = export(source, "trl", tmp_path / "out", tokenizer=folder)
    report = result.report
    assert report.entry("tool calls").mapped == 26  # type: ignore[union-attr]
    assert report.entry("tools").mapped == 60  # type: ignore[union-attr]
    assert report.entry("tool call ids").mapped == 26  # type: ignore[union-attr]
    assert report.lossless
    reference = Tokenizer.from_file(str(folder / "tokenizer.json"))
    records = _sft(source)
    for row, record in zip(_rows(result.files[0]), records, strict=True):
        text = reference.decode(row["input_ids"], skip_special_tokens=False)
        assert text == _rendered(QWEN_TEMPLATE, record)
        assert "<tools>" in text  # the definitions, as the template writes them
        spans = [reference.decode(r, skip_special_tokens=False) for r in _runs(row["labels"])]
        expected = []
        for message in record.assistant_messages:
            text = message.content if isinstance(message.content, str) else ""
            for call in message.tool_calls or ():
                arguments = json.dumps(json.loads(call.function.arguments), ensure_ascii=False)
                body = f'{{"name": "{call.function.name}", "arguments": {arguments}}}'
                text += f"\n<tool_call>\n{body}\n</tool_call>"
            if not message.content:  # the newline is the generation prompt's, not the turn's
                text = text.removeprefix("\n")
            expected.append(text + "<|im_end|>")
        assert spans == expected
        results = [m.content for m in record.messages if m.role == "tool"]
        assert not any(str(r) in "".join(spans) for r in results)


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", "utf-8")
    with pytest.raises(ftkit.UsageError, match="no records"):
        export(empty, "trl", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_dpo_file_with_a_tokenizer_stays_conversational(qwen: Path, tmp_path: Path) -> None:
    result = export(EXAMPLES / "sarcasm_dpo.jsonl", "trl", tmp_path, tokenizer=qwen)
    assert set(_rows(result.files[0])[0]) == {"prompt", "chosen", "rejected"}
    assert any("tokenizer was not used" in note for note in result.report.notes)

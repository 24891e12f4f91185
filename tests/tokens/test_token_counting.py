"""Token counting: exact agreement with the cookbook where the rules coincide, sane elsewhere."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ftkit
from ftkit.schema import AssistantMessage, SFTRecord, UserMessage
from ftkit.tokens import (
    ExampleTokens,
    TokenCounter,
    count_tokens,
    encoding_for_model,
    example_limit,
)

MODELS = ["gpt-4o-mini-2024-07-18", "gpt-3.5-turbo-0125"]


# -- the cookbook's reference formulas, written as the cookbook writes them ---------------------


def cookbook_num_tokens_from_messages(
    messages: list[dict[str, Any]],
    model: str,
    tokens_per_message: int = 3,
    tokens_per_name: int = 1,
) -> int:
    encoding = encoding_for_model(model)
    num_tokens = 0
    for message in messages:
        num_tokens += tokens_per_message
        for key, value in message.items():
            num_tokens += len(encoding.encode(value))
            if key == "name":
                num_tokens += tokens_per_name
    num_tokens += 3
    return num_tokens


def cookbook_num_assistant_tokens_from_messages(messages: list[dict[str, Any]], model: str) -> int:
    encoding = encoding_for_model(model)
    num_tokens = 0
    for message in messages:
        if message["role"] == "assistant":
            num_tokens += len(encoding.encode(message["content"]))
    return num_tokens


def cookbook_num_tokens_for_tools(functions: list[dict[str, Any]], model: str) -> int:
    if model.startswith(("gpt-4o", "gpt-4.1")):
        func_init, prop_init, prop_key, enum_init, enum_item, func_end = 7, 3, 3, -3, 3, 12
    else:
        func_init, prop_init, prop_key, enum_init, enum_item, func_end = 10, 3, 3, -3, 3, 12
    encoding = encoding_for_model(model)
    func_token_count = 0
    if len(functions) > 0:
        for f in functions:
            func_token_count += func_init
            function = f["function"]
            f_name = function["name"]
            f_desc = function["description"]
            if f_desc.endswith("."):
                f_desc = f_desc[:-1]
            line = f_name + ":" + f_desc
            func_token_count += len(encoding.encode(line))
            if len(function["parameters"]["properties"]) > 0:
                func_token_count += prop_init
                for key in list(function["parameters"]["properties"].keys()):
                    func_token_count += prop_key
                    p_name = key
                    p_type = function["parameters"]["properties"][key]["type"]
                    p_desc = function["parameters"]["properties"][key]["description"]
                    if "enum" in function["parameters"]["properties"][key]:
                        func_token_count += enum_init
                        for item in function["parameters"]["properties"][key]["enum"]:
                            func_token_count += enum_item
                            func_token_count += len(encoding.encode(item))
                    if p_desc.endswith("."):
                        p_desc = p_desc[:-1]
                    line = f"{p_name}:{p_type}:{p_desc}"
                    func_token_count += len(encoding.encode(line))
        func_token_count += func_end
    return func_token_count


def _plain(record: dict[str, Any]) -> bool:
    messages = record.get("messages")
    return (
        set(record) == {"messages"}
        and isinstance(messages, list)
        and all(isinstance(v, str) for m in messages for v in m.values())
    )


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


PLAIN_FILES = [
    "openai-cookbook_toy_chat_fine_tuning.jsonl",
    "foundry_sft_gsm8k_train.jsonl",
    "foundry_sft_cnn_dailymail_validation.jsonl",
    "foundry_rft_medmcq_validation.jsonl",
]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("name", PLAIN_FILES)
def test_equals_cookbook_token_for_token_on_plain_real_files(
    real_datasets: Path, name: str, model: str
) -> None:
    records = [r for r in _lines(real_datasets / name) if _plain(r)]
    assert len(records) >= 5, "the file should hold plain-text examples"
    counter = TokenCounter(model)
    for record in records:
        got = counter.count(record)
        assert got.total == cookbook_num_tokens_from_messages(record["messages"], model)
        assert got.trained == cookbook_num_assistant_tokens_from_messages(record["messages"], model)


def test_every_plain_example_in_every_real_file_matches(real_datasets: Path) -> None:
    counter = TokenCounter("gpt-4.1-mini-2025-04-14")
    compared = 0
    for path in sorted(real_datasets.glob("*.jsonl")):
        for record in _lines(path):
            if _plain(record):
                want = cookbook_num_tokens_from_messages(record["messages"], counter.model)
                assert counter.count(record).total == want, (path.name, record)
                compared += 1
    assert compared > 1000


@pytest.mark.parametrize("model", MODELS)
def test_tool_definitions_follow_the_cookbook(real_datasets: Path, model: str) -> None:
    counter = TokenCounter(model)
    records = _lines(real_datasets / "foundry_sft_stock_toolcall_train.jsonl")
    encoding = encoding_for_model(model)
    for record in records:
        without_tools = counter.count({"messages": record["messages"]}).total
        got = counter.count(record).total
        assert got - without_tools == cookbook_num_tokens_for_tools(record["tools"], model)
        # tool calls: function name and arguments, nothing else of the call
        calls = [c["function"] for m in record["messages"] for c in m.get("tool_calls") or []]
        plain = [{k: v for k, v in m.items() if k != "tool_calls"} for m in record["messages"]]
        expected = cookbook_num_tokens_from_messages(plain, model) + sum(
            len(encoding.encode(f["name"])) + len(encoding.encode(f["arguments"])) for f in calls
        )
        assert without_tools == expected


def test_tools_with_enums_and_gpt35_constants() -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_current_weather",
                "description": "Get the current weather in a given location.",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "location": {"type": "string", "description": "The city, e.g. Oslo."},
                        "unit": {
                            "type": "string",
                            "description": "Unit",
                            "enum": ["celsius", "fahrenheit"],
                        },
                    },
                },
            },
        }
    ]
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]
    for model in ("gpt-4o-2024-08-06", "gpt-3.5-turbo-1106"):
        got = count_tokens({"messages": messages, "tools": tools}, model=model).total
        want = cookbook_num_tokens_from_messages(messages, model) + cookbook_num_tokens_for_tools(
            tools, model
        )
        assert got == want
    # legacy "functions" are the same definitions without the tool wrapper
    legacy = count_tokens(
        {"messages": messages, "functions": [tools[0]["function"]]}, model="gpt-4o-2024-08-06"
    )
    assert (
        legacy.total
        == count_tokens({"messages": messages, "tools": tools}, model="gpt-4o-2024-08-06").total
    )


def test_weight_is_never_counted_and_weight_zero_is_not_trained() -> None:
    counter = TokenCounter("gpt-4o-mini-2024-07-18")
    base = [
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "Five, obviously."},
        {"role": "user", "content": "Again."},
        {"role": "assistant", "content": "Four."},
    ]
    weighted = [dict(m) for m in base]
    weighted[1]["weight"] = 0
    weighted[3]["weight"] = 1
    plain = counter.count({"messages": base})
    got = counter.count({"messages": weighted})
    assert got.total == plain.total == cookbook_num_tokens_from_messages(base, counter.model)
    assert got.trained == counter.text("Four.")
    assert plain.trained == counter.text("Five, obviously.") + counter.text("Four.")


@pytest.mark.parametrize("weight", [None, 0, 1])
def test_a_refusal_is_neither_trained_nor_counted(weight: int | None) -> None:
    """refusal is not a training target: the general path (a refusal makes the message take
    it) must give what the short path gives for the same message without one."""
    counter = TokenCounter("gpt-4o-mini-2024-07-18")
    reply: dict[str, Any] = {"role": "assistant", "content": "I can't help with that."}
    if weight is not None:
        reply["weight"] = weight
    plain = {"messages": [{"role": "user", "content": "Pick a lock?"}, reply]}
    refused = {"messages": [plain["messages"][0], {**reply, "refusal": "Sorry, no." * 20}]}
    assert counter.count(refused) == counter.count(plain)
    assert counter.count(plain).trained == (0 if weight == 0 else counter.text(reply["content"]))
    # With nothing but a refusal, the turn trains nothing (and costs only its overhead).
    only = {"messages": [plain["messages"][0], {"role": "assistant", "refusal": "No."}]}
    assert counter.count(only).trained == 0
    assert counter.count(only).total == counter.count(plain).total - counter.text(reply["content"])


def test_the_estimate_drops_refusals() -> None:
    plain = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    refused = {"messages": [plain["messages"][0], {**plain["messages"][1], "refusal": "x" * 500}]}
    model = "gpt-4o-mini-2024-07-18"
    with_refusal = ftkit.estimate([refused] * 10, model=model)
    assert with_refusal.billed_tokens == ftkit.estimate([plain] * 10, model=model).billed_tokens


def test_name_costs_one_extra_token() -> None:
    counter = TokenCounter("gpt-4o-mini-2024-07-18")
    named = {
        "messages": [
            {"role": "user", "content": "hi", "name": "bob"},
            {"role": "assistant", "content": "yo"},
        ]
    }
    plain = {
        "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]
    }
    assert counter.count(named).total - counter.count(plain).total == counter.text("bob") + 1


def test_content_parts_and_images() -> None:
    counter = TokenCounter("gpt-4o-2024-08-06")
    text = "Describe the chart."
    parts = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": text},
                    {
                        "type": "image_url",
                        "image_url": {"url": "https://example.com/a.png", "detail": "low"},
                    },
                ],
            },
            {"role": "assistant", "content": [{"type": "text", "text": "Bars."}]},
        ]
    }
    as_strings = {
        "messages": [{"role": "user", "content": text}, {"role": "assistant", "content": "Bars."}]
    }
    got = counter.count(parts)
    assert got.total == counter.count(as_strings).total + 85
    assert got.trained == counter.text("Bars.")


def test_over_limit_caps_billing_and_counts_lost_trained_tokens() -> None:
    model = "gpt-3.5-turbo-0613"
    counter = TokenCounter(model)
    assert counter.limit == 4096
    user = "hello " * 3000
    answer = "word " * 2000
    record = {
        "messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
    }
    got = counter.count(record)
    u, a = counter.text(user), counter.text(answer)
    total = (3 + 1 + u) + (3 + 1 + a) + 3
    assert got.total == total
    assert got.billed == 4096
    assert got.over_limit
    assert got.trained == a
    assert got.trained_lost == min(a, total - 3 - 4096)
    assert 0 < got.trained_lost <= a
    # the same example fits gpt-4o's 65,536
    roomy = TokenCounter("gpt-4o-mini-2024-07-18").count(record)
    assert not roomy.over_limit and roomy.billed == roomy.total and roomy.trained_lost == 0


def test_dpo_counts_prompt_once_and_trains_both_outputs() -> None:
    counter = TokenCounter("gpt-4.1-mini-2025-04-14")
    prompt = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Summarise X."},
    ]
    pair = {
        "input": {"messages": prompt, "tools": [], "parallel_tool_calls": True},
        "preferred_output": [{"role": "assistant", "content": "Short."}],
        "non_preferred_output": [{"role": "assistant", "content": "A long ramble about X."}],
    }
    got = counter.count(pair)
    p = cookbook_num_tokens_from_messages(prompt, counter.model)
    a = 3 + counter.text("assistant") + counter.text("Short.")
    b = 3 + counter.text("assistant") + counter.text("A long ramble about X.")
    assert got.total == p + a + b
    assert got.trained == counter.text("Short.") + counter.text("A long ramble about X.")
    assert got.billed == got.total and not got.over_limit


def test_dpo_over_limit_truncates_each_pair() -> None:
    counter = TokenCounter("gpt-3.5-turbo-0613")
    long_answer = "word " * 5000
    pair = {
        "input": {"messages": [{"role": "user", "content": "Write."}]},
        "preferred_output": [{"role": "assistant", "content": long_answer}],
        "non_preferred_output": [{"role": "assistant", "content": "No."}],
    }
    got = counter.count(pair)
    prompt = 3 + 1 + counter.text("Write.") + 3
    long_size = 3 + 1 + counter.text(long_answer)
    short_size = 3 + 1 + counter.text("No.")
    assert got.over_limit
    assert got.billed == prompt + (4096 - prompt) + short_size
    assert got.trained_lost == prompt + long_size - 4096


def test_repeated_long_strings_are_encoded_once() -> None:
    counter = TokenCounter("gpt-4o-mini-2024-07-18")
    system = "You are a meticulous reviewer of pull requests. " * 200
    for i in range(200):
        counter.count(
            {
                "messages": [
                    {"role": "system", "content": system},
                    {"role": "user", "content": f"question {i}"},
                    {"role": "assistant", "content": f"answer {i}"},
                ]
            }
        )
    assert counter.encoded_chars < 2 * len(system)


def test_ft_models_count_with_their_base_model() -> None:
    counter = TokenCounter("ft:gpt-4.1-mini-2025-04-14:acme::abc123")
    assert counter.base_model == "gpt-4.1-mini-2025-04-14"
    assert counter.encoding_name == "o200k_base"
    assert counter.limit == 65_536 == example_limit(counter.model)


def test_counter_pickles_by_name_and_counts_the_same() -> None:
    counter = TokenCounter("gpt-3.5-turbo-0125")
    record = {
        "messages": [
            {"role": "user", "content": "héllo 東京"},
            {"role": "assistant", "content": "hi"},
        ]
    }
    clone = pickle.loads(pickle.dumps(counter))
    assert isinstance(clone, TokenCounter)
    assert (clone.model, clone.limit, clone.encoding_name) == (
        counter.model,
        counter.limit,
        counter.encoding_name,
    )
    assert clone.count(record) == counter.count(record)
    assert len(pickle.dumps(counter)) < 200


def test_count_tokens_accepts_records_dicts_and_messages() -> None:
    model = "gpt-4o-mini-2024-07-18"
    record = SFTRecord.single_turn("2+2?", "4", system="Be terse.")
    as_dict = record.to_dict()
    by_record = count_tokens(record, model=model)
    assert by_record == count_tokens(as_dict, model=model)
    assert by_record == count_tokens(as_dict["messages"], model=model)
    assert by_record == count_tokens(list(record.messages), model=model)
    assert by_record.total == cookbook_num_tokens_from_messages(as_dict["messages"], model)
    assert TokenCounter(model).count_record(record) == by_record
    only_models = count_tokens(
        [UserMessage(content="hi"), AssistantMessage(content="yo")], model=model
    )
    assert only_models.total == cookbook_num_tokens_from_messages(
        [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}], model
    )


def test_special_token_text_is_counted_as_text() -> None:
    got = count_tokens(
        [
            {"role": "user", "content": "<|endoftext|> and <|fim_suffix|>"},
            {"role": "assistant", "content": "ok"},
        ],
        model="gpt-3.5-turbo-0125",
    )
    assert got.total > 10


def test_bad_inputs_are_usage_errors() -> None:
    with pytest.raises(ftkit.UsageError):
        count_tokens("just a string", model="gpt-4o-mini-2024-07-18")
    with pytest.raises(ftkit.UsageError):
        TokenCounter("")
    with pytest.raises(ftkit.UsageError):
        TokenCounter("some-unknown-model-xyz")
    with pytest.raises(ftkit.UsageError):
        TokenCounter("gpt-4o-mini-2024-07-18").count_record({"messages": []})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "role",
                    "content",
                    "name",
                    "weight",
                    "tool_calls",
                    "function",
                    "arguments",
                    "type",
                    "text",
                    "image_url",
                    "url",
                    "detail",
                    "tools",
                    "parameters",
                    "properties",
                    "enum",
                    "description",
                    "messages",
                    "input",
                    "preferred_output",
                    "non_preferred_output",
                    "functions",
                    "function_call",
                ]
            )
            | st.text(max_size=5),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            ["messages", "input", "preferred_output", "non_preferred_output", "tools", "functions"]
        ),
        json_values,
        max_size=4,
    )
)
def test_odd_values_never_crash(obj: dict[str, Any]) -> None:
    got = TokenCounter("gpt-3.5-turbo-0613").count(obj)
    assert isinstance(got, ExampleTokens)
    assert got.billed <= got.total or got.over_limit
    assert 0 <= got.trained_lost <= got.trained


def test_lone_surrogates_and_the_fast_length_agree_with_encode_ordinary() -> None:
    model = "gpt-4o-mini-2024-07-18"
    counter = TokenCounter(model)
    encoding = encoding_for_model(model)
    for text in [
        "broken \ud800 pair",
        "<|endoftext|><|endofprompt|>",
        "東京 café 😀",
        "",
        "a" * 5000,
    ]:
        assert counter.text(text) == len(encoding.encode_ordinary(text))


def test_short_path_shapes_count_like_the_general_rule() -> None:
    """Plain role/content messages (the fast path) and their neighbours follow one rule."""
    from ftkit.tokens import TokenCounter, encoding_for_model

    model = "gpt-4o-mini-2024-07-18"
    counter = TokenCounter(model)
    enc = encoding_for_model(model)

    def total(*messages: dict[str, object]) -> int:
        return counter.count({"messages": list(messages)}).total

    plain = total({"role": "user", "content": "hi there"}, {"role": "assistant", "content": "ok"})
    expected = 3 + 3 + 3  # two messages and the reply primer
    expected += len(enc.encode("user")) + len(enc.encode("hi there"))
    expected += len(enc.encode("assistant")) + len(enc.encode("ok"))
    assert plain == expected
    named = total(
        {"role": "user", "content": "hi there", "name": "bob"},
        {"role": "assistant", "content": "ok"},
    )
    assert named == plain + len(enc.encode("bob")) + 1
    for weight in (0, 1):
        weighted = total(
            {"role": "user", "content": "hi there"},
            {"role": "assistant", "content": "ok", "weight": weight},
        )
        assert weighted == plain
    untrained = counter.count(
        {
            "messages": [
                {"role": "user", "content": "hi there"},
                {"role": "assistant", "content": "ok", "weight": 0},
            ]
        }
    )
    assert untrained.trained == 0

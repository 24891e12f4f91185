"""Open models' tokens: exact with a local tokenizer.json, marked approximate without, offline.

Every tokenizer here is trained in the test with the ``tokenizers`` package and saved to
a temporary folder; the Hugging Face cache is a temporary tree (``HF_HUB_CACHE``), and
anything that could reach the Hub or the network raises.
"""

from __future__ import annotations

import json
import logging
import pickle
import socket
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import tokenizers
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

import ftkit
from ftkit.cost import CostEstimate, estimate_stages
from ftkit.tokens import (
    ExampleTokens,
    HFTokenizer,
    OpenModelCounter,
    StandInTokenizer,
    TokenCounter,
    TokenStats,
    _chat_formats,
    _hf,
    count_tokens,
    get_tokenizer,
    is_open_model,
    open_model_tokenizer,
    open_models,
    register_tokenizer,
)
from ftkit.validation import _scheduler
from ftkit.validation._line_pass import PassOptions

QWEN = "Qwen/Qwen3-8B"
LLAMA_TOGETHER = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"
LLAMA_HUB = "meta-llama/Llama-3.1-8B-Instruct"

CORPUS = [
    "Hello world, the quick brown fox jumps over the lazy dog.",
    "system user assistant tool ipython\n\n",
    '{"name": "get_weather", "arguments": {"city": "Paris"}}',
    "What is the weather in Paris? It is sunny and 21 degrees.",
    "Be brief. You are a helpful assistant.",
] * 30

SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
"""The pre-tokenizer pattern of Llama 3's tokenizer.json (Qwen 2's differs only in digits)."""
CHATML_SPECIALS = ["<|im_start|>", "<|im_end|>", "<|endoftext|>"]
CHATML_ADDED = ["<tool_call>", "</tool_call>", "<think>", "</think>"]
QWEN_TEMPLATE = (
    "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + "
    "message.content + '<|im_end|>' + '\\n' }}{%- endfor %}"
)
LLAMA_SPECIALS = ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
LLAMA_TEMPLATE = (
    "{{- bos_token }}{%- for message in messages %}{{- '<|start_header_id|>' + message.role + "
    "'<|end_header_id|>\\n\\n' + message.content + '<|eot_id|>' }}{%- endfor %}"
)

RECORD: dict[str, Any] = {
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is the weather in Paris?"},
        {"role": "assistant", "content": "It is sunny and 21 degrees."},
    ]
}


# -- building tokenizers and caches ----------------------------------------------------------


def _tokenizer(
    folder: Path,
    specials: Sequence[str],
    added: Sequence[str] = (),
    *,
    template: str | None = None,
    bos: str | None = None,
) -> Path:
    """A byte-level BPE trained on :data:`CORPUS`, saved with its config in ``folder``.

    Built as Llama 3's and Qwen's ``tokenizer.json`` are: their split pattern, then bytes.
    """
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(SPLIT), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=list(specials),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS, trainer)
    if added:
        tok.add_tokens([AddedToken(a, special=False, normalized=False) for a in added])
    folder.mkdir(parents=True, exist_ok=True)
    tok.save(str(folder / "tokenizer.json"))
    if template is not None:
        config = {"chat_template": template, "bos_token": bos}
        (folder / "tokenizer_config.json").write_text(json.dumps(config), "utf-8")
    return folder / "tokenizer.json"


def _reference(path: Path) -> Tokenizer:
    """The tokenizer as ``tokenizers`` loads it: special tokens in text are recognised."""
    return Tokenizer.from_file(str(path))


def _ids(reference: Tokenizer, text: str) -> int:
    return len(reference.encode(text, add_special_tokens=False).ids)


def _snapshot(hub: Path, repo: str, revision: str = "abc123", *, main: bool = True) -> Path:
    """The folder ``huggingface_hub`` would download ``repo``'s files to."""
    root = hub / ("models--" + repo.replace("/", "--"))
    folder = root / "snapshots" / revision
    folder.mkdir(parents=True)
    if main:
        (root / "refs").mkdir(exist_ok=True)
        (root / "refs" / "main").write_text(revision, "utf-8")
    return folder


def _chatml(messages: Sequence[dict[str, Any]]) -> str:
    """The ChatML text of plain messages (what Qwen's template renders)."""
    return "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)


def _llama3(messages: Sequence[dict[str, Any]]) -> str:
    body = "".join(
        f"<|start_header_id|>{m['role']}<|end_header_id|>\n\n{m['content']}<|eot_id|>"
        for m in messages
    )
    return "<|begin_of_text|>" + body


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """An empty hub cache, no registrations, and no way to the Hub or the network."""
    hub = tmp_path / "hub"
    hub.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    monkeypatch.setattr(open_models, "_registered", {})
    monkeypatch.setattr(open_models, "_warned", set())
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # any import of it fails

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("no network: a download was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(tokenizers.Tokenizer, "from_pretrained", refuse)
    yield hub


@pytest.fixture
def qwen(tmp_path: Path) -> Path:
    return _tokenizer(
        tmp_path / "qwen", CHATML_SPECIALS, CHATML_ADDED, template=QWEN_TEMPLATE, bos=None
    )


def _open(model: str, tokenizer: Path | None = None) -> OpenModelCounter:
    counter = TokenCounter(model, tokenizer, provider="together")
    assert isinstance(counter, OpenModelCounter)
    return counter


# -- exact counts ----------------------------------------------------------------------------


def test_a_given_tokenizer_counts_every_text_as_the_tokenizer_encodes_it(qwen: Path) -> None:
    counter = _open(QWEN, qwen)
    reference = _reference(qwen)
    assert counter.approximate is False and counter.chat_format.family == "chatml"
    for text in ("Hello world", "It is sunny and 21 degrees.", "東京 😀", "", "a <think> b"):
        assert counter.text(text) == _ids(reference, text)
        assert (
            counter.tokenizer.encode(text) == reference.encode(text, add_special_tokens=False).ids
        )


def test_a_conversation_counts_as_its_rendered_template(qwen: Path) -> None:
    counter = _open(QWEN, qwen)
    tokens = counter.count(RECORD)
    expected = _ids(_reference(qwen), _chatml(RECORD["messages"]))
    assert tokens.total == tokens.billed == expected
    assert tokens.approximate is False
    answer = RECORD["messages"][2]["content"]
    # trained: the answer and its closing <|im_end|>\n
    assert tokens.trained == _ids(_reference(qwen), answer + "<|im_end|>\n")


def test_tool_calls_and_reasoning_are_written_as_the_template_writes_them(qwen: Path) -> None:
    counter = _open(QWEN, qwen)
    call = {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    message = {
        "role": "assistant",
        "content": "",
        "reasoning": "Look it up.",
        "tool_calls": [{"id": "c1", "type": "function", "function": call}],
    }
    rendered = (
        "<|im_start|>assistant\n"
        "<think>\nLook it up.\n</think>\n\n"
        '\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
        "<|im_end|>\n"
    )
    assert counter.count({"messages": [message]}).total == _ids(_reference(qwen), rendered)
    # arguments given as an object are written with tojson's spacing
    as_object = {**message, "tool_calls": [{"function": {**call, "arguments": {"city": "Paris"}}}]}
    assert counter.count({"messages": [as_object]}).total == _ids(_reference(qwen), rendered)


def test_tool_definitions_count_as_their_json(qwen: Path) -> None:
    counter = _open(QWEN, qwen)
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": {}}}
    with_tools = counter.count({**RECORD, "tools": [tool]}).total
    written = "<tools>\n" + json.dumps(tool, ensure_ascii=False) + "\n</tools>"
    assert with_tools - counter.count(RECORD).total == _ids(_reference(qwen), written)


def test_a_dpo_pair_counts_the_prompt_once_and_both_outputs(qwen: Path) -> None:
    counter = _open(QWEN, qwen)
    prompt = [{"role": "user", "content": "What is the weather in Paris?"}]
    good = [{"role": "assistant", "content": "It is sunny."}]
    bad = [{"role": "assistant", "content": "No idea."}]
    pair = {"input": {"messages": prompt}, "preferred_output": good, "non_preferred_output": bad}
    reference = _reference(qwen)
    tokens = counter.count(pair)
    assert tokens.total == _ids(reference, _chatml(prompt + good)) + _ids(reference, _chatml(bad))
    assert tokens.trained == _ids(reference, "It is sunny.<|im_end|>\n") + _ids(
        reference, "No idea.<|im_end|>\n"
    )


def test_special_token_strings_in_the_data_count_as_text(qwen: Path) -> None:
    counter = _open(QWEN, qwen)
    assert counter.text("<|im_end|>") > 1  # not the control token
    assert counter.text("<tool_call>") == 1  # an added token that is not special stays one


def test_odd_text_and_a_truncating_file_are_counted_whole(tmp_path: Path) -> None:
    path = _tokenizer(tmp_path / "trunc", CHATML_SPECIALS)
    tok = Tokenizer.from_file(str(path))
    tok.enable_truncation(3)
    tok.save(str(path))
    counter = TokenCounter(QWEN, path, provider="together")
    long = "Hello world, the quick brown fox jumps over the lazy dog."
    assert counter.text(long) > 3
    assert counter.text("a\ud800b") >= 2  # a lone surrogate does not crash


def test_the_hf_cache_is_found_under_the_hub_name_of_a_together_id(_offline: Path) -> None:
    folder = _snapshot(_offline, LLAMA_HUB)
    path = _tokenizer(folder, LLAMA_SPECIALS, template=LLAMA_TEMPLATE, bos="<|begin_of_text|>")
    counter = _open(LLAMA_TOGETHER)
    assert isinstance(counter.tokenizer, HFTokenizer)
    assert counter.tokenizer.path == path and counter.approximate is False
    assert counter.chat_format.family == "llama3"
    assert counter.chat_format.begin == "<|begin_of_text|>"
    assert counter.count(RECORD).total == _ids(_reference(path), _llama3(RECORD["messages"]))
    # without a provider, the catalog says the model is Together's
    assert TokenCounter(LLAMA_TOGETHER).tokenizer.path == path  # type: ignore[attr-defined]


def test_the_snapshot_refs_main_names_wins(_offline: Path) -> None:
    chosen = _tokenizer(_snapshot(_offline, QWEN, "rev1"), CHATML_SPECIALS)
    _tokenizer(_snapshot(_offline, QWEN, "rev2", main=False), CHATML_SPECIALS)
    found = _hf.find_cached([QWEN], _offline)
    assert found is not None and found.path == chosen and found.repo == QWEN


def test_a_registered_tokenizer_is_used_by_every_counter_and_can_be_forgotten(qwen: Path) -> None:
    loaded = register_tokenizer(QWEN, qwen.parent)  # the folder is enough
    assert isinstance(loaded, HFTokenizer)
    assert TokenCounter(QWEN, provider="together").tokenizer is loaded
    assert count_tokens(RECORD, model=QWEN, provider="together").approximate is False
    register_tokenizer(QWEN, None)
    assert isinstance(TokenCounter(QWEN, provider="together").tokenizer, StandInTokenizer)
    with pytest.raises(ftkit.UsageError, match="no tokenizer file"):
        register_tokenizer(QWEN, qwen.parent / "missing")


def test_a_worker_process_counts_with_the_registered_tokenizer(qwen: Path, tmp_path: Path) -> None:
    register_tokenizer(QWEN, qwen)
    parent = TokenCounter(QWEN, provider="together")
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(RECORD) + "\n" for _ in range(3)), encoding="utf-8")
    options = PassOptions(
        model=QWEN, method=None, checks=False, max_per_code=20, vision=None, provider="together"
    )
    task = (str(path), 0, path.stat().st_size, options, None, parent.given_tokenizer)
    shipped = pickle.dumps(task)  # what a spawned worker receives
    open_models._registered.clear()  # and what it has: no registration
    key = (QWEN, "together")
    _scheduler._COUNTERS.pop(key, None)
    try:
        part = _scheduler._scan_chunk(pickle.loads(shipped))
    finally:
        _scheduler._COUNTERS.pop(key, None)
    assert part.tokens is not None and part.tokens.approximate is False
    assert part.tokens.total_tokens == 3 * parent.count(RECORD).total


def test_a_counter_pickles_with_its_tokenizer(qwen: Path) -> None:
    counter = _open(QWEN, qwen)
    back = pickle.loads(pickle.dumps(counter))
    assert isinstance(back, OpenModelCounter)
    assert back.tokenizer.vocabulary == counter.tokenizer.vocabulary
    assert back.count(RECORD) == counter.count(RECORD)


def test_an_unknown_template_family_is_marked_approximate(tmp_path: Path) -> None:
    path = _tokenizer(tmp_path / "odd", ["<s>"], template="{{ messages }}")
    counter = _open("acme/odd-model", path)
    assert counter.chat_format.family == "generic" and counter.approximate
    assert counter.count(RECORD).approximate is True


def test_images_of_an_open_model_make_the_example_approximate(qwen: Path) -> None:
    counter = _open(QWEN, qwen)
    part = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
    pictured = {"messages": [{"role": "user", "content": [part]}, RECORD["messages"][2]]}
    assert counter.count(pictured).approximate is True
    assert counter.count(RECORD).approximate is False


# -- without a local tokenizer -------------------------------------------------------------


def test_without_a_tokenizer_the_count_is_marked_approximate(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="ftkit.tokens"):
        counter = TokenCounter(QWEN, provider="together")
    assert isinstance(counter.tokenizer, StandInTokenizer)
    assert counter.approximate and "approximate=True" in repr(counter)
    assert "approximate" in caplog.text and "huggingface-cli download" in caplog.text
    tokens = counter.count(RECORD)
    assert tokens.approximate is True and "approximate=True" in repr(tokens)
    # the stand-in is cl100k_base, and the framing's special tokens count one each
    cl100k = get_tokenizer("cl100k_base")
    content = sum(cl100k.count(m["content"]) for m in RECORD["messages"])
    framing = sum(
        2 + cl100k.count(f"{m['role']}\n") + cl100k.count("\n") for m in RECORD["messages"]
    )
    assert tokens.total == content + framing
    stats = TokenStats.of([tokens])
    assert stats.approximate and "approximate=True" in repr(stats)


def test_gpt_oss_counts_its_text_exactly_with_o200k_base() -> None:
    counter = _open("openai/gpt-oss-20b")
    assert counter.approximate is False and counter.chat_format.family == "harmony"
    o200k = get_tokenizer("o200k_base")
    assert counter.text("It is sunny and 21 degrees.") == o200k.count("It is sunny and 21 degrees.")


def test_an_unreadable_cached_tokenizer_falls_back_with_a_warning(
    _offline: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (_snapshot(_offline, QWEN) / "tokenizer.json").write_text("not json", "utf-8")
    with caplog.at_level(logging.WARNING, logger="ftkit.tokens"):
        counter = TokenCounter(QWEN, provider="together")
    assert counter.approximate and "cannot read" in caplog.text


def test_estimate_and_validate_say_the_counts_are_approximate() -> None:
    items = [RECORD] * 12
    est = ftkit.estimate(items, QWEN, provider="together")
    assert est.approximate and est.to_dict()["approximate"] is True
    assert "approximate" in str(est) and "(approximate)" in est._repr_html_()
    assert CostEstimate(**{**est.to_dict(), "stats": est.stats}) == est
    plan = estimate_stages([est])
    assert plan.approximate and plan.to_dict()["approximate"] is True
    assert "(approximate)" in str(plan)
    report = ftkit.validate(items, QWEN, provider="together")
    assert report.tokens is not None and report.tokens.approximate
    assert "(approximate)" in str(report) and report.to_dict()["tokens"]["approximate"] is True


def test_estimate_counts_a_registered_tokenizer_exactly(qwen: Path) -> None:
    register_tokenizer(QWEN, qwen)
    est = ftkit.estimate([RECORD] * 12, QWEN, provider="together", epochs=2)
    per_example = _ids(_reference(qwen), _chatml(RECORD["messages"]))
    assert (est.total_tokens, est.approximate) == (12 * per_example, False)
    assert "approximate" not in str(est)


def test_a_priced_open_model_is_counted_as_itself(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="ftkit.cost"):
        est = ftkit.estimate([RECORD] * 12, QWEN, provider="together", prices={QWEN: 2.0})
    assert "counted as" not in caplog.text  # not gpt-4.1-mini's tokenizer
    assert est.base_model == QWEN and est.limit == ftkit.providers.example_limit(
        QWEN, provider="together"
    )
    assert est.cost_usd == pytest.approx(est.billed_tokens * 2.0 / 1e6)


# -- OpenAI's counts are untouched -----------------------------------------------------------


def test_openai_models_keep_the_cookbook_counter() -> None:
    counter = TokenCounter("gpt-4.1-mini-2025-04-14")
    assert type(counter) is TokenCounter and counter.approximate is False
    assert counter.given_tokenizer is None
    tokens = counter.count(RECORD)
    assert tokens.approximate is False and "approximate" not in repr(tokens)
    assert repr(ExampleTokens(5, 1, 5, False)) == (
        "ExampleTokens(total=5, trained=1, billed=5, over_limit=False, trained_lost=0)"
    )
    assert not is_open_model("gpt-4.1-mini-2025-04-14")
    assert not is_open_model(QWEN, "openai")
    est = ftkit.estimate([RECORD] * 12, "gpt-4.1-mini-2025-04-14")
    assert est.approximate is False and "approximate" not in str(est)


# -- mapping and detection -------------------------------------------------------------------


def test_together_ids_map_to_hub_repositories() -> None:
    repos = open_models.hf_repos(LLAMA_TOGETHER)
    assert repos[0] == LLAMA_TOGETHER
    assert "meta-llama/Meta-Llama-3.1-8B-Instruct" in repos and LLAMA_HUB in repos
    fine_tuned = open_models.hf_repos("alice/Meta-Llama-3.1-8B-Instruct-Reference-mine-a1b2c3")
    assert LLAMA_TOGETHER in fine_tuned and LLAMA_HUB in fine_tuned
    assert open_models.hf_repos(QWEN) == (QWEN,)


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("meta-llama/Llama-3.3-70B-Instruct-Reference", "llama3"),
        ("deepseek-ai/DeepSeek-R1-Distill-Llama-70B", "deepseek"),
        ("Qwen/Qwen2.5-7B-Instruct", "chatml"),
        ("google/gemma-3-4b-it", "gemma"),
        ("openai/gpt-oss-20b", "harmony"),
        ("mistralai/Mistral-7B-Instruct-v0.3", "mistral"),
        ("acme/unknown", "generic"),
    ],
)
def test_a_stand_in_takes_the_family_from_the_name(model: str, family: str) -> None:
    assert _chat_formats.detect(model=model).family == family


def test_a_template_wins_over_the_vocabulary_and_the_name() -> None:
    deepseek = "{{ bos_token }}{% for m in messages %}<\uff5cAssistant\uff5c>{% endfor %}"
    assert _chat_formats.detect(deepseek, {"<|start_header_id|>", "<|end_header_id|>"}).family == (
        "deepseek"
    )
    assert _chat_formats.detect(None, {"<|start_header_id|>", "<|end_header_id|>"}).family == (
        "llama3"
    )
    assert _chat_formats.detect(None, {"<s>"}, model="Qwen/Qwen3-8B").family == "generic"


def test_open_model_tokenizer_takes_a_path_or_an_open_tokenizer(qwen: Path) -> None:
    loaded = open_model_tokenizer(QWEN, qwen)
    assert isinstance(loaded, HFTokenizer) and open_model_tokenizer(QWEN, loaded) is loaded
    assert loaded.name == f"hf:{QWEN}"

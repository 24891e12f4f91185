"""Fireworks AI's models count as open models: exact with their repository's tokenizer.json.

A Fireworks id (``accounts/fireworks/models/llama-v3p1-8b-instruct``) is not a Hugging
Face repository id; its catalog entry names the repository (``tokenizer_repo``), under
which a registered tokenizer or the local Hub cache is found. Every tokenizer here is
trained in the test; the cache is a temporary tree and the network is refused.
"""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import tokenizers
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

import ftkit
from ftkit.tokens import (
    OpenModelCounter,
    StandInTokenizer,
    TokenCounter,
    is_open_model,
    open_models,
    register_tokenizer,
)

hf_repos = open_models.hf_repos
LLAMA = "accounts/fireworks/models/llama-v3p1-8b-instruct"
LLAMA_HUB = "meta-llama/Llama-3.1-8B-Instruct"
QWEN = "accounts/fireworks/models/qwen2p5-7b-instruct"
SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
CORPUS = [
    "Hello world, the quick brown fox jumps over the lazy dog.",
    "system user assistant\n\n",
    "What is the weather in Paris? It is sunny and 21 degrees.",
] * 30
LLAMA_SPECIALS = ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
LLAMA_TEMPLATE = (
    "{{- bos_token }}{%- for message in messages %}{{- '<|start_header_id|>' + message.role + "
    "'<|end_header_id|>\\n\\n' + message.content + '<|eot_id|>' }}{%- endfor %}"
)
RECORD: dict[str, Any] = {
    "messages": [
        {"role": "user", "content": "What is the weather in Paris?"},
        {"role": "assistant", "content": "It is sunny and 21 degrees."},
    ]
}


def _llama_tokenizer(folder: Path) -> Path:
    """A small byte-level BPE with Llama 3's split pattern, specials and chat template."""
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
        special_tokens=LLAMA_SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS, trainer)
    folder.mkdir(parents=True, exist_ok=True)
    tok.save(str(folder / "tokenizer.json"))
    config = {"chat_template": LLAMA_TEMPLATE, "bos_token": "<|begin_of_text|>"}
    (folder / "tokenizer_config.json").write_text(json.dumps(config), "utf-8")
    return folder / "tokenizer.json"


def _rendered(messages: Sequence[dict[str, Any]]) -> str:
    body = "".join(
        f"<|start_header_id|>{m['role']}<|end_header_id|>\n\n{m['content']}<|eot_id|>"
        for m in messages
    )
    return "<|begin_of_text|>" + body


def _ids(path: Path, text: str) -> int:
    return len(Tokenizer.from_file(str(path)).encode(text, add_special_tokens=False).ids)


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """An empty hub cache, no registrations, and no way to the Hub or the network."""
    hub = tmp_path / "hub"
    hub.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    monkeypatch.setattr(open_models, "_registered", {})
    monkeypatch.setattr(open_models, "_warned", set())
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("no network: a download was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(tokenizers.Tokenizer, "from_pretrained", refuse)
    ftkit.providers.reset()
    yield hub
    ftkit.providers.reset()


@pytest.fixture
def llama(tmp_path: Path) -> Path:
    return _llama_tokenizer(tmp_path / "llama")


def _counter(model: str = LLAMA, tokenizer: Path | None = None) -> OpenModelCounter:
    counter = TokenCounter(model, tokenizer, provider="fireworks")
    assert isinstance(counter, OpenModelCounter)
    return counter


def test_fireworks_models_are_open_models() -> None:
    assert "fireworks" in open_models.OPEN_MODEL_PROVIDERS
    assert is_open_model(LLAMA, "fireworks") and is_open_model(LLAMA)
    assert is_open_model("llama-v3p1-8b-instruct")  # the short id, through the catalog
    assert not is_open_model("gpt-4.1-mini-2025-04-14")


@pytest.mark.parametrize("model", [LLAMA, "llama-v3p1-8b-instruct"])
def test_an_id_maps_to_its_repository(model: str) -> None:
    assert hf_repos(model) == (model, LLAMA_HUB)
    assert hf_repos(QWEN) == (QWEN, "Qwen/Qwen2.5-7B-Instruct")
    assert hf_repos("accounts/acme/models/my-lora") == ("accounts/acme/models/my-lora",)


def test_a_tokenizer_registered_under_the_repository_counts_exactly(llama: Path) -> None:
    register_tokenizer(LLAMA_HUB, llama.parent)
    counter = _counter()
    assert counter.approximate is False and counter.chat_format.family == "llama3"
    tokens = counter.count(RECORD)
    assert tokens.total == tokens.billed == _ids(llama, _rendered(RECORD["messages"]))
    assert tokens.trained == _ids(llama, "It is sunny and 21 degrees.<|eot_id|>")
    assert tokens.approximate is False
    assert counter.limit is None  # Fireworks' catalog gives no per-example limit


def test_the_hub_cache_is_found_under_the_repository(llama: Path, _offline: Path) -> None:
    snapshot = _offline / f"models--{LLAMA_HUB.replace('/', '--')}" / "snapshots" / "abc"
    snapshot.mkdir(parents=True)
    (snapshot / "tokenizer.json").write_bytes(llama.read_bytes())
    (snapshot / "tokenizer_config.json").write_bytes(
        (llama.parent / "tokenizer_config.json").read_bytes()
    )
    counter = _counter("llama-v3p1-8b-instruct")
    assert counter.approximate is False
    assert counter.count(RECORD).total == _ids(llama, _rendered(RECORD["messages"]))


def test_without_a_tokenizer_the_count_is_approximate_in_the_models_family(
    caplog: pytest.LogCaptureFixture,
) -> None:
    counter = _counter()
    assert counter.approximate is True and isinstance(counter.tokenizer, StandInTokenizer)
    # The Fireworks id names no family ftkit knows; its repository does.
    assert counter.chat_format.family == "llama3"
    assert _counter(QWEN).chat_format.family == "chatml"
    assert counter.count(RECORD).approximate is True
    assert "meta-llama/Llama-3.1-8B-Instruct tokenizer.json" in caplog.text


def test_validate_and_estimate_say_the_counts_are_approximate() -> None:
    records = [RECORD] * 3
    report = ftkit.validate(records, model=LLAMA, near_duplicates=None)
    assert report.tokens is not None and report.tokens.approximate
    assert ftkit.estimate(records, model=LLAMA, provider="fireworks").approximate


def test_estimate_counts_a_registered_tokenizer_exactly(llama: Path) -> None:
    register_tokenizer(LLAMA, llama)  # under the Fireworks id itself
    estimate = ftkit.estimate([RECORD] * 3, model=LLAMA, provider="fireworks", epochs=1)
    assert estimate.approximate is False
    assert estimate.billed_tokens == 3 * _ids(llama, _rendered(RECORD["messages"]))

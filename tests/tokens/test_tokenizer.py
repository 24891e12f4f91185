"""The Tokenizer seam: tiktoken by default, the accelerator only when verified, any other given."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable

import pytest

from ftkit.tokens import TokenCounter, Tokenizer, _fast, get_tokenizer
from ftkit.tokens import tokenizer as tok_mod
from ftkit.tokens.encoding import get_encoding, vocabulary_sha256

ENCODINGS = ["o200k_base", "cl100k_base"]


class _Candidate:
    """An accelerator stand-in: tiktoken's counts, shifted where ``wrong`` says."""

    def __init__(
        self, name: str, vocabulary: str, wrong: Callable[[str], bool] = lambda _t: False
    ) -> None:
        self.name = name
        self.vocabulary = vocabulary
        self._wrong = wrong
        self._reference = get_encoding(name).encode_ordinary

    def encode(self, text: str) -> list[int]:
        return list(self._reference(text))

    def count(self, text: str) -> int:
        return len(self._reference(text)) + (1 if self._wrong(text) else 0)


def _offer(monkeypatch: pytest.MonkeyPatch, candidate: object) -> None:
    monkeypatch.setattr(tok_mod, "accelerator", lambda _name: candidate)


@pytest.mark.parametrize("name", ENCODINGS)
def test_both_implementations_keep_the_protocol(name: str) -> None:
    reference = get_encoding(name)
    fast = _fast.accelerator(name)
    assert fast is not None
    tokenizers: list[Tokenizer] = [
        tok_mod.TiktokenTokenizer(reference, vocabulary_sha256(name)),
        fast,
    ]
    for tokenizer in tokenizers:
        assert tokenizer.name == name
        assert tokenizer.vocabulary == vocabulary_sha256(name)
        for text in tok_mod.SELF_TEST:
            assert list(tokenizer.encode(text)) == reference.encode_ordinary(text)
            assert tokenizer.count(text) == len(reference.encode_ordinary(text))


def test_a_verified_accelerator_is_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    candidate = _Candidate("o200k_base", vocabulary_sha256("o200k_base"))
    _offer(monkeypatch, candidate)
    assert tok_mod._choose("o200k_base") is candidate


def test_a_vocabulary_hash_mismatch_falls_back_to_tiktoken(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Same counts, other vocabulary: the hash alone decides.
    _offer(monkeypatch, _Candidate("o200k_base", vocabulary_sha256("cl100k_base")))
    with caplog.at_level(logging.WARNING, logger="ftkit.tokens"):
        chosen = tok_mod._choose("o200k_base")
    assert isinstance(chosen, tok_mod.TiktokenTokenizer)
    assert chosen.encoding is get_encoding("o200k_base")
    assert "sha256" in caplog.text


@pytest.mark.parametrize("index", range(len(tok_mod.SELF_TEST)))
def test_a_self_test_disagreement_falls_back_to_tiktoken(
    index: int, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    wrong_text = tok_mod.SELF_TEST[index]
    candidate = _Candidate("cl100k_base", vocabulary_sha256("cl100k_base"), wrong_text.__eq__)
    _offer(monkeypatch, candidate)
    with caplog.at_level(logging.WARNING, logger="ftkit.tokens"):
        chosen = tok_mod._choose("cl100k_base")
    assert isinstance(chosen, tok_mod.TiktokenTokenizer)
    assert "self-test" in caplog.text


def test_an_accelerator_that_raises_falls_back_to_tiktoken(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(text: str) -> bool:
        raise RuntimeError("backend crashed")

    _offer(monkeypatch, _Candidate("o200k_base", vocabulary_sha256("o200k_base"), broken))
    assert isinstance(tok_mod._choose("o200k_base"), tok_mod.TiktokenTokenizer)


def test_no_accelerator_means_tiktoken(monkeypatch: pytest.MonkeyPatch) -> None:
    _offer(monkeypatch, None)
    monkeypatch.setattr(tok_mod, "_cache", {})
    chosen = get_tokenizer("cl100k_base")
    assert isinstance(chosen, tok_mod.TiktokenTokenizer)
    assert chosen is get_tokenizer("cl100k_base")  # cached per process
    assert TokenCounter("gpt-3.5-turbo-0125").tokenizer is chosen


class WordTokenizer:
    """A tokenizer tiktoken knows nothing of: one token per whitespace-separated word."""

    name = "words"
    vocabulary = "words-v1"

    def encode(self, text: str) -> list[int]:
        return [len(word) for word in text.split()]

    def count(self, text: str) -> int:
        return len(text.split())


def test_another_tokenizer_counts_with_the_same_rules() -> None:
    counter = TokenCounter("meta-llama/Llama-3.1-8B-Instruct", WordTokenizer())
    assert counter.encoding_name == "words"
    record = {
        "messages": [
            {"role": "user", "content": "how are you", "name": "ana"},
            {"role": "assistant", "content": "fine thanks"},
        ]
    }
    # (3 + user + 3 words + ana + 1) + (3 + assistant + 2 words) + 3 primer
    tokens = counter.count(record)
    assert (tokens.total, tokens.trained) == (9 + 6 + 3, 2)
    copy = pickle.loads(pickle.dumps(counter))
    assert isinstance(copy.tokenizer, WordTokenizer) and copy.count(record) == tokens


def test_the_default_tokenizer_is_rebuilt_by_name_after_pickling() -> None:
    counter = TokenCounter("gpt-4o-mini-2024-07-18")
    copy = pickle.loads(pickle.dumps(counter))
    assert copy.tokenizer is get_tokenizer("o200k_base")
    assert len(pickle.dumps(counter)) < 200  # the name travels, not the vocabulary

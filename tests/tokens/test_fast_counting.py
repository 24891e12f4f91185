"""The bpe-openai fast path counts exactly what tiktoken counts, or is not used."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftkit.tokens import _fast
from ftkit.tokens import encoding as enc_mod
from ftkit.tokens import tokenizer as tok_mod
from ftkit.tokens.counting import TokenCounter
from ftkit.tokens.encoding import get_encoding

ENCODINGS = ["o200k_base", "cl100k_base"]
REPO = Path(__file__).resolve().parents[2]


def _reference(name: str) -> Any:
    return get_encoding(name).encode_ordinary


def _fast_or_fail(name: str) -> Any:
    fast = tok_mod.get_tokenizer(name)
    assert isinstance(fast, _fast.FastTokenizer), (
        "the dev install has bpe-openai: the fast path must be usable"
    )
    return fast.count


@pytest.mark.parametrize("name", ENCODINGS)
def test_self_test_counts_are_tiktoken_counts(name: str) -> None:
    counts = tuple(len(_reference(name)(text)) for text in tok_mod.SELF_TEST)
    assert counts == tok_mod.SELF_TEST_COUNTS[name]


def _strings(value: Any, out: set[str]) -> None:
    if isinstance(value, str):
        out.add(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            out.add(str(key))
            _strings(item, out)
    elif isinstance(value, list):
        for item in value:
            _strings(item, out)


@pytest.mark.parametrize("name", ENCODINGS)
def test_every_string_of_the_real_datasets_counts_the_same(name: str, real_datasets: Path) -> None:
    texts: set[str] = set()
    files = sorted(real_datasets.glob("*.jsonl")) + sorted((REPO / "examples/data").glob("*.jsonl"))
    assert len(files) >= 5
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                _strings(json.loads(line), texts)
            except ValueError:
                continue
    # JSON-serialised tool arguments and whole lines too: long, punctuation-heavy text.
    texts.update(path.read_text(encoding="utf-8")[:200_000] for path in files)
    assert len(texts) > 5_000
    fast, reference = _fast_or_fail(name), _reference(name)
    wrong = [text[:60] for text in texts if fast(text) != len(reference(text))]
    assert wrong == []


_PIECES = [
    " ", "  ", "\t", "\n", "\r\n", "\n\n  ", "\u00a0", "\u3000", "\u2028", "a", "Z", "7", "42",
    "12345", "'s", "'LL", "’", "\"", "!?", ".", "...", ",", "-", "_", "<|endoftext|>", "<|",
    "é", "É", "ß", "İ", "ı", "ǅ", "ﬁ", "\u0301", "\u0308", "東京", "한국어", "ไทย", "число",
    "Ελλάδα", "😀", "👍🏽", "\U0001f1eb\U0001f1f7", "\u200d", "\ufeff", "٣", "Ⅻ", "²", "𝔸",
    "def f(x):", "    return x**2", "https://example.com/a?b=c", "{\"k\": [1, 2]}",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(_PIECES) | st.text(max_size=8), max_size=40),
    st.sampled_from(ENCODINGS),
)
def test_generated_text_counts_the_same(pieces: list[str], name: str) -> None:
    text = "".join(pieces)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return  # lone surrogates go to tiktoken (tested below)
    assert _fast_or_fail(name)(text) == len(_reference(name)(text))


def test_lone_surrogates_count_as_tiktoken_counts_them() -> None:
    counter = TokenCounter("gpt-4o-mini-2024-07-18")
    text = "caf\ud800e au lait"
    assert counter.text(text) == len(get_encoding("o200k_base").encode_ordinary(text))
    fast = _fast.accelerator("o200k_base")
    assert fast is not None
    assert fast.encode(text) == get_encoding("o200k_base").encode_ordinary(text)


def test_the_switch_turns_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_fast.ENV, "0")
    assert _fast.accelerator("o200k_base") is None
    assert isinstance(tok_mod._choose("o200k_base"), tok_mod.TiktokenTokenizer)


def test_a_tampered_wheel_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "o200k_base.tiktoken.gz").write_bytes(gzip.compress(b"YQ== 0\n"))
    monkeypatch.setattr(_fast, "_locate", lambda: tmp_path)
    assert _fast._bundle_vocabulary(tmp_path, "o200k_base") != enc_mod.vocabulary_sha256(
        "o200k_base"
    )
    assert isinstance(tok_mod._choose("o200k_base"), tok_mod.TiktokenTokenizer)
    assert _fast.accelerator("r50k_base") is None  # not an encoding ftkit verified


@pytest.mark.parametrize("name", ENCODINGS)
def test_known_bundles_hold_the_pinned_vocabularies(name: str, tmp_path: Path) -> None:
    import hashlib

    located = _fast._locate()
    assert located is not None
    compressed = (located / "data" / f"{name}.tiktoken.gz").read_bytes()
    known = _fast.KNOWN_BUNDLES.get(hashlib.sha256(compressed).hexdigest())
    if known is None:
        pytest.skip("this platform's wheel compressed the vocabulary differently")
    # A known compressed file decompresses to tiktoken's pin: the shortcut is sound.
    contents = gzip.decompress(compressed)
    assert hashlib.sha256(contents).hexdigest() == known == enc_mod.vocabulary_sha256(name)
    # Another compression of the same vocabulary is not a known bundle: it is checked by contents.
    recompressed = gzip.compress(contents, mtime=1)
    assert hashlib.sha256(recompressed).hexdigest() not in _fast.KNOWN_BUNDLES
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / f"{name}.tiktoken.gz").write_bytes(recompressed)
    assert _fast._bundle_vocabulary(tmp_path, name) == enc_mod.vocabulary_sha256(name)


def test_an_unverified_backend_or_wrong_counts_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Tokenizer:
        def __init__(self, extra: int) -> None:
            self.extra = extra

        def count(self, text: str) -> int:
            return len(_reference("o200k_base")(text)) + self.extra

        def encode(self, text: str) -> list[int]:
            return list(_reference("o200k_base")(text))

    class Bindings:
        RUST_BACKEND_VERSION = "0.1.0"
        extra = 0

        @classmethod
        def tokenizer_for_encoding(cls, name: str) -> Tokenizer:
            return Tokenizer(cls.extra)

    monkeypatch.setattr(_fast, "_load_bindings", lambda _folder: Bindings)
    assert isinstance(tok_mod._choose("o200k_base"), _fast.FastTokenizer)
    Bindings.extra = 1  # one token off on the self-test
    assert isinstance(tok_mod._choose("o200k_base"), tok_mod.TiktokenTokenizer)
    Bindings.extra = 0
    Bindings.RUST_BACKEND_VERSION = "9.9.9"
    assert _fast.accelerator("o200k_base") is None
    assert isinstance(tok_mod._choose("o200k_base"), tok_mod.TiktokenTokenizer)


def test_counters_use_it_and_agree_with_tiktoken_counters(monkeypatch: pytest.MonkeyPatch) -> None:
    record = {
        "messages": [
            {"role": "system", "content": "Be brief. " * 50},
            {"role": "user", "content": "Wie spät ist es in 東京? 😀", "name": "ana"},
            {"role": "assistant", "content": "Il est tard.", "weight": 1},
            # A refusal sends the message down the general path; it is counted by neither.
            {"role": "assistant", "content": "Non.", "refusal": "Je refuse. " * 30},
        ]
    }
    fast = TokenCounter("gpt-4.1-mini-2025-04-14").count(record)
    no_refusal = {"messages": [*record["messages"][:3], {"role": "assistant", "content": "Non."}]}
    assert TokenCounter("gpt-4.1-mini-2025-04-14").count(no_refusal) == fast
    monkeypatch.setenv(_fast.ENV, "0")
    monkeypatch.setattr(tok_mod, "_cache", {})
    slow = TokenCounter("gpt-4.1-mini-2025-04-14").count(record)
    assert fast == slow


def test_loading_skips_the_package_init_and_the_package_still_imports() -> None:
    code = (
        "import sys\n"
        "from ftkit.tokens import get_tokenizer\n"
        "assert type(get_tokenizer('o200k_base')).__name__ == 'FastTokenizer'\n"
        "assert 'bpe_openai' not in sys.modules\n"
        "import bpe_openai\n"
        "print(bpe_openai.get_encoding('cl100k_base').encode('hello world'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[15339, 1917]"


def test_rank_files_parse_by_position_or_by_number() -> None:
    sequential = b"YQ== 0\nYg== 1\nYw== 2\n"
    assert enc_mod._parse_ranks(sequential, "x") == {b"a": 0, b"b": 1, b"c": 2}
    numbered = b"YQ== 5\nYg== 7\n"
    assert enc_mod._parse_ranks(numbered, "x") == {b"a": 5, b"b": 7}
    with pytest.raises(enc_mod.TokenizerUnavailable):
        enc_mod._parse_ranks(b"YQ==\n", "x")
    with pytest.raises(enc_mod.TokenizerUnavailable):
        enc_mod._parse_ranks(b"\n", "x")

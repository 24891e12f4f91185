"""Offline, verified tokenizer access; never a silent wrong encoding."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest

import ftkit
from ftkit.tokens import base_model, encoding_for_model, encoding_name_for_model
from ftkit.tokens import encoding as enc_mod


@pytest.mark.parametrize(
    ("model", "base", "encoding"),
    [
        ("gpt-4.1-mini-2025-04-14", "gpt-4.1-mini-2025-04-14", "o200k_base"),
        ("ft:gpt-4.1-mini-2025-04-14:acme:sarcasm:AbC123", "gpt-4.1-mini-2025-04-14", "o200k_base"),
        ("ft:gpt-4.1-2025-04-14:acme::AbC123:ckpt-step-90", "gpt-4.1-2025-04-14", "o200k_base"),
        ("ft:o4-mini-2025-04-16:acme::x", "o4-mini-2025-04-16", "o200k_base"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini-2024-07-18", "o200k_base"),
        ("gpt-3.5-turbo-0125", "gpt-3.5-turbo-0125", "cl100k_base"),
        ("ft:gpt-3.5-turbo-0125:acme::x", "gpt-3.5-turbo-0125", "cl100k_base"),
        ("gpt-35-turbo-0125.ft-0123456789abcdef", "gpt-35-turbo-0125", "cl100k_base"),
        ("davinci-002", "davinci-002", "cl100k_base"),
    ],
)
def test_encoding_names_use_the_base_model(model: str, base: str, encoding: str) -> None:
    assert base_model(model) == base
    assert encoding_name_for_model(model) == encoding


def test_tiktoken_itself_gets_ft_gpt41_wrong() -> None:
    # The reason base_model exists; if tiktoken fixes this, the workaround stays harmless.
    import tiktoken.model

    assert tiktoken.model.encoding_name_for_model("ft:gpt-4.1-mini-2025-04-14:a::b") != "o200k_base"


def test_unknown_model_is_a_usage_error() -> None:
    with pytest.raises(ftkit.UsageError, match="unknown model"):
        encoding_name_for_model("my-llama-7b")


def test_encodes_offline_and_matches_known_counts() -> None:
    o200k = encoding_for_model("gpt-4o-mini-2024-07-18")
    cl100k = encoding_for_model("gpt-3.5-turbo-0125")
    assert o200k.encode("hello world") == [24912, 2375]
    assert cl100k.encode("hello world") == [15339, 1917]
    assert o200k is encoding_for_model("gpt-4.1-2025-04-14")  # cached per process


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base"])
def test_spec_matches_tiktoken_definition(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Our pinned pattern and special tokens equal tiktoken_ext's, fed the same local file."""
    import tiktoken.load
    import tiktoken_ext.openai_public as public

    spec = enc_mod._SPECS[name]
    data = enc_mod._load_verified(spec)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")  # no cache: read_file is called
    monkeypatch.setattr(tiktoken.load, "read_file", lambda _url: data)
    reference = getattr(public, name)()
    assert reference["pat_str"] == spec.pat_str
    assert reference["special_tokens"] == spec.special_tokens
    assert reference["mergeable_ranks"] == enc_mod._parse_ranks(data, name)


def _isolate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(enc_mod, "_cache", {})
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("FTKIT_TIKTOKEN_DOWNLOAD", "0")
    monkeypatch.setattr(enc_mod.importlib.util, "find_spec", lambda _name: None)


def test_no_source_raises_with_the_fixes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _isolate(monkeypatch, tmp_path)
    monkeypatch.delenv("FTKIT_TIKTOKEN_DIR", raising=False)
    with pytest.raises(ftkit.TokenizerUnavailable) as info:
        enc_mod.get_encoding("o200k_base")
    message = str(info.value)
    assert "pip install 'ftkit[offline]'" in message
    assert "FTKIT_TIKTOKEN_DIR" in message
    assert "download disabled" in message


def test_user_folder_is_used_and_tampered_files_are_ignored(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    good = enc_mod._load_verified(enc_mod._SPECS["cl100k_base"])
    folder = tmp_path / "vocab"
    folder.mkdir()
    _isolate(monkeypatch, tmp_path)
    monkeypatch.setenv("FTKIT_TIKTOKEN_DIR", str(folder))

    (folder / "cl100k_base.tiktoken").write_bytes(good.replace(b" 0\n", b" 1\n", 1))
    with pytest.raises(ftkit.TokenizerUnavailable, match="sha256 mismatch"):
        enc_mod.get_encoding("cl100k_base")

    (folder / "cl100k_base.tiktoken").unlink()
    (folder / "cl100k_base.tiktoken.gz").write_bytes(gzip.compress(good))
    assert hashlib.sha256(good).hexdigest() == enc_mod._SPECS["cl100k_base"].sha256
    assert enc_mod.get_encoding("cl100k_base").encode("hello world") == [15339, 1917]

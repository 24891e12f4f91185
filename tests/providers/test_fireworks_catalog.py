"""Fireworks AI's catalog table: resource names, tokenizer repositories, cited prices."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ftkit
from ftkit import UsageError
from ftkit.providers import find_model, model_info, models, providers
from ftkit.providers._format import entry_of, info_of
from ftkit.providers._names import provider_name

TABLE = Path(ftkit.providers.__file__).parent / "fireworks.json"
PREFIX = "accounts/fireworks/models/"


@pytest.fixture(autouse=True)
def _fresh_catalog() -> Iterator[None]:
    ftkit.providers.reset()
    yield
    ftkit.providers.reset()


def _document() -> dict[str, Any]:
    data = json.loads(TABLE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_fireworks_is_a_provider_with_its_display_name() -> None:
    assert "fireworks" in providers()
    assert provider_name("fireworks") == "Fireworks AI"


def test_every_entry_is_a_resource_name_with_its_short_id_as_alias() -> None:
    entries = models("fireworks")
    assert len(entries) >= 12
    for info in entries:
        assert info.provider == "fireworks" and info.name.startswith(PREFIX)
        assert info.aliases == (info.name[len(PREFIX) :],)
        assert info.methods == {"sft", "dpo"} and info.fine_tunable is True
        assert info.tokenizer is None  # not a tiktoken encoding
        assert info.tokenizer_repo is not None and re.fullmatch(
            r"[\w.-]+/[\w.-]+", info.tokenizer_repo
        )


@pytest.mark.parametrize(
    ("short", "repo"),
    [
        ("llama-v3p1-8b-instruct", "meta-llama/Llama-3.1-8B-Instruct"),
        ("llama-v3p1-70b-instruct", "meta-llama/Llama-3.1-70B-Instruct"),
        ("llama-v3p2-1b-instruct", "meta-llama/Llama-3.2-1B-Instruct"),
        ("llama-v3p2-3b-instruct", "meta-llama/Llama-3.2-3B-Instruct"),
        ("llama-v3p3-70b-instruct", "meta-llama/Llama-3.3-70B-Instruct"),
        ("qwen2p5-7b-instruct", "Qwen/Qwen2.5-7B-Instruct"),
        ("qwen2p5-72b-instruct", "Qwen/Qwen2.5-72B-Instruct"),
        ("qwen3-8b", "Qwen/Qwen3-8B"),
        ("qwen3-32b", "Qwen/Qwen3-32B"),
        ("gpt-oss-20b", "openai/gpt-oss-20b"),
        ("gpt-oss-120b", "openai/gpt-oss-120b"),
    ],
)
def test_an_id_and_its_alias_name_the_same_model_and_repository(short: str, repo: str) -> None:
    full = model_info(PREFIX + short)
    assert model_info(short, "fireworks") == full and full.tokenizer_repo == repo
    if short != "gpt-oss-20b":
        assert model_info(short) == full
    else:  # Azure lists a model of that name, and Azure is looked up first: it stays Azure's
        assert model_info(short).provider == "azure"


@pytest.mark.parametrize(
    ("short", "price"),
    [
        ("llama-v3p1-8b-instruct", 0.5),
        ("llama-v3p2-1b-instruct", 0.5),
        ("qwen2p5-14b-instruct", 0.5),
        ("qwen3-14b", 0.5),
        ("llama-v3p1-70b-instruct", 3.0),
        ("qwen2p5-32b-instruct", 3.0),
        ("qwen2p5-72b-instruct", 3.0),
        ("qwen3-32b", 3.0),
    ],
)
def test_prices_follow_the_size_brackets_and_stay_unconfirmed(short: str, price: float) -> None:
    info = model_info(short, "fireworks")
    for method in ("sft", "dpo"):
        found = info.training_price(method)
        assert found is not None and found.per_1m_tokens == price and found.currency == "USD"
        assert found.as_of is None  # an undated copy of the pricing page
    assert not info.confirmed("training") and "FW-PRICING" in info.sources["training"]


@pytest.mark.parametrize("short", ["gpt-oss-20b", "gpt-oss-120b", "deepseek-v3", "deepseek-r1"])
def test_models_outside_the_brackets_have_no_price(short: str) -> None:
    info = model_info(short, "fireworks")
    assert info.training_price("sft") is None and info.training_price("dpo") is None
    assert "no bracket" in info.sources["training"]


def test_limits_are_unknown_rather_than_guessed() -> None:
    for info in models("fireworks"):
        assert info.example_limits == {} and info.limit("sft") is None


def test_every_cited_source_is_defined_and_every_fact_is_sourced() -> None:
    doc = _document()
    defined = set(doc["sources"])
    for info in models("fireworks"):
        for field in ("methods", "features", "training", "tokenizer_repo", "tokenizer"):
            assert field in info.sources, (info.name, field)
        cited = {
            c
            for text in info.sources.values()
            for c in re.findall(r"\b(?:FW|OPEN)-[A-Z-]+\b", text)
        }
        assert cited <= defined, (info.name, cited - defined)
        assert {"features", "tokenizer_repo"} <= info.unconfirmed


def test_the_file_round_trips_through_the_entry_format() -> None:
    for info in models("fireworks"):
        again = info_of(entry_of(info), name=info.name, provider="fireworks", where="test")
        assert again == info and again.tokenizer_repo == info.tokenizer_repo


def test_a_tokenizer_repo_must_be_text() -> None:
    with pytest.raises(UsageError, match="tokenizer_repo must be a non-empty string"):
        info_of({"tokenizer_repo": 7}, name="m", provider="fireworks", where="test")


def test_other_providers_names_are_not_taken() -> None:
    # Together lists Hugging Face ids; Fireworks' aliases are its own short ids only.
    together = find_model("Qwen/Qwen3-8B")
    assert together is not None and together.provider == "together"
    assert model_info("gpt-4.1-mini-2025-04-14").provider == "openai"
    others = {
        name
        for info in models()
        if info.provider != "fireworks"
        for name in (info.name, *info.aliases)
    }
    shared = {a for info in models("fireworks") for a in info.aliases} & others
    assert shared == {"gpt-oss-20b"}  # Azure's model of that name keeps it (see above)


def test_a_users_file_confirms_a_price_it_restates(tmp_path: Path) -> None:
    path = tmp_path / "rates.json"
    entry = {"training": {"sft": {"per_1m_tokens": 0.45, "as_of": "2026-12-01"}}}
    path.write_text(
        json.dumps({"provider": "fireworks", "models": {PREFIX + "qwen3-8b": entry}}), "utf-8"
    )
    (info,) = ftkit.providers.register_file(path)
    sft = info.training_price("sft")
    assert sft is not None and (sft.per_1m_tokens, sft.as_of) == (0.45, "2026-12-01")
    assert info.confirmed("training") and info.training_price("dpo") is not None
    assert info.tokenizer_repo == "Qwen/Qwen3-8B"  # the rest of the entry is kept

"""A model ftkit has no tokenizer for is estimable once the prices given price it."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

import ftkit
from ftkit.cost.prices import ASSUMED_BASE_MODEL, PriceTable, counted_as, load_prices

SFT = Path(__file__).resolve().parents[2] / "examples" / "data" / "sarcasm_sft.jsonl"


def test_the_documented_python_example_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # docs/cost.md: ftkit.estimate("train.jsonl", model="my-model", prices="prices.json")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.jsonl").write_bytes(SFT.read_bytes())
    (tmp_path / "prices.json").write_text(json.dumps({"my-model": 4.0}))
    with caplog.at_level(logging.WARNING, logger="ftkit.cost"):
        est = ftkit.estimate("train.jsonl", model="my-model", prices="prices.json")
    known = ftkit.estimate("train.jsonl", model=ASSUMED_BASE_MODEL)
    assert est.model == "my-model" and est.price_per_1m == 4.0
    assert (est.base_model, est.limit) == (ASSUMED_BASE_MODEL, 65_536)
    assert est.billed_tokens == known.billed_tokens
    assert est.cost_usd == pytest.approx(known.billed_tokens * 4.0 / 1e6)
    assert "ftkit does not know 'my-model'" in caplog.text


def test_a_base_model_in_the_entry_chooses_tokenizer_and_limit() -> None:
    prices = {"my-model": {"per_1m_tokens": 2.0, "base_model": "gpt-3.5-turbo-0613"}}
    est = ftkit.estimate(SFT, model="ft:my-model:org::abc", prices=prices)
    assert (est.base_model, est.limit, est.price_per_1m) == ("gpt-3.5-turbo-0613", 4_096, 2.0)
    assert est.total_tokens == ftkit.estimate(SFT, model="gpt-3.5-turbo-0613").total_tokens


def test_an_alias_names_what_the_model_counts_as() -> None:
    table = load_prices({"training": {}, "aliases": {"my-deployment": "gpt-4o-mini-2024-07-18"}})
    assert counted_as("my-deployment", table) == ("gpt-4o-mini-2024-07-18", None)
    est = ftkit.estimate(SFT, model="my-deployment", prices=table)
    assert est.price_per_1m == 3.0 and est.base_model == "gpt-4o-mini-2024-07-18"


def test_known_and_unpriced_models_are_unchanged() -> None:
    table = load_prices(None)
    assert counted_as("gpt-4.1-mini-2025-04-14", table) == ("gpt-4.1-mini-2025-04-14", None)
    assert counted_as("my-model", table) == ("my-model", None)
    with pytest.raises(ftkit.UsageError, match="unknown model 'my-model'"):
        ftkit.estimate(SFT, model="my-model")


@pytest.mark.parametrize("base", ["", 3, "nope-1"])
def test_a_bad_base_model_is_a_usage_error(base: object) -> None:
    entry = {"my-model": {"per_1m_tokens": 1, "base_model": base}}
    with pytest.raises(ftkit.UsageError, match="base_model"):
        counted_as("my-model", PriceTable.from_dict(entry))

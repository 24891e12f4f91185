"""The model catalog: one table, read by every consumer, changeable by a call or a file."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Iterator
from datetime import date
from importlib import resources
from pathlib import Path

import pytest

import ftkit
from ftkit import providers
from ftkit.cost import CostEstimate, PriceTable
from ftkit.evaluation import InferencePrices
from ftkit.providers import METHODS, InferencePrice, ModelInfo, TrainingPrice
from ftkit.providers._catalog import ENV_VAR
from ftkit.testing import FakeFineTuningAPI
from ftkit.tokens import ExampleTokens, TokenCounter, TokenStats, encoding_name_for_model

ROOT = Path(__file__).resolve().parents[2]
SFT = ROOT / "examples" / "data" / "sarcasm_sft.jsonl"


@pytest.fixture(autouse=True)
def _fresh_catalog() -> Iterator[None]:
    """Registrations made by a test end with it."""
    providers.reset()
    yield
    providers.reset()


def _stats(tokens: int, examples: int = 100) -> TokenStats:
    size = tokens // examples
    return TokenStats.of(ExampleTokens(size, size // 2, size, False, 0) for _ in range(examples))


# ---------------------------------------------------------------- the shipped data


def test_the_data_files_are_package_data() -> None:
    folder = resources.files("ftkit.providers")
    assert folder.joinpath("openai.json").is_file()
    # The package-data glob that ships every providers/<name>.json in the wheel.
    assert re.search(r'^ftkit = \[.*"\*\*/\*\.json"', (ROOT / "pyproject.toml").read_text(), re.M)
    assert providers.providers()[0] == "openai"


@pytest.mark.parametrize("provider", ["openai", "azure"])
def test_every_listed_fact_is_sourced_and_every_price_dated(provider: str) -> None:
    shipped = resources.files("ftkit.providers").joinpath(f"{provider}.json").read_text()
    data = json.loads(shipped)
    for info in providers.models(provider):
        prices = [*info.training_prices.values(), info.inference_price, info.base_inference_price]
        for price in prices:
            assert price is None or price.as_of, (info.name, price)
        stated = {
            "methods": info.methods,
            "tokenizer": info.tokenizer,
            "shutdown": info.shutdown,
            "training": info.training_prices,
            "inference": info.inference_price,
        }
        for fact, value in stated.items():
            assert not value or fact in info.sources, (info.name, fact)
        for source in info.sources.values():
            ids = set(re.findall(r"\b[A-Z][A-Z0-9-]+\b", source))
            assert ids and ids <= set(data["sources"]), (info.name, source)


def test_an_entry_reads_back_as_the_same_model() -> None:
    from ftkit.providers._format import entry_of, info_of

    for info in providers.models():
        again = info_of(entry_of(info), name=info.name, provider=info.provider, where="test")
        assert again == info, info.name


def test_one_method_vocabulary() -> None:
    for info in providers.models():
        assert info.methods <= set(METHODS)
        assert set(info.example_limits) <= set(METHODS)
        assert set(info.training_prices) <= set(METHODS)
        assert info.features <= {"vision", "tools"}
    assert providers.canonical_method("supervised") == "sft"
    assert providers.canonical_method("reinforcement") == "rft"
    with pytest.raises(ftkit.UsageError):
        providers.canonical_method("rlhf")


# ------------------------------------------------------------------------ lookups


@pytest.mark.parametrize(
    ("name", "snapshot"),
    [
        ("gpt-4.1-mini", "gpt-4.1-mini-2025-04-14"),
        ("ft:gpt-4.1-mini-2025-04-14:acme:support:abc123", "gpt-4.1-mini-2025-04-14"),
        ("ft:gpt-4o-mini-2024-07-18:acme::abc:ckpt-step-100", "gpt-4o-mini-2024-07-18"),
        ("gpt-4o-mini-2024-07-18.ft-0123abcd", "gpt-4o-mini-2024-07-18"),
        ("o4-mini", "o4-mini-2025-04-16"),
    ],
)
def test_aliases_and_fine_tuned_names_resolve_to_their_snapshot(name: str, snapshot: str) -> None:
    assert ftkit.model_info(name).name == snapshot
    assert ftkit.model_info(name, provider="openai").name == snapshot


def test_public_names() -> None:
    assert {"ModelInfo", "model_info"} <= set(ftkit.__all__)
    assert ftkit.ModelInfo is ModelInfo and ftkit.model_info is providers.model_info


def test_unknown_models_and_providers_are_usage_errors() -> None:
    with pytest.raises(ftkit.UsageError, match="no entry for 'my-model'"):
        ftkit.model_info("my-model")
    with pytest.raises(ftkit.UsageError, match="unknown provider"):
        ftkit.model_info("gpt-4.1-mini", provider="nowhere")
    assert providers.lookup_model("my-model") is None
    assert providers.lookup_model("ft:") is None


def test_families_give_facts_for_unlisted_names() -> None:
    not_tunable = ftkit.model_info("gpt-4o-2024-11-20")
    assert not_tunable.family == "gpt-4o-2024-11-20" and not_tunable.fine_tunable is False
    assert (not_tunable.tokenizer, not_tunable.limit()) == ("o200k_base", 65_536)
    unknown = ftkit.model_info("gpt-4.1-2099-01-01")
    assert unknown.family == "gpt-4.1" and unknown.fine_tunable is None
    assert providers.lookup_model("gpt-4.1-2099-01-01") is None  # the validator: unknown
    assert providers.example_limit("gpt-4.1-2099-01-01") == 65_536
    assert ftkit.model_info("gpt-5-mini").fine_tunable is False


def test_the_retirement_date_is_the_shutdown_day() -> None:
    nano = ftkit.model_info("gpt-4.1-nano")
    assert nano.shutdown == "2026-10-23"
    assert not nano.retired(date(2026, 10, 22)) and nano.retired(date(2026, 10, 23))
    assert not ftkit.model_info("gpt-35-turbo-0125").retired(date(2030, 1, 1))


# ------------------------------------------------------- every reader agrees with it


def test_the_readers_agree_with_the_catalog() -> None:
    table = PriceTable.default()
    inference = InferencePrices.load()
    for info in providers.models():
        if info.tokenizer is not None:
            assert encoding_name_for_model(info.name) == info.tokenizer, info.name
            assert TokenCounter(info.name, provider=info.provider).limit == info.limit(), info.name
        sft = info.training_price("sft")
        if sft is not None:
            assert table.lookup(info.name).per_1m_tokens == sft.per_1m_tokens, info.name
        if info.inference_price is not None:
            price = inference.lookup(f"ft:{info.name}:org::x")[0]
            assert price == (info.inference_price.input, info.inference_price.output)
    served = {m.id: m for m in FakeFineTuningAPI().client().models.list()}
    catalog = {i.name: i for i in providers.models() if i.created is not None}
    assert set(served) == set(catalog)
    assert all(served[n].shutdown_date == catalog[n].shutdown for n in served)


def test_the_validator_reports_from_the_catalog() -> None:
    report = ftkit.validate(SFT, model="gpt-4.1-nano-2025-04-14", today=date(2026, 1, 1))
    assert "model_shutdown" in report.counts
    unknown = ftkit.validate(SFT, model="gpt-4.1-2099-01-01")
    assert "unknown_model" in unknown.counts


# ------------------------------------------------------------- changing the catalog


def _new_mini() -> ModelInfo:
    return dataclasses.replace(
        ftkit.model_info("gpt-4.1-mini-2025-04-14"),
        name="gpt-4.1-mini-2026-03-01",
        aliases=("gpt-4.1-mini",),
        training_prices={"sft": TrainingPrice(4.0, as_of="2026-03-01")},
        inference_price=InferencePrice(0.5, 2.0, as_of="2026-03-01"),
        shutdown=None,
        created=1772323200,
    )


def test_a_registered_snapshot_takes_its_alias_and_every_reader_sees_it() -> None:
    providers.register(_new_mini())
    assert ftkit.model_info("gpt-4.1-mini").name == "gpt-4.1-mini-2026-03-01"
    assert ftkit.model_info("gpt-4.1-mini-2025-04-14").aliases == ()
    est = CostEstimate.from_stats(_stats(100_000), model="gpt-4.1-mini", epochs=3)
    assert est.cost_usd == pytest.approx(1.20)
    assert InferencePrices.load().cost("ft:gpt-4.1-mini-2026-03-01:o::x", 10**6, 10**6) == 2.5
    fake = FakeFineTuningAPI()
    client = fake.client()
    assert client.models.retrieve("gpt-4.1-mini").id == "gpt-4.1-mini-2026-03-01"
    providers.reset()
    assert ftkit.model_info("gpt-4.1-mini").name == "gpt-4.1-mini-2025-04-14"


def test_a_registered_shutdown_date_is_refused_by_validation(tmp_path: Path) -> None:
    info = ftkit.model_info("gpt-4o-mini-2024-07-18")
    providers.register(dataclasses.replace(info, shutdown="2026-01-01"))
    report = ftkit.validate(SFT, model="gpt-4o-mini", today=date(2026, 6, 1))
    assert "model_retired" in report.counts
    with pytest.raises(ftkit.UsageError):
        providers.register({"name": "x"})  # type: ignore[arg-type]


def test_a_file_changes_only_the_fields_it_gives(tmp_path: Path) -> None:
    path = tmp_path / "models.json"
    path.write_text(
        json.dumps(
            {
                "prices_as_of": "2026-12-01",
                "models": {
                    "gpt-4o-mini-2024-07-18": {"training": {"sft": {"per_1m_tokens": 2.5}}},
                    "my-mini": {"extends": "gpt-4o-mini-2024-07-18", "shutdown": None},
                },
            }
        )
    )
    changed = providers.register_file(path)
    assert [i.name for i in changed] == ["gpt-4o-mini-2024-07-18", "my-mini"]
    mini = ftkit.model_info("gpt-4o-mini")
    assert mini.training_price("sft") == TrainingPrice(2.5, as_of="2026-12-01")
    assert mini.training_price("dpo") == TrainingPrice(3.0, as_of="2026-10")  # untouched
    assert mini.shutdown == "2027-01-14"
    mine = ftkit.model_info("my-mini")
    assert (mine.shutdown, mine.aliases, mine.limit()) == (None, (), 65_536)
    est = ftkit.estimate(SFT, model="my-mini", epochs=1)
    assert est.price_per_1m == 2.5 and est.limit == 65_536


@pytest.mark.parametrize(
    "bad",
    [
        [1, 2],
        {"models": {"m": {"methods": ["rlhf"]}}},
        {"models": {"m": {"training": {"sft": {"per_1m_tokens": -1}}}}},
        {"models": {"m": {"shutdown": "soon"}}},
        {"models": {"m": {"extends": "nothing"}}},
        {"models": {"m": {"colour": "blue"}}},
        {"models": {"gpt-4o-mini-2024-07-18": {"shutdown": None}, "m": {"features": ["x"]}}},
    ],
)
def test_a_malformed_file_is_a_usage_error_and_changes_nothing(tmp_path: Path, bad: object) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(ftkit.UsageError, match=str(path.name)):
        providers.register_file(path)
    assert ftkit.model_info("gpt-4o-mini").shutdown == "2027-01-14"


def test_files_named_by_the_environment_are_read_at_first_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps({"models": {"my-model": {"extends": "gpt-4.1-nano-2025-04-14"}}}))
    second.write_text(json.dumps({"models": {"my-model": {"shutdown": "2030-01-01"}}}))
    monkeypatch.setenv(ENV_VAR, f"{first}{os.pathsep}{second}")
    providers.reset()
    info = ftkit.model_info("my-model")
    assert (info.shutdown, info.tokenizer, info.training_price().per_1m_tokens) == (
        "2030-01-01",
        "o200k_base",
        1.5,
    )
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "missing.json"))
    providers.reset()
    with pytest.raises(ftkit.UsageError, match="FTKIT_MODELS"):
        ftkit.model_info("gpt-4.1")


def test_a_dpo_price_of_its_own_prices_dpo_estimates() -> None:
    base = providers.model_info("gpt-4.1-mini-2025-04-14")
    prices = {"sft": TrainingPrice(per_1m_tokens=5.0), "dpo": TrainingPrice(per_1m_tokens=9.0)}
    providers.register(
        dataclasses.replace(base, name="team-dpo-model", aliases=(), training_prices=prices)
    )
    try:
        table = PriceTable.default()
        assert table.lookup("team-dpo-model", method="dpo").per_1m_tokens == 9.0
        assert table.lookup("team-dpo-model", method="supervised").per_1m_tokens == 5.0
    finally:
        providers.reset()

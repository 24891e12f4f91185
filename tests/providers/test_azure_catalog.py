"""Azure OpenAI's table in the catalog: models, training types, lookups, prices, file format."""

from __future__ import annotations

import dataclasses
import json
import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest

import ftkit
from ftkit import providers
from ftkit.cost import CostEstimate, PriceTable, load_prices
from ftkit.providers import TRAINING_TYPES, ModelInfo, TrainingPrice
from ftkit.providers._format import entry_of, info_of
from ftkit.tokens import ExampleTokens, TokenCounter, TokenStats

ROOT = Path(__file__).resolve().parents[2]
SFT = ROOT / "examples" / "data" / "sarcasm_sft.jsonl"
DPO = ROOT / "examples" / "data" / "sarcasm_dpo.jsonl"

OPENAI_SFT = {
    "gpt-4.1-2025-04-14",
    "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano-2025-04-14",
    "gpt-4o-2024-08-06",
    "gpt-4o-mini-2024-07-18",
}
OPEN_SOURCE = {"gpt-oss-20b", "Ministral-3B", "Llama-3.3-70B-Instruct", "Qwen-32B"}


@pytest.fixture(autouse=True)
def _fresh_catalog() -> Iterator[None]:
    providers.reset()
    yield
    providers.reset()


def _azure() -> dict[str, ModelInfo]:
    return {info.name: info for info in providers.models("azure")}


def _stats(tokens: int, examples: int = 100) -> TokenStats:
    size = tokens // examples
    return TokenStats.of(ExampleTokens(size, size // 2, size, False, 0) for _ in range(examples))


# ------------------------------------------------------------------- the table


def test_azure_has_its_own_table() -> None:
    assert providers.providers()[:2] == ("openai", "azure")  # then the others, by name
    table = _azure()
    trainable = {name for name, info in table.items() if info.fine_tunable}
    assert trainable == OPENAI_SFT | OPEN_SOURCE | {"o4-mini-2025-04-16", "gpt-5-2025-08-07"}
    assert all(info.provider == "azure" for info in table.values())


def test_which_models_take_which_method_on_azure() -> None:
    table = _azure()
    by_method = {
        method: {name for name, info in table.items() if method in info.methods}
        for method in ("sft", "dpo", "rft")
    }
    assert by_method["sft"] == OPENAI_SFT | OPEN_SOURCE
    # Microsoft Learn's table: DPO on gpt-4.1 (all three) and gpt-4o, not on gpt-4o-mini,
    # which OpenAI's own API trains with DPO.
    assert by_method["dpo"] == OPENAI_SFT - {"gpt-4o-mini-2024-07-18"}
    assert "dpo" in ftkit.model_info("gpt-4o-mini-2024-07-18", provider="openai").methods
    assert by_method["rft"] == {"o4-mini-2025-04-16", "gpt-5-2025-08-07"}
    vision = {name for name, info in table.items() if "vision" in info.features}
    assert vision == {"gpt-4.1-2025-04-14", "gpt-4o-2024-08-06"}
    assert "vision" not in ftkit.model_info("gpt-4.1-2025-04-14", provider="openai").features


def test_training_types_and_open_source_models() -> None:
    table = _azure()
    for name in OPENAI_SFT:
        assert table[name].training_types == set(TRAINING_TYPES), name
    for name in OPEN_SOURCE:
        info = table[name]
        assert info.training_types == {"globalstandard"}, name
        assert info.tokenizer is None and "OSS-IDS" in info.sources["tokenizer"]
    assert "developer" not in table["gpt-5-2025-08-07"].training_types
    assert all(not m.training_types for m in providers.models("openai"))


def test_azure_limits_follow_azure() -> None:
    nano = "gpt-4.1-nano-2025-04-14"
    assert ftkit.model_info(nano, provider="azure").limit("sft") == 32_768
    assert ftkit.model_info(nano, provider="openai").limit("sft") == 65_536
    assert providers.example_limit(nano, provider="azure") == 32_768
    assert providers.example_limit(nano) == 65_536  # openai first, as before
    assert TokenCounter(nano, provider="azure").limit == 32_768
    assert pickle.loads(pickle.dumps(TokenCounter(nano, provider="azure"))).limit == 32_768
    assert ftkit.model_info("Qwen-32B").limit("sft") == 8192


def test_no_azure_price_is_recorded() -> None:
    for info in providers.models("azure"):
        assert not info.training_prices and not info.training_prices_by_type, info.name
        assert info.hosting_per_hour is None and info.inference_price is None, info.name
        for tier in (None, *TRAINING_TYPES):
            assert info.training_price("sft", tier) is None


# -------------------------------------------------------------------- lookups


def test_lookups_by_provider() -> None:
    assert ftkit.model_info("gpt-4.1-mini").provider == "openai"  # openai first, as before
    azure = ftkit.model_info("gpt-4.1-mini", provider="azure")
    assert (azure.provider, azure.name) == ("azure", "gpt-4.1-mini-2025-04-14")
    fine_tuned = "gpt-4o-mini-2024-07-18.ft-0123abcd-my-suffix"
    assert ftkit.model_info(fine_tuned, provider="azure").name == "gpt-4o-mini-2024-07-18"
    assert ftkit.model_info("Qwen3-32B").name == "Qwen-32B"
    assert ftkit.model_info("Llama-3.3-70B", provider="azure").name == "Llama-3.3-70B-Instruct"
    assert providers.lookup_model("gpt-oss-20b", provider="openai") is None


def test_azure_spellings_of_gpt_35_turbo_are_azure_entries() -> None:
    old = ftkit.model_info("gpt-35-turbo")
    assert (old.provider, old.name, old.tokenizer) == ("azure", "gpt-35-turbo-0125", "cl100k_base")
    assert old.fine_tunable is False and "no longer" in old.note
    assert providers.example_limit("gpt-35-turbo-0613") == 4096
    with pytest.raises(ftkit.UsageError, match="no entry"):
        ftkit.model_info("gpt-35-turbo", provider="openai")


def test_validate_reads_the_providers_table() -> None:
    pairs = [json.loads(line) for line in DPO.read_text().splitlines()]
    mini = "gpt-4o-mini-2024-07-18"
    assert "method_not_supported" not in ftkit.validate(pairs, model=mini).counts
    on_azure = ftkit.validate(pairs, model=mini, provider="azure")
    assert "method_not_supported" in on_azure.counts and not on_azure.ok
    assert "on Azure OpenAI" in on_azure.by_code("method_not_supported")[0].message
    assert ftkit.validate(pairs, model=mini, provider="openai").ok
    with pytest.raises(ftkit.UsageError, match="unknown provider 'nowhere'"):
        ftkit.validate(pairs, model=mini, provider="nowhere")


def test_vision_follows_the_provider() -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
    record = {
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "what is it?"}, image]},
            {"role": "assistant", "content": "a cat"},
        ]
    }
    model = "gpt-4.1-2025-04-14"
    assert "images_not_supported" in ftkit.validate([record] * 10, model=model).counts
    on_azure = ftkit.validate([record] * 10, model=model, provider="azure")
    assert "images_not_supported" not in on_azure.counts


def test_an_unlisted_or_retired_model_on_azure_is_an_error_in_validation() -> None:
    records = [json.loads(line) for line in SFT.read_text().splitlines()]
    report = ftkit.validate(records, model="gpt-35-turbo-0125", provider="azure")
    assert "model_not_fine_tunable" in report.counts
    assert "unknown_model" in ftkit.validate(records, model="gpt-5-mini", provider="azure").counts


# ------------------------------------------------------------------- prices


def test_the_price_of_a_training_type() -> None:
    base = ftkit.model_info("gpt-4.1-2025-04-14", provider="azure")
    info = dataclasses.replace(
        base,
        training_prices={"sft": TrainingPrice(30.0, as_of="2026-11")},
        training_prices_by_type={"globalstandard": {"sft": TrainingPrice(20.0, as_of="2026-11")}},
    )

    def per_1m(method: str, tier: str | None = None) -> float | None:
        price = info.training_price(method, tier)
        return None if price is None else price.per_1m_tokens

    assert per_1m("sft", "globalstandard") == per_1m("sft", "globalStandard") == 20.0
    # Every other type: the price of every type; none named: Azure's default, standard.
    assert per_1m("sft", "developer") == per_1m("sft") == 30.0
    only_global = dataclasses.replace(info, training_prices={})
    assert only_global.training_price("sft") is None
    assert only_global.training_price("dpo", "globalstandard") is None
    with pytest.raises(ftkit.UsageError, match="unknown training type 'regional'"):
        info.training_price("sft", "regional")
    assert pickle.loads(pickle.dumps(info)) == info


def test_azure_costs_are_unknown_with_the_way_to_add_them() -> None:
    est = CostEstimate.from_stats(
        _stats(100_000), model="gpt-4.1-mini-2025-04-14", epochs=3, provider="azure"
    )
    assert est.cost_usd is None and est.billed_tokens == 300_000
    reason = str(est.cost_reason)
    assert "Azure OpenAI's standard training price for 'gpt-4.1-mini-2025-04-14'" in reason
    assert "FTKIT_MODELS" in reason and "register_file" in reason and "prices=" in reason
    example = json.loads(reason[reason.index("{") : reason.index(" (named in")])
    assert example["provider"] == "azure"
    assert example["models"]["gpt-4.1-mini-2025-04-14"]["training_by_type"]["standard"]
    # Without a provider: OpenAI's price, as before.
    openai = CostEstimate.from_stats(_stats(100_000), model="gpt-4.1-mini-2025-04-14", epochs=3)
    assert openai.cost_usd == pytest.approx(1.50)


def test_a_catalog_file_prices_azure_by_training_type(tmp_path: Path) -> None:
    first = tmp_path / "azure-prices.json"
    first.write_text(
        json.dumps(
            {
                "provider": "azure",
                "prices_as_of": "2026-11-01",
                "models": {
                    "gpt-4.1-mini-2025-04-14": {
                        "training_by_type": {"globalStandard": {"sft": {"per_1m_tokens": 4.0}}},
                        "hosting_per_hour": 1.7,
                    }
                },
            }
        )
    )
    providers.register_file(first)
    second = tmp_path / "more.json"  # merged type by type, method by method
    second.write_text(
        json.dumps(
            {
                "provider": "azure",
                "models": {
                    "gpt-4.1-mini-2025-04-14": {
                        "training_by_type": {
                            "globalstandard": {"dpo": {"per_1m_tokens": 4.5, "as_of": "2026-12"}},
                            "developer": {"sft": {"per_1m_tokens": 2.0, "as_of": "2026-12"}},
                        }
                    }
                },
            }
        )
    )
    providers.register_file(second)
    info = ftkit.model_info("gpt-4.1-mini-2025-04-14", provider="azure")
    assert info.hosting_per_hour == 1.7
    assert {t: set(p) for t, p in info.training_prices_by_type.items()} == {
        "globalstandard": {"sft", "dpo"},
        "developer": {"sft"},
    }
    price = info.training_price("sft", "globalstandard")
    assert price is not None and (price.per_1m_tokens, price.as_of) == (4.0, "2026-11-01")

    stats = _stats(100_000)
    model = "gpt-4.1-mini-2025-04-14"
    priced = CostEstimate.from_stats(
        stats, model=model, epochs=3, provider="azure", training_type="globalstandard"
    )
    assert priced.cost_usd == pytest.approx(1.20) and priced.price_per_1m == 4.0
    dpo = CostEstimate.from_stats(
        stats, model=model, epochs=1, method="dpo", provider="azure", training_type="globalstandard"
    )
    assert dpo.cost_usd == pytest.approx(0.45)
    developer = CostEstimate.from_stats(
        stats, model=model, epochs=1, provider="azure", training_type="developer"
    )
    assert developer.cost_usd == pytest.approx(0.20)
    # Standard (Azure's default) has no price yet; OpenAI's table is untouched.
    assert CostEstimate.from_stats(stats, model=model, provider="azure").cost_usd is None
    assert PriceTable.default("openai").lookup(model).per_1m_tokens == 5.0
    assert (
        load_prices(provider="azure", training_type="developer").lookup(model).per_1m_tokens == 2.0
    )


def test_a_malformed_training_type_in_a_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps(
            {"provider": "azure", "models": {"gpt-4.1-2025-04-14": {"training_types": ["x"]}}}
        )
    )
    with pytest.raises(ftkit.UsageError, match=r"bad\.json: models\.gpt-4\.1-2025-04-14: .*'x'"):
        providers.register_file(path)
    assert ftkit.model_info("gpt-4.1", provider="azure").training_types == set(TRAINING_TYPES)
    negative = tmp_path / "negative.json"
    negative.write_text(
        json.dumps(
            {"provider": "azure", "models": {"gpt-4.1-2025-04-14": {"hosting_per_hour": -1}}}
        )
    )
    with pytest.raises(ftkit.UsageError, match="hosting_per_hour"):
        providers.register_file(negative)


# -------------------------------------------------------------- the file format


def test_every_azure_entry_reads_back_as_the_same_model() -> None:
    for info in providers.models("azure"):
        again = info_of(entry_of(info), name=info.name, provider="azure", where="test")
        assert again == info, info.name


def test_the_new_fields_round_trip() -> None:
    info = dataclasses.replace(
        ftkit.model_info("gpt-4o-2024-08-06", provider="azure"),
        training_prices_by_type={
            "standard": {"sft": TrainingPrice(27.5, as_of="2026-11")},
            "developer": {"dpo": TrainingPrice(11.0, as_of="2026-11")},
        },
        hosting_per_hour=1.7,
    )
    entry = entry_of(info)
    assert entry["training_types"] == ["standard", "globalstandard", "developer"]
    assert entry["training_by_type"]["developer"]["dpo"]["per_1m_tokens"] == 11.0
    assert entry["hosting_per_hour"] == 1.7
    text = json.dumps(entry)  # plain JSON
    again = info_of(json.loads(text), name=info.name, provider="azure", where="test")
    assert again == info
    assert again.training_price("dpo", "developer") == TrainingPrice(11.0, as_of="2026-11")


def test_estimate_takes_the_provider() -> None:
    nano = "gpt-4.1-nano-2025-04-14"
    on_azure = ftkit.estimate(SFT, nano, provider="azure")
    assert on_azure.cost_usd is None and on_azure.limit == 32_768
    assert "Azure OpenAI's standard training price" in str(on_azure.cost_reason)
    on_openai = ftkit.estimate(SFT, nano)
    assert on_openai.cost_usd is not None and on_openai.limit == 65_536
    assert on_openai.billed_tokens == on_azure.billed_tokens


def test_the_docs_table_is_the_catalog() -> None:
    text = (ROOT / "docs" / "models.md").read_text()
    head = "| Model | Methods | Vision | Training types | Tokens per example |"
    rows = text[text.index(head) :].split("\n\n", 1)[0].splitlines()[2:]
    documented = {}
    for row in rows:
        name, methods, vision, tiers, limit = (cell.strip() for cell in row.strip("|").split("|"))
        documented[name] = (
            set(methods.split(" (")[0].split(", ")),
            vision == "yes",
            set(tiers.split(", ")),
            None if limit == "unknown" else int(limit.replace(",", "")),
        )
    table = {name: info for name, info in _azure().items() if info.fine_tunable}
    assert set(documented) == set(table)
    for name, info in table.items():
        method = next(iter(info.methods))
        facts = (set(info.methods), "vision" in info.features, set(info.training_types))
        assert documented[name] == (*facts, info.limit(method)), name


def test_a_new_shutdown_date_drops_the_old_dates_unconfirmed_flag() -> None:
    from ftkit.providers._format import merge_entry

    old = {"shutdown": "2026-10-23", "shutdown_confirmed": False, "methods": ["sft"]}
    assert merge_entry(old, {"shutdown": "2027-03-01"}) == {
        "shutdown": "2027-03-01",
        "methods": ["sft"],
    }
    assert merge_entry(old, {"methods": ["sft", "dpo"]})["shutdown_confirmed"] is False

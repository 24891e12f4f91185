"""Together AI's catalog table, the marks of what no primary source confirms, and live limits."""

from __future__ import annotations

import json
import pickle
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from together.types.finetune_model_limits import FinetuneModelLimits

import ftkit
from ftkit import UsageError
from ftkit.providers import (
    JOB_LIMITS,
    ModelInfo,
    find_model,
    lookup_model,
    model_limits_info,
    models,
    register,
    register_file,
)
from ftkit.providers._format import Document, entry_of, info_of, merge_entry

SHIPPED = Path(ftkit.providers.__file__).with_name("together.json")
LLAMA_8B = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"
LLAMA_70B = "meta-llama/Llama-3.3-70B-Instruct-Reference"
QWEN3 = "Qwen/Qwen3-8B"
VISION = "Qwen/Qwen3-VL-8B-Instruct"


@pytest.fixture(autouse=True)
def _fresh_catalog() -> Iterator[None]:
    ftkit.providers.reset()
    yield
    ftkit.providers.reset()


def _together() -> dict[str, ModelInfo]:
    return {info.name: info for info in models("together")}


def _answer(**changes: Any) -> dict[str, Any]:
    """A ``GET /v1/fine-tunes/models/limits`` answer, every field the SDK 3.1.1 requires."""
    answer: dict[str, Any] = {
        "model_name": QWEN3,
        "default_gradient_accumulation_steps": 1,
        "lora_training": {
            "default_rank": 8,
            "max_batch_size": 16,
            "max_batch_size_dpo": 8,
            "max_rank": 64,
            "min_batch_size": 8,
            "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"],
        },
        "full_training": {"max_batch_size": 8, "max_batch_size_dpo": 4, "min_batch_size": 8},
        "max_learning_rate": 1.0,
        "min_learning_rate": 1e-8,
        "max_num_checkpoints": 20,
        "max_num_epochs": 20,
        "max_num_evals": 100,
        "max_seq_length_sft": 40960,
        "max_seq_length_dpo": 20480,
        "merge_output_lora": True,
        "min_max_seq_length": 1,
        "supports_full_training": True,
        "supports_reasoning": True,
        "supports_tools": True,
        "supports_vision": False,
    }
    answer.update(changes)
    return answer


# ---------------------------------------------------------------- the shipped table


def test_the_table_lists_current_together_models() -> None:
    table = _together()
    assert "together" in ftkit.providers.providers()
    assert {LLAMA_8B, LLAMA_70B, QWEN3, VISION, "Qwen/Qwen2.5-7B-Instruct"} <= set(table)
    assert any(name.startswith("google/gemma-3") for name in table)
    assert any(name.startswith("deepseek-ai/DeepSeek-R1-Distill") for name in table)
    for info in table.values():
        assert info.provider == "together" and info.fine_tunable
        assert info.methods == {"sft", "dpo"}, info.name
        assert info.tokenizer is None  # open models: not tiktoken encodings
        assert not info.training_prices and not info.training_prices_by_type  # no citable rate
        assert info.shutdown is None and info.created is None
        assert {"methods", "features"} <= set(info.sources), info.name


def test_context_lengths_are_the_documented_ones() -> None:
    # Together's changelog of 2025-09-10 (SFT / DPO), and its supported-models page.
    expected = {
        LLAMA_8B: (131_072, 16_384),
        LLAMA_70B: (24_576, 8_192),
        "meta-llama/Llama-3.2-3B-Instruct": (131_072, 24_576),
        "Qwen/Qwen2.5-72B-Instruct": (24_576, 8_192),
        "google/gemma-3-27b-it": (49_152, 8_192),
        "deepseek-ai/DeepSeek-R1-Distill-Qwen-14B": (65_536, 12_288),
        "openai/gpt-oss-20b": (16_384, 8_192),
    }
    for name, (sft, dpo) in expected.items():
        info = lookup_model(name, provider="together")
        assert info is not None, name
        assert (info.limit("sft"), info.limit("dpo")) == (sft, dpo), name
        assert ftkit.providers.example_limit(name, "dpo", provider="together") == dpo
        assert "example_limits" in info.sources


def test_vision_and_tools_only_where_a_source_shows_them() -> None:
    table = _together()
    assert {n for n, i in table.items() if "vision" in i.features} == {VISION}
    assert "tools" in table[QWEN3].features
    assert table[VISION].limit("sft") is None  # no documented context: nothing is over it


def test_every_unconfirmed_value_is_marked() -> None:
    table = _together()
    for info in table.values():
        assert not info.confirmed("features")  # absence of tools is never confirmed
        if info.full_training is not None:
            assert not info.confirmed("full_training"), info.name
    # Where Together's skill gives a larger SFT context than the changelog: the lower
    # documented value is kept, and marked.
    for name in (QWEN3, "Qwen/Qwen3-32B", "openai/gpt-oss-20b"):
        assert not table[name].confirmed("example_limits.sft"), name
        assert "unconfirmed" in table[name].sources["example_limits"]
    assert table[LLAMA_70B].confirmed("example_limits.sft")
    assert table[LLAMA_70B].confirmed("methods")
    assert not table[VISION].confirmed("methods")  # DPO on it is not shown by a source


def test_the_file_is_valid_json_in_the_catalog_format() -> None:
    data = json.loads(SHIPPED.read_text(encoding="utf-8"))
    assert data["provider"] == "together"
    doc = Document(data, "together.json")
    assert len(doc.models) == len(models("together"))
    notes = " ".join(data["notes"])
    assert "No Together price is recorded" in notes and "size bracket" in notes
    for name, raw in doc.models:
        for text in raw.get("sources", {}).values():
            # Every source code an entry names is defined in the file's sources.
            for code in re.findall(r"\b(?:TOG|OPEN)-[A-Z]+(?:-[A-Z]+)*", text):
                assert code in data["sources"], (name, code)


def test_entries_round_trip_through_the_file_format() -> None:
    for info in models("together"):
        again = info_of(entry_of(info), name=info.name, provider="together", where="test")
        assert again == info
        assert pickle.loads(pickle.dumps(info)) == info


def test_together_names_do_not_shadow_openai_or_azure() -> None:
    assert find_model("gpt-4.1-mini").provider == "openai"  # type: ignore[union-attr]
    assert find_model(LLAMA_70B).provider == "together"  # type: ignore[union-attr]
    assert lookup_model(LLAMA_70B, provider="openai") is None
    assert lookup_model("gpt-4.1-mini-2025-04-14", provider="together") is None
    for info in (*models("openai"), *models("azure")):
        assert not info.job_limits and not info.unconfirmed and info.full_training is None


def test_a_cost_estimate_says_why_the_price_is_unknown() -> None:
    from ftkit.cost import CostEstimate
    from ftkit.tokens.stats import TokenStats

    estimate = CostEstimate.from_stats(
        TokenStats(), model=LLAMA_70B, epochs=1, method="supervised", provider="together"
    )
    assert estimate.cost_usd is None
    assert "Together AI" in (estimate.cost_reason or "")


# ---------------------------------------------------------------- the format's new fields


def _info(entry: dict[str, Any]) -> ModelInfo:
    return info_of(entry, name="m", provider="together", where="f: models.m")


def test_unconfirmed_marks_name_facts_of_the_entry() -> None:
    info = _info({"methods": ["sft"], "unconfirmed": ["example_limits.dpo", "features"]})
    assert info.unconfirmed == {"example_limits.dpo", "features"}
    assert not info.confirmed("example_limits.dpo") and info.confirmed("example_limits.sft")
    assert not info.confirmed("features.tools")  # the whole field is unconfirmed
    with pytest.raises(UsageError, match=r"unknown field 'limits\.sft'"):
        _info({"unconfirmed": ["limits.sft"]})
    with pytest.raises(UsageError, match="unconfirmed must be a list"):
        _info({"unconfirmed": "features"})
    dated = _info({"shutdown": "2027-01-01", "shutdown_confirmed": False})
    assert not dated.confirmed("shutdown") and dated.confirmed("created")


def test_a_fact_given_anew_loses_its_mark() -> None:
    old = {
        "example_limits": {"sft": 1, "dpo": 2},
        "unconfirmed": ["example_limits.sft", "features"],
    }
    merged = merge_entry(old, {"example_limits": {"sft": 5}})
    assert merged["unconfirmed"] == ["features"]
    assert merged["example_limits"] == {"sft": 5, "dpo": 2}
    # Restating dpo alone keeps the sft mark; a new list replaces the old one.
    assert merge_entry(old, {"example_limits": {"dpo": 3}})["unconfirmed"] == old["unconfirmed"]
    assert merge_entry(old, {"features": [], "unconfirmed": []})["unconfirmed"] == []
    assert merge_entry(old, {"features": ["tools"]})["unconfirmed"] == ["example_limits.sft"]
    # A mark of a whole merged field keeps the keys the new entry leaves alone.
    whole = {"example_limits": {"sft": 1, "dpo": 2}, "unconfirmed": ["example_limits"]}
    assert merge_entry(whole, {"example_limits": {"sft": 5}})["unconfirmed"] == [
        "example_limits.dpo"
    ]


def test_a_user_file_confirms_a_value(tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    doc = {"provider": "together", "models": {QWEN3: {"example_limits": {"sft": 40960}}}}
    path.write_text(json.dumps(doc))
    (info,) = register_file(path)
    assert info.limit("sft") == 40_960 and info.confirmed("example_limits.sft")
    assert not info.confirmed("example_limits.dpo")  # the file left dpo as it was
    assert info.limit("dpo") == 16_384


def test_job_limits_and_full_training_are_checked() -> None:
    info = _info(
        {"full_training": False, "job_limits": {"max_epochs": 20, "max_learning_rate": 0.01}}
    )
    assert info.full_training is False
    assert info.job_limits == {"max_epochs": 20, "max_learning_rate": 0.01}
    assert isinstance(info.job_limits["max_epochs"], int)
    assert set(JOB_LIMITS) >= {"max_epochs", "max_evals", "max_checkpoints", "max_lora_rank"}
    with pytest.raises(UsageError, match="unknown job limit 'max_steps'"):
        _info({"job_limits": {"max_steps": 3}})
    with pytest.raises(UsageError, match="max_epochs must be a non-negative integer"):
        _info({"job_limits": {"max_epochs": 2.5}})
    with pytest.raises(UsageError, match="full_training must be true or false"):
        _info({"full_training": "yes"})


# ---------------------------------------------------------------- live limits


def test_the_sdk_answer_becomes_an_entry() -> None:
    answer = FinetuneModelLimits.model_validate(_answer())
    info = model_limits_info(answer)
    assert (info.name, info.provider) == (QWEN3, "together")
    assert info.methods == {"sft", "dpo"} and info.fine_tunable
    assert (info.limit("sft"), info.limit("dpo")) == (40_960, 20_480)
    assert info.features == {"tools"} and info.full_training is True
    assert info.job_limits == {
        "max_epochs": 20,
        "max_evals": 100,
        "max_checkpoints": 20,
        "min_learning_rate": 1e-8,
        "max_learning_rate": 1.0,
        "max_lora_rank": 64,
    }
    assert info.sources["example_limits"].startswith("Together GET /v1/fine-tunes/models/limits")
    assert model_limits_info(_answer()) == info  # the raw JSON reads the same


def test_a_refresh_keeps_the_rest_of_the_entry_and_confirms_what_it_states() -> None:
    base = find_model(QWEN3, "together")
    assert base is not None and not base.confirmed("example_limits")
    fresh = model_limits_info(_answer(supports_vision=True), base=base)
    assert fresh.confirmed("example_limits.sft") and fresh.confirmed("features")
    assert fresh.confirmed("full_training") and not fresh.unconfirmed
    assert fresh.features == {"tools", "vision"}
    assert fresh.sources["tokenizer"] == base.sources["tokenizer"]  # untouched facts stay
    register(fresh)
    assert ftkit.providers.example_limit(QWEN3, provider="together") == 40_960
    report = ftkit.validate(
        [{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x"}]}],
        model=QWEN3,
        provider="together",
    )
    assert "images_not_supported" not in report.counts


def test_the_spec_shaped_answer_leaves_unknown_what_it_omits() -> None:
    # The published OpenAPI spec (2026-04) has no max_seq_length_* nor supports_full_training,
    # and reports a LoRA-only model's full_training as absent or zeroed.
    base = find_model(LLAMA_70B, "together")
    assert base is not None
    answer = {
        k: v
        for k, v in _answer(model_name=LLAMA_70B, supports_tools=False).items()
        if k not in ("max_seq_length_sft", "max_seq_length_dpo", "supports_full_training")
    }
    answer["full_training"] = {"max_batch_size": 0, "max_batch_size_dpo": 0, "min_batch_size": 0}
    info = model_limits_info(answer, base=base)
    assert info.example_limits == base.example_limits  # the catalog's, still
    assert info.full_training is False and info.features == frozenset()
    assert model_limits_info({**answer, "full_training": None}, base=base).full_training is False
    without = {k: v for k, v in answer.items() if k != "full_training"}
    assert model_limits_info(without, base=base).full_training is base.full_training


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({}, "needs its model_name"),
        (_answer(max_num_epochs=-1), "max_num_epochs must be a whole number"),
        (_answer(max_learning_rate="high"), "max_learning_rate must be a number"),
        (_answer(supports_vision="no"), "supports_vision must be true or false"),
        (_answer(lora_training=[]), "lora_training must be a JSON object"),
        ("Qwen/Qwen3-8B", "must be a JSON object"),
    ],
)
def test_a_malformed_answer_is_refused_with_the_field(answer: Any, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        model_limits_info(answer)


def test_the_base_must_be_a_together_entry() -> None:
    openai = find_model("gpt-4.1-mini-2025-04-14")
    with pytest.raises(UsageError, match="Together entry"):
        model_limits_info(_answer(), base=openai)

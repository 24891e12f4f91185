"""ftkit.estimate over the streaming pass, the pipeline estimate and the CLI command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ftkit import UsageError
from ftkit.cli import main
from ftkit.cost.plan import PlanEstimate, estimate_stages
from ftkit.schema import SFTRecord
from ftkit.tokens import TokenCounter, TokenStats
from ftkit.validation import estimate

MINI = "gpt-4o-mini-2024-07-18"


def _by_hand(path: Path, model: str) -> TokenStats:
    counter = TokenCounter(model)
    stats = TokenStats()
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            stats.add(counter.count(json.loads(line)))
    return stats


@pytest.mark.parametrize(
    ("name", "model", "price"),
    [
        ("foundry_sft_gsm8k_train.jsonl", MINI, 3.0),
        ("foundry_sft_stock_toolcall_train.jsonl", MINI, 3.0),
        ("foundry_sft_chartqa_vision_train.jsonl", "gpt-4o-2024-08-06", 25.0),  # vision model
        ("foundry_dpo_orca_pairs_validation.jsonl", MINI, 3.0),
    ],
)
def test_estimate_of_a_real_file_counts_every_example(
    real_datasets: Path, name: str, model: str, price: float
) -> None:
    path = real_datasets / name
    est = estimate(path, model=model, epochs=3)
    want = _by_hand(path, model)
    assert est.examples == want.examples > 50
    assert est.total_tokens == want.total_tokens
    assert est.trained_tokens == want.trained_tokens
    assert est.billed_tokens == 3 * want.billed_tokens
    assert est.skipped == 0
    assert est.cost_usd == pytest.approx(est.billed_tokens * price / 1e6)
    assert est.stats.p95 == want.p95
    assert est.method == ("dpo" if "dpo" in name else "supervised")


def test_estimate_skips_lines_that_are_not_records(real_datasets: Path) -> None:
    est = estimate(real_datasets / "foundry_distilling_sarcasm_qa.jsonl", model=MINI)
    assert est.examples == 0
    assert est.skipped > 0


def test_estimate_of_in_memory_records() -> None:
    records: list[Any] = [SFTRecord.single_turn(f"q{i}", f"answer {i}") for i in range(20)]
    records.append(
        {
            "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": "yo", "weight": 0},
                {"role": "assistant", "content": "hello"},
            ]
        }
    )
    est = estimate(records, model="gpt-4.1-nano-2025-04-14", epochs="auto")
    counter = TokenCounter("gpt-4.1-nano-2025-04-14")
    assert est.examples == 21
    assert est.epochs == 4 and est.epochs_auto  # 100 // 21
    assert est.total_tokens == sum(
        counter.count(r if isinstance(r, dict) else r.to_dict()).total for r in records
    )


def test_parallel_pass_gives_the_same_figures(tmp_path: Path) -> None:
    system = "You are a terse assistant for an online store. " * 40
    path = tmp_path / "big.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for i in range(4200):
            handle.write(
                json.dumps(
                    {
                        "messages": [
                            {"role": "system", "content": system},
                            {"role": "user", "content": f"Where is order {i}? " * (1 + i % 7)},
                            {
                                "role": "assistant",
                                "content": f"Order {i} ships tomorrow. " * (1 + i % 5),
                            },
                        ]
                    }
                )
                + "\n"
            )
    assert path.stat().st_size > 8 * 1024 * 1024
    one = estimate(path, model=MINI, workers=1)
    two = estimate(path, model=MINI, workers=2)
    assert one == two
    assert one.examples == 4200


def test_unknown_model_and_missing_file_are_usage_errors(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(SFTRecord.single_turn("a", "b").to_dict()) + "\n")
    with pytest.raises(UsageError):
        estimate(path, model="not-a-model")
    with pytest.raises(UsageError):
        estimate(tmp_path / "missing.jsonl", model=MINI)
    with pytest.raises(UsageError):
        estimate(path, model=MINI, epochs=0)


def test_pipeline_estimate_sums_sft_and_dpo(real_datasets: Path) -> None:
    sft = estimate(
        real_datasets / "foundry_sft_gsm8k_train.jsonl", model="gpt-4.1-mini-2025-04-14", epochs=2
    )
    dpo = estimate(
        real_datasets / "foundry_dpo_orca_pairs_validation.jsonl",
        model="ft:gpt-4.1-mini-2025-04-14:acme::sft1",
        epochs=1,
        method="dpo",
    )
    plan = estimate_stages([sft, dpo])
    assert isinstance(plan, PlanEstimate)
    assert dpo.base_model == "gpt-4.1-mini-2025-04-14" and dpo.method == "dpo"
    assert dpo.price_per_1m == sft.price_per_1m == 5.0
    assert plan.billed_tokens == sft.billed_tokens + dpo.billed_tokens
    assert plan.cost_usd == pytest.approx((sft.cost_usd or 0) + (dpo.cost_usd or 0))
    assert plan.to_dict()["stages"][1]["method"] == "dpo"
    assert "total" in str(plan)
    unpriced = estimate_stages(
        [
            sft,
            estimate(
                real_datasets / "foundry_sft_gsm8k_train.jsonl",
                model=MINI,
                prices={MINI: {"per_hour": 1.0}},
            ),
        ]
    )
    assert unpriced.cost_usd is None
    assert unpriced.cost_reason is not None and "supervised stage" in unpriced.cost_reason


def test_cli_prints_the_estimate(real_datasets: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = real_datasets / "foundry_sft_stock_toolcall_train.jsonl"
    assert main(["estimate", str(path), "--model", "gpt-3.5-turbo-0125", "--epochs", "3"]) == 0
    out = capsys.readouterr().out
    assert "examples        86" in out
    assert "16,385 tokens" in out
    assert "per 1M tokens" in out


def test_cli_json_and_prices(
    tmp_path: Path, real_datasets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"gpt-4o-mini-2024-07-18": 1.0}))
    path = real_datasets / "foundry_sft_gsm8k_train.jsonl"
    code = main(["estimate", str(path), "--model", MINI, "--json", "--prices", str(prices)])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["examples"] == 449
    assert data["price_per_1m"] == 1.0
    assert data["cost_usd"] == pytest.approx(data["billed_tokens"] / 1e6)


def test_cli_errors(
    tmp_path: Path, real_datasets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["estimate", str(tmp_path / "none.jsonl"), "--model", MINI]) == 2
    assert "no such file" in capsys.readouterr().err
    qa = real_datasets / "foundry_distilling_sarcasm_qa.jsonl"
    assert main(["estimate", str(qa), "--model", MINI]) == 1
    assert "not counted" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["estimate", str(qa), "--model", MINI, "--epochs", "many"])

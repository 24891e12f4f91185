"""The builder is immutable and refuses misuse before any network call."""

from __future__ import annotations

from pathlib import Path

import pytest

import ftkit


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "train.jsonl"
    path.write_text(ftkit.SFTRecord.single_turn("q", "a").to_json() + "\n")
    return path


def test_every_call_returns_a_new_builder(data: Path) -> None:
    base = ftkit.FineTune(client=object())
    with_model = base.model("gpt-4.1-mini-2025-04-14")
    with_sft = with_model.sft(data)
    assert base.config.model is None
    assert with_model.config.sft is None
    assert with_sft.config.sft is not None and with_sft.config.sft.train == data
    assert with_sft is not with_model
    assert repr(with_sft) == "FineTune(model='gpt-4.1-mini-2025-04-14', stages=sft)"


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda ft, p: ft.sft(p, epochs=0), "epochs"),
        (lambda ft, p: ft.sft(p, epochs=51), "epochs"),
        (lambda ft, p: ft.sft(p, epochs=True), "epochs"),
        (lambda ft, p: ft.sft(p, batch_size=257), "batch_size"),
        (lambda ft, p: ft.sft(p, learning_rate_multiplier=0), "learning_rate_multiplier"),
        (lambda ft, p: ft.dpo(p, beta=0), "beta"),
        (lambda ft, p: ft.dpo(p, beta=2.5), "beta"),
        (lambda ft, p: ft.dpo(p, beta=float("nan")), "beta"),
        (lambda ft, p: ft.suffix("x" * 65), "suffix"),
        (lambda ft, p: ft.suffix(""), "suffix"),
        (lambda ft, p: ft.seed(-1), "seed"),
        (lambda ft, p: ft.metadata({"ftkit_run": "x"}), "reserved"),
        (lambda ft, p: ft.metadata({f"k{i}": "v" for i in range(15)}), "at most 14"),
        (lambda ft, p: ft.sft(p.parent / "missing.jsonl"), "not found"),
        (lambda ft, p: ft.sft(p, validation=p), "validation file is the training file"),
        (lambda ft, p: ft.model(""), "model"),
        (lambda ft, p: ft.uploads(concurrency=0), "concurrency"),
    ],
)
def test_misuse_names_the_fix(call, fragment: str, data: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ftkit.UsageError, match=fragment):
        call(ftkit.FineTune(client=object()).model("gpt-4.1-mini-2025-04-14"), data)


def test_incomplete_configuration_is_refused(data: Path) -> None:
    with pytest.raises(ftkit.UsageError, match="no base model"):
        ftkit.FineTune(client=object()).sft(data).plan()
    with pytest.raises(ftkit.UsageError, match="nothing to train"):
        ftkit.FineTune(client=object()).model("gpt-4.1-mini-2025-04-14").plan()


def test_plan_needs_no_network(sft_file: Path, dpo_file: Path) -> None:
    plan = (
        ftkit.FineTune(client=object())
        .model("gpt-4.1-mini-2025-04-14")
        .sft(sft_file, epochs=3)
        .dpo(dpo_file)
        .plan()
    )
    assert plan.ok
    sft, dpo = plan.stages
    assert sft.estimate is not None and sft.estimate.epochs == 3
    assert sft.estimate.cost_usd is not None and sft.estimate.cost_usd > 0
    assert dpo.base_model == "<SFT result>"
    assert dpo.job["method"]["type"] == "dpo"
    assert plan.cost_usd == pytest.approx(
        sum(s.estimate.cost_usd for s in plan.stages if s.estimate and s.estimate.cost_usd)
    )
    assert "total: $" in str(plan)
    assert "<table>" in plan._repr_html_()
    assert plan.to_dict()["stages"][0]["estimate"]["epochs"] == 3

"""``plan()`` on Azure OpenAI: what Azure does not train is refused before any request.

The clients are the real ``openai.AzureOpenAI`` (Azure's dated API) and ``openai.OpenAI``
on an Azure ``/openai/v1`` base URL, over a transport that records every request and
answers none: a refused run must not send one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
from pipeline_support import EXAMPLES

import ftkit
from ftkit import providers
from ftkit.cli import hint_for, main
from ftkit.pipeline._config import PipelineConfig, StageConfig
from ftkit.pipeline._plan import make_plan
from ftkit.providers import _model as _models

SFT = EXAMPLES / "sarcasm_sft.jsonl"
DPO = EXAMPLES / "sarcasm_dpo.jsonl"
ENDPOINT = "https://my-resource.openai.azure.com"


@pytest.fixture(autouse=True)
def _today_and_fresh_catalog(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Before OpenAI's shutdown dates, so that OpenAI plans are refused for no other reason.
    monkeypatch.setattr(_models, "utc_today", lambda: dt.date(2026, 11, 2))
    providers.reset()
    yield
    providers.reset()


class Wire:
    """A transport that records each request and refuses it (nothing may be sent)."""

    def __init__(self) -> None:
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return httpx2.Response(418, json={"error": {"message": "no request expected"}})

    def dated(self) -> openai.AzureOpenAI:
        return openai.AzureOpenAI(
            azure_endpoint=ENDPOINT,
            api_key="test-key",
            api_version="2025-04-01-preview",
            max_retries=0,
            http_client=httpx2.Client(transport=httpx2.MockTransport(self)),
        )

    def v1(self) -> openai.OpenAI:
        return openai.OpenAI(
            base_url=f"{ENDPOINT}/openai/v1/",
            api_key="test-key",
            max_retries=0,
            http_client=httpx2.Client(transport=httpx2.MockTransport(self)),
        )

    def openai(self) -> openai.OpenAI:
        return openai.OpenAI(
            api_key="test-key",
            max_retries=0,
            http_client=httpx2.Client(transport=httpx2.MockTransport(self)),
        )


@pytest.fixture(params=["dated", "v1"])
def azure(request: pytest.FixtureRequest) -> tuple[Wire, Any]:
    wire = Wire()
    return wire, getattr(wire, request.param)()


def _builder(client: Any, model: str, state: Path, *, dpo: bool = False) -> ftkit.FineTune:
    ft = ftkit.FineTune(client).model(model).sft(SFT).retry(1).state_dir(state)
    return ft.dpo(DPO) if dpo else ft


REFUSED: list[tuple[str, Callable[[ftkit.FineTune], ftkit.FineTune], bool, str, type[Exception]]]
REFUSED = [
    # A model Azure's table does not list (Azure's Models API cannot be asked: SKILL).
    ("gpt-5-mini", lambda ft: ft, False, "model_not_available", ftkit.TrainingUnavailable),
    # A snapshot Azure no longer fine-tunes.
    ("gpt-35-turbo-0125", lambda ft: ft, False, "model_not_available", ftkit.TrainingUnavailable),
    # DPO where Azure offers only SFT (OpenAI trains DPO on it).
    ("gpt-4o-mini-2024-07-18", lambda ft: ft, True, "method_not_available", ftkit.UsageError),
    # An open-source model on Azure's default training type (it takes globalstandard only).
    ("gpt-oss-20b", lambda ft: ft, False, "training_type_not_available", ftkit.UsageError),
    # The developer tier where the model has none.
    (
        "Qwen-32B",
        lambda ft: ft.training_type("developer"),
        False,
        "training_type_not_available",
        ftkit.UsageError,
    ),
]


@pytest.mark.parametrize(("model", "configure", "dpo", "code", "error"), REFUSED)
def test_azure_refuses_before_any_request(
    azure: tuple[Wire, Any],
    tmp_path: Path,
    model: str,
    configure: Callable[[ftkit.FineTune], ftkit.FineTune],
    dpo: bool,
    code: str,
    error: type[Exception],
) -> None:
    wire, client = azure
    ft = configure(_builder(client, model, tmp_path / "state", dpo=dpo))
    plan = ft.plan()
    assert not plan.ok and plan.provider == "azure"
    assert [r.code for r in plan.refusals] == [code]
    text = str(plan)
    assert "on Azure OpenAI" in text.splitlines()[0] and "BLOCKED:" in text
    assert f"refused [{code}]: {plan.refusals[0].message}" in text
    assert plan.to_dict()["refusals"][0]["code"] == code
    json.dumps(plan.to_dict())
    with pytest.raises(error) as raised:
        ft.run()
    assert str(raised.value).startswith(plan.refusals[0].message[:40])
    with pytest.raises(error):
        ft.start()
    assert wire.requests == []
    assert not (tmp_path / "state").exists() or not any((tmp_path / "state").rglob("*.json"))


def test_the_messages_name_the_fix(tmp_path: Path) -> None:
    client = Wire().dated()
    dpo = _builder(client, "gpt-4o-mini-2024-07-18", tmp_path, dpo=True).plan().refusals[0]
    assert "Azure OpenAI trains gpt-4o-mini-2024-07-18 with SFT only, not DPO" in dpo.message
    assert "offers DPO on gpt-4.1-2025-04-14, gpt-4.1-mini-2025-04-14" in dpo.message
    assert "(OpenAI allows DPO on gpt-4o-mini-2024-07-18)" in dpo.message
    assert "drop the .dpo(...) stage" in dpo.message

    oss = _builder(client, "gpt-oss-20b", tmp_path).plan().refusals[0]
    assert ".training_type('globalstandard')" in oss.message
    assert "standard training type (the one a job trains on when none is chosen)" in oss.message
    assert "ftkit does not choose it for you" in oss.message and "data-residency" in oss.message

    unlisted = _builder(client, "gpt-5-mini", tmp_path).plan().refusals[0]
    assert "FTKIT_MODELS" in unlisted.message and "register_file" in unlisted.message
    error = unlisted.error()
    assert isinstance(error, ftkit.TrainingUnavailable) and error.code == "model_not_available"
    assert "not offered for fine-tuning" in hint_for(error) and "API key" not in hint_for(error)


def test_what_azure_trains_is_planned_with_unknown_costs(
    azure: tuple[Wire, Any], tmp_path: Path
) -> None:
    wire, client = azure
    plan = _builder(client, "gpt-4.1-mini-2025-04-14", tmp_path, dpo=True).plan()
    assert plan.ok and plan.refusals == () and plan.training_type == "standard"
    assert plan.cost_usd is None
    for stage in plan.stages:
        assert stage.estimate is not None and stage.estimate.billed_tokens > 0
        reason = str(stage.estimate.cost_reason)
        assert "Azure OpenAI's standard training price" in reason and "FTKIT_MODELS" in reason
    assert "cost unknown: Azure OpenAI's standard training price" in str(plan)
    assert plan.to_dict()["training_type"] == "standard"

    oss = _builder(client, "gpt-oss-20b", tmp_path).training_type("globalStandard").plan()
    assert oss.ok and oss.training_type == "globalstandard"
    assert oss.stages[0].train.counts.get("tokens_unavailable") == 1  # not a tiktoken model
    assert wire.requests == []


def test_a_catalog_file_prices_the_plan_of_its_training_type(tmp_path: Path) -> None:
    prices = tmp_path / "azure-prices.json"
    entry = {"training_by_type": {"globalstandard": {"sft": {"per_1m_tokens": 4.0}}}}
    prices.write_text(
        json.dumps(
            {
                "provider": "azure",
                "prices_as_of": "2026-11-01",
                "models": {"gpt-4.1-mini-2025-04-14": entry},
            }
        )
    )
    providers.register_file(prices)
    client = Wire().dated()
    ft = _builder(client, "gpt-4.1-mini-2025-04-14", tmp_path)
    priced = ft.training_type("globalstandard").plan()
    estimate = priced.stages[0].estimate
    assert estimate is not None and estimate.price_per_1m == 4.0
    assert priced.cost_usd == pytest.approx(estimate.billed_tokens * 4.0 / 1e6)
    assert ft.plan().cost_usd is None  # Standard is still unpriced


def test_a_training_type_on_openai_is_refused(tmp_path: Path) -> None:
    wire = Wire()
    ft = _builder(wire.openai(), "gpt-4.1-mini-2025-04-14", tmp_path)
    assert ft.plan().ok and ft.plan().training_type is None and ft.plan().provider == "openai"
    assert ft.plan().cost_usd is not None  # OpenAI's prices, as before
    tiered = ft.training_type("globalstandard")
    plan = tiered.plan()
    assert [r.code for r in plan.refusals] == ["training_type_not_available"]
    assert "OpenAI takes no training type" in plan.refusals[0].message
    assert "Azure OpenAI" in plan.refusals[0].message
    with pytest.raises(ftkit.UsageError, match="OpenAI takes no training type"):
        tiered.run()
    assert wire.requests == []


def test_the_async_builder_refuses_alike(tmp_path: Path) -> None:
    wire = Wire()
    client = openai.AsyncAzureOpenAI(
        azure_endpoint=ENDPOINT,
        api_key="test-key",
        api_version="2025-04-01-preview",
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(wire)),
    )
    ft = ftkit.AsyncFineTune(client).model("gpt-oss-20b").sft(SFT).retry(1).state_dir(tmp_path)
    assert [r.code for r in ft.plan().refusals] == ["training_type_not_available"]
    with pytest.raises(ftkit.UsageError, match="globalstandard"):
        asyncio.run(ft.run())
    assert wire.requests == []


def test_make_plan_without_a_provider_keeps_the_first_table() -> None:
    config = PipelineConfig(
        model="gpt-4o-mini-2024-07-18",
        sft=StageConfig.build("supervised", SFT),
        dpo=StageConfig.build("dpo", DPO),
    )
    assert make_plan(config).ok  # openai first: DPO on gpt-4o-mini is OpenAI's to train
    assert not make_plan(config, provider="azure").ok
    with pytest.raises(ftkit.UsageError, match="unknown provider 'nowhere'"):
        make_plan(config, provider="nowhere")


def test_ftkit_plan_prints_azure_refusals(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", ENDPOINT)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("OPENAI_API_VERSION", "2025-04-01-preview")
    assert main(["plan", "--model", "gpt-oss-20b", "--sft", str(SFT)]) == 1
    out = capsys.readouterr().out
    assert "refused [training_type_not_available]" in out
    assert ".training_type('globalstandard')" in out
    assert main(["plan", "--model", "gpt-oss-20b", "--sft", str(SFT), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["provider"] == "azure" and data["refusals"][0]["param"] == "training_type"

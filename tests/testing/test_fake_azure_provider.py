"""``provider="azure"``: the dialect's plumbing, faults, the server and the command line."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import httpx2
import openai
import pytest
from azure_support import API_VERSION, BASE, HEX32, call, dated_url, processed_file, v1_url
from fake_support import LINES, cli_server

from ftkit.cli import main
from ftkit.providers import models
from ftkit.testing import ROUTE_NAMES, FakeClock, FakeFineTuningAPI

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"


def test_an_unknown_provider_or_api_is_refused() -> None:
    with pytest.raises(ValueError, match="'openai', 'azure', 'together', 'fireworks'"):
        FakeFineTuningAPI(provider="mistral")
    with pytest.raises(ValueError, match="provider='azure'"):
        FakeFineTuningAPI().client(api="v1")
    with pytest.raises(ValueError, match="'dated', 'v1'"):
        FakeFineTuningAPI(provider="azure").async_client(api="openai")


def test_an_azure_fake_serves_the_catalogs_azure_models() -> None:
    fake = FakeFineTuningAPI(provider="azure")
    served = {m.id for m in fake.client(api="v1").models.list().data}
    assert served == {m.name for m in models("azure")}
    assert {"gpt-oss-20b", BASE} <= served


def test_without_an_azure_catalog_an_azure_fake_serves_no_models(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ftkit._exceptions import UsageError
    from ftkit.testing import _azure

    def no_azure(provider: str | None = None) -> tuple[()]:
        raise UsageError(f"unknown provider {provider!r}")

    monkeypatch.setattr(_azure, "models", no_azure)
    assert FakeFineTuningAPI(provider="azure").client().models.list().data == []


def test_route_names_cover_every_provider() -> None:
    openai_routes = set(FakeFineTuningAPI().route_names)
    azure_routes = set(FakeFineTuningAPI(provider="azure").route_names)
    assert {"files.import", "jobs.delete"} <= azure_routes - openai_routes
    assert "checkpoints.permissions.create" in openai_routes - azure_routes
    together_routes = set(FakeFineTuningAPI(provider="together").route_names)
    fireworks_routes = set(FakeFineTuningAPI(provider="fireworks").route_names)
    assert set(ROUTE_NAMES) == openai_routes | azure_routes | together_routes | fireworks_routes


def test_ids_are_reproducible_with_a_seed() -> None:
    ids = []
    for _ in range(2):
        fake = FakeFineTuningAPI(provider="azure", seed=11)
        client = fake.client(max_retries=0)
        train = processed_file(fake, client)
        ids.append((train, client.fine_tuning.jobs.create(model=BASE, training_file=train).id))
    assert ids[0] == ids[1]
    assert re.fullmatch(f"file-{HEX32}", ids[0][0]) and re.fullmatch(f"ftjob-{HEX32}", ids[0][1])


@pytest.mark.parametrize("api", ["dated", "v1"])
def test_a_lost_create_is_applied_once(api: str) -> None:
    fake = FakeFineTuningAPI(provider="azure")
    client = fake.client(api=api, max_retries=0)
    train = processed_file(fake, client)
    fake.faults.inject("jobs.create", "applied_but_lost")
    with pytest.raises(openai.APITimeoutError):
        client.fine_tuning.jobs.create(model=BASE, training_file=train)
    assert len(fake.jobs) == 1


@pytest.mark.parametrize(("api", "url"), [("dated", dated_url), ("v1", v1_url)])
def test_faults_answer_in_azures_envelope(api: str, url: object) -> None:
    fake = FakeFineTuningAPI(provider="azure")
    fake.faults.inject("files.list", "429", retry_after=2)
    fake.faults.inject("files.list", "500")
    assert callable(url)
    limited = call(fake, "GET", url("/files"))
    assert limited.status_code == 429 and limited.headers["retry-after"] == "2"
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    failed = call(fake, "GET", url("/files"))
    assert failed.status_code == 500 and failed.json()["error"]["code"] == "internalFailure"
    assert [r.api for r in fake.calls("files.list")] == [api, api]


def test_both_apis_through_the_loopback_server() -> None:
    fake = FakeFineTuningAPI(provider="azure")
    with fake.serve() as server:
        origin = f"http://127.0.0.1:{server.port}"
        addresses = fake.addresses(origin)
        assert addresses == {
            "azure_endpoint": origin,
            "api_version": API_VERSION,
            "v1_base_url": f"{origin}/openai/v1/",
        }
        http = httpx2.Client(trust_env=False)
        dated = openai.AzureOpenAI(
            azure_endpoint=addresses["azure_endpoint"],
            api_version=addresses["api_version"],
            api_key="any-key",
            max_retries=0,
            timeout=30,
            http_client=http,
        )
        v1 = openai.OpenAI(
            base_url=addresses["v1_base_url"],
            api_key="any-key",
            max_retries=0,
            timeout=30,
            http_client=http,
        )
        train = dated.files.create(file=("train.jsonl", LINES), purpose="fine-tune")
        fake.advance(10)
        job = v1.fine_tuning.jobs.create(model=BASE, training_file=train.id)
        assert dated.fine_tuning.jobs.retrieve(job.id).status == "pending"
        assert v1.fine_tuning.jobs.retrieve(job.id).status == "validating_files"
    assert [r.api for r in fake.requests] == ["dated", "v1", "dated", "v1"]
    assert FakeFineTuningAPI().addresses(origin) == {"base_url": f"{origin}/v1"}


def test_fake_server_provider_azure_announces_both_apis() -> None:
    with cli_server("--provider", "azure", "--json", "--speed", "0") as line:
        address = json.loads(line)
        assert address["provider"] == "azure"
        assert address["api_version"] == API_VERSION
        assert address["v1_base_url"] == address["azure_endpoint"] + "/openai/v1/"
        http = httpx2.Client(trust_env=False, timeout=30)
        dated = http.get(
            f"{address['azure_endpoint']}/openai/files",
            params={"api-version": API_VERSION},
            headers={"api-key": "k"},
        )
        assert dated.status_code == 200 and dated.json() == {"object": "list", "data": []}
        v1 = http.get(f"{address['v1_base_url']}files", headers={"api-key": "k"})
        assert v1.status_code == 200 and v1.json()["data"] == []
        assert http.get(f"{address['azure_endpoint']}/v1/files").status_code == 404


def test_fake_server_provider_azure_prints_both_apis() -> None:
    with cli_server("--provider", "azure", "--speed", "0") as line:
        assert "Azure OpenAI" in line


def _ftkit_run_on_the_azure_fake(model: str, state_dir: Path, *extra: str) -> int:
    """``ftkit run --provider azure --fake``: the example SFT file on ``model``."""
    sft = str(EXAMPLES / "sarcasm_sft.jsonl")
    argv = ["run", "--provider", "azure", "--fake", "--model", model, "--sft", sft]
    return main([*argv, "--state-dir", str(state_dir), "--no-progress", *extra])


def test_ftkit_run_on_the_azure_fake(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = _ftkit_run_on_the_azure_fake(BASE, tmp_path, "--json")
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert re.fullmatch(
        rf"{re.escape(BASE)}\.ft-{HEX32}-ftk[a-z2-7]{{8}}", result["fine_tuned_model"]
    )
    manifest = json.loads(Path(result["manifest"]).read_text())
    assert manifest["provider"] == "azure"


def test_ftkit_run_on_the_azure_fake_refuses_an_open_source_model_before_upload(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = _ftkit_run_on_the_azure_fake("gpt-oss-20b", tmp_path)
    # ftkit's plan refuses it on the Azure fake's catalog, before anything is sent.
    assert code == 1
    assert "BLOCKED" in capsys.readouterr().out


def test_openais_end_of_new_jobs_is_not_azures() -> None:
    after = datetime(2027, 2, 1, tzinfo=timezone.utc).timestamp()
    azure = FakeFineTuningAPI(
        provider="azure", clock=FakeClock(start=after), enforce_unconfirmed_dates=True
    )
    client = azure.client(max_retries=0)
    assert client.fine_tuning.jobs.create(model=BASE, training_file=processed_file(azure, client))
    openai_fake = FakeFineTuningAPI(clock=FakeClock(start=after), enforce_unconfirmed_dates=True)
    plain = openai_fake.client(max_retries=0)
    with pytest.raises(openai.PermissionDeniedError):
        plain.fine_tuning.jobs.create(model=BASE, training_file=processed_file(openai_fake, plain))

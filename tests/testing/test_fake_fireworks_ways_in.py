"""``provider="fireworks"`` through every way in: the async client, the SDK's upload helper,
the loopback server and the CLI."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import fireworks
import fireworks.lib.dataset_upload as dataset_upload
import httpx
import pytest
from fake_support import cli_server
from fireworks.types import Dataset, SupervisedFineTuningJob
from fireworks_support import ACCOUNT, BASE, dpo_rows, jsonl, new_fake, sft_rows, strict

from ftkit._virtual_time import CLIENT_CLOCK_ATTRIBUTE
from ftkit.cli import main
from ftkit.testing._clients import _bridge


def test_clients_carry_the_virtual_clock_and_the_account() -> None:
    fake = new_fake()
    for client in (fake.client(), fake.async_client(), fake.async_fireworks_client()):
        assert getattr(type(client), CLIENT_CLOCK_ATTRIBUTE) is fake.clock
        assert getattr(client, "account_id", ACCOUNT) == ACCOUNT
    assert isinstance(fake.async_fireworks_client(), fireworks.AsyncFireworks)
    copied = fake.fireworks_client().with_options(max_retries=5)
    assert getattr(type(copied), CLIENT_CLOCK_ATTRIBUTE) is fake.clock
    assert fake.fireworks_client().account_id == ACCOUNT
    assert fake.fireworks_client(account_id="elsewhere").account_id == "elsewhere"


def test_the_async_client_trains_sft_then_dpo_warm_started() -> None:
    fake = new_fake()
    client = fake.async_fireworks_client()
    lora = f"accounts/{ACCOUNT}/models/sft"

    async def run() -> tuple[str, str, str]:
        await client.datasets.create(dataset_id="train", dataset={"user_uploaded": {}})
        await client.datasets.upload("train", file=("train.jsonl", jsonl(sft_rows())))
        await client.datasets.create(dataset_id="pairs", dataset={"user_uploaded": {}})
        await client.datasets.upload("pairs", file=("pairs.jsonl", jsonl(dpo_rows())))
        fake.advance(10)
        fake.faults.inject("sft_jobs.get", "429", retry_after=7)
        await client.supervised_fine_tuning_jobs.create(
            dataset=f"accounts/{ACCOUNT}/datasets/train",
            base_model=BASE,
            supervised_fine_tuning_job_id="sft",
        )
        fake.advance(3600)
        sft = await client.supervised_fine_tuning_jobs.get("sft")
        dpo = await client.dpo_jobs.create(
            dataset=f"accounts/{ACCOUNT}/datasets/pairs",
            dpo_job_id="dpo",
            training_config={"warm_start_from": lora},
            loss_config={"method": "DPO", "dpo": {"beta": 0.1}},
        )
        fake.advance(3600)
        done = await client.dpo_jobs.get("dpo")
        assert dpo.loss_config is not None
        return str(sft.state), str(dpo.loss_config.method), str(done.state)

    assert asyncio.run(run()) == ("JOB_STATE_COMPLETED", "DPO", "JOB_STATE_COMPLETED")
    assert 7.0 in fake.clock.slept
    assert [r.status for r in fake.calls("sft_jobs.get")] == [429, 200]


def test_the_sdks_own_shard_upload_helper_works_against_the_fake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = new_fake()
    client = fake.fireworks_client(max_retries=0)
    shards = tmp_path / "shards"
    shards.mkdir()
    (shards / "a.jsonl").write_bytes(jsonl(sft_rows(3)))
    (shards / "b.jsonl").write_bytes(jsonl(sft_rows(4, tag="b")))

    real = httpx.Client

    def bridged(**options: Any) -> httpx.Client:
        # The helper PUTs through a plain httpx.Client of its own: route it to the fake.
        return real(transport=httpx.MockTransport(_bridge(fake.handle)), **options)

    monkeypatch.setattr(httpx, "Client", bridged)  # what dataset_upload's ``httpx`` is
    count = dataset_upload.count_dataset_examples(str(shards))
    client.datasets.create(
        dataset_id="sharded", dataset={"user_uploaded": {}, "example_count": str(count)}
    )
    dataset_upload.upload_dataset_shards(client, "sharded", str(shards))
    assert [r.status for r in fake.calls("datasets.upload_put")] == [200, 200]
    assert [r.route for r in fake.requests][-1] == "datasets.validate_upload"
    fake.advance(5)
    ready = client.datasets.get("sharded")
    assert (ready.state, ready.example_count) == ("READY", "7")


def test_the_server_serves_a_fireworks_client_with_signed_urls_on_its_origin() -> None:
    fake = new_fake(api_keys=["fw_served"])
    with fake.serve() as server:
        assert fake.addresses(server.origin) == {"base_url": server.origin, "account_id": ACCOUNT}
        client = fireworks.Fireworks(
            base_url=server.origin, api_key="fw_served", account_id=ACCOUNT, max_retries=0
        )
        client.datasets.create(dataset_id="train", dataset={"user_uploaded": {}})
        data = jsonl(sft_rows())
        urls = client.datasets.get_upload_endpoint(
            "train", filename_to_size={"t.jsonl": str(len(data))}
        )
        url = (urls.filename_to_signed_urls or {})["t.jsonl"]
        assert url.startswith(f"{server.origin}/fireworks-storage/{ACCOUNT}/datasets/train/")
        sent = {
            "Content-Type": "application/octet-stream",
            "X-Goog-Content-Length-Range": f"{len(data)},{len(data)}",
        }
        assert httpx.put(url, content=data, headers=sent).status_code == 200
        client.datasets.validate_upload("train", body={})
        fake.advance(5)
        shown = client.get(f"/v1/accounts/{ACCOUNT}/datasets/train", cast_to=httpx.Response).json()
        assert strict(Dataset, shown).state == "READY"
        client.supervised_fine_tuning_jobs.create(
            dataset=f"accounts/{ACCOUNT}/datasets/train",
            base_model=BASE,
            supervised_fine_tuning_job_id="j",
        )
        fake.advance(3600)
        body = client.get(
            f"/v1/accounts/{ACCOUNT}/supervisedFineTuningJobs/j", cast_to=httpx.Response
        ).json()
        assert strict(SupervisedFineTuningJob, body).state == "JOB_STATE_COMPLETED"
        metrics = httpx.get(body["metricsFileSignedUrl"])
        assert metrics.status_code == 200 and json.loads(metrics.text.splitlines()[0])["step"] == 1
        with pytest.raises(fireworks.AuthenticationError):
            fireworks.Fireworks(
                base_url=server.origin, api_key="fw_other", account_id=ACCOUNT, max_retries=0
            ).datasets.list()


def test_fake_server_command_speaks_fireworks() -> None:
    with cli_server("--provider", "fireworks", "--json", "--speed", "0") as line:
        announced = json.loads(line)
        assert announced["provider"] == "fireworks" and announced["account_id"] == ACCOUNT
        base_url = announced["base_url"]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base_url)
        client = fireworks.Fireworks(
            base_url=base_url, api_key="anything", account_id=announced["account_id"], max_retries=0
        )
        made = client.datasets.create(dataset_id="d", dataset={"user_uploaded": {}})
        assert client.datasets.get("d").name == made.name


def test_fake_server_help_names_fireworks(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["fake-server", "--help"])
    assert "fireworks" in capsys.readouterr().out

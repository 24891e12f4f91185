"""``provider="together"`` through every way in: the async client, the loopback server, the CLI."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import together
from fake_support import cli_server
from together.types import FileResponse, FinetuneResponse

from ftkit._virtual_time import CLIENT_CLOCK_ATTRIBUTE
from ftkit.cli import main
from ftkit.testing import DEFAULT_START, FakeClock, FakeFineTuningAPI

BASE = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"


def write_rows(path: Path, n: int = 12) -> Path:
    rows = [
        {
            "messages": [
                {"role": "user", "content": f"q{i}"},
                {"role": "assistant", "content": f"a{i}"},
            ]
        }
        for i in range(n)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def new_fake(**options: Any) -> FakeFineTuningAPI:
    return FakeFineTuningAPI(
        provider="together", seed=3, clock=FakeClock(start=DEFAULT_START), **options
    )


def test_clients_carry_the_virtual_clock() -> None:
    fake = new_fake()
    for client in (fake.client(), fake.async_client(), fake.together_client()):
        assert getattr(type(client), CLIENT_CLOCK_ATTRIBUTE) is fake.clock
    assert isinstance(fake.async_together_client(), together.AsyncTogether)
    copied = fake.client().with_options(max_retries=5)
    assert getattr(type(copied), CLIENT_CLOCK_ATTRIBUTE) is fake.clock


def test_the_async_client_uploads_trains_and_retries_on_the_clock(tmp_path: Path) -> None:
    fake = new_fake()
    client = fake.async_client()
    assert isinstance(client, together.AsyncTogether)
    path = write_rows(tmp_path / "train.jsonl")

    async def run() -> tuple[str, str]:
        uploaded = await client.files.upload(file=path)
        fake.advance(10)
        fake.faults.inject("jobs.retrieve", "429", retry_after=7)
        job = await client.fine_tuning.create(training_file=uploaded.id, model=BASE, suffix="s")
        fake.advance(3600)
        done = await client.fine_tuning.retrieve(job.id)
        events = await client.fine_tuning.list_events(job.id)
        return str(done.status), events.data[-1].type

    before = fake.clock.now()
    assert asyncio.run(run()) == ("completed", "job_complete")
    assert 7.0 in fake.clock.slept  # Retry-After honoured on the virtual clock
    assert fake.clock.now() >= before + 3600 + 7
    assert [r.status for r in fake.calls("jobs.retrieve")] == [429, 200]


def test_the_server_serves_a_together_client(tmp_path: Path) -> None:
    fake = new_fake(api_keys=["tgp_v1_served"])
    with fake.serve() as server:
        assert fake.addresses(server.origin) == {"base_url": server.origin}
        client = together.Together(base_url=server.origin, api_key="tgp_v1_served", max_retries=0)
        uploaded = client.files.upload(file=write_rows(tmp_path / "train.jsonl"))
        put = fake.calls("files.upload_put")[0]
        assert put.status == 200 and put.path.startswith("/together-uploads/")
        fake.advance(10)
        shown = client.get(f"/v1/files/{uploaded.id}", cast_to=httpx.Response).json()
        FileResponse.model_validate(shown)
        assert shown["processing_status"] == "COMPLETED"
        job = client.fine_tuning.create(training_file=uploaded.id, model=BASE)
        fake.advance(3600)
        body = client.get(f"/v1/fine-tunes/{job.id}", cast_to=httpx.Response).json()
        FinetuneResponse.model_validate(body)
        assert body["status"] == "completed"
        with pytest.raises(together.AuthenticationError):
            together.Together(base_url=server.origin, api_key="tgp_v1_other").files.list()


def test_the_presigned_url_of_a_served_fake_is_on_its_origin(tmp_path: Path) -> None:
    fake = new_fake()
    with fake.serve() as server:
        client = together.Together(base_url=server.origin, api_key="any", max_retries=0)
        form = {
            "purpose": "fine-tune",
            "file_name": "t.jsonl",
            "file_type": "jsonl",
            "checksum": "0" * 64,
        }
        answer = httpx.post(
            f"{server.origin}/v1/files",
            data=form,
            files={"unused": ("x", b"")},
            headers={"Authorization": "Bearer any"},
        )
        assert answer.status_code == 302
        assert answer.headers["location"].startswith(f"{server.origin}/together-uploads/file-")
        assert re.fullmatch(r"file-[0-9a-f-]{36}", answer.headers["x-together-file-id"])
        forged = httpx.put(answer.headers["location"].split("?")[0], content=b"{}")
        assert forged.status_code == 403
        assert client.files.list().data[0].processing_status == "PENDING"


def test_fake_server_command_speaks_together(tmp_path: Path) -> None:
    with cli_server("--provider", "together", "--json", "--speed", "0") as line:
        announced = json.loads(line)
        assert announced["provider"] == "together"
        base_url = announced["base_url"]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base_url)
        client = together.Together(base_url=base_url, api_key="anything", max_retries=0)
        uploaded = client.files.upload(file=write_rows(tmp_path / "train.jsonl"))
        assert client.files.retrieve(uploaded.id).id == uploaded.id


def test_fake_server_help_names_together(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["fake-server", "--help"])
    assert "together" in capsys.readouterr().out

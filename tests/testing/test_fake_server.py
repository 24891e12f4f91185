"""The loopback HTTP server: in a thread, and as ``ftkit fake-server`` in a subprocess."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx2
import openai
import pytest
from fake_support import LINES, cli_server

from ftkit.cli import main
from ftkit.testing import FakeFineTuningAPI, FakeServer


def loopback_client(base_url: str, **kwargs: object) -> openai.OpenAI:
    # trust_env=False: a proxy variable on the machine must not capture loopback traffic.
    return openai.OpenAI(
        api_key="sk-server-test",
        base_url=base_url,
        max_retries=0,
        timeout=30,
        http_client=httpx2.Client(trust_env=False),
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
def served() -> Iterator[tuple[FakeFineTuningAPI, FakeServer]]:
    fake = FakeFineTuningAPI()
    with fake.serve() as server:
        yield fake, server


def test_server_binds_loopback_only(served: tuple[FakeFineTuningAPI, FakeServer]) -> None:
    _, server = served
    assert server.base_url == f"http://127.0.0.1:{server.port}/v1"
    assert server._server.server_address[0] == "127.0.0.1"


def test_a_job_through_the_server(served: tuple[FakeFineTuningAPI, FakeServer]) -> None:
    fake, server = served
    client = loopback_client(server.base_url)
    train = client.files.create(file=("t.jsonl", LINES), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=train.id)
    assert job.status == "validating_files"
    fake.advance(10_000)
    done = client.fine_tuning.jobs.retrieve(job.id)
    assert done.status == "succeeded"
    assert client.files.content(done.result_files[0]).text.startswith("step,")
    assert client.models.retrieve(done.fine_tuned_model).id == done.fine_tuned_model


def test_azure_client_through_the_server() -> None:
    fake = FakeFineTuningAPI(provider="azure")
    with fake.serve() as server:
        _azure_files_through(fake, server)


def _azure_files_through(fake: FakeFineTuningAPI, server: FakeServer) -> None:
    client = openai.AzureOpenAI(
        api_key="azure-key",
        api_version="2025-04-01-preview",
        azure_endpoint=server.azure_endpoint,
        max_retries=0,
        timeout=30,
        http_client=httpx2.Client(trust_env=False),
    )
    assert client.files.list().data == []
    assert fake.requests[-1].azure and "api-key" not in fake.requests[-1].headers


def test_transport_faults_over_http(served: tuple[FakeFineTuningAPI, FakeServer]) -> None:
    fake, server = served
    client = loopback_client(server.base_url)
    train = client.files.create(file=("t.jsonl", LINES), purpose="fine-tune")
    fake.faults.inject("jobs.create", "reset")
    with pytest.raises(openai.APIConnectionError):
        client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=train.id)
    assert fake.jobs == []
    fake.faults.inject("jobs.create", "applied_but_lost")
    with pytest.raises(openai.APIConnectionError):
        client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=train.id)
    assert len(fake.jobs) == 1, "the write was applied although the answer was lost"
    fake.faults.inject("files.list", "429", retry_after=7)
    with pytest.raises(openai.RateLimitError) as caught:
        client.files.list()
    assert caught.value.response.headers["retry-after"] == "7"
    client.files.list()  # the server survived all of it


def test_concurrent_clients_share_one_consistent_state(
    served: tuple[FakeFineTuningAPI, FakeServer],
) -> None:
    fake, server = served
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            client = loopback_client(server.base_url)
            for i in range(5):
                client.files.create(file=(f"w{n}-{i}.jsonl", LINES), purpose="fine-tune")
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len({f["id"] for f in fake.files}) == 40


def test_cli_rejects_a_bad_port(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fake-server", "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err


def test_cli_server_in_a_subprocess() -> None:
    with cli_server("--port", "0", "--speed", "0") as first:
        assert first.startswith("ftkit fake server listening on http://127.0.0.1:"), first
        base_url = first.split()[-1]
        client = loopback_client(base_url)
        train = client.files.create(file=("t.jsonl", LINES), purpose="fine-tune")
        job = client.fine_tuning.jobs.create(
            model="gpt-4.1-mini-2025-04-14", training_file=train.id
        )
        control = base_url.removesuffix("/v1")
        with httpx2.Client(trust_env=False, timeout=30) as http:
            assert (
                http.post(f"{control}/_fake/advance", json={"seconds": 10_000}).status_code == 200
            )
            http.post(f"{control}/_fake/faults", json={"route": "jobs.retrieve", "kind": "500"})
        with pytest.raises(openai.InternalServerError):
            client.fine_tuning.jobs.retrieve(job.id)
        done = client.fine_tuning.jobs.retrieve(job.id)
        assert done.status == "succeeded"
        assert done.fine_tuned_model.startswith("ft:gpt-4.1-mini-2025-04-14:fake::")

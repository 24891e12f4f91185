"""The fake server's per-request latency (``fake-server --latency-ms``): counted, never timed."""

from __future__ import annotations

from typing import Any

import httpx2
import openai
import pytest
from fake_support import LINES

import ftkit.testing._api
import ftkit.testing._server as server_module
from ftkit.cli import main
from ftkit.testing import FakeFineTuningAPI, FakeServer


def _client(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(
        api_key="sk-latency-test",
        base_url=base_url,
        max_retries=0,
        timeout=30,
        http_client=httpx2.Client(trust_env=False),
    )


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits the server makes, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(server_module, "_sleep", recorded.append)
    return recorded


def test_every_request_waits_the_latency_before_its_answer(waits: list[float]) -> None:
    fake = FakeFineTuningAPI()
    with FakeServer(fake, latency=0.05) as server:
        client = _client(server.base_url)
        created = client.files.create(file=("t.jsonl", LINES), purpose="fine-tune")
        assert client.files.list().data[0].id == created.id
    assert waits == [0.05, 0.05]


def test_no_latency_no_wait(waits: list[float]) -> None:
    with FakeFineTuningAPI().serve() as server:
        assert _client(server.base_url).files.list().data == []
    assert waits == []


def test_a_negative_latency_is_refused() -> None:
    with pytest.raises(ValueError, match="latency"):
        FakeServer(FakeFineTuningAPI(), latency=-0.001)


def test_cli_passes_latency_ms_as_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[FakeServer] = []

    class Recorded(FakeServer):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            started.append(self)

        def serve_forever(self) -> None:  # return at once instead of serving until Ctrl-C
            return

    monkeypatch.setattr(ftkit.testing._api, "FakeServer", Recorded)  # what serve() starts
    assert main(["fake-server", "--latency-ms", "50", "--speed", "0", "--json"]) == 0
    assert [s.latency for s in started] == [0.05]


def test_cli_refuses_a_negative_latency(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fake-server", "--latency-ms", "-1"]) == 2
    assert "--latency-ms" in capsys.readouterr().err

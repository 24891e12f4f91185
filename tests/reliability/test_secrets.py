"""The API key set on the client goes to the service and nowhere else.

Not in logs (every logger at DEBUG, faults included), manifests or lock files
(which are 0600), reprs, exception messages, or the fake's request log; and the
validator finds credentials planted in training data. On Together and Fireworks the
signed upload URLs (and Fireworks' signed metrics URLs) are credentials too.
"""

from __future__ import annotations

import json
import logging
import os
import traceback
from pathlib import Path
from urllib.parse import urlencode

import httpx
import httpx2
import openai
import pytest
from reliability_support import API_KEY, IN_PROCESS_ORIGIN, IN_PROCESS_URL, Data, World

import ftkit
from ftkit.backend import OpenAIBackend
from ftkit.testing import FakeFineTuningAPI
from ftkit.validation import validate


def _everything_written(state_dir: Path) -> list[Path]:
    return [p for p in state_dir.rglob("*") if p.is_file()]


def test_key_absent_from_debug_logs_state_files_and_reprs(
    tmp_path: Path, data: Data, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: ftkit, openai, httpx2, everything
    world = World(tmp_path / "state", data)
    for route, kind in (
        ("jobs.create", "applied_but_lost"),
        ("files.create", "429"),
        ("jobs.retrieve", "reset"),
        ("files.content", "500"),
    ):
        world.fake.faults.inject(route, kind)  # type: ignore[arg-type]
    builder = world.builder()
    run = builder.start()
    result = run.wait()
    assert result.fine_tuned_model
    assert caplog.records, "nothing was logged: the check below would prove nothing"
    assert any(r.levelno == logging.DEBUG for r in caplog.records)
    assert API_KEY not in caplog.text
    for record in caplog.records:
        assert API_KEY not in record.getMessage()

    files = _everything_written(world.state_dir)
    assert {p.suffix for p in files} == {".json", ".lock"}
    for path in files:
        assert API_KEY not in path.read_text(errors="replace"), path
        assert (os.stat(path).st_mode & 0o777) == 0o600, path

    shown = [
        repr(builder),
        repr(run),
        repr(result),
        str(result),
        str(run.status()),
        json.dumps(run.status().to_dict()),
        repr(builder.plan()),
        repr(OpenAIBackend(world.client())),
        repr(world.fake),
        repr(world.fake.requests),
        json.dumps(world.fake.jobs),
    ]
    for text in shown:
        assert API_KEY not in text


def test_key_absent_from_the_loopback_servers_request_log(tmp_path: Path, data: Data) -> None:
    world = World(tmp_path / "state", data)
    with world.fake.serve() as server:
        client = openai.OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0)
        world.builder(client=client).run()
    azure_fake = FakeFineTuningAPI(provider="azure")
    with azure_fake.serve() as server:
        azure = openai.AzureOpenAI(
            azure_endpoint=server.azure_endpoint,
            api_key=API_KEY,
            api_version="2025-04-01-preview",
            max_retries=0,
        )
        azure.files.list()
    assert len(world.fake.requests) > 20 and azure_fake.requests
    for recorded in world.fake.requests + azure_fake.requests:
        assert API_KEY not in repr(recorded)
        assert not {"authorization", "api-key"} & set(recorded.headers)


def _echoing_client(status: int) -> openai.OpenAI:
    """A service that quotes the caller's credential back in every error, as some proxies do."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        body = {
            "error": {
                "message": f"Incorrect API key provided: {key}. Bearer {key} was refused.",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key" if status == 401 else None,
            }
        }
        return httpx2.Response(status, json=body)

    return openai.OpenAI(
        api_key=API_KEY,
        base_url=IN_PROCESS_URL,
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
    )


@pytest.mark.parametrize("status", [401, 503])
def test_errors_quoting_the_key_are_redacted(
    status: int, tmp_path: Path, data: Data, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    world = World(tmp_path / "state", data)
    with pytest.raises(ftkit.APIError) as caught:
        world.builder(client=_echoing_client(status)).run()
    error = caught.value
    assert error.status_code == status or isinstance(error, ftkit.RetryExhausted)
    assert "***" in str(error)  # the quote is there, the key is not
    for text in (str(error), repr(error), repr(error.args)):
        assert API_KEY not in text
    last = getattr(error, "last_error", None)
    if last is not None:
        assert API_KEY not in str(last)
    assert API_KEY not in caplog.text
    for path in _everything_written(world.state_dir):
        assert API_KEY not in path.read_text(errors="replace")


PLANTED = {
    "openai": "sk-proj-" + "Zx81kQ2vLm09PqRsTuVwXy3456abcd",
    "aws": "AKIA" + "IOSFODNN7EXAMPLE",
    "github": "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    "slack": "xoxb-" + "123456789012-abcdefABCDEF",
    "google": "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
    "stripe": "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
    "private key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA",
}


def test_the_validator_finds_keys_planted_in_training_data(tmp_path: Path) -> None:
    rows = []
    for i, (kind, secret) in enumerate(PLANTED.items()):
        where = i % 4
        messages: list[dict[str, object]] = [
            {"role": "system", "content": "You help." if where else f"use {secret}"},
            {"role": "user", "content": f"my {kind} key is {secret}" if where == 1 else "hi"},
            {"role": "assistant", "content": f"noted: {secret}" if where == 2 else "ok"},
        ]
        record: dict[str, object] = {"messages": messages}
        if where == 3:
            messages[2] = {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "login", "arguments": json.dumps({"key": secret})},
                    }
                ],
            }
            messages.append({"role": "tool", "tool_call_id": "c1", "content": "ok"})
            messages.append({"role": "assistant", "content": "done"})
            record["tools"] = [{"type": "function", "function": {"name": "login"}}]
        rows.append(record)
    clean: dict[str, object] = {
        "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
    }
    rows += [clean] * 5
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = validate(path)
    found = {i.line for i in report.issues if i.code == "possible_secret"}
    assert found == set(range(1, len(PLANTED) + 1))
    for issue in report.issues:  # the finding names the kind of secret, never the secret
        for secret in PLANTED.values():
            assert secret.splitlines()[-1] not in issue.message
    assert not any(API_KEY in i.message for i in report.issues)


def test_the_validator_finds_a_key_in_dpo_pairs() -> None:
    secret = PLANTED["openai"]
    record = {
        "input": {"messages": [{"role": "user", "content": "what is the key?"}]},
        "preferred_output": [{"role": "assistant", "content": "I cannot share that."}],
        "non_preferred_output": [{"role": "assistant", "content": f"It is {secret}"}],
    }
    report = validate([record])
    paths = [i.path for i in report.issues if i.code == "possible_secret"]
    assert paths == ["non_preferred_output[0].content"]


def test_the_validator_finds_a_key_written_with_json_escapes() -> None:
    line = json.dumps(
        {
            "messages": [
                {"role": "user", "content": f"key {PLANTED['openai']}"},
                {"role": "assistant", "content": "ok"},
            ]
        }
    ).replace("sk-", "sk\\u002d")
    assert json.loads(line)["messages"][0]["content"].endswith(PLANTED["openai"])
    report = validate([line])
    assert [i.code for i in report.issues if i.code == "possible_secret"]


def test_tracebacks_and_warnings_of_a_quoting_service_hold_no_key(
    tmp_path: Path, data: Data, caplog: pytest.LogCaptureFixture
) -> None:
    # Regression: the openai error kept as __cause__ still quoted the key, and the
    # exactly-once create logs its failed last look with the traceback.
    caplog.set_level(logging.DEBUG)
    world = World(tmp_path / "state", data)
    looks = 0

    def handler(request: httpx2.Request) -> httpx2.Response:
        nonlocal looks
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        if request.url.path.endswith("/fine_tuning/jobs"):
            looks += request.method == "GET"
            # Creates fail until the policy gives up; the last look is refused.
            if request.method == "POST" or looks > 4:
                status = 503 if request.method == "POST" else 401
                error = {"message": f"refused {key}", "type": "x", "param": None, "code": None}
                return httpx2.Response(status, json={"error": error})
        return world.fake.handle(request)

    client = openai.OpenAI(
        api_key=API_KEY,
        base_url=IN_PROCESS_URL,
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
    )
    with pytest.raises(ftkit.RetryExhausted) as caught:
        world.builder(client=client).run()
    assert "could not check whether a failed write was applied" in caplog.text
    assert API_KEY not in caplog.text
    chain = "".join(traceback.format_exception(caught.value))
    assert "refused ***" in chain
    assert API_KEY not in chain


TOGETHER_KEY = "tgp_v1_RELIABILITY0123456789abcdefSECRETkey"


def test_a_together_key_is_absent_from_logs_state_files_reprs_and_errors(
    tmp_path: Path, data: Data, caplog: pytest.LogCaptureFixture
) -> None:
    # Together's presigned URLs are credentials too: neither they nor the key are kept.
    import together

    from ftkit.backend import TogetherBackend

    caplog.set_level(logging.DEBUG)
    world = World(tmp_path / "state", data, api="together")
    for route, kind in (("jobs.create", "applied_but_lost"), ("files.upload_put", "500")):
        world.fake.faults.inject(route, kind)  # type: ignore[arg-type]
    client = world.fake.together_client(max_retries=0, api_key=TOGETHER_KEY)
    builder = world.builder(client=client)
    result = builder.run()
    assert result.fine_tuned_model and caplog.records
    uploads = [r for r in world.fake.requests if r.route == "files.upload_put"]
    signed = [f"{r.path}?{'&'.join(f'{k}={v}' for k, v in r.query.items())}" for r in uploads]
    assert signed and all(r.query for r in uploads)  # the URLs carried their signature
    signatures = [q for r in uploads for q in r.query.values()]
    # The key is in no log line of anyone (the SDK's and httpx's debug logs included).
    assert TOGETHER_KEY not in caplog.text
    # The presigned URLs are in none of ftkit's own (the SDK and httpx log them
    # themselves at DEBUG and INFO: that is theirs to configure).
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("ftkit"))
    secrets = [TOGETHER_KEY, *signatures]
    shown = [
        ours,
        repr(builder),
        repr(result),
        str(result),
        repr(TogetherBackend(client)),
        *(p.read_text(errors="replace") for p in _everything_written(world.state_dir)),
    ]
    for text in shown:
        for secret in secrets:
            assert secret not in text

    def echo(request: httpx.Request) -> httpx.Response:
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        return httpx.Response(401, json={"error": {"message": f"Invalid API key: {key}"}})

    quoting = together.Together(
        api_key=TOGETHER_KEY,
        base_url="https://fake-together.invalid",
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(echo)),
    )
    with pytest.raises(ftkit.APIError) as caught:
        world.builder(client=quoting).run()
    assert caught.value.status_code == 401 and "***" in str(caught.value)
    assert TOGETHER_KEY not in str(caught.value) and TOGETHER_KEY not in repr(caught.value.args)


FIREWORKS_KEY = "fw_RELIABILITY0123456789abcdefSECRETkey"


def _signatures(urls: list[str]) -> list[str]:
    """The signature of each signed URL (``X-Goog-Signature``): the part that is a credential."""
    found = [httpx2.URL(u).params.get("X-Goog-Signature") for u in urls]
    return [s for s in found if s]


def test_a_fireworks_key_and_signed_urls_are_absent_from_logs_state_files_reprs_and_errors(
    tmp_path: Path, data: Data, caplog: pytest.LogCaptureFixture
) -> None:
    # Fireworks' signed upload URLs, and the signed metrics URL each job shows, are
    # credentials too: neither they nor the key are kept or shown by ftkit.
    import fireworks

    from ftkit.backend import FireworksBackend

    caplog.set_level(logging.DEBUG)
    world = World(tmp_path / "state", data, api="fireworks")
    for route, kind in (
        ("datasets.create", "applied_but_lost"),
        ("sft_jobs.create", "applied_but_lost"),
        ("datasets.upload_put", "500"),
        ("sft_jobs.get", "reset"),
    ):
        world.fake.faults.inject(route, kind)  # type: ignore[arg-type]
    client = world.fake.fireworks_client(max_retries=0, api_key=FIREWORKS_KEY)
    builder = world.builder("signed", client=client)  # every file through a signed URL
    result = builder.run()
    assert result.fine_tuned_model and caplog.records
    puts = world.fake.calls("datasets.upload_put")
    assert len(puts) == 4  # three files, one PUT struck by the 500 and sent again
    uploads = _signatures([f"https://storage.invalid{r.path}?{urlencode(r.query)}" for r in puts])
    # The SFT job shows its metrics file's signed URL (DPO's is asked for separately).
    metrics = _signatures([j.get("metricsFileSignedUrl", "") for j in world.fake.jobs])
    assert len(uploads) == 4 and len(metrics) == 1  # each URL carried its signature
    # The key is in no log line of anyone (the SDK's and httpx's debug logs included).
    assert FIREWORKS_KEY not in caplog.text
    # Nor are the signatures: in ftkit's own lines, nor in httpx's (whose INFO line names
    # every URL it sends to; ftkit's filter on the httpx logger drops the signed query).
    shown = [
        caplog.text,
        repr(builder),
        repr(result),
        str(result),
        repr(FireworksBackend(client)),
        *(p.read_text(errors="replace") for p in _everything_written(world.state_dir)),
    ]
    for text in shown:
        for secret in (FIREWORKS_KEY, *uploads, *metrics):
            assert secret not in text
    # The fake's request log records the URLs it signed (the test reads them there), never
    # the key.
    assert FIREWORKS_KEY not in repr(world.fake.requests)
    for recorded in world.fake.requests:
        assert "authorization" not in recorded.headers

    def echo(request: httpx.Request) -> httpx.Response:
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        body = {"code": 16, "message": f"invalid API key {key}", "details": []}
        return httpx.Response(401, json=body)

    quoting = fireworks.Fireworks(
        api_key=FIREWORKS_KEY,
        account_id="acme",
        base_url="https://fake-fireworks.invalid",
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(echo)),
    )
    with pytest.raises(ftkit.APIError) as caught:
        world.builder(client=quoting).run()
    assert caught.value.status_code == 401 and "***" in str(caught.value)
    chain = "".join(traceback.format_exception(caught.value))
    for text in (str(caught.value), repr(caught.value.args), chain):
        assert FIREWORKS_KEY not in text


def test_a_storage_error_quoting_the_signed_url_is_scrubbed(
    tmp_path: Path, data: Data, caplog: pytest.LogCaptureFixture
) -> None:
    # Cloud Storage quotes the request it refuses (its SignatureDoesNotMatch error carries
    # the canonical request it signed, the query included): ftkit's error must carry no
    # part of the signature on. Here the signature ends the query, about where ftkit stops
    # quoting a refusal's body: a signature cut there must not leak its first characters.
    caplog.set_level(logging.DEBUG)
    world = World(tmp_path / "state", data, api="fireworks")
    quoted: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.method == "PUT":
            quoted.append(str(request.url))
            query = request.url.query.decode()
            text = (
                "<Error><Code>SignatureDoesNotMatch</Code><CanonicalRequest>"
                f"{query} PUT {request.url.path}</CanonicalRequest></Error>"
            )
            return httpx2.Response(403, content=text.encode())
        return world.fake.handle(request)

    addresses = world.fake.addresses(IN_PROCESS_ORIGIN)
    client = world.api.client(addresses, handler=handler, api_key=FIREWORKS_KEY, max_retries=0)
    with pytest.raises(ftkit.APIError) as caught:
        world.builder("signed", client=client).run()
    error = caught.value
    assert error.status_code == 403 and not error.retryable
    assert quoted and "SignatureDoesNotMatch" in str(error)  # the refusal is told...
    (signature,) = _signatures(quoted)
    chain = "".join(traceback.format_exception(error))
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("ftkit"))
    files = [p.read_text(errors="replace") for p in _everything_written(world.state_dir)]
    assert "***" in str(error)
    pieces = {signature[i : i + 8] for i in range(len(signature) - 7)}
    for text in (str(error), repr(error.args), chain, ours, *files):  # ...the URL is not
        assert quoted[0] not in text
        assert not [p for p in pieces if p in text], text

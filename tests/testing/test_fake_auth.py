"""The fake checks API keys: the default key shapes, ``api_keys=[...]``, Azure, the server flag."""

from __future__ import annotations

import asyncio
import json

import httpx2
import openai
import pytest
from fake_support import cli_server

from ftkit import APIError
from ftkit.backend import OpenAIBackend
from ftkit.cli import main
from ftkit.testing import FakeFineTuningAPI

WRONG = "sk-proj-WRONG-0123456789abcdefSECRET"
"""A well-formed key the fake was not configured with; it must never come back."""


def files_request(url: str, **headers: str) -> httpx2.Request:
    return httpx2.Request("GET", url, headers=headers)


def assert_invalid_key(caught: openai.AuthenticationError, key: str) -> None:
    """The 401 is OpenAI's ``invalid_api_key`` body, and it does not quote the key."""
    assert caught.status_code == 401
    assert caught.code == "invalid_api_key"
    assert caught.type == "invalid_request_error"
    assert caught.param is None
    assert isinstance(caught.body, dict)
    assert set(caught.body) == {"message", "type", "param", "code"}
    assert caught.body["message"].startswith("Incorrect API key provided")
    for shown in (str(caught), caught.response.text):
        assert key not in shown
        assert key[3:-4] not in shown or len(key) < 12, "at most 3 first and 4 last characters"


def test_by_default_any_sk_key_is_accepted() -> None:
    fake = FakeFineTuningAPI()
    assert fake.client(max_retries=0).files.list().data == []  # the fake's own key
    assert fake.client(api_key="sk-x", max_retries=0).files.list().data == []
    assert fake.client(api_key=WRONG, max_retries=0).files.list().data == []


@pytest.mark.parametrize("key", ["not-an-sk-key", "sk-", "SK-upper-case", "Bearer sk-nested"])
def test_by_default_other_keys_are_refused(key: str) -> None:
    fake = FakeFineTuningAPI()
    with pytest.raises(openai.AuthenticationError) as info:
        fake.client(api_key=key, max_retries=0).files.list()
    assert_invalid_key(info.value, key)
    assert fake.requests[-1].status == 401 and fake.requests[-1].route == "files.list"


def test_configured_keys_are_the_only_ones_accepted() -> None:
    fake = FakeFineTuningAPI(api_keys=["sk-test-right", "team-key-2"])
    assert fake.client(api_key="sk-test-right", max_retries=0).files.list().data == []
    assert fake.client(api_key="team-key-2", max_retries=0).files.list().data == []
    with pytest.raises(openai.AuthenticationError) as info:
        fake.client(api_key=WRONG, max_retries=0).files.list()
    assert_invalid_key(info.value, WRONG)
    azure = FakeFineTuningAPI(provider="azure", api_keys=["sk-test-right", "team-key-2"])
    with pytest.raises(openai.AuthenticationError):
        azure.azure_client(api_key="any-azure-key", max_retries=0).files.list()
    assert azure.azure_client(api_key="team-key-2", max_retries=0).files.list().data == []


def test_the_fakes_own_clients_send_the_first_configured_key() -> None:
    fake = FakeFineTuningAPI(api_keys=["sk-test-first", "sk-test-second"])
    azure = FakeFineTuningAPI(provider="azure", api_keys=["sk-test-first", "sk-test-second"])
    assert fake.client().api_key == azure.azure_client().api_key == "sk-test-first"
    assert fake.client(max_retries=0).files.list().data == []
    assert azure.azure_client(max_retries=0).files.list().data == []


def test_async_clients_get_the_same_401() -> None:
    fake = FakeFineTuningAPI(api_keys=["sk-test-right"])
    azure = FakeFineTuningAPI(provider="azure", api_keys=["sk-test-right"])

    async def scenario() -> None:
        assert (await fake.async_client(max_retries=0).files.list()).data == []
        with pytest.raises(openai.AuthenticationError) as info:
            await fake.async_client(api_key=WRONG, max_retries=0).files.list()
        assert_invalid_key(info.value, WRONG)
        with pytest.raises(openai.AuthenticationError) as caught:
            await azure.async_azure_client(api_key=WRONG, max_retries=0).files.list()
        assert caught.value.code == "401" and WRONG not in caught.value.response.text

    asyncio.run(scenario())


def test_a_missing_key_is_not_an_invalid_one() -> None:
    fake = FakeFineTuningAPI(api_keys=["sk-test-right"])
    for request in (
        files_request("https://x.invalid/v1/files"),
        files_request("https://x.invalid/v1/files", authorization="Bearer   "),
        files_request("https://x.invalid/v1/files", authorization="Basic sk-test-right"),
        # OpenAI reads only Authorization; api-key is Azure's header.
        files_request("https://x.invalid/v1/files", **{"api-key": "sk-test-right"}),
    ):
        response = fake.handle(request)
        assert response.status_code == 401
        assert response.json()["error"]["code"] is None
        assert response.json()["error"]["message"].startswith("You didn't provide an API key")


def test_azure_paths_take_the_api_key_header_or_a_bearer_token() -> None:
    fake = FakeFineTuningAPI(provider="azure")
    azure = "https://r.invalid/openai/files?api-version=2025-04-01-preview"
    v1 = "https://r.invalid/openai/v1/files"
    assert fake.handle(files_request(azure, **{"api-key": "0123456789abcdef"})).status_code == 200
    assert fake.handle(files_request(v1, **{"api-key": "any"})).status_code == 200
    assert fake.handle(files_request(azure, authorization="Bearer entra-token")).status_code == 200
    assert fake.handle(files_request(azure, **{"api-key": " "})).status_code == 401
    # An Entra ID token through the SDK's own option:
    client = fake.azure_client(api_key=None, azure_ad_token="eyJ-entra-token", max_retries=0)
    assert client.files.list().data == []


def test_azure_refuses_keys_outside_api_keys() -> None:
    fake = FakeFineTuningAPI(provider="azure", api_keys=["azure-key-right"])
    azure = "https://r.invalid/openai/files?api-version=2025-04-01-preview"
    assert fake.handle(files_request(azure, **{"api-key": "azure-key-right"})).status_code == 200
    response = fake.handle(files_request(azure, **{"api-key": "azure-key-wrong"}))
    assert response.status_code == 401
    # Azure's API gateway: ``{"error": {"code": "401", "message": "Access denied ..."}}``.
    assert response.json()["error"]["code"] == "401"
    assert response.json()["error"]["message"].startswith("Access denied due to invalid")
    assert "azure-key-wrong" not in response.text


def test_require_auth_false_accepts_any_key_or_none() -> None:
    fake = FakeFineTuningAPI(require_auth=False, api_keys=["sk-test-right"])
    assert fake.client(api_key="wrong", max_retries=0).files.list().data == []
    assert fake.handle(files_request("https://x.invalid/v1/files")).status_code == 200


@pytest.mark.parametrize("keys", [[], [""], ["sk-ok", "  "], "sk-one-string"])
def test_api_keys_must_be_a_list_of_keys(keys: list[str] | str) -> None:
    with pytest.raises(ValueError, match="api_keys"):
        FakeFineTuningAPI(api_keys=keys)


@pytest.mark.parametrize("key", [WRONG, "wrong-azure-style-0123456789abcdef"])
def test_ftkit_reports_a_rejected_key_as_a_final_401_without_the_key(key: str) -> None:
    fake = FakeFineTuningAPI(api_keys=["sk-test-right"])
    backend = OpenAIBackend(fake.client(api_key=key, max_retries=0))
    with pytest.raises(APIError) as info:
        backend.list_files().run()
    error = info.value
    assert error.status_code == 401
    assert error.code == "invalid_api_key"
    assert not error.retryable and not error.ambiguous
    assert isinstance(error.__cause__, openai.AuthenticationError)
    for shown in (str(error), repr(error), str(error.__cause__), repr(backend)):
        assert key not in shown
    assert len(fake.calls("files.list")) == 1, "a 401 is never retried"


# -------------------------------------------------------------- the command


def test_cli_refuses_a_blank_api_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fake-server", "--api-key", " "]) == 2
    assert "--api-key" in capsys.readouterr().err


def test_cli_help_documents_api_key(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["fake-server", "--help"])
    assert "--api-key" in capsys.readouterr().out


KEY_FLAGS = ("--api-key", "sk-cli-one", "--api-key", "cli-two")


def test_cli_server_accepts_only_its_api_keys() -> None:
    with cli_server("--speed", "0", "--json", *KEY_FLAGS) as first:
        assert "sk-cli-one" not in first and "cli-two" not in first
        base_url = json.loads(first)["base_url"]

        def client(key: str) -> openai.OpenAI:
            return openai.OpenAI(
                api_key=key,
                base_url=base_url,
                max_retries=0,
                timeout=30,
                http_client=httpx2.Client(trust_env=False),
            )

        assert client("sk-cli-one").files.list().data == []
        assert client("cli-two").files.list().data == []
        with pytest.raises(openai.AuthenticationError) as info:
            client("sk-cli-wrong-0123456789").files.list()
        assert_invalid_key(info.value, "sk-cli-wrong-0123456789")

"""The fake's management plane (``fake.arm``): ARM's deployment paths, states and refusals."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fake_support import LINES

from ftkit.testing import FakeFineTuningAPI

ARM = "https://management.azure.com"
ACCOUNT = (
    f"{ARM}/subscriptions/sub-1/resourceGroups/rg-1/providers/"
    "Microsoft.CognitiveServices/accounts/acct-1/deployments"
)
VERSION = {"api-version": "2024-10-01"}
AUTH = {"authorization": "Bearer arm-token"}


@pytest.fixture
def fake() -> FakeFineTuningAPI:
    return FakeFineTuningAPI(provider="azure")


def _train(fake: FakeFineTuningAPI, base: str = "gpt-4.1-mini-2025-04-14") -> str:
    """A fine-tuned model of ``fake``, trained through its data plane."""
    client = fake.azure_client(max_retries=0)
    file = client.files.create(file=("train.jsonl", LINES), purpose="fine-tune")
    fake.advance(60)
    job = client.fine_tuning.jobs.create(model=base, training_file=file.id)
    fake.advance(86400)
    model = client.fine_tuning.jobs.retrieve(job.id).fine_tuned_model
    assert model is not None
    return model


@pytest.fixture
def model(fake: FakeFineTuningAPI) -> str:
    return _train(fake)


@pytest.fixture
def arm(fake: FakeFineTuningAPI) -> httpx.Client:
    return fake.arm.client()


def _body(model: str, sku: str = "Standard", capacity: int = 100, fmt: str = "OpenAI") -> Any:
    return {
        "sku": {"name": sku, "capacity": capacity},
        "properties": {"model": {"format": fmt, "name": model, "version": "1"}},
    }


def _put(arm: httpx.Client, name: str, body: Any, **headers: str) -> httpx.Response:
    return arm.put(f"{ACCOUNT}/{name}", params=VERSION, json=body, headers=headers or AUTH)


def _error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_a_deployment_goes_accepted_creating_succeeded_on_the_clock(
    fake: FakeFineTuningAPI, arm: httpx.Client, model: str
) -> None:
    created = _put(arm, "ft-1", _body(model))

    assert created.status_code == 201
    assert created.json()["properties"]["provisioningState"] == "Accepted"
    assert created.json()["id"].endswith("/accounts/acct-1/deployments/ft-1")
    operation = created.headers["azure-asyncoperation"]
    states = []
    for seconds in (0, 30, 300):
        fake.advance(seconds)
        got = arm.get(f"{ACCOUNT}/ft-1", params=VERSION, headers=AUTH)
        states.append(got.json()["properties"]["provisioningState"])
    assert states == ["Accepted", "Creating", "Succeeded"]
    assert arm.get(operation, headers=AUTH).json()["status"] == "Succeeded"


def test_a_put_is_idempotent_by_name(arm: httpx.Client, model: str) -> None:
    first = _put(arm, "ft-1", _body(model))
    again = _put(arm, "ft-1", _body(model))

    assert (first.status_code, again.status_code) == (201, 200)
    listed = arm.get(ACCOUNT, params=VERSION, headers=AUTH).json()
    assert [d["name"] for d in listed["value"]] == ["ft-1"]
    # Another capacity updates it in place and provisions it again.
    updated = _put(arm, "ft-1", _body(model, capacity=20))
    assert updated.status_code == 200
    assert updated.json()["sku"]["capacity"] == 20
    assert updated.json()["properties"]["provisioningState"] == "Accepted"


def test_names_and_fixed_segments_ignore_case(arm: httpx.Client, model: str) -> None:
    _put(arm, "FT-1", _body(model))
    url = ACCOUNT.replace("resourceGroups", "resourcegroups").replace("acct-1", "ACCT-1")
    assert arm.get(f"{url}/ft-1", params=VERSION, headers=AUTH).status_code == 200


def test_delete_and_the_404_after(arm: httpx.Client, model: str) -> None:
    _put(arm, "ft-1", _body(model))

    assert arm.delete(f"{ACCOUNT}/ft-1", params=VERSION, headers=AUTH).status_code == 200
    assert arm.delete(f"{ACCOUNT}/ft-1", params=VERSION, headers=AUTH).status_code == 204
    missing = arm.get(f"{ACCOUNT}/ft-1", params=VERSION, headers=AUTH)
    assert _error(missing) == (404, "ResourceNotFound")


def test_only_its_own_fine_tuned_models_deploy(arm: httpx.Client, model: str) -> None:
    unknown = _put(arm, "x", _body("gpt-4.1-mini-2025-04-14.ft-00000000000000000000000000000000"))
    base = _put(arm, "y", _body("gpt-4.1-mini-2025-04-14"))
    wrong_format = _put(arm, "z", _body(model, fmt="openai"))  # ARM's words are case-sensitive

    for refused in (unknown, base, wrong_format):
        assert _error(refused) == (400, "DeploymentModelNotSupported")
    assert "of account deployment is not supported" in unknown.json()["error"]["message"]


def test_skus_capacity_and_quota_are_checked(
    fake: FakeFineTuningAPI, arm: httpx.Client, model: str
) -> None:
    assert _error(_put(arm, "a", _body(model, sku="Turbo"))) == (400, "InvalidResourceProperties")
    assert _error(_put(arm, "b", _body(model, capacity=0))) == (400, "InvalidResourceProperties")
    fake.arm.quota = 150
    assert _put(arm, "c", _body(model, capacity=100)).status_code == 201
    over = _put(arm, "d", _body(model, capacity=100))
    assert _error(over) == (400, "InsufficientQuota")
    assert "current available capacity 50" in over.json()["error"]["message"]


def test_the_developer_tier_takes_the_gpt_4_1_family_and_lives_24_hours(
    fake: FakeFineTuningAPI, arm: httpx.Client, model: str
) -> None:
    other = _train(fake, "gpt-4o-mini-2024-07-18")
    refused = _put(arm, "dev-4o", _body(other, sku="developertier", capacity=50))
    assert _error(refused) == (400, "InvalidResourceProperties")
    assert "'developertier'" in refused.json()["error"]["message"]

    assert _put(arm, "dev", _body(model, sku="DeveloperTier", capacity=50)).status_code == 201
    fake.advance(24 * 3600 - 1)
    assert [d["name"] for d in fake.arm.deployments] == ["dev"]
    fake.advance(1)
    assert fake.arm.deployments == []


def test_fail_next_ends_failed_and_the_operation_says_why(
    fake: FakeFineTuningAPI, arm: httpx.Client, model: str
) -> None:
    fake.arm.fail_next("ModelLoadFailure", "Failed to load LoRA adapter.")
    created = _put(arm, "ft-1", _body(model))
    fake.advance(3600)

    got = arm.get(f"{ACCOUNT}/ft-1", params=VERSION, headers=AUTH).json()
    assert got["properties"]["provisioningState"] == "Failed"
    status = arm.get(created.headers["azure-asyncoperation"], headers=AUTH).json()
    assert status["status"] == "Failed"
    assert status["error"] == {
        "code": "ModelLoadFailure",
        "message": "Failed to load LoRA adapter.",
    }
    # The same PUT again provisions a failed deployment anew.
    retried = _put(arm, "ft-1", _body(model))
    assert retried.json()["properties"]["provisioningState"] == "Accepted"
    assert arm.get(created.headers["azure-asyncoperation"], headers=AUTH).json()["status"] == (
        "Canceled"
    )


def test_a_bearer_token_and_an_api_version_are_required(
    fake: FakeFineTuningAPI, arm: httpx.Client, model: str
) -> None:
    url = f"{ACCOUNT}/ft-1"
    assert _error(arm.get(url, params=VERSION)) == (401, "AuthenticationFailed")
    basic = arm.get(url, params=VERSION, headers={"authorization": "Basic abc"})
    assert _error(basic) == (401, "InvalidAuthenticationToken")
    assert _error(arm.get(url, headers=AUTH)) == (400, "MissingApiVersionParameter")
    fake.arm.tokens = ("the-only-token",)
    wrong = arm.get(url, params=VERSION, headers=AUTH)
    assert _error(wrong) == (401, "InvalidAuthenticationToken")
    assert "arm-token" not in wrong.text  # never quoted back
    right = arm.get(url, params=VERSION, headers={"authorization": "Bearer the-only-token"})
    assert right.status_code == 404


def test_faults_strike_arm_routes_in_arms_shape(
    fake: FakeFineTuningAPI, arm: httpx.Client, model: str
) -> None:
    fake.faults.inject("deployments.create", "429", retry_after=3)

    limited = _put(arm, "ft-1", _body(model))

    assert _error(limited) == (429, "TooManyRequests")
    assert limited.headers["retry-after"] == "3"
    assert _put(arm, "ft-1", _body(model)).status_code == 201
    [first, second] = fake.calls("deployments.create")
    assert (first.status, first.fault, second.status) == (429, "429", 201)
    assert "authorization" not in first.headers  # the log keeps no credential


def test_transport_faults_reach_an_httpx_client_as_httpx_errors(
    fake: FakeFineTuningAPI, arm: httpx.Client, model: str
) -> None:
    fake.faults.inject("deployments.retrieve", "reset")
    with pytest.raises(httpx.ConnectError):
        arm.get(f"{ACCOUNT}/ft-1", params=VERSION, headers=AUTH)
    fake.faults.inject("deployments.create", "applied_but_lost")
    with pytest.raises(httpx.ReadTimeout):
        _put(arm, "ft-1", _body(model))
    assert [d["name"] for d in fake.arm.deployments] == ["ft-1"]  # applied all the same


def test_an_unknown_arm_path_is_a_404_in_arms_shape(arm: httpx.Client) -> None:
    url = f"{ARM}/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Nope/things"
    assert _error(arm.get(url, params=VERSION, headers=AUTH)) == (404, "InvalidResourceType")


def test_the_loopback_server_answers_arm_paths(fake: FakeFineTuningAPI, model: str) -> None:
    with fake.serve() as server, httpx.Client(base_url=server.azure_endpoint) as client:
        path = ACCOUNT.removeprefix(ARM)
        created = client.put(f"{path}/ft-1", params=VERSION, json=_body(model), headers=AUTH)
        assert created.status_code == 201
        # The async-operation URL points back at the server that answered.
        assert created.headers["azure-asyncoperation"].startswith(server.azure_endpoint)
        got = client.get(f"{path}/ft-1", params=VERSION, headers=AUTH)
        assert got.json()["properties"]["model"]["name"] == model

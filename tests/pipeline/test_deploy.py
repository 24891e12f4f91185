"""Deploying an Azure fine-tune (``RunResult.deploy``): ARM's PUT, the wait, and what fails.

Every test trains a model on the fake in Azure mode first, so the deployment is of a
model the fake really produced; ARM is the fake's management plane (``fake.arm``),
reached through an ``httpx`` client on the fake's virtual clock.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
import sys
import traceback
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from pipeline_support import EXAMPLES, MODEL, Env

import ftkit
import ftkit.providers
from ftkit.pipeline import Deployment, deploy_model
from ftkit.pipeline._deploy import DeploymentSpec, deployment_name
from ftkit.polling import PollPolicy
from ftkit.testing import FakeFineTuningAPI

TOKEN = "arm-token-not-a-real-one-6f1c9e"
WHERE = {"subscription": "sub-1", "resource_group": "rg-1", "account": "acct-1"}


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return Env(fake=FakeFineTuningAPI(provider="azure"), state_dir=tmp_path / "state")


def _run(env: Env, client: Any = None) -> ftkit.RunResult:
    builder = env.builder(client if client is not None else env.fake.azure_client(max_retries=0))
    return builder.sft(EXAMPLES / "sarcasm_sft.jsonl").run()


@pytest.fixture
def result(env: Env) -> ftkit.RunResult:
    return _run(env)


def _deploy(env: Env, result: ftkit.RunResult, **options: Any) -> Deployment:
    options.setdefault("token", lambda: TOKEN)
    options.setdefault("http_client", env.fake.arm.client())
    return result.deploy(**WHERE, **options)


def _adeploy(env: Env, result: ftkit.RunResult) -> Deployment:
    """:func:`_deploy` awaited: ``result.adeploy`` over the fake's ``httpx.AsyncClient``."""

    async def main() -> Deployment:
        async with env.fake.arm.async_client() as client:
            return await result.adeploy(**WHERE, token=lambda: TOKEN, http_client=client)

    return asyncio.run(main())


def _calls(fake: FakeFineTuningAPI, route: str) -> int:
    return len(fake.calls(route))


# --------------------------------------------------------------------------- success


def test_deploys_and_waits_through_accepted_and_creating(
    env: Env, result: ftkit.RunResult, caplog: pytest.LogCaptureFixture
) -> None:
    before = len(env.fake.clock.slept)
    with caplog.at_level(logging.INFO, logger="ftkit.pipeline"):
        deployment = _deploy(env, result)

    assert deployment.provisioning_state == "Succeeded"
    assert f"deployment {deployment.name}: Accepted -> Creating" in caplog.text
    assert deployment.model == result.fine_tuned_model
    assert deployment.name == deployment_name(str(result.fine_tuned_model))
    assert (deployment.sku, deployment.capacity, deployment.format) == ("Standard", 100, "OpenAI")
    assert deployment.id is not None and deployment.id.endswith(f"/deployments/{deployment.name}")
    assert deployment.endpoint_hint == "https://acct-1.openai.azure.com/openai/v1/"
    # The fake provisions for 300 virtual seconds: the wait looked several times, on its clock.
    assert _calls(env.fake, "deployments.create") == 1
    assert _calls(env.fake, "deployments.retrieve") >= 3
    waited = sum(env.fake.clock.slept[before:])
    assert waited >= env.fake.arm.accepted_seconds + env.fake.arm.creating_seconds
    [served] = env.fake.arm.deployments
    assert served["properties"]["model"] == {
        "format": "OpenAI",
        "name": result.fine_tuned_model,
        "version": "1",
    }
    assert served["sku"] == {"name": "Standard", "capacity": 100}


def test_the_async_twin_deploys_the_same_way(env: Env, result: ftkit.RunResult) -> None:
    deployment = _adeploy(env, result)

    assert deployment.provisioning_state == "Succeeded"
    assert len(env.fake.arm.deployments) == 1
    assert _calls(env.fake, "deployments.retrieve") >= 3


def test_an_async_token_source_is_awaited(env: Env, result: ftkit.RunResult) -> None:
    async def token() -> str:
        return TOKEN

    async def main() -> Deployment:
        return await result.adeploy(**WHERE, token=token, http_client=env.fake.arm.async_client())

    assert asyncio.run(main()).provisioning_state == "Succeeded"


def test_the_token_is_asked_for_every_request(env: Env, result: ftkit.RunResult) -> None:
    asked: list[int] = []

    def token() -> str:
        asked.append(1)
        return f"Bearer {TOKEN}"  # a "Bearer " prefix is tolerated

    _deploy(env, result, token=token)

    arm_requests = [r for r in env.fake.requests if (r.route or "").startswith("deployments.")]
    assert len(asked) == len(arm_requests) > 2


def test_the_hosting_fee_is_the_catalogs_or_unknown(
    env: Env, result: ftkit.RunResult, priced_catalog: None
) -> None:
    deployment = _deploy(env, result, name="unpriced")
    assert deployment.hosting_per_hour is None
    assert deployment.hosting_note.startswith("unknown")
    assert "15 days" in deployment.hosting_note and "used or not" in deployment.hosting_note

    # A user's catalog entry (``hosting_per_hour``) prices it.
    info = ftkit.model_info(MODEL, provider="azure")
    ftkit.providers.register(dataclasses.replace(info, hosting_per_hour=1.7))
    priced = _deploy(env, result, name="priced")
    assert priced.hosting_per_hour == 1.7
    assert priced.hosting_note.startswith("$1.70 per hour while it exists")


@pytest.fixture
def priced_catalog() -> Iterator[None]:
    yield
    ftkit.providers.reset()


def test_the_developer_tier_has_no_hosting_fee_and_a_24_hour_life(
    env: Env, result: ftkit.RunResult
) -> None:
    deployment = _deploy(env, result, sku="developer", name="dev-eval")

    assert (deployment.sku, deployment.capacity) == ("developertier", 50)
    assert deployment.hosting_per_hour == 0.0
    assert "24 hours" in deployment.hosting_note
    [put] = env.fake.calls("deployments.create")
    assert put.query["api-version"] == "2025-07-01-preview"  # Learn's version for this tier
    env.fake.advance(24 * 3600)
    assert env.fake.arm.deployments == []


# --------------------------------------------------------------------------- idempotence


def test_deploying_again_adopts_the_deployment(env: Env, result: ftkit.RunResult) -> None:
    first = _deploy(env, result)
    again = _deploy(env, result)

    assert again == first
    assert _calls(env.fake, "deployments.create") == 1  # adopted: no second PUT
    assert len(env.fake.arm.deployments) == 1


def test_a_crash_after_the_put_is_resumed_by_deploying_again(
    env: Env, result: ftkit.RunResult
) -> None:
    # The PUT lands, then every look fails: deploy() gives up while it provisions.
    env.fake.faults.inject("deployments.retrieve", "503", times=None, after=1)
    with pytest.raises(ftkit.RetryExhausted):
        _deploy(env, result, retry=2)
    assert _calls(env.fake, "deployments.create") == 1
    env.fake.faults.clear()

    deployment = _deploy(env, result)

    assert deployment.provisioning_state == "Succeeded"
    assert _calls(env.fake, "deployments.create") == 1  # the same deployment, adopted
    assert len(env.fake.arm.deployments) == 1


@pytest.mark.parametrize("asynchronous", [False, True], ids=["blocking", "awaited"])
def test_a_lost_put_answer_is_retried_onto_the_same_deployment(
    env: Env, result: ftkit.RunResult, asynchronous: bool
) -> None:
    env.fake.faults.inject("deployments.create", "applied_but_lost")

    deployment = _adeploy(env, result) if asynchronous else _deploy(env, result)

    assert deployment.provisioning_state == "Succeeded"
    assert _calls(env.fake, "deployments.create") == 2  # retried: PUT is idempotent by name
    assert len(env.fake.arm.deployments) == 1


def test_a_429_is_retried_after_the_time_arm_asked_for(env: Env, result: ftkit.RunResult) -> None:
    env.fake.faults.inject("deployments.create", "429", retry_after=7)
    before = len(env.fake.clock.slept)

    deployment = _deploy(env, result)

    assert deployment.provisioning_state == "Succeeded"
    assert env.fake.clock.slept[before] == 7.0
    assert [c.status for c in env.fake.calls("deployments.create")] == [429, 201]


def test_another_capacity_updates_the_deployment(env: Env, result: ftkit.RunResult) -> None:
    _deploy(env, result)
    updated = _deploy(env, result, capacity=20)

    assert updated.capacity == 20
    assert [c.status for c in env.fake.calls("deployments.create")] == [201, 200]
    assert env.fake.arm.deployments[0]["sku"]["capacity"] == 20
    # Left to the defaults, a later deploy adopts it as it is (capacity 20, no PUT).
    assert _deploy(env, result).capacity == 20
    assert _calls(env.fake, "deployments.create") == 2


def test_a_name_serving_another_model_is_never_replaced(env: Env, result: ftkit.RunResult) -> None:
    other = _run(env)
    _deploy(env, other, name="shared")

    with pytest.raises(ftkit.UsageError, match="already serves") as refused:
        _deploy(env, result, name="shared")

    assert str(other.fine_tuned_model) in str(refused.value)
    assert _calls(env.fake, "deployments.create") == 1
    assert env.fake.arm.deployments[0]["properties"]["model"]["name"] == other.fine_tuned_model


# --------------------------------------------------------------------------- failures


def test_a_failed_deployment_raises_with_arms_reason(env: Env, result: ftkit.RunResult) -> None:
    env.fake.arm.fail_next("ModelLoadFailure", "Failed to load LoRA adapter.")

    with pytest.raises(ftkit.DeploymentFailed) as failed:
        _deploy(env, result, name="doomed")

    error = failed.value
    assert (error.name, error.state, error.code) == ("doomed", "Failed", "ModelLoadFailure")
    assert error.error_message == "Failed to load LoRA adapter."
    assert str(error) == "deployment doomed Failed: ModelLoadFailure: Failed to load LoRA adapter."
    assert error.deployment["properties"]["provisioningState"] == "Failed"
    # Deploying again provisions the failed deployment anew, under the same name.
    assert _deploy(env, result, name="doomed").provisioning_state == "Succeeded"
    assert len(env.fake.arm.deployments) == 1


def test_a_wait_past_the_poll_deadline_times_out_and_keeps_it(
    env: Env, result: ftkit.RunResult
) -> None:
    poll = ftkit.PollPolicy(initial_delay=10, multiplier=1, max_delay=10, deadline=60)

    with pytest.raises(ftkit.WaitTimeout, match="deploy again to adopt it") as timed_out:
        _deploy(env, result, poll=poll)

    assert timed_out.value.last_status in ("Accepted", "Creating")
    assert _deploy(env, result).provisioning_state == "Succeeded"
    assert _calls(env.fake, "deployments.create") == 1


def test_an_unknown_model_is_arms_400(env: Env, result: ftkit.RunResult) -> None:
    with pytest.raises(ftkit.APIError) as refused:
        deploy_model(
            "gpt-4.1-mini-2025-04-14.ft-00000000000000000000000000000000",
            **WHERE,
            token=lambda: TOKEN,
            http_client=env.fake.arm.client(),
        )

    assert (refused.value.status_code, refused.value.code) == (400, "DeploymentModelNotSupported")
    assert not refused.value.retryable
    assert _calls(env.fake, "deployments.create") == 1  # a 400 is not retried


def test_a_403_names_the_role_to_grant(env: Env, result: ftkit.RunResult) -> None:
    env.fake.faults.inject("deployments.create", "status", status=403, code="AuthorizationFailed")

    with pytest.raises(ftkit.APIError) as refused:
        _deploy(env, result)

    assert refused.value.code == "AuthorizationFailed"
    assert "Microsoft.CognitiveServices/accounts/deployments/write" in str(refused.value)


def test_a_run_on_another_provider_is_refused_before_any_request(tmp_path: Path) -> None:
    openai = Env(fake=FakeFineTuningAPI(), state_dir=tmp_path / "openai")
    openai_run = _run(openai, openai.fake.client(max_retries=0))

    with pytest.raises(ftkit.UsageError, match="trained on 'openai'"):
        _deploy(openai, openai_run)

    assert _calls(openai.fake, "deployments.retrieve") == 0


def test_a_run_on_a_fake_is_never_deployed_on_real_azure(env: Env, result: ftkit.RunResult) -> None:
    with pytest.raises(ftkit.UsageError, match=r"http_client=fake\.arm\.client\(\)"):
        result.deploy(**WHERE, token=lambda: TOKEN)


def test_a_result_without_a_model_is_refused(env: Env, result: ftkit.RunResult) -> None:
    unfinished = ftkit.RunResult(
        result.run_id, None, result.stages, manifest_path=result.manifest_path
    )
    with pytest.raises(ftkit.UsageError, match="no fine-tuned model"):
        _deploy(env, unfinished)


def test_without_a_token_or_azure_identity_it_says_how_to_get_one(
    env: Env, result: ftkit.RunResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "azure.identity", None)  # not installed

    with pytest.raises(ftkit.MissingExtra) as missing:
        result.deploy(**WHERE, http_client=env.fake.arm.client())

    assert "pip install 'ftkit[azure]'" in str(missing.value) and "token=" in str(missing.value)
    assert _calls(env.fake, "deployments.retrieve") == 0


def test_azure_identity_gives_the_token_when_installed(
    env: Env, result: ftkit.RunResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    scopes: list[str] = []

    class DefaultAzureCredential:
        def get_token(self, scope: str) -> Any:
            scopes.append(scope)
            return types.SimpleNamespace(token=TOKEN)

    identity = types.ModuleType("azure.identity")
    identity.DefaultAzureCredential = DefaultAzureCredential  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "azure.identity", identity)

    assert result.deploy(**WHERE, http_client=env.fake.arm.client()).name
    assert set(scopes) == {"https://management.azure.com/.default"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"token": TOKEN}, "token must be a callable"),
        ({"token": lambda: ""}, "non-empty string"),
        ({"capacity": 0}, "capacity must be a whole number"),
        ({"name": "has space"}, "name must be 1-64"),
        ({"name": "x" * 65}, "name must be 1-64"),
        ({"resource_group": "a/b"}, "resource_group must be"),
        ({"http_client": "not a client"}, "http_client must be an httpx.Client"),
    ],
)
def test_malformed_arguments_are_usage_errors(
    env: Env, result: ftkit.RunResult, options: dict[str, Any], message: str
) -> None:
    arguments = {**WHERE, "token": lambda: TOKEN, "http_client": env.fake.arm.client()}
    arguments.update(options)
    with pytest.raises(ftkit.UsageError, match=message):
        result.deploy(**arguments)


# --------------------------------------------------------------------------- the token stays secret


def test_the_token_never_shows_in_reprs_errors_logs_or_files(
    env: Env, result: ftkit.RunResult, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: ftkit, httpx, everything
    env.fake.faults.inject("deployments.create", "429", retry_after=1)
    env.fake.faults.inject("deployments.retrieve", "reset", after=1)
    deployment = _deploy(env, result)
    env.fake.faults.inject("deployments.retrieve", "status", status=401, times=None)
    with pytest.raises(ftkit.APIError) as refused:
        _deploy(env, result)

    shown = [
        caplog.text,
        repr(deployment),
        str(deployment),
        str(deployment.to_dict()),
        repr(refused.value),
        "".join(traceback.format_exception(refused.value)),
        repr(env.fake.requests),
        Path(str(result.manifest_path)).read_text(),
    ]
    assert not [text for text in shown if TOKEN in text]
    assert "401" in str(refused.value) and "az account get-access-token" in str(refused.value)


# --------------------------------------------------------------------------- names and defaults


def test_default_names_are_deterministic_and_within_arms_rule() -> None:
    model = "gpt-4.1-mini-2025-04-14.ft-0ee45c42591b4f4a8bd4f49ef2301dcd"
    assert deployment_name(model) == "gpt-4-1-mini-2025-04-14-ft-0ee45c42591b4f4a8bd4f49ef2301dcd"
    long_a, long_b = (model + "-" + "a" * 40, model + "-" + "b" * 40)
    for long in (long_a, long_b):
        name = deployment_name(long)
        assert len(name) <= 64 and name == deployment_name(long)
        assert all(c.isalnum() or c == "-" for c in name)
    assert deployment_name(long_a) != deployment_name(long_b)


def _spec(model: str, **options: Any) -> DeploymentSpec:
    """The spec ``deploy_model(model, **WHERE, **options)`` deploys (its arguments as bound)."""
    bound = inspect.signature(deploy_model).bind(model, **WHERE, **options)
    bound.apply_defaults()
    return DeploymentSpec.of(bound.arguments)


def test_open_source_models_get_their_publishers_format_and_global_standard() -> None:
    spec = _spec("Ministral-3B.ft-0123456789abcdef0123456789abcdef")
    assert (spec.format, spec.wanted(None)) == ("Mistral AI", ("GlobalStandard", 100))
    openai_spec = _spec(f"{MODEL}.ft-0123456789abcdef0123456789abcdef")
    assert (openai_spec.format, openai_spec.wanted(None)) == ("OpenAI", ("Standard", 100))
    assert _spec("m.ft-1", sku="Global_Standard").sku == "GlobalStandard"


def test_chat_reaches_the_model_an_arm_deployment_serves_once_it_succeeded(
    env: Env, result: ftkit.RunResult
) -> None:
    env.fake.arm.creating_seconds = 0.0
    env.fake.arm.accepted_seconds = 1_000.0  # the PUT's wait is cut short below
    client = env.fake.azure_client(max_retries=0)
    messages = [{"role": "user", "content": "Who wrote Hamlet?"}]
    with pytest.raises(ftkit.WaitTimeout):
        _deploy(
            env,
            result,
            poll=PollPolicy(deadline=1.0, sleep=env.fake.clock.sleep, clock=env.fake.clock.now),
        )
    [pending] = env.fake.arm.deployments
    name = pending["name"]
    assert name != result.fine_tuned_model and env.fake.arm.serving(name) is None
    with pytest.raises(openai.NotFoundError):  # provisioning: the deployment serves nothing
        client.chat.completions.create(model=name, messages=messages)  # type: ignore[arg-type]
    env.fake.advance(1_000.0)
    assert env.fake.arm.serving(name) == result.fine_tuned_model
    answer = client.chat.completions.create(model=name, messages=messages)  # type: ignore[arg-type]
    assert answer.model == result.fine_tuned_model

"""Every fault kind, seen through the plain openai SDK, and the secrets-free request log."""

from __future__ import annotations

import httpx2
import openai
import pytest
from fake_support import LINES

from ftkit.testing import FakeFineTuningAPI

SECRET = "sk-live-this-must-never-be-stored-0123456789"


def train_file(fake: FakeFineTuningAPI) -> str:
    return fake.client(max_retries=0).files.create(file=("t.jsonl", LINES), purpose="fine-tune").id


def create(client: openai.OpenAI, training_file: str) -> str:
    return client.fine_tuning.jobs.create(
        model="gpt-4o-mini", training_file=training_file, metadata={"ftkit_run": "r1"}
    ).id


def test_429_carries_retry_after_and_the_sdk_waits_on_the_virtual_clock(
    fake: FakeFineTuningAPI,
) -> None:
    train = train_file(fake)
    fake.faults.inject("jobs.create", "429", retry_after=2)
    before = fake.clock.now()
    create(fake.client(max_retries=2), train)
    assert fake.clock.slept == [2.0]  # the SDK honoured Retry-After, virtually
    assert fake.clock.now() == before + 2
    assert [r.status for r in fake.calls("jobs.create")] == [429, 200]
    assert [r.attempt for r in fake.calls("jobs.create")] == [0, 1]
    assert len(fake.jobs) == 1

    fake.faults.inject("jobs.create", "429", retry_after=3)
    with pytest.raises(openai.RateLimitError) as caught:
        create(fake.client(max_retries=0), train)
    assert caught.value.code == "rate_limit_exceeded"
    assert caught.value.response.headers["retry-after"] == "3"
    assert caught.value.response.headers["retry-after-ms"] == "3000"


@pytest.mark.parametrize(("kind", "status"), [("500", 500), ("503", 503)])
def test_server_errors_apply_nothing(fake: FakeFineTuningAPI, kind: str, status: int) -> None:
    train = train_file(fake)
    fake.faults.inject("jobs.create", kind)  # type: ignore[arg-type]
    with pytest.raises(openai.InternalServerError) as caught:
        create(fake.client(max_retries=0), train)
    assert caught.value.status_code == status
    assert fake.jobs == []
    fake.faults.inject("jobs.create", kind, times=2)  # type: ignore[arg-type]
    create(fake.client(max_retries=2), train)  # the SDK's retries get through
    assert len(fake.jobs) == 1
    assert len(fake.clock.slept) == 2  # two virtual back-off waits


def test_connection_reset_applies_nothing(fake: FakeFineTuningAPI) -> None:
    train = train_file(fake)
    fake.faults.inject("jobs.create", "reset")
    with pytest.raises(openai.APIConnectionError) as caught:
        create(fake.client(max_retries=0), train)
    assert not isinstance(caught.value, openai.APITimeoutError)
    assert fake.jobs == []
    assert fake.calls("jobs.create")[-1].status is None
    assert fake.calls("jobs.create")[-1].fault == "reset"


def test_slow_answers_within_the_timeout_arrive_late(fake: FakeFineTuningAPI) -> None:
    train = train_file(fake)
    fake.faults.inject("jobs.create", "slow", delay=20)
    before = fake.clock.now()
    create(fake.client(max_retries=0, timeout=60), train)
    assert fake.clock.now() == before + 20
    assert len(fake.jobs) == 1


def test_slow_answers_past_the_timeout_time_out(fake: FakeFineTuningAPI) -> None:
    train = train_file(fake)
    fake.faults.inject("jobs.create", "slow", delay=120)
    before = fake.clock.now()
    with pytest.raises(openai.APITimeoutError):
        create(fake.client(max_retries=0, timeout=30), train)
    assert fake.clock.now() == before + 30  # the client gave up after its timeout
    assert fake.jobs == []


def test_applied_but_lost_duplicates_jobs_on_a_blind_retry(fake: FakeFineTuningAPI) -> None:
    train = train_file(fake)
    fake.faults.inject("jobs.create", "applied_but_lost")
    create(fake.client(max_retries=1, timeout=30), train)  # the SDK's own retry
    assert len(fake.jobs) == 2, "the lost answer made the SDK create the job twice"


def test_applied_but_lost_can_be_reconciled_by_metadata(fake: FakeFineTuningAPI) -> None:
    train = train_file(fake)
    client = fake.client(max_retries=0, timeout=30)
    fake.faults.inject("jobs.create", "applied_but_lost")
    with pytest.raises(openai.APITimeoutError):
        create(client, train)
    found = client.fine_tuning.jobs.list(metadata={"ftkit_run": "r1"}).data
    assert [j.id for j in found] == [fake.jobs[0]["id"]]


def test_training_not_available_mode(fake: FakeFineTuningAPI) -> None:
    train = train_file(fake)
    client = fake.client(max_retries=2)
    fake.refuse_training()
    for _ in range(2):
        with pytest.raises(openai.PermissionDeniedError) as caught:
            create(client, train)
        assert caught.value.code == "training_not_available"
    assert len(fake.calls("jobs.create")) == 2  # 403 is final: the SDK does not retry
    client.files.list()  # other routes keep working
    fake.refuse_training(False)
    create(client, train)
    assert len(fake.jobs) == 1


def test_wildcards_counts_and_after(fake: FakeFineTuningAPI) -> None:
    client = fake.client(max_retries=0)
    fault = fake.faults.inject("files.*", "500", times=None, after=1)
    client.files.list()
    for _ in range(3):
        with pytest.raises(openai.InternalServerError):
            client.files.list()
    assert fault.fired == 3
    fake.faults.clear()
    client.files.list()
    fake.faults.inject("fine_tuning.jobs.list", "503")  # SDK-style names work too
    with pytest.raises(openai.InternalServerError):
        client.fine_tuning.jobs.list()
    assert fake.faults.pending == []


def test_fault_script_rejects_nonsense(fake: FakeFineTuningAPI) -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        fake.faults.inject("jobs.create", "418")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        fake.faults.inject("jobs.create", "500", times=0)


def test_request_log_never_holds_credentials(fake: FakeFineTuningAPI) -> None:
    fake.client(api_key=SECRET, max_retries=0).files.list()
    fake.async_client(api_key=SECRET)  # building a client sends nothing
    azure = FakeFineTuningAPI(provider="azure")
    azure.azure_client(api_key=SECRET, max_retries=0).files.list()
    azure.client(api="v1", api_key=SECRET, max_retries=0).files.list()
    assert len(fake.requests) == 1 and len(azure.requests) == 2
    for recorded in fake.requests + azure.requests:
        assert SECRET not in repr(recorded)
        assert not {"authorization", "api-key"} & set(recorded.headers)
    assert SECRET not in repr(fake) and SECRET not in repr(azure)


def test_requests_without_credentials_get_401(fake: FakeFineTuningAPI) -> None:
    response = fake.handle(httpx2.Request("GET", "http://x.invalid/v1/files"))
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"
    open_fake = FakeFineTuningAPI(require_auth=False)
    assert open_fake.handle(httpx2.Request("GET", "http://x.invalid/v1/files")).status_code == 200


def test_unknown_urls_get_the_invalid_url_error(fake: FakeFineTuningAPI) -> None:
    response = fake.handle(
        httpx2.Request("PATCH", "http://x.invalid/v1/files", headers={"authorization": "Bearer k"})
    )
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Invalid URL (PATCH /files)"
    assert fake.requests[-1].route is None


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, openai.BadRequestError),
        (401, openai.AuthenticationError),
        (403, openai.PermissionDeniedError),
        (404, openai.NotFoundError),
        (422, openai.UnprocessableEntityError),
    ],
)
def test_status_faults_answer_any_error_status_and_apply_nothing(
    fake: FakeFineTuningAPI, status: int, error_class: type[openai.APIStatusError]
) -> None:
    train = train_file(fake)
    fault = fake.faults.inject("jobs.create", "status", status=status, code="scripted")
    with pytest.raises(error_class) as caught:
        create(fake.client(max_retries=2), train)
    assert caught.value.status_code == status
    assert caught.value.code == "scripted"
    assert [r.status for r in fake.calls("jobs.create")] == [status]  # final: no SDK retry
    assert fault.fired == 1
    assert fake.jobs == []
    create(fake.client(max_retries=0), train)  # used up: the next create goes through
    assert len(fake.jobs) == 1


def test_status_faults_need_an_error_status(fake: FakeFineTuningAPI) -> None:
    for bad in (None, 200, 302, 600, True):
        with pytest.raises(ValueError, match="status"):
            fake.faults.inject("jobs.create", "status", status=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="apply to kind 'status'"):
        fake.faults.inject("jobs.create", "500", status=500)
    # Through the control endpoint too, for clients in other processes.
    response = fake.handle(
        httpx2.Request(
            "POST",
            "http://x.invalid/_fake/faults",
            json={"route": "files.list", "kind": "status", "status": 404},
        )
    )
    assert response.status_code == 200
    with pytest.raises(openai.NotFoundError):
        fake.client(max_retries=0).files.list()

"""The adapter on Azure OpenAI's two API surfaces: traits, job shapes, exactly-once by run token.

Driven by the real ``openai.AzureOpenAI`` (the dated API) and ``openai.OpenAI`` on an
Azure ``/openai/v1/`` base URL, answered by respx with the bodies Azure's specs show.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest
import respx
from openai.types.fine_tuning import FineTuningJob

import ftkit
from ftkit import UsageError
from ftkit._steps import run
from ftkit.backend import JobSpec, OpenAIBackend, create_job_once
from ftkit.backend._clients import provider_of, traits_of_any
from ftkit.backend._jobs import finding_job, run_token, suffix_with_token
from ftkit.backend._openai import job_params, to_job
from ftkit.backend._traits import AZURE_DATED, AZURE_V1, OPENAI
from ftkit.retry import RetryPolicy

ENDPOINT = "https://res.openai.azure.test"
DATED_JOBS = f"{ENDPOINT}/openai/fine_tuning/jobs"
V1_BASE = f"{ENDPOINT}/openai/v1/"
V1_JOBS = f"{ENDPOINT}/openai/v1/fine_tuning/jobs"
KEY = "azure-key-0123456789SECRET"
META = {"ftkit_run": "ftr-20261203T120000-0a1b2c3d", "ftkit_stage": "sft"}
FILE_CREATED = 1_764_000_000


def quiet() -> RetryPolicy:
    return RetryPolicy(sleep=lambda _s: None, jitter=0.0)


@pytest.fixture
def dated() -> openai.AzureOpenAI:
    return openai.AzureOpenAI(
        azure_endpoint=ENDPOINT, api_key=KEY, api_version="2025-04-01-preview", max_retries=3
    )


@pytest.fixture
def v1() -> openai.OpenAI:
    return openai.OpenAI(base_url=V1_BASE, api_key=KEY, max_retries=3)


def dated_job(job_id: str, *, status: str = "pending", **extra: Any) -> dict[str, Any]:
    """A job as Azure's dated API shows it (2025-04-01-preview examples)."""
    body: dict[str, Any] = {
        "object": "fine_tuning.job",
        "id": job_id,
        "created_at": FILE_CREATED + 60,
        "status": status,
        "model": "gpt-4.1-mini-2025-04-14",
        "training_file": "file-train",
        "hyperparameters": {"n_epochs": -1},
        "method": {"type": "supervised"},
        "organisation_id": "",
    }
    body.update(extra)
    return body


def listing(items: list[dict[str, Any]], has_more: bool = False) -> dict[str, Any]:
    return {"object": "list", "data": items, "has_more": has_more}


SPEC = JobSpec(
    model="gpt-4.1-mini-2025-04-14",
    training_file="file-train",
    method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3}}},
    suffix="support",
    metadata=META,
)


# ------------------------------------------------------------------ traits


def test_each_client_kind_has_its_surface(dated: openai.AzureOpenAI, v1: openai.OpenAI) -> None:
    assert OpenAIBackend(dated).traits is AZURE_DATED
    assert OpenAIBackend(v1).traits is AZURE_V1
    plain = openai.OpenAI(api_key="sk-x", base_url="https://api.openai.test/v1")
    assert OpenAIBackend(plain).traits is OPENAI
    project = openai.OpenAI(
        api_key=KEY, base_url="https://acct.services.ai.azure.test/api/projects/p/openai/v1"
    )
    assert traits_of_any(project) is AZURE_V1
    assert [provider_of(c) for c in (dated, v1, plain)] == ["azure", "azure", "openai"]


def test_the_environment_picks_the_surface(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_OPENAI_ENDPOINT", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", V1_BASE)
    assert traits_of_any(None) is AZURE_V1
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", ENDPOINT)
    assert traits_of_any(None) is AZURE_DATED
    monkeypatch.delenv("AZURE_OPENAI_ENDPOINT")
    monkeypatch.delenv("OPENAI_BASE_URL")
    assert traits_of_any(None) is OPENAI


# ------------------------------------------------------------------ translation


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("created", "validating"),
        ("pending", "queued"),
        ("running", "running"),
        ("pausing", "paused"),
        ("paused", "paused"),
        ("resuming", "running"),
        ("succeeded", "succeeded"),
        ("cancelled", "cancelled"),
        ("failed", "failed"),
        ("validating_files", "validating"),  # the v1 spec lists OpenAI's words
        ("queued", "queued"),
        ("something_new", "unknown"),
    ],
)
def test_azure_statuses_are_normalised(raw: str, status: str) -> None:
    job = to_job(FineTuningJob.construct(**dated_job("j", status=raw)))
    assert (job.status, job.raw_status) == (status, raw)


def test_the_dated_job_gives_its_suffix_and_drops_default_sentinels() -> None:
    raw = FineTuningJob.construct(
        **dated_job(
            "ftjob-1",
            status="succeeded",
            suffix="support-ftkabcdefgh",
            fine_tuned_model="gpt-4.1-mini-2025-04-14.ft-0123456789abcdef-support-ftkabcdefgh",
            hyperparameters={"n_epochs": -1, "batch_size": 8},
        )
    )
    job = to_job(raw, "azure")
    assert job.suffix == "support-ftkabcdefgh"
    # Used verbatim: Azure's names are not ``ft:`` names.
    assert job.fine_tuned_model == "gpt-4.1-mini-2025-04-14.ft-0123456789abcdef-support-ftkabcdefgh"
    assert job.hyperparameters == {"batch_size": 8}  # -1 is "the service's default"
    assert job.metadata == {}


# ------------------------------------------------------------------ requests


def test_dated_params_move_hyperparameters_and_send_the_training_type() -> None:
    spec = JobSpec(
        model="m",
        training_file="f",
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2}}},
        suffix="s-ftkabcdefgh",
        options={"training_type": "globalstandard"},
    )
    params = job_params(spec, AZURE_DATED)
    assert params["method"] == {"type": "supervised"}
    assert params["hyperparameters"] == {"n_epochs": 2}
    assert params["extra_body"] == {"trainingType": "globalStandard"}
    assert "metadata" not in params
    # DPO keeps its own object, as the dated spec defines it.
    dpo = JobSpec(
        model="m",
        training_file="f",
        method={"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.2}}},
    )
    assert job_params(dpo, AZURE_DATED)["method"] == dpo.method


def test_options_an_api_does_not_take_are_refused() -> None:
    typed = JobSpec(model="m", training_file="f", options={"training_type": "developer"})
    assert job_params(typed, AZURE_V1)["extra_body"] == {"trainingType": "developerTier"}
    with pytest.raises(UsageError, match="Azure OpenAI's"):
        job_params(typed, OPENAI)
    with pytest.raises(UsageError, match="no job option"):
        job_params(JobSpec(model="m", training_file="f", options={"lora": True}), AZURE_V1)
    with pytest.raises(UsageError, match="no job metadata"):
        job_params(JobSpec(model="m", training_file="f", metadata=META), AZURE_DATED)


def test_the_run_token_is_stable_short_and_fits_the_suffix() -> None:
    token = run_token(META)
    assert token == run_token(dict(reversed(list(META.items()))))
    assert token != run_token({**META, "ftkit_stage": "dpo"})
    assert len(token) == 11 and token.startswith("ftk") and token.isalnum()
    assert suffix_with_token(None, token) == token
    assert len(suffix_with_token("x" * 28, token)) == 40


# ------------------------------------------------------------------ exactly-once, dated


def test_dated_create_sends_the_token_not_metadata(
    httpx2_mock: respx.Router, dated: openai.AzureOpenAI
) -> None:
    token = run_token(META)
    httpx2_mock.get(DATED_JOBS).mock(return_value=httpx.Response(200, json=listing([])))
    posts = httpx2_mock.post(DATED_JOBS).mock(
        return_value=httpx.Response(201, json=dated_job("ftjob-new", suffix=f"support-{token}"))
    )
    job = create_job_once(OpenAIBackend(dated), SPEC, retry=quiet(), since=FILE_CREATED)
    assert job.id == "ftjob-new" and job.provider == "azure"
    sent = json.loads(posts.calls.last.request.content)
    assert sent["suffix"] == f"support-{token}"
    assert "metadata" not in sent
    assert sent["method"] == {"type": "supervised"} and sent["hyperparameters"] == {"n_epochs": 3}
    assert posts.calls.last.request.headers["api-key"] == KEY


def test_an_ambiguous_dated_create_is_found_by_its_token(
    httpx2_mock: respx.Router, dated: openai.AzureOpenAI
) -> None:
    token = run_token(META)
    made = dated_job("ftjob-made", suffix=f"support-{token}")
    # Another run on the same (content-addressed) training file, and a job with our token
    # on another file: neither is ours.
    strangers = [
        dated_job("ftjob-other-run", suffix=f"support-{run_token({**META, 'ftkit_run': 'x'})}"),
        dated_job("ftjob-other-file", suffix=f"support-{token}", training_file="file-else"),
    ]
    lists = httpx2_mock.get(DATED_JOBS).mock(
        side_effect=[
            httpx.Response(200, json=listing(strangers)),
            httpx.Response(200, json=listing([made, *strangers])),
        ]
    )
    posts = httpx2_mock.post(DATED_JOBS).mock(
        side_effect=[
            httpx.Response(502, json={"error": {"code": "internalFailure", "message": "x"}})
        ]
    )
    job = create_job_once(OpenAIBackend(dated), SPEC, retry=quiet(), since=FILE_CREATED)
    assert job.id == "ftjob-made"
    assert posts.call_count == 1 and lists.call_count == 2
    # The dated list takes only after/limit: no metadata filter is sent.
    assert not any(k.startswith("metadata") for k in lists.calls.last.request.url.params)


def test_the_unfiltered_search_stops_at_jobs_older_than_the_file(
    httpx2_mock: respx.Router, dated: openai.AzureOpenAI
) -> None:
    old = dated_job("ftjob-old", created_at=FILE_CREATED - 86_400)
    route = httpx2_mock.get(DATED_JOBS).mock(
        side_effect=[
            httpx.Response(200, json=listing([dated_job("ftjob-new")], has_more=True)),
            httpx.Response(200, json=listing([old], has_more=True)),
            httpx.Response(200, json=listing([dated_job("ftjob-never-read")])),
        ]
    )
    found = run(finding_job(OpenAIBackend(dated), SPEC, retry=quiet(), since=FILE_CREATED))
    assert found is None
    assert route.call_count == 2


def test_an_old_job_with_the_token_is_not_adopted(
    httpx2_mock: respx.Router, dated: openai.AzureOpenAI
) -> None:
    token = run_token(META)
    stale = dated_job("ftjob-stale", suffix=f"support-{token}", created_at=FILE_CREATED - 86_400)
    httpx2_mock.get(DATED_JOBS).mock(return_value=httpx.Response(200, json=listing([stale])))
    assert run(finding_job(OpenAIBackend(dated), SPEC, retry=quiet(), since=FILE_CREATED)) is None


def test_an_unfiltered_search_is_bounded(
    httpx2_mock: respx.Router, dated: openai.AzureOpenAI
) -> None:
    route = httpx2_mock.get(DATED_JOBS).mock(
        return_value=httpx.Response(200, json=listing([dated_job("ftjob-x")], has_more=True))
    )
    assert run(finding_job(OpenAIBackend(dated), SPEC, retry=quiet(), max_pages=3)) is None
    assert route.call_count == 3


# ------------------------------------------------------------------ exactly-once, v1


def test_v1_keeps_metadata_but_filters_the_listing_itself(
    httpx2_mock: respx.Router, v1: openai.OpenAI
) -> None:
    ours = {**dated_job("ftjob-ours", status="queued"), "metadata": META}
    theirs = {**dated_job("ftjob-theirs", status="queued"), "metadata": {"ftkit_run": "other"}}
    lists = httpx2_mock.get(V1_JOBS).mock(
        return_value=httpx.Response(200, json=listing([theirs, ours]))
    )
    job = create_job_once(OpenAIBackend(v1), SPEC, retry=quiet(), since=FILE_CREATED)
    assert job.id == "ftjob-ours"  # found before any create (respx refuses an unmocked POST)
    assert not any(k.startswith("metadata") for k in lists.calls.last.request.url.params)


def test_v1_create_sends_metadata_and_the_suffix_as_given(
    httpx2_mock: respx.Router, v1: openai.OpenAI
) -> None:
    httpx2_mock.get(V1_JOBS).mock(return_value=httpx.Response(200, json=listing([])))
    posts = httpx2_mock.post(V1_JOBS).mock(
        return_value=httpx.Response(200, json={**dated_job("ftjob-1"), "metadata": META})
    )
    create_job_once(OpenAIBackend(v1), SPEC, retry=quiet())
    sent = json.loads(posts.calls.last.request.content)
    assert sent["metadata"] == META and sent["suffix"] == "support"
    assert sent["method"]["supervised"] == {"hyperparameters": {"n_epochs": 3}}


def test_a_suffix_without_room_for_the_token_is_refused(dated: openai.AzureOpenAI) -> None:
    long = JobSpec(model="m", training_file="f", suffix="x" * 29, metadata=META)
    with pytest.raises(UsageError, match="too long"):
        create_job_once(OpenAIBackend(dated), long, retry=quiet(), look_first=False)


def test_an_upload_without_an_expiry_gets_its_apis_lifetime() -> None:
    from ftkit.backend import UploadSession
    from ftkit.backend._content import FileDigest
    from ftkit.backend._uploads import _new_state

    digest = FileDigest(sha256="0" * 64, md5="0" * 32, size=10)
    session = UploadSession(id="upload-1", created_at=1_000, expires_at=None)
    assert _new_state(session, "f.jsonl", digest, 5, AZURE_DATED.upload_ttl).expires_at == 8_200
    assert _new_state(session, "f.jsonl", digest, 5, OPENAI.upload_ttl).expires_at == 4_600


def test_a_listing_not_newest_first_is_not_cut_short(
    httpx2_mock: respx.Router, dated: openai.AzureOpenAI
) -> None:
    # Azure does not state its order: oldest first, the old jobs come before ours.
    token = run_token(META)
    old = dated_job("ftjob-old", created_at=FILE_CREATED - 86_400)
    ours = dated_job("ftjob-ours", suffix=f"support-{token}")
    httpx2_mock.get(DATED_JOBS).mock(
        side_effect=[
            httpx.Response(200, json=listing([old, dated_job("ftjob-mid")], has_more=True)),
            httpx.Response(200, json=listing([ours])),
        ]
    )
    found = run(finding_job(OpenAIBackend(dated), SPEC, retry=quiet(), since=FILE_CREATED))
    assert found is not None and found.id == "ftjob-ours"


def test_a_refused_import_keeps_its_url_out_of_the_error_and_its_chain(
    httpx2_mock: respx.Router, dated: openai.AzureOpenAI
) -> None:
    url = "https://acct.blob.core.windows.test/train.jsonl?sv=2025&sig=SAS-SECRET"
    echo = {"error": {"code": "invalidPayload", "message": f"Invalid content_url '{url}'"}}
    httpx2_mock.post(f"{ENDPOINT}/openai/files/import").mock(
        return_value=httpx.Response(400, json=echo)
    )
    request = OpenAIBackend(dated).import_file(filename="t.jsonl", content_url=url)
    with pytest.raises(ftkit.APIError) as caught:
        request.run()
    assert "SAS-SECRET" not in str(caught.value)
    assert caught.value.__cause__ is None  # the SDK's error holds the body and the request
    # A request that holds no secret keeps its cause, for the traceback.
    httpx2_mock.get(f"{ENDPOINT}/openai/files/file-1").mock(
        return_value=httpx.Response(404, json={"error": {"code": "notFound", "message": "no"}})
    )
    with pytest.raises(ftkit.APIError) as plain:
        OpenAIBackend(dated).retrieve_file("file-1").run()
    assert plain.value.__cause__ is not None

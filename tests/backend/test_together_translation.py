"""The Together adapter's pure translations: job bodies, events, statuses, files."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

pytest.importorskip("together")

from together.lib.types.fine_tuning import FinetuneRequest
from together.types import FileResponse, FinetuneResponse
from together.types.fine_tuning_list_events_response import FineTuningListEventsResponse

from ftkit import UsageError
from ftkit.backend import JobSpec
from ftkit.backend._together import (
    estimate_body,
    events_page,
    job_body,
    to_checkpoint,
    to_file,
    to_job,
)

SFT = {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3}}}
DPO = {"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.2}}}


def spec(**changes: object) -> JobSpec:
    base: dict[str, object] = {
        "model": "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference",
        "training_file": "file-1",
        "method": SFT,
        "suffix": "demo-ftkabcdefgh",
    }
    base.update(changes)
    return JobSpec(**base)  # type: ignore[arg-type]


def test_sft_body_is_what_the_sdk_request_type_accepts() -> None:
    body = job_body(spec(options={"lora_r": 16, "learning_rate": 2e-5, "n_evals": 2}))
    request = FinetuneRequest.model_validate(body)  # the SDK's own request model
    assert request.model == "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"
    assert body["n_epochs"] == 3 and body["learning_rate"] == 2e-5 and body["n_evals"] == 2
    assert body["training_method"] == {"method": "sft", "train_on_inputs": "auto"}
    assert body["training_type"] == {
        "type": "Lora",
        "lora_r": 16,
        "lora_alpha": 32,
        "lora_dropout": 0.0,
        "lora_trainable_modules": "all-linear",
    }
    assert "from_checkpoint" not in body and "metadata" not in body


def test_dpo_after_sft_starts_from_the_sft_job_not_a_model() -> None:
    body = job_body(
        spec(method=DPO, parent_job="ft-123", options={"rpo_alpha": 0.5, "train_on_inputs": False})
    )
    FinetuneRequest.model_validate(body)
    assert body["from_checkpoint"] == "ft-123" and "model" not in body
    assert body["training_method"]["dpo_beta"] == 0.2
    assert body["training_method"]["rpo_alpha"] == 0.5
    # An SFT-only option of the run is not sent to its DPO stage.
    assert "train_on_inputs" not in body["training_method"]


def test_simpo_turns_reference_free_and_length_normalised() -> None:
    body = job_body(spec(method=DPO, options={"simpo_gamma": 1.0}))
    method = body["training_method"]
    assert method["dpo_reference_free"] is True
    assert method["dpo_normalize_logratios_by_length"] is True


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"metadata": {"ftkit_run": "r"}}, "no metadata"),
        ({"options": {"nonsense": 1}}, "no job option"),
        (
            {
                "method": {
                    "type": "supervised",
                    "supervised": {"hyperparameters": {"learning_rate_multiplier": 2}},
                }
            },
            "absolute",
        ),
        ({"options": {"lora": False, "lora_r": 8}}, "LoRA settings"),
        ({"method": {"type": "reinforcement"}}, "sft or dpo"),
    ],
)
def test_settings_together_does_not_take_are_refused(
    changes: dict[str, object], words: str
) -> None:
    with pytest.raises(UsageError, match=words):
        job_body(spec(**changes))


def test_full_training_and_the_estimate_body() -> None:
    body = job_body(spec(options={"lora": False}))
    assert body["training_type"] == {"type": "Full"}
    quote = estimate_body(body)
    assert set(quote) == {
        "training_file",
        "model",
        "n_epochs",
        "n_evals",
        "training_method",
        "training_type",
    }


def _job(**fields: object) -> FinetuneResponse:
    payload = {"id": "ft-1", "status": "running", "user_id": "u", **fields}
    return FinetuneResponse.model_validate(payload)


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("pending", "queued"),
        ("compressing", "running"),
        ("cancel_requested", "running"),
        ("error", "failed"),
        ("completed", "succeeded"),
        ("cancelled", "cancelled"),
    ],
)
def test_statuses(word: str, status: str) -> None:
    assert to_job(_job(status=word)).status == status


def test_job_translation_reads_together_fields() -> None:
    job = to_job(
        _job(
            status="completed",
            created_at="2026-11-02T10:00:00Z",
            updated_at="2026-11-02T11:00:00Z",
            model_output_name="acct/llama-demo-abc123",
            training_method={"method": "dpo", "dpo_beta": 0.1},
            training_file="file-1",
            n_epochs=2,
            suffix="demo-ftkabcdefgh",  # an extra field on a retrieve: kept by the SDK
        )
    )
    assert job.fine_tuned_model == "acct/llama-demo-abc123"
    assert job.method == "dpo"
    assert job.created_at == int(dt.datetime(2026, 11, 2, 10, tzinfo=dt.timezone.utc).timestamp())
    assert job.finished_at == job.created_at + 3600
    assert job.suffix == "demo-ftkabcdefgh"
    assert job.hyperparameters == {"n_epochs": 2}


def test_a_failed_job_says_why_from_its_job_error_event() -> None:
    event = {
        "created_at": "2026-11-02T10:00:00Z",
        "message": "CUDA out of memory",
        "object": "fine-tune-event",
        "type": "job_error",
    }
    job = to_job(_job(status="error", events=[event]))
    assert job.error is not None and job.error.message == "CUDA out of memory"


def _events(*rows: tuple[str, str, str]) -> FineTuningListEventsResponse:
    return FineTuningListEventsResponse.model_validate(
        {
            "data": [
                {"created_at": t, "type": k, "message": m, "object": "fine-tune-event"}
                for t, k, m in rows
            ]
        }
    )


def test_events_get_stable_ids_repeats_collapse_and_pages_go_newest_first() -> None:
    listed = _events(
        ("2026-11-02T10:00:00Z", "job_pending", "queued"),
        ("2026-11-02T10:01:00Z", "job_start", "started"),
        ("2026-11-02T10:01:00Z", "job_start", "started"),  # listed twice: one event
        ("2026-11-02T10:02:00Z", "training_start", "training"),
    )
    page = events_page(listed, None, 100)
    assert [e.message for e in page.data] == ["training", "started", "queued"]
    assert not page.has_more
    again = events_page(listed, None, 100)
    assert [e.id for e in again.data] == [e.id for e in page.data]  # same ids every time
    first = events_page(listed, None, 2)
    assert first.has_more and len(first.data) == 2
    rest = events_page(listed, first.data[-1].id, 2)
    assert [e.message for e in rest.data] == ["queued"] and not rest.has_more


def test_file_statuses_and_the_validation_report() -> None:
    base = {
        "id": "file-1",
        "bytes": 10,
        "created_at": 1,
        "filename": "a.jsonl",
        "FileType": "jsonl",
        "object": "file",
        "purpose": "fine-tune",
    }
    assert to_file(FileResponse.model_validate(base)).status == "uploaded"
    done = to_file(
        FileResponse.model_validate(
            {**base, "processing_status": "COMPLETED", "validation_report": {"valid": True}}
        )
    )
    assert done.status == "processed" and done.status_details is None
    bad = to_file(
        FileResponse.model_validate(
            {
                **base,
                "processing_status": "INVALID_FORMAT",
                "validation_report": {"valid": False, "error": "Line 3: missing messages"},
            }
        )
    )
    assert bad.status == "error" and bad.status_details == "Line 3: missing messages"


def test_checkpoints_name_what_from_checkpoint_takes() -> None:
    raw = SimpleNamespace(step=40, created_at="2026-11-02T10:00:00Z", path="s3://x")
    checkpoint = to_checkpoint(raw, "ft-9")
    assert checkpoint.model == "ft-9:40" and checkpoint.step == 40


def test_a_storage_error_echoing_the_signed_url_is_redacted() -> None:
    from ftkit.backend._signed import put_failure as _put_failure
    from ftkit.backend._signed import url_secrets as _url_secrets

    url = "https://bucket.example/obj?X-Amz-Credential=AKIAEXAMPLE%2F2026&X-Amz-Signature=deadbeefcafebabe"
    body = f"<Error><Code>AccessDenied</Code><Resource>{url}</Resource>deadbeefcafebabe</Error>"
    error = _put_failure(403, body, {}, _url_secrets(url))
    assert "deadbeefcafebabe" not in str(error) and "AKIAEXAMPLE" not in str(error)
    assert "AccessDenied" in str(error) and error.status_code == 403 and not error.retryable

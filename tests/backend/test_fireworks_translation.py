"""The Fireworks adapter's translations, checked against the fireworks SDK's own types.

Each answer is parsed by the SDK's model from the camelCase JSON Fireworks sends,
exactly as the client would, before ftkit translates it.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

fireworks = pytest.importorskip("fireworks")

from fireworks.types import Dataset, DpoJob, SupervisedFineTuningJob  # noqa: E402

from ftkit import UsageError  # noqa: E402
from ftkit.backend import JobSpec  # noqa: E402
from ftkit.backend._errors import translate  # noqa: E402
from ftkit.backend._events import status_event  # noqa: E402
from ftkit.backend._fireworks import (  # noqa: E402
    FireworksBackend,
    job_body,
    model_name,
    to_dataset,
    to_job,
)
from ftkit.backend._jobs import caller_job_id  # noqa: E402

IDENTITY = {"ftkit_run": "ftr-20261204T020000-abcdef12", "ftkit_stage": "sft"}
BASE = "accounts/fireworks/models/llama-v3p1-8b-instruct"
DATASET = "accounts/acme/datasets/ftkit-0123456789abcdef0123456789abcdef"


def _spec(**changes: Any) -> JobSpec:
    fields: dict[str, Any] = {
        "model": BASE,
        "training_file": DATASET,
        "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3}}},
        "metadata": IDENTITY,
    }
    fields.update(changes)
    return JobSpec(**fields)


# --------------------------------------------------------------------------- ids


def test_a_job_id_is_the_same_for_the_same_identity_and_differs_by_stage() -> None:
    first = caller_job_id(_spec())
    assert first == caller_job_id(_spec())
    other = caller_job_id(_spec(metadata={**IDENTITY, "ftkit_stage": "dpo"}))
    assert other != first
    assert first.startswith("ftk") and len(first) == 19
    assert set(first) <= set("abcdefghijklmnopqrstuvwxyz234567")


def test_a_suffix_makes_the_id_readable_and_is_made_safe() -> None:
    name = caller_job_id(_spec(suffix="Support Bot_v2"))
    assert name.startswith("support-bot-v2-ftk")
    assert len(name) <= 63
    digit_first = caller_job_id(_spec(suffix="2026 run"))
    assert digit_first.startswith("ftk") and digit_first.endswith("-2026-run")


def test_a_suffix_too_long_for_the_id_is_refused() -> None:
    with pytest.raises(UsageError, match="63 characters"):
        caller_job_id(_spec(suffix="x" * 44))


# --------------------------------------------------------------------------- bodies


def test_a_supervised_body_maps_openai_hyperparameters_and_fireworks_options() -> None:
    spec = _spec(
        model="llama-v3p1-8b-instruct",
        validation_file="accounts/acme/datasets/ftkit-val",
        method={
            "type": "supervised",
            "supervised": {"hyperparameters": {"n_epochs": 2, "batch_size": 8}},
        },
        options={"lora_rank": 16, "learning_rate": 1e-4, "early_stop": True, "loss_method": "ORPO"},
    )
    kind, body = job_body(spec)
    assert kind == "supervised"
    assert body == {
        "dataset": DATASET,
        "base_model": BASE,  # a bare id is one of Fireworks' own models
        "epochs": 2,
        "batch_size_samples": 8,  # OpenAI's batch_size counts samples
        "learning_rate": 1e-4,
        "lora_rank": 16,
        "early_stop": True,
        "evaluation_dataset": "accounts/acme/datasets/ftkit-val",
    }  # DPO's loss_method is not sent to the SFT stage


def test_a_dpo_body_warm_starts_from_the_parent_and_sets_the_loss_to_dpo() -> None:
    sft_model = "accounts/acme/models/ftkabcdefghijklmnop"
    spec = _spec(
        model=sft_model,
        parent_job="accounts/acme/supervisedFineTuningJobs/ftkabcdefghijklmnop",
        method={"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.1, "n_epochs": 1}}},
        options={"lora_rank": 16, "early_stop": True, "display_name": "prefs"},
    )
    kind, body = job_body(spec)
    assert kind == "dpo"
    assert body == {
        "dataset": DATASET,
        "training_config": {"warm_start_from": sft_model, "epochs": 1, "lora_rank": 16},
        "loss_config": {"method": "DPO", "dpo": {"beta": 0.1}},
        "display_name": "prefs",
    }


def test_dpo_without_hyperparameters_still_names_its_loss() -> None:
    _, body = job_body(_spec(method={"type": "dpo", "dpo": {"hyperparameters": {}}}))
    # The API's default is GRPO: ftkit never leaves the method unspecified.
    assert body["loss_config"] == {"method": "DPO"}
    assert body["training_config"] == {"base_model": BASE}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {
                "method": {
                    "type": "supervised",
                    "supervised": {"hyperparameters": {"learning_rate_multiplier": 2}},
                }
            },
            "absolute",
        ),
        ({"seed": 7}, "no seed"),
        ({"options": {"lora_r": 8}}, "no job option"),
        ({"method": {"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.7}}}}, "below 0.5"),
        ({"method": {"type": "dpo", "dpo": {}}, "validation_file": "v"}, "no validation"),
        ({"method": {"type": "dpo", "dpo": {}}, "options": {"loss_method": "grpo"}}, "one of"),
        ({"method": {"type": "reinforcement"}}, "supervised or dpo"),
        ({"integrations": [{"type": "wandb"}]}, "integrations"),
    ],
)
def test_settings_fireworks_does_not_take_are_refused(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        job_body(_spec(**changes))


def test_model_names_keep_an_account_and_default_to_fireworks_own() -> None:
    assert model_name("qwen3-8b") == "accounts/fireworks/models/qwen3-8b"
    assert model_name("accounts/acme/models/mine") == "accounts/acme/models/mine"


# --------------------------------------------------------------------------- answers


def _sft(**fields: Any) -> SupervisedFineTuningJob:
    wire = {
        "name": "accounts/acme/supervisedFineTuningJobs/ftkabcdefghijklmnop",
        "dataset": DATASET,
        "baseModel": BASE,
        "state": "JOB_STATE_RUNNING",
        "createTime": "2026-12-04T02:00:00Z",
        "epochs": 3,
        "learningRate": 0.0001,
        "loraRank": 8,
        "jobProgress": {"percent": 40, "epoch": 1},
    }
    wire.update(fields)
    return SupervisedFineTuningJob.model_validate(wire)


def test_a_running_supervised_job() -> None:
    job = to_job(_sft())
    assert (job.id, job.status, job.raw_status) == (
        "accounts/acme/supervisedFineTuningJobs/ftkabcdefghijklmnop",
        "running",
        "JOB_STATE_RUNNING",
    )
    assert job.method == "supervised"
    assert job.model == BASE and job.training_file == DATASET
    assert job.progress == 40.0 and job.fine_tuned_model is None
    assert job.hyperparameters == {"n_epochs": 3, "learning_rate": 0.0001, "lora_rank": 8}
    assert job.created_at == 1796349600


def test_a_completed_job_names_its_model_after_the_job_unless_told() -> None:
    done = to_job(_sft(state="JOB_STATE_COMPLETED", completedTime="2026-12-04T03:00:00Z"))
    assert done.status == "succeeded"
    assert done.fine_tuned_model == "accounts/acme/models/ftkabcdefghijklmnop"
    assert done.finished_at == 1796353200
    named = to_job(_sft(state="JOB_STATE_COMPLETED", outputModel="support-bot"))
    assert named.fine_tuned_model == "accounts/acme/models/support-bot"


def test_a_failed_job_carries_its_status() -> None:
    failed = to_job(
        _sft(state="JOB_STATE_FAILED", status={"code": "INVALID_ARGUMENT", "message": "bad row"})
    )
    assert failed.status == "failed"
    assert failed.error is not None
    assert (failed.error.code, failed.error.message) == ("INVALID_ARGUMENT", "bad row")


def test_a_dpo_job_reads_its_nested_training_config() -> None:
    raw = DpoJob.model_validate(
        {
            "name": "accounts/acme/dpoJobs/ftkqrstuvwxyz234567",
            "dataset": DATASET,
            "state": "JOB_STATE_COMPLETED",
            "trainingConfig": {
                "warmStartFrom": "accounts/acme/models/ftkabcdefghijklmnop",
                "epochs": 1,
                "outputModel": "accounts/acme/models/prefs",
            },
            "lossConfig": {"method": "DPO", "dpo": {"beta": 0.1}},
        }
    )
    job = to_job(raw)
    assert job.method == "dpo"
    assert job.model == "accounts/acme/models/ftkabcdefghijklmnop"
    assert job.fine_tuned_model == "accounts/acme/models/prefs"
    assert job.hyperparameters == {"n_epochs": 1, "beta": 0.1}


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("JOB_STATE_CREATING", "queued"),
        ("JOB_STATE_VALIDATING", "validating"),
        ("JOB_STATE_WRITING_RESULTS", "running"),
        ("JOB_STATE_CANCELLING", "running"),
        ("JOB_STATE_CANCELLED", "cancelled"),
        ("JOB_STATE_EXPIRED", "failed"),
        ("JOB_STATE_PAUSED", "paused"),
        ("JOB_STATE_UNSPECIFIED", "unknown"),
    ],
)
def test_states_map_to_ftkit_words(state: str, status: str) -> None:
    assert to_job(_sft(state=state)).status == status


def test_datasets_are_files_processed_once_ready() -> None:
    ready = to_dataset(
        Dataset.model_validate(
            {"name": DATASET, "state": "READY", "displayName": "train.jsonl", "exampleCount": "12"}
        )
    )
    assert (ready.id, ready.status, ready.filename) == (DATASET, "processed", "train.jsonl")
    waiting = to_dataset(Dataset.model_validate({"name": DATASET, "state": "UPLOADING"}))
    assert waiting.status == "uploading" and waiting.status_details is None
    refused = to_dataset(
        Dataset.model_validate(
            {
                "name": DATASET,
                "state": "UPLOADING",
                "status": {"code": "INVALID_ARGUMENT", "message": "line 3: no messages"},
            }
        )
    )
    assert refused.status == "error" and refused.status_details == "line 3: no messages"


def test_progress_events_change_only_with_state_or_progress() -> None:
    first = status_event(to_job(_sft()))
    assert first.message == "running (40%)"
    assert status_event(to_job(_sft(updateTime="2026-12-04T02:05:00Z"))).id == first.id
    later = status_event(to_job(_sft(jobProgress={"percent": 60})))
    assert later.id != first.id and later.message == "running (60%)"


# --------------------------------------------------------------------------- errors, clients


def _status_error(status: int, body: dict[str, Any]) -> Exception:
    request = httpx.Request("POST", "https://api.fireworks.ai/v1/accounts/acme/datasets")
    response = httpx.Response(status, json=body, request=request)
    client = fireworks.Fireworks(api_key="fw_secretsecret", account_id="acme", max_retries=0)
    return client._make_status_error_from_response(response)


def test_already_exists_is_a_final_answer_named_as_grpc_names_it() -> None:
    error = translate(_status_error(409, {"code": 6, "message": "dataset x already exists"}))
    assert error.status_code == 409  # type: ignore[attr-defined]
    assert error.code == "ALREADY_EXISTS"  # type: ignore[attr-defined]
    assert error.retryable is False  # type: ignore[attr-defined]


def test_google_s_json_error_is_read_by_its_grpc_status_too() -> None:
    body = {"error": {"code": 409, "status": "ALREADY_EXISTS", "message": "exists"}}
    error = translate(_status_error(409, body))
    assert error.code == "ALREADY_EXISTS"  # type: ignore[attr-defined]
    assert error.retryable is False  # type: ignore[attr-defined]


def test_a_fireworks_key_in_an_error_is_redacted() -> None:
    error = translate(
        _status_error(401, {"code": 16, "message": "invalid key fw_3ZkQxY9aBcDeFgH"}),
    )
    assert "fw_3ZkQxY9aBcDeFgH" not in str(error)
    assert error.code == "UNAUTHENTICATED"  # type: ignore[attr-defined]


def test_a_client_without_an_account_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FIREWORKS_ACCOUNT_ID", raising=False)
    with pytest.raises(UsageError, match="account"):
        FireworksBackend(fireworks.Fireworks(api_key="fw_secretsecret"))


def test_the_backend_shows_no_key() -> None:
    backend = FireworksBackend(fireworks.Fireworks(api_key="fw_secretsecret", account_id="acme"))
    assert "fw_secret" not in repr(backend)
    assert backend.account == "acme"
    assert backend.client.max_retries == 0
    assert backend.job_name(_spec()).startswith("accounts/acme/supervisedFineTuningJobs/ftk")

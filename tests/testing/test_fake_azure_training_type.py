"""Azure's ``trainingType``: read on both APIs, checked against the model's tiers, kept."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from azure_support import BASE, OPEN_SOURCE, processed_file

import ftkit
from ftkit.providers import ModelInfo
from ftkit.testing import FakeFineTuningAPI

APIS = ["dated", "v1"]
GLOBAL_ONLY = ModelInfo(
    name="oss-test-1b",
    provider="azure",
    tokenizer="o200k_base",
    methods=frozenset({"sft"}),
    training_types=frozenset({"globalstandard"}),
)
NO_TIERS_KNOWN = ModelInfo(
    name="untiered-test", provider="azure", tokenizer="o200k_base", methods=frozenset({"sft"})
)


def make(api: str) -> tuple[FakeFineTuningAPI, openai.OpenAI, str]:
    models = [ftkit.model_info(BASE, provider="azure"), GLOBAL_ONLY, NO_TIERS_KNOWN]
    fake = FakeFineTuningAPI(provider="azure", models=models)
    client = fake.client(api=api, max_retries=0)
    return fake, client, processed_file(fake, client)


def create(client: openai.OpenAI, train: str, model: str = BASE, **body: Any) -> str:
    return client.fine_tuning.jobs.create(model=model, training_file=train, extra_body=body).id


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize(
    ("sent", "word"),
    [
        ("standard", "standard"),
        ("globalStandard", "globalstandard"),
        ("globalstandard", "globalstandard"),  # Learn's spelling
        ("GlobalStandard", "globalstandard"),
        ("developerTier", "developer"),
        (1, "globalstandard"),  # third-party clients' number (unconfirmed)
        (0, "standard"),
    ],
)
def test_a_training_type_is_read_in_any_case(api: str, sent: Any, word: str) -> None:
    fake, client, train = make(api)
    job_id = create(client, train, trainingType=sent)
    assert fake.training_type(job_id) == word
    recorded = fake.calls("jobs.create")[-1]
    assert recorded.json["trainingType"] == sent  # sent in the body, beside OpenAI's fields


@pytest.mark.parametrize("api", APIS)
def test_without_one_azure_trains_standard(api: str) -> None:
    fake, client, train = make(api)
    job_id = create(client, train)
    assert fake.training_type(job_id) == "standard"
    assert "trainingType" not in fake.job(job_id, api=api)  # the job object does not show it


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("sent", ["premium", "global", "", 2, True, None])
def test_an_unknown_training_type_is_refused(api: str, sent: Any) -> None:
    fake, client, train = make(api)
    with pytest.raises(openai.BadRequestError) as caught:
        create(client, train, trainingType=sent)
    assert caught.value.param == "trainingType" and caught.value.code == "invalidPayload"
    assert fake.jobs == []


@pytest.mark.parametrize("api", APIS)
def test_open_source_models_train_only_global_standard(api: str) -> None:
    fake, client, train = make(api)
    for refused in ({}, {"trainingType": "standard"}, {"trainingType": "developerTier"}):
        with pytest.raises(openai.BadRequestError) as caught:
            create(client, train, GLOBAL_ONLY.name, **refused)
        assert caught.value.code == "invalidPayload" and caught.value.param == "trainingType"
    assert caught.value.message.endswith(
        f"The specified base model {GLOBAL_ONLY.name} does not support fine-tuning with "
        "Developer TrainingType."
    )
    with pytest.raises(openai.BadRequestError) as standard:
        create(client, train, GLOBAL_ONLY.name)
    assert "does not support fine-tuning with Standard TrainingType" in standard.value.message
    assert fake.jobs == []
    job_id = create(client, train, GLOBAL_ONLY.name, trainingType="globalStandard")
    assert fake.training_type(job_id) == "globalstandard"


def test_the_catalogs_open_source_models_need_global_standard() -> None:
    fake = FakeFineTuningAPI(provider="azure")  # the catalog's Azure models
    client = fake.client(max_retries=0)
    train = processed_file(fake, client)
    with pytest.raises(openai.BadRequestError) as caught:
        create(client, train, OPEN_SOURCE)
    assert "does not support fine-tuning with Standard TrainingType" in caught.value.message
    assert fake.training_type(create(client, train, OPEN_SOURCE, trainingType="globalStandard"))


def test_a_model_without_known_tiers_takes_any(api: str = "dated") -> None:
    fake, client, train = make(api)
    job_id = create(client, train, NO_TIERS_KNOWN.name, trainingType="developerTier")
    assert fake.training_type(job_id) == "developer"


def test_a_continued_fine_tune_is_checked_against_its_base() -> None:
    fake, client, train = make("dated")
    first = create(client, train, GLOBAL_ONLY.name, trainingType="globalStandard")
    fake.advance(10_000)
    tuned = client.fine_tuning.jobs.retrieve(first).fine_tuned_model
    assert tuned is not None and tuned.startswith(f"{GLOBAL_ONLY.name}.ft-")
    with pytest.raises(openai.BadRequestError):
        create(client, train, tuned)
    assert fake.training_type(create(client, train, tuned, trainingType="globalstandard"))


def test_an_openai_fake_has_no_training_types() -> None:
    fake = FakeFineTuningAPI()
    client = fake.client(max_retries=0)
    train = processed_file(fake, client)
    job = client.fine_tuning.jobs.create(model=BASE, training_file=train)
    assert fake.training_type(job.id) is None
    with pytest.raises(openai.BadRequestError) as caught:
        create(client, train, trainingType="standard")
    assert caught.value.param == "trainingType"  # OpenAI: an unrecognized argument

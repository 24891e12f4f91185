"""Checkpoint permissions on the fake, driven by the real openai client.

``client.fine_tuning.checkpoints.permissions`` create / retrieve / list / delete
answer with bodies the SDK's own types validate; an unknown checkpoint is a
404, a bad body a 400 naming the ``param``.
"""

from __future__ import annotations

import openai
import pytest
from fake_support import sft_lines
from openai.types.fine_tuning.checkpoints import (
    PermissionCreateResponse,
    PermissionDeleteResponse,
    PermissionRetrieveResponse,
)

from ftkit.testing import FakeFineTuningAPI

# ``retrieve`` is the SDK's deprecated twin of ``list`` on the same route; both are served.
pytestmark = pytest.mark.filterwarnings("ignore:Retrieve is deprecated:DeprecationWarning")


@pytest.fixture
def model(fake: FakeFineTuningAPI, client: openai.OpenAI) -> str:
    """The fine-tuned model of a job that has succeeded."""
    train = client.files.create(file=("train.jsonl", sft_lines(12)), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini-2024-07-18", training_file=train.id)
    fake.advance(100_000)
    done = client.fine_tuning.jobs.retrieve(job.id)
    assert done.fine_tuned_model is not None
    return done.fine_tuned_model


def test_create_retrieve_delete_validate_as_the_sdk_types(
    client: openai.OpenAI, model: str
) -> None:
    permissions = client.fine_tuning.checkpoints.permissions
    raw = permissions.with_raw_response.create(model, project_ids=["proj_a", "proj_b"])
    created = raw.http_response.json()
    PermissionRetrieveResponse.model_validate(created)
    for item in created["data"]:
        PermissionCreateResponse.model_validate(item)
    assert [p["project_id"] for p in created["data"]] == ["proj_a", "proj_b"]
    assert created["first_id"] == created["data"][0]["id"]
    assert all(p["id"].startswith("cp_") for p in created["data"])

    listed = permissions.retrieve(model)
    assert isinstance(listed, PermissionRetrieveResponse)
    assert [p.project_id for p in listed.data] == ["proj_b", "proj_a"]  # newest first
    ascending = permissions.retrieve(model, order="ascending")
    assert [p.project_id for p in ascending.data] == ["proj_a", "proj_b"]
    only_b = permissions.retrieve(model, project_id="proj_b")
    assert [p.project_id for p in only_b.data] == ["proj_b"]

    first = permissions.retrieve(model, limit=1)
    assert first.has_more and len(first.data) == 1
    rest = permissions.retrieve(model, limit=1, after=first.data[0].id)
    assert not rest.has_more and [p.project_id for p in rest.data] == ["proj_a"]
    assert [p.project_id for p in permissions.list(model, limit=1)] == ["proj_b", "proj_a"]

    gone_id = listed.data[0].id
    raw_delete = permissions.with_raw_response.delete(gone_id, fine_tuned_model_checkpoint=model)
    deleted = PermissionDeleteResponse.model_validate(raw_delete.http_response.json())
    assert deleted.deleted and deleted.id == gone_id
    assert [p.project_id for p in permissions.retrieve(model).data] == ["proj_a"]
    with pytest.raises(openai.NotFoundError) as again:
        permissions.delete(gone_id, fine_tuned_model_checkpoint=model)
    assert again.value.param == "permission_id"


def test_an_empty_list_has_null_cursors(client: openai.OpenAI, model: str) -> None:
    body = client.fine_tuning.checkpoints.permissions.with_raw_response.retrieve(model)
    assert body.http_response.json() == {
        "object": "list",
        "data": [],
        "first_id": None,
        "last_id": None,
        "has_more": False,
    }


def test_intermediate_checkpoints_take_permissions(
    client: openai.OpenAI, model: str, fake: FakeFineTuningAPI
) -> None:
    checkpoint = next(name for name in fake.fine_tuned_models if ":ckpt-step-" in name)
    permissions = client.fine_tuning.checkpoints.permissions
    permissions.create(checkpoint, project_ids=["proj_c"])
    assert [p.project_id for p in permissions.retrieve(checkpoint).data] == ["proj_c"]
    assert permissions.retrieve(model).data == []


def test_an_unknown_checkpoint_is_a_404(client: openai.OpenAI, model: str) -> None:
    permissions = client.fine_tuning.checkpoints.permissions
    for call in (
        lambda: permissions.create("ft:gpt-4o-mini:nobody::x", project_ids=["proj_a"]),
        lambda: permissions.retrieve("ft:gpt-4o-mini:nobody::x"),
        lambda: permissions.delete("cp_x", fine_tuned_model_checkpoint="gpt-4o-mini"),
    ):
        with pytest.raises(openai.NotFoundError) as error:
            call()
        assert error.value.param == "fine_tuned_model_checkpoint"


def test_a_deleted_model_loses_its_permissions_route(client: openai.OpenAI, model: str) -> None:
    client.fine_tuning.checkpoints.permissions.create(model, project_ids=["proj_a"])
    client.models.delete(model)
    with pytest.raises(openai.NotFoundError):
        client.fine_tuning.checkpoints.permissions.retrieve(model)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "project_ids"),
        ({"project_ids": []}, "project_ids"),
        ({"project_ids": "proj_a"}, "project_ids"),
        ({"project_ids": ["proj_a", 3]}, "project_ids"),
        ({"project_ids": [""]}, "project_ids"),
        ({"project_ids": ["proj_a"], "projects": ["proj_b"]}, "projects"),
    ],
)
def test_bad_bodies_are_400_with_param(
    client: openai.OpenAI, model: str, body: dict[str, object], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as error:
        client.post(f"/fine_tuning/checkpoints/{model}/permissions", body=body, cast_to=object)
    assert error.value.param == param
    assert client.fine_tuning.checkpoints.permissions.retrieve(model).data == []


def test_bad_list_queries_are_400_with_param(client: openai.OpenAI, model: str) -> None:
    permissions = client.fine_tuning.checkpoints.permissions
    with pytest.raises(openai.BadRequestError) as order:
        permissions.retrieve(model, extra_query={"order": "desc"})
    assert order.value.param == "order"
    with pytest.raises(openai.BadRequestError) as limit:
        permissions.retrieve(model, limit=0)
    assert limit.value.param == "limit"

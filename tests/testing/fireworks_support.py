"""Helpers of the Fireworks fake's tests: data, a fake, raw answers, the strict type check.

:func:`strict` is the conformance check: the JSON the fake sent, validated with the
fireworks SDK's own pydantic type (``Model.model_validate``, not the SDK's lenient
construction) **and** with no key the type does not know anywhere in it
(``model_extra`` empty, recursively), so a misspelt field fails where plain parsing
would keep it as an extra.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

import fireworks
import httpx
from pydantic import BaseModel

from ftkit.testing import DEFAULT_START, FakeClock, FakeFineTuningAPI

BASE = "accounts/fireworks/models/qwen3-8b"
ACCOUNT = "fake-account"
M = TypeVar("M", bound=BaseModel)


def sft_rows(n: int = 12, tag: str = "") -> list[dict[str, Any]]:
    return [
        {
            "messages": [
                {"role": "user", "content": f"What is {i}{tag}?"},
                {"role": "assistant", "content": f"It is {i}{tag}."},
            ]
        }
        for i in range(n)
    ]


def dpo_rows(n: int = 12) -> list[dict[str, Any]]:
    return [
        {
            "input": {"messages": [{"role": "user", "content": f"What is {i}?"}]},
            "preferred_output": [{"role": "assistant", "content": f"It is {i}!"}],
            "non_preferred_output": [{"role": "assistant", "content": "no idea"}],
        }
        for i in range(n)
    ]


def jsonl(rows: list[Any]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def new_fake(**options: Any) -> FakeFineTuningAPI:
    return FakeFineTuningAPI(
        provider="fireworks", seed=11, clock=FakeClock(start=DEFAULT_START), **options
    )


def extras(model: BaseModel, where: str = "") -> list[str]:
    """Every key of ``model`` (and of the models inside it) that its type does not declare."""
    found = [f"{where}{key}" for key in (model.model_extra or {})]
    for name in type(model).model_fields:
        found += _extras_in(getattr(model, name), f"{where}{name}.")
    return found


def _extras_in(value: Any, where: str) -> list[str]:
    if isinstance(value, BaseModel):
        return extras(value, where)
    if isinstance(value, (list, tuple)):
        return [e for i, item in enumerate(value) for e in _extras_in(item, f"{where}{i}.")]
    if isinstance(value, dict):
        return [e for k, item in value.items() for e in _extras_in(item, f"{where}{k}.")]
    return []


def strict(cls: type[M], data: Any) -> M:
    """``data`` as ``cls`` validates it, failing on any key ``cls`` does not know."""
    parsed = cls.model_validate(data)
    unknown = extras(parsed)
    assert not unknown, f"{cls.__name__} does not know {unknown}"
    return parsed


def raw(
    client: fireworks.Fireworks,
    method: str,
    path: str,
    *,
    params: dict[str, Any] | None = None,
    body: Any = None,
) -> httpx.Response:
    """The HTTP answer itself, through the client (its JSON is what the tests check)."""
    options: Any = {"params": params} if params else {}
    if method == "get":
        return client.get(path, cast_to=httpx.Response, options=options)
    if method == "post":
        return client.post(path, cast_to=httpx.Response, body=body, options=options)
    return client.delete(path, cast_to=httpx.Response, options=options)


def account_path(rest: str) -> str:
    return f"/v1/accounts/{ACCOUNT}/{rest}"


def ready_dataset(
    fake: FakeFineTuningAPI,
    client: fireworks.Fireworks,
    dataset_id: str,
    rows: list[Any] | None = None,
) -> str:
    """A dataset created, uploaded directly and validated; its full name."""
    created = client.datasets.create(
        dataset_id=dataset_id, dataset={"user_uploaded": {}, "example_count": "12"}
    )
    client.datasets.upload(dataset_id, file=("train.jsonl", jsonl(rows or sft_rows())))
    fake.advance(10)
    assert created.name is not None
    return created.name


def completed_sft(
    fake: FakeFineTuningAPI, client: fireworks.Fireworks, job_id: str = "sft-1", **options: Any
) -> Any:
    """A supervised job on a fresh dataset, run to ``JOB_STATE_COMPLETED``."""
    name = ready_dataset(fake, client, f"{job_id}-data")
    job = client.supervised_fine_tuning_jobs.create(
        dataset=name, base_model=BASE, supervised_fine_tuning_job_id=job_id, **options
    )
    fake.advance(3600)
    return job

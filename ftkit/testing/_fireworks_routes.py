"""Fireworks AI's route tables in the fake: the control plane, inference and the storage.

Three handler sets over the shared stores:

- :data:`API`, ``/v1/accounts/{account}/...``: datasets, supervised and DPO jobs,
  models and deployments. Every route is account-scoped: an account other than the
  fake's is 403 ``PERMISSION_DENIED``, except reading Fireworks' base models
  (``accounts/fireworks/models/...``);
- :data:`INFERENCE`, ``POST /v1/chat/completions``;
- :data:`STORAGE`, the fake's stand-in for the signed URLs' storage: the ``PUT`` of a
  dataset file and the ``GET`` of a job's metrics file (no API key: the URL's signature
  is the credential).

Route names follow the SDK's resources and methods (``datasets.get_upload_endpoint``,
``sft_jobs.create`` for ``client.supervised_fine_tuning_jobs.create``,
``dpo_jobs.get_metrics_file_endpoint``, ``models.get``, ``deployments.create``,
``chat.completions.create``), plus the storage's ``datasets.upload_put`` and
``jobs.metrics_file``, so faults can be scripted on each by name.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2

from ._core import WireError
from ._fireworks_datasets import (
    create_dataset,
    dataset,
    dataset_object,
    datasets,
    get_upload_endpoint,
    put_part,
    storage_origin,
    upload,
    upload_response,
    validate_upload,
)
from ._fireworks_jobs import BASE_ACCOUNT, COLLECTIONS, create_job, job, jobs, resume, start_cancel
from ._fireworks_serving import (
    chat,
    create_deployment,
    deployment,
    deployment_object,
    deployments,
    model_object,
)
from ._fireworks_shapes import grpc, job_object, job_state, metrics_rows, metrics_url, page_of
from ._job_record import TERMINAL
from ._router import Call, HandlerSet, route
from ._service import FakeService
from ._wire import json_response

__all__ = ["API", "INFERENCE", "STORAGE"]


def _ok(body: Any) -> httpx2.Response:
    return json_response(200, body)


def _account(service: FakeService, call: Call) -> str:
    """The path's account, which must be the fake's (403 ``PERMISSION_DENIED`` otherwise)."""
    account = call.params["account"]
    if account != service.core.org_name:
        raise grpc("PERMISSION_DENIED", f"permission denied on accounts/{account}")
    return account


def _name(service: FakeService, call: Call, collection: str) -> str:
    return f"accounts/{_account(service, call)}/{collection}/{call.params['id']}"


# ---------------------------------------------------------------- datasets
def _datasets_create(service: FakeService, call: Call) -> httpx2.Response:
    record = create_dataset(service, _account(service, call), call.json())
    return _ok(dataset_object(record))


def _datasets_list(service: FakeService, call: Call) -> httpx2.Response:
    _account(service, call)
    shown = [dataset_object(record) for record in datasets(service)]
    return _ok(page_of(call.query, "datasets", shown))


def _datasets_get(service: FakeService, call: Call) -> httpx2.Response:
    return _ok(dataset_object(dataset(service, _name(service, call, "datasets"))))


def _datasets_delete(service: FakeService, call: Call) -> httpx2.Response:
    record = dataset(service, _name(service, call, "datasets"))
    service.files.delete(record.id)
    return _ok({})


def _datasets_upload(service: FakeService, call: Call) -> httpx2.Response:
    record = dataset(service, _name(service, call, "datasets"))
    return _ok(upload_response(upload(service, record, call.form())))


def _datasets_upload_endpoint(service: FakeService, call: Call) -> httpx2.Response:
    record = dataset(service, _name(service, call, "datasets"))
    origin = storage_origin(call.request.url)
    return _ok(get_upload_endpoint(service, record, call.json(), origin))


def _datasets_validate(service: FakeService, call: Call) -> httpx2.Response:
    validate_upload(service, dataset(service, _name(service, call, "datasets")))
    return _ok({})


# -------------------------------------------------------------------- jobs
def _jobs_create(kind: str, id_param: str) -> Any:
    def create(service: FakeService, call: Call) -> httpx2.Response:
        account = _account(service, call)
        record = create_job(
            service,
            account,
            kind,
            call.query.get(id_param),
            call.json(),
            storage_origin(call.request.url),
        )
        return _ok(job_object(record))

    return create


def _jobs_list(kind: str) -> Any:
    key = {"sft": "supervisedFineTuningJobs", "dpo": "dpoJobs"}[kind]

    def listed(service: FakeService, call: Call) -> httpx2.Response:
        _account(service, call)
        shown = [job_object(record) for record in jobs(service, kind)]
        return _ok(page_of(call.query, key, shown))

    return listed


def _jobs_get(kind: str) -> Any:
    def get(service: FakeService, call: Call) -> httpx2.Response:
        record = job(service, kind, _name(service, call, COLLECTIONS[kind]))
        if record.script:
            service.jobs.retrieve(record.id)  # a scripted job moves one status per read
        return _ok(job_object(record))

    return get


def _jobs_delete(kind: str) -> Any:
    def delete(service: FakeService, call: Call) -> httpx2.Response:
        record = job(service, kind, _name(service, call, COLLECTIONS[kind]))
        if record.status not in TERMINAL:  # a running job is stopped, then forgotten
            record.close("cancelled", service.core.now())
        service.jobs.delete(record.id)
        return _ok({})

    return delete


def _jobs_cancel(kind: str) -> Any:
    def cancel(service: FakeService, call: Call) -> httpx2.Response:
        start_cancel(service, job(service, kind, _name(service, call, COLLECTIONS[kind])))
        return _ok({})

    return cancel


def _jobs_resume(kind: str) -> Any:
    def resumed(service: FakeService, call: Call) -> httpx2.Response:
        record = job(service, kind, _name(service, call, COLLECTIONS[kind]))
        resume(service, record)
        return _ok(job_object(record))

    return resumed


def _dpo_metrics_endpoint(service: FakeService, call: Call) -> httpx2.Response:
    record = job(service, "dpo", _name(service, call, COLLECTIONS["dpo"]))
    state = job_state(record)
    if record.total_steps <= 0 or state in ("JOB_STATE_CREATING", "JOB_STATE_VALIDATING"):
        return _ok({})  # no metrics file before training starts
    return _ok({"signedUrl": metrics_url(record)})


# ---------------------------------------------------------- models, serving
def _models_get(service: FakeService, call: Call) -> httpx2.Response:
    account = call.params["account"]
    if account != BASE_ACCOUNT:
        _account(service, call)
    return _ok(model_object(service, account, call.params["id"]))


def _deployments_create(service: FakeService, call: Call) -> httpx2.Response:
    account = _account(service, call)
    record = create_deployment(service, account, call.query.get("deploymentId"), call.json())
    return _ok(deployment_object(record, service.core.now()))


def _deployments_list(service: FakeService, call: Call) -> httpx2.Response:
    _account(service, call)
    now = service.core.now()
    shown = [deployment_object(record, now) for record in deployments(service).values()]
    return _ok(page_of(call.query, "deployments", shown))


def _deployments_get(service: FakeService, call: Call) -> httpx2.Response:
    record = deployment(service, _name(service, call, "deployments"))
    return _ok(deployment_object(record, service.core.now()))


def _deployments_delete(service: FakeService, call: Call) -> httpx2.Response:
    record = deployment(service, _name(service, call, "deployments"))
    del deployments(service)[record.name]
    return _ok({})


def _chat(service: FakeService, call: Call) -> httpx2.Response:
    return chat(service, call.json())


# ----------------------------------------------------------------- storage
def _upload_put(service: FakeService, call: Call) -> httpx2.Response:
    p = call.params
    name = f"accounts/{p['account']}/datasets/{p['dataset']}"
    etag = put_part(service, name, p["file"], call.request)
    return httpx2.Response(200, headers={"etag": f'"{etag}"'})


def _metrics_file(service: FakeService, call: Call) -> httpx2.Response:
    p = call.params
    kinds = {collection: kind for kind, collection in COLLECTIONS.items()}
    kind = kinds.get(p["collection"])
    name = f"accounts/{p['account']}/{p['collection']}/{p['job']}"
    try:
        record = job(service, kind or "", name)
    except WireError:
        record = None
    token = call.query.get("X-Goog-Signature")
    if record is None or token != record.options["fireworks"]["metrics_token"]:
        raise WireError(
            403,
            "The request signature we calculated does not match the signature you provided.",
            code="SignatureDoesNotMatch",
        )
    lines = "".join(json.dumps(row) + "\n" for row in metrics_rows(record))
    return httpx2.Response(
        200, headers={"content-type": "application/octet-stream"}, content=lines.encode()
    )


# ------------------------------------------------------------------ tables
def _unknown(method: str, path: str) -> WireError:
    return grpc("NOT_FOUND", f"Not Found: {method} /v1{path}")


_DATASETS = "/accounts/{account}/datasets"
_DATASET = _DATASETS + "/{id}"
_SFT = "/accounts/{account}/supervisedFineTuningJobs"
_DPO = "/accounts/{account}/dpoJobs"
_DEPLOYMENTS = "/accounts/{account}/deployments"

API = HandlerSet(
    routes=(
        route("datasets.create", f"POST {_DATASETS}", _datasets_create),
        route("datasets.list", f"GET {_DATASETS}", _datasets_list),
        route("datasets.upload", f"POST {_DATASET}:upload", _datasets_upload),
        route(
            "datasets.get_upload_endpoint",
            f"POST {_DATASET}:getUploadEndpoint",
            _datasets_upload_endpoint,
        ),
        route("datasets.validate_upload", f"POST {_DATASET}:validateUpload", _datasets_validate),
        route("datasets.get", f"GET {_DATASET}", _datasets_get),
        route("datasets.delete", f"DELETE {_DATASET}", _datasets_delete),
        route("sft_jobs.create", f"POST {_SFT}", _jobs_create("sft", "supervisedFineTuningJobId")),
        route("sft_jobs.list", f"GET {_SFT}", _jobs_list("sft")),
        route("sft_jobs.cancel", f"POST {_SFT}/{{id}}:cancel", _jobs_cancel("sft")),
        route("sft_jobs.resume", f"POST {_SFT}/{{id}}:resume", _jobs_resume("sft")),
        route("sft_jobs.get", f"GET {_SFT}/{{id}}", _jobs_get("sft")),
        route("sft_jobs.delete", f"DELETE {_SFT}/{{id}}", _jobs_delete("sft")),
        route("dpo_jobs.create", f"POST {_DPO}", _jobs_create("dpo", "dpoJobId")),
        route("dpo_jobs.list", f"GET {_DPO}", _jobs_list("dpo")),
        route("dpo_jobs.cancel", f"POST {_DPO}/{{id}}:cancel", _jobs_cancel("dpo")),
        route("dpo_jobs.resume", f"POST {_DPO}/{{id}}:resume", _jobs_resume("dpo")),
        route(
            "dpo_jobs.get_metrics_file_endpoint",
            f"GET {_DPO}/{{id}}:getMetricsFileEndpoint",
            _dpo_metrics_endpoint,
        ),
        route("dpo_jobs.get", f"GET {_DPO}/{{id}}", _jobs_get("dpo")),
        route("dpo_jobs.delete", f"DELETE {_DPO}/{{id}}", _jobs_delete("dpo")),
        route("models.get", "GET /accounts/{account}/models/{id}", _models_get),
        route("deployments.create", f"POST {_DEPLOYMENTS}", _deployments_create),
        route("deployments.list", f"GET {_DEPLOYMENTS}", _deployments_list),
        route("deployments.get", f"GET {_DEPLOYMENTS}/{{id}}", _deployments_get),
        route("deployments.delete", f"DELETE {_DEPLOYMENTS}/{{id}}", _deployments_delete),
    ),
    unknown=_unknown,
)
"""Fireworks AI's control plane (``/v1/accounts/...``) as the fake serves it."""

INFERENCE = HandlerSet(
    routes=(route("chat.completions.create", "POST /chat/completions", _chat),),
    unknown=_unknown,
)
"""Fireworks AI's inference (``/v1/chat/completions`` on an overridden ``base_url``)."""

STORAGE = HandlerSet(
    routes=(
        route("datasets.upload_put", "PUT /{account}/datasets/{dataset}/{file}", _upload_put),
        route(
            "jobs.metrics_file",
            "GET /{account}/{collection}/{job}/metrics.jsonl",
            _metrics_file,
        ),
    ),
    unknown=lambda method, path: WireError(
        404, "The specified key does not exist.", code="NoSuchKey"
    ),
)
"""The storage behind the signed URLs (dataset files in, metrics files out)."""

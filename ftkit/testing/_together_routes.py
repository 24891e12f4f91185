"""Together AI's handler sets: its ``/v1`` API and its presigned upload URLs, on the shared stores.

Route names reuse the openai SDK's where the meaning is the same (``files.create``,
``jobs.create``, ``jobs.list_events``, ``chat.completions.create``...), so faults
scripted by name reach Together's routes as they reach OpenAI's; the rest are
Together's own: ``files.upload_put`` (the presigned ``PUT``), ``files.preprocess``,
``jobs.delete``, ``jobs.metrics``, ``jobs.download``, ``jobs.estimate_price`` and
``models.limits``.

Lists answer ``{"data": [...]}`` with no cursor, oldest first (Together documents
no order; its CLI sorts the lists itself, newest first).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx2

from ._chat_stream import sse_response
from ._core import WireError, bad_request, not_found
from ._job_record import JobRecord
from ._openai_routes import OPENAI
from ._router import Call, Handler, HandlerSet, route
from ._service import FakeService
from ._together_files import (
    create_file,
    is_together_file,
    preprocess,
    put_content,
    together_file,
)
from ._together_jobs import estimate_price, find_base, model_limits, parse_request
from ._together_shapes import (
    checkpoints,
    file_object,
    job_events,
    job_object,
    metrics_rows,
    together_status,
)
from ._wire import json_response

__all__ = ["API", "IN_PROCESS_UPLOAD_ORIGIN", "UPLOADS", "UPLOADS_PATH"]

UPLOADS_PATH = "/together-uploads/"
"""Where the fake's presigned upload URLs point, on the host that signed them."""
IN_PROCESS_UPLOAD_ORIGIN = "https://fake-together-uploads.invalid"
"""The storage host of an in-process fake's upload URLs (resolvable nowhere, as every
in-process address); a fake behind ``serve()`` signs URLs on its own origin instead."""


def _ok(body: Any, status: int = 200, *, headers: dict[str, str] | None = None) -> httpx2.Response:
    return json_response(status, body, headers=headers)


def _openai(name: str) -> Handler:
    for candidate in OPENAI.routes:
        if candidate.name == name:
            return candidate.handler
    raise LookupError(name)


def _job(service: FakeService, job_id: str) -> JobRecord:
    try:
        return service.jobs.get(job_id)
    except WireError:
        raise not_found(f"Fine-tune job not found: {job_id}", param="id") from None


# ------------------------------------------------------------------- files
def _files_create(service: FakeService, call: Call) -> httpx2.Response:
    form = call.form()

    def text(name: str) -> str:
        field = form.get(name)
        return field.text() if field is not None else ""

    record, token = create_file(
        service,
        purpose=text("purpose"),
        file_name=text("file_name"),
        file_type=text("file_type") or "jsonl",
        checksum=text("checksum"),
    )
    url = call.request.url
    host = url.host
    origin = (
        IN_PROCESS_UPLOAD_ORIGIN
        if host.endswith(".invalid")
        else f"{url.scheme}://{url.netloc.decode('ascii')}"
    )
    location = f"{origin}{UPLOADS_PATH}{record.id}?signature={token}"
    return httpx2.Response(
        302,
        headers={"location": location, "x-together-file-id": record.id},
    )


def _upload_put(service: FakeService, call: Call) -> httpx2.Response:
    put_content(service, call.params["id"], call.query.get("signature"), call.request.content)
    etag = hashlib.md5(call.request.content).hexdigest()
    return httpx2.Response(200, headers={"etag": f'"{etag}"'})


def _files_preprocess(service: FakeService, call: Call) -> httpx2.Response:
    return _ok(file_object(preprocess(service, call.params["id"])))


def _files_list(service: FakeService, call: Call) -> httpx2.Response:
    files = [file_object(record) for record in service.files.all() if is_together_file(record)]
    return _ok({"data": files})


def _files_retrieve(service: FakeService, call: Call) -> httpx2.Response:
    return _ok(file_object(together_file(service, call.params["id"])))


def _files_delete(service: FakeService, call: Call) -> httpx2.Response:
    record = together_file(service, call.params["id"])
    service.files.delete(record.id)
    return _ok({"id": record.id, "deleted": True})


def _files_content(service: FakeService, call: Call) -> httpx2.Response:
    record = together_file(service, call.params["id"])
    return httpx2.Response(
        200, headers={"content-type": "application/octet-stream"}, content=record.content
    )


# -------------------------------------------------------------------- jobs
def _jobs_create(service: FakeService, call: Call) -> httpx2.Response:
    store_body, request = parse_request(service, call.json())
    created = service.jobs.create(store_body, options={"together": request})
    return _ok(job_object(service.jobs.get(created["id"]), with_events=True))


def _jobs_list(service: FakeService, call: Call) -> httpx2.Response:
    return _ok({"data": [job_object(job) for job in service.jobs.all()]})


def _jobs_retrieve(service: FakeService, call: Call) -> httpx2.Response:
    job = _job(service, call.params["id"])
    if job.script:
        service.jobs.retrieve(job.id)  # a scripted job moves one status per retrieve
    return _ok(job_object(job, with_events=True))


def _jobs_cancel(service: FakeService, call: Call) -> httpx2.Response:
    job = _job(service, call.params["id"])
    status = together_status(job)
    if status in ("cancel_requested", "cancelled"):
        return _ok(job_object(job))
    if status not in ("pending", "queued", "running"):
        raise bad_request(f"Job {job.id} is {status}; it can no longer be cancelled.", param="id")
    service.jobs.cancel(job.id)
    return _ok(job_object(job))


def _jobs_delete(service: FakeService, call: Call) -> httpx2.Response:
    job = _job(service, call.params["id"])
    status = together_status(job)
    if status in ("pending", "queued", "running", "cancel_requested"):
        raise bad_request(
            f"Job {job.id} is {status}; cancel it and wait for it to stop before deleting it.",
            param="id",
        )
    if status in ("compressing", "uploading"):
        raise bad_request(f"Job {job.id} is {status}; delete it once completed.", param="id")
    service.jobs.delete(job.id)
    return _ok({"message": f"Fine-tune job {job.id} deleted"})


def _jobs_events(service: FakeService, call: Call) -> httpx2.Response:
    return _ok({"data": job_events(_job(service, call.params["id"]))})


def _jobs_checkpoints(service: FakeService, call: Call) -> httpx2.Response:
    return _ok({"data": checkpoints(_job(service, call.params["id"]))})


def _int_query(call: Call, name: str) -> int | None:
    raw = call.query.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"{name} must be an integer.", param=name) from None


def _jobs_metrics(service: FakeService, call: Call) -> httpx2.Response:
    rows = metrics_rows(_job(service, call.params["id"]))
    low, high = _int_query(call, "global_step_from"), _int_query(call, "global_step_to")
    rows = [
        row
        for row in rows
        if (low is None or row["global_step"] >= low)
        and (high is None or row["global_step"] <= high)
    ]
    resolution = _int_query(call, "resolution")
    if resolution is not None and resolution > 0 and len(rows) > resolution:
        stride = len(rows) / resolution
        rows = [rows[int(i * stride)] for i in range(resolution)]
    return _ok({"metrics": rows})


def _jobs_download(service: FakeService, call: Call) -> httpx2.Response:
    ft_id = call.query.get("ft_id")
    if not ft_id:
        raise bad_request("Missing required parameter: 'ft_id'.", param="ft_id")
    job = _job(service, ft_id)
    status = together_status(job)
    if status != "completed":
        raise bad_request(
            f"Job {job.id} is {status}; only completed jobs can be downloaded.", param="ft_id"
        )
    lora = job.options["together"]["training_type"]["type"] == "Lora"
    kind = call.query.get("checkpoint") or ("merged" if lora else "model_output_path")
    allowed = ("merged", "adapter") if lora else ("model_output_path",)
    step = _int_query(call, "checkpoint_step") or 0
    if step:
        if step not in {c["step"] for c in checkpoints(job)}:
            raise bad_request(
                f"Job {job.id} has no checkpoint at step {step}.", param="checkpoint_step"
            )
    elif kind not in allowed:
        raise bad_request(
            f"checkpoint must be one of {', '.join(allowed)} for this job.", param="checkpoint"
        )
    content = _weights(job, kind, step)
    name = job.fine_tuned_name.rsplit("/", 1)[-1]
    name += f"-checkpoint-{step}" if step else ""
    return _ranged(call, content, f"{name}.tar.zst")


def _weights(job: JobRecord, kind: str, step: int) -> bytes:
    """The fake's stand-in for a weights archive: a small manifest, the same on every call."""
    manifest = {
        "ftkit_fake": True,
        "job": job.id,
        "model": job.fine_tuned_name,
        "base_model": job.model,
        "checkpoint": kind,
        "step": step or job.total_steps,
    }
    return b"FTKIT-FAKE-WEIGHTS\n" + json.dumps(manifest, sort_keys=True).encode() + b"\n"


def _ranged(call: Call, content: bytes, filename: str) -> httpx2.Response:
    """The archive, or the ``Range`` of it asked for (the SDK's download manager asks
    ``bytes=0-1`` first to learn the size from ``Content-Range``)."""
    headers = {
        "content-type": "application/octet-stream",
        "content-disposition": f'attachment; filename="{filename}"',
        "accept-ranges": "bytes",
    }
    wanted = call.request.headers.get("range", "")
    if wanted.startswith("bytes="):
        first, _, last = wanted[len("bytes=") :].partition("-")
        try:
            start = int(first)
            end = min(int(last), len(content) - 1) if last else len(content) - 1
        except ValueError:
            raise WireError(416, f"Invalid Range header {wanted!r}.") from None
        if start > end:
            raise WireError(416, f"Range {wanted!r} is not satisfiable.")
        headers["content-range"] = f"bytes {start}-{end}/{len(content)}"
        return httpx2.Response(206, headers=headers, content=content[start : end + 1])
    return httpx2.Response(200, headers=headers, content=content)


def _estimate_price(service: FakeService, call: Call) -> httpx2.Response:
    return _ok(estimate_price(service, call.json()))


def _model_limits(service: FakeService, call: Call) -> httpx2.Response:
    name = call.query.get("model_name")
    if not name:
        raise bad_request("Missing required parameter: 'model_name'.", param="model_name")
    info = find_base(service, name)
    if info is None:
        raise not_found(
            f"Model not found or not available for fine-tuning: {name}", param="model_name"
        )
    return _ok(model_limits(info))


# --------------------------------------------------------------- inference
_openai_chat = _openai("chat.completions.create")


def _chat(service: FakeService, call: Call) -> httpx2.Response:
    """Chat Completions as OpenAI's fake answers them, on Together's terms.

    A job's ``model_output_name`` answers once the job is ``completed`` (not while it is
    still compressing or uploading), and the answer carries Together's ``prompt`` list and
    numbers its tool calls (``index``: Together's ``ToolChoice`` requires it, OpenAI's
    message has none); a streamed answer's every ``delta`` names its ``role`` (Together's
    chunk requires it, where OpenAI's names it in the first delta only).
    """
    model = call.json().get("model")
    for job in service.jobs.all():
        if job.fine_tuned_name == model and together_status(job) != "completed":
            raise WireError(
                404,
                f"Unable to access model {model}: the fine-tuning job {job.id} has not "
                "completed yet.",
                code="model_not_available",
            )
    response = _openai_chat(service, call)
    content_type = response.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        body = json.loads(response.content)
        body.setdefault("prompt", [])
        for choice in body.get("choices") or ():
            for index, tool_call in enumerate(
                (choice.get("message") or {}).get("tool_calls") or ()
            ):
                tool_call.setdefault("index", index)
        return _ok(body)
    if content_type.startswith("text/event-stream"):
        return sse_response([_with_roles(chunk) for chunk in _sse_chunks(response.content)])
    return response


def _sse_chunks(content: bytes) -> list[dict[str, Any]]:
    """The chunks of an event stream (every ``data:`` but the final ``[DONE]``)."""
    datas = (event.removeprefix("data: ") for event in content.decode("utf-8").split("\n\n"))
    return [json.loads(data) for data in datas if data.strip() and data != "[DONE]"]


def _with_roles(chunk: dict[str, Any]) -> dict[str, Any]:
    """The chunk with ``role`` in every delta (the SDK's ``ChoiceDelta.role`` is required)."""
    for choice in chunk.get("choices") or []:
        choice.get("delta", {}).setdefault("role", "assistant")
    return chunk


# ------------------------------------------------------------------ tables
def _not_found(method: str, path: str) -> WireError:
    return WireError(404, f"Not found: {method} /v1{path}")


_JOB = "/fine-tunes/{id}"

API = HandlerSet(
    routes=(
        route("files.create", "POST /files", _files_create),
        route("files.list", "GET /files", _files_list),
        route("files.retrieve", "GET /files/{id}", _files_retrieve),
        route("files.delete", "DELETE /files/{id}", _files_delete),
        route("files.content", "GET /files/{id}/content", _files_content),
        route("files.preprocess", "POST /files/{id}/preprocess", _files_preprocess),
        route("jobs.estimate_price", "POST /fine-tunes/estimate-price", _estimate_price),
        route("models.limits", "GET /fine-tunes/models/limits", _model_limits),
        route("jobs.create", "POST /fine-tunes", _jobs_create),
        route("jobs.list", "GET /fine-tunes", _jobs_list),
        route("jobs.retrieve", f"GET {_JOB}", _jobs_retrieve),
        route("jobs.delete", f"DELETE {_JOB}", _jobs_delete),
        route("jobs.cancel", f"POST {_JOB}/cancel", _jobs_cancel),
        route("jobs.list_events", f"GET {_JOB}/events", _jobs_events),
        route("jobs.checkpoints.list", f"GET {_JOB}/checkpoints", _jobs_checkpoints),
        route("jobs.metrics", f"GET {_JOB}/metrics", _jobs_metrics),
        route("jobs.download", "GET /finetune/download", _jobs_download),
        route("chat.completions.create", "POST /chat/completions", _chat),
    ),
    unknown=_not_found,
)
"""Together AI's ``/v1`` API as the fake serves it."""

UPLOADS = HandlerSet(
    routes=(route("files.upload_put", "PUT /{id}", _upload_put),),
    unknown=lambda method, path: WireError(
        404, "The specified key does not exist.", code="NoSuchKey"
    ),
)
"""The storage behind Together's presigned upload URLs (``PUT`` of a file's bytes)."""

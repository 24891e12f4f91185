"""Fireworks AI's datasets in the fake: caller-named, uploaded two ways, validated over time.

What the fireworks-ai SDK 1.2.30 sends (``resources/datasets.py``,
``lib/dataset_upload.py``):

- ``POST /v1/accounts/{a}/datasets`` with ``datasetId`` and ``dataset{userUploaded: {},
  exampleCount, displayName?, format?}``: a dataset ``UPLOADING``; an id already
  taken is 409 ``ALREADY_EXISTS`` ("<name> already exists"; the exact answer of the
  real service to a duplicate is unconfirmed, the SDK has ``ConflictError`` for 409
  and ``Status`` the ``ALREADY_EXISTS`` code);
- either ``:upload`` (one multipart ``file`` of at most ``Limits.file_bytes``, 150 MB
  by default, as the SDK's docstring says; above it 400), answered with a
  ``DatasetUploadResponse``;
- or ``:getUploadEndpoint{filenameToSize}``, answered with one signed ``https`` URL per
  file on the fake's storage (:data:`STORAGE_PATH`), valid for an hour of virtual time;
  each ``PUT`` carries no API key and must send ``Content-Type:
  application/octet-stream`` and ``X-Goog-Content-Length-Range: n,n`` for the declared
  size, both part of the signature (else 403 ``SignatureDoesNotMatch``; a body of
  another size is 400 ``EntityTooLarge``/``EntityTooSmall``; an expired URL 400
  ``ExpiredToken``, as Cloud Storage words them). A second call replaces the
  registered files, keeping the bytes already put for a file it registers again with
  the same size (the SDK's helper re-signs the whole set after 45 minutes and puts
  only the remaining shards); then ``:validateUpload`` (answered ``{}``: the SDK casts it
  to ``object``), which needs every registered file to have arrived (else 400
  ``FAILED_PRECONDITION``).

Either upload starts validation, judged at once and shown after
``Timings.file_processing`` virtual seconds: every line a JSON object with
``messages`` (supervised) or OpenAI's preference fields (``input``,
``preferred_output``, ``non_preferred_output``), one kind per file, and at least 3
examples. A valid dataset is then ``READY`` with its real ``exampleCount``, an
``estimatedTokenCount`` (4 bytes a token: the dataset names no model), ``format:
"CHAT"`` and ``status{code: "OK"}``; an invalid one stays ``UPLOADING`` with
``status{code: "INVALID_ARGUMENT", message: "line N: ..."}`` (the shape of the real
failure is unconfirmed). Uploading again replaces the content and revalidates.

A dataset is a :class:`~ftkit.testing._files.FileRecord` of the shared store whose id
is its full name; what Fireworks adds is kept in ``FileRecord.options["fireworks"]``.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

import httpx2

from ._core import WireError
from ._files import FileRecord
from ._fireworks_shapes import STORAGE_PATH, check_id, grpc, named, rfc3339
from ._row_checks import check_messages, check_preference_outputs
from ._service import FakeService

__all__ = [
    "IN_PROCESS_STORAGE_ORIGIN",
    "MIN_EXAMPLES",
    "SIGNED_URL_SECONDS",
    "STORAGE_PATH",
    "create_dataset",
    "dataset",
    "dataset_object",
    "dataset_report",
    "datasets",
    "get_upload_endpoint",
    "is_ready",
    "put_part",
    "storage_origin",
    "upload",
    "upload_response",
    "validate_upload",
]

IN_PROCESS_STORAGE_ORIGIN = "https://fake-fireworks-storage.invalid"
"""The storage host of an in-process fake's signed URLs (resolvable nowhere); a fake
behind ``serve()`` signs URLs on its own origin instead."""
SIGNED_URL_SECONDS = 3600.0
"""How long a signed upload URL is valid, in virtual seconds (one hour, as the SDK says)."""
MIN_EXAMPLES = 3
"""The fewest examples a dataset may have (Fireworks' documented minimum)."""

_PREFERENCE = ("input", "preferred_output", "non_preferred_output")
_FORMATS = frozenset({"FORMAT_UNSPECIFIED", "CHAT", "COMPLETION", "RL"})


def storage_origin(url: httpx2.URL) -> str:
    """The origin signed URLs go to: the fake's own storage host in-process, else the server."""
    if url.host.endswith(".invalid"):
        return IN_PROCESS_STORAGE_ORIGIN
    return f"{url.scheme}://{url.netloc.decode('ascii')}"


def _facts(record: FileRecord) -> dict[str, Any]:
    found: dict[str, Any] = record.options["fireworks"]
    return found


def datasets(service: FakeService) -> list[FileRecord]:
    """Every dataset of the fake (not the shared Trainer's result files), oldest first."""
    return [record for record in service.files.all() if "fireworks" in record.options]


def dataset(service: FakeService, name: str) -> FileRecord:
    """The dataset named ``name`` (404 ``NOT_FOUND`` otherwise)."""
    record = service.files.find(name)
    if record is None or "fireworks" not in record.options:
        raise grpc("NOT_FOUND", f"{name} not found")
    return record


def is_ready(record: FileRecord) -> bool:
    """Whether the dataset is ``READY``: validated, and the verdict shown on the clock."""
    report = _facts(record).get("report")
    return bool(report and report["valid"] and record.now() >= record.processed_at)


# ----------------------------------------------------------------- creation
def create_dataset(service: FakeService, account: str, body: dict[str, Any]) -> FileRecord:
    """A new, empty dataset ``UPLOADING``, from ``CreateDatasetRequest``'s body.

    Raises:
        WireError: 400 for a bad id or body, 409 for a name already taken.
    """
    dataset_id = check_id(body.get("datasetId"), "datasetId")
    spec = body.get("dataset")
    if not isinstance(spec, dict):
        raise grpc("INVALID_ARGUMENT", "dataset is required")
    if "userUploaded" not in spec:
        raise grpc(
            "INVALID_ARGUMENT",
            "the fake creates uploaded datasets only: set dataset.userUploaded to {}",
        )
    count = spec.get("exampleCount")
    if count is not None and not (isinstance(count, (str, int)) and str(count).isdigit()):
        raise grpc("INVALID_ARGUMENT", f"invalid dataset.exampleCount {count!r}")
    kind = spec.get("format")
    if kind is not None and kind not in _FORMATS:
        raise grpc("INVALID_ARGUMENT", f"invalid dataset.format {kind!r}")
    display = spec.get("displayName")
    if display is not None and not isinstance(display, str):
        raise grpc("INVALID_ARGUMENT", "dataset.displayName must be a string")
    name = f"accounts/{account}/datasets/{dataset_id}"
    if service.files.find(name) is not None:
        raise grpc("ALREADY_EXISTS", f"{name} already exists")
    now = service.core.now()
    with named(service.core, "file-", name):
        record = service.files.add(
            f"{dataset_id}.jsonl", "fine-tune", b"", int(now), processing=False
        )
    record.processed_at = math.inf  # validated only once uploaded
    record.options["fireworks"] = {
        "id": dataset_id,
        "displayName": display,
        "exampleCount": None if count is None else str(count),
        "format": kind,
        "updated": now,
        "registered": {},
        "parts": {},
        "signatures": {},
        "signed_at": None,
        "report": None,
    }
    return record


# ------------------------------------------------------------------ uploads
def upload(service: FakeService, record: FileRecord, form: dict[str, Any]) -> FileRecord:
    """``:upload``: the one multipart ``file`` becomes the content; validation starts.

    Raises:
        WireError: 400 for no file, or one above ``Limits.file_bytes``.
    """
    part = form.get("file")
    if part is None:
        raise grpc("INVALID_ARGUMENT", "the request has no multipart field 'file'")
    limit = service.core.limits.file_bytes
    if len(part.data) > limit:
        raise grpc(
            "INVALID_ARGUMENT",
            f"the file is {len(part.data)} bytes; :upload takes at most {limit} bytes "
            "(use :getUploadEndpoint for larger files)",
        )
    filename = part.filename or "data.jsonl"
    facts = _facts(record)
    facts.update(registered={filename: len(part.data)}, parts={filename: part.data})
    facts["signatures"] = {}
    _start_validation(service, record)
    return record


def upload_response(record: FileRecord) -> dict[str, Any]:
    """``DatasetUploadResponse``: the dataset as the file it was given (OpenAI-like keys)."""
    facts = _facts(record)
    filename = next(iter(facts["registered"]), record.filename)
    return {
        "id": facts["id"],
        "object": "file",
        "bytes": len(record.content),
        "created_at": record.created_at,
        "filename": filename,
        "purpose": "fine-tune",
    }


def _size(name: str, raw: Any, limit: int) -> int:
    text = str(raw) if isinstance(raw, (str, int)) and not isinstance(raw, bool) else ""
    if not text.isdigit() or int(text) < 1:
        raise grpc("INVALID_ARGUMENT", f"invalid size {raw!r} for file {name!r}")
    if int(text) > limit:
        raise grpc("INVALID_ARGUMENT", f"file {name!r} is larger than {limit} bytes")
    return int(text)


def get_upload_endpoint(
    service: FakeService, record: FileRecord, body: dict[str, Any], origin: str
) -> dict[str, Any]:
    """``:getUploadEndpoint``: register the files, answer a signed URL for each.

    Raises:
        WireError: 400 for an empty map, a name with a ``/``, or a size that is not a
            positive integer within ``Limits.upload_bytes``.
    """
    sizes = body.get("filenameToSize")
    if not isinstance(sizes, dict) or not sizes:
        raise grpc("INVALID_ARGUMENT", "filenameToSize must map at least one file to its size")
    limit = service.core.limits.upload_bytes
    registered: dict[str, int] = {}
    for filename, raw in sizes.items():
        if not filename or "/" in filename:
            raise grpc("INVALID_ARGUMENT", f"invalid file name {filename!r}")
        registered[filename] = _size(filename, raw, limit)
    facts = _facts(record)
    kept = {
        name: data
        for name, data in facts["parts"].items()
        if registered.get(name) == facts["registered"].get(name) == len(data)
    }
    now = service.core.now()
    signatures = {name: f"{service.core.rng.getrandbits(128):032x}" for name in registered}
    facts.update(registered=registered, parts=kept, signatures=signatures, signed_at=now)
    stamp = datetime.fromtimestamp(now, timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    account = record.id.split("/")[1]
    urls = {
        name: (
            f"{origin}{STORAGE_PATH}{account}/datasets/{facts['id']}/{quote(name, safe='')}"
            "?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=fake-fireworks-storage"
            f"&X-Goog-Date={stamp}&X-Goog-Expires={int(SIGNED_URL_SECONDS)}"
            "&X-Goog-SignedHeaders=content-type%3Bhost%3Bx-goog-content-length-range"
            f"&X-Goog-Signature={signature}"
        )
        for name, signature in signatures.items()
    }
    return {"filenameToSignedUrls": urls}


def _storage_error(status: int, code: str, message: str) -> WireError:
    return WireError(status, message, code=code)


def put_part(service: FakeService, name: str, filename: str, request: httpx2.Request) -> str:
    """Store the bytes a signed ``PUT`` brings; returns their MD5 (the object's ETag).

    Raises:
        WireError: 403 for a URL or headers that do not match the signature, 400 for an
            expired URL or a body of another size than the one signed.
    """
    forged = _storage_error(
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided.",
    )
    record = service.files.find(name)
    if record is None or "fireworks" not in record.options:
        raise forged
    facts = _facts(record)
    signature = request.url.params.get("X-Goog-Signature")
    if not signature or facts["signatures"].get(filename) != signature:
        raise forged
    if service.core.now() > facts["signed_at"] + SIGNED_URL_SECONDS:
        raise _storage_error(400, "ExpiredToken", "Invalid argument: the signed URL has expired.")
    size = facts["registered"][filename]
    if request.headers.get("content-type") != "application/octet-stream":
        raise forged
    if request.headers.get("x-goog-content-length-range") != f"{size},{size}":
        raise forged
    content = request.content
    if len(content) != size:
        code = "EntityTooLarge" if len(content) > size else "EntityTooSmall"
        raise _storage_error(
            400,
            code,
            f"Your proposed upload is {len(content)} bytes; the signed range is {size},{size}.",
        )
    facts["parts"][filename] = content
    return hashlib.md5(content).hexdigest()


def validate_upload(service: FakeService, record: FileRecord) -> None:
    """``:validateUpload``: every registered file arrived, so validation starts.

    Raises:
        WireError: 400 ``FAILED_PRECONDITION`` for no registered files or a missing one.
    """
    facts = _facts(record)
    if not facts["registered"]:
        raise grpc(
            "FAILED_PRECONDITION",
            f"{record.id} has no files registered: call :getUploadEndpoint first",
        )
    missing = [name for name in facts["registered"] if name not in facts["parts"]]
    if missing:
        raise grpc(
            "FAILED_PRECONDITION",
            f"{record.id}: file(s) {', '.join(missing)} were not uploaded",
        )
    _start_validation(service, record)


def _start_validation(service: FakeService, record: FileRecord) -> None:
    facts = _facts(record)
    chunks = [facts["parts"][name] for name in facts["registered"]]
    content = b"".join(c if c.endswith(b"\n") else c + b"\n" for c in chunks if c)
    now = service.core.now()
    record.content = content
    record.processed_at = now + service.core.timings.file_processing
    report = dataset_report(content)
    facts.update(report=report, updated=now)
    record.failure = None if report["valid"] else str(report["error"])
    for key in [k for k in record.options if k.startswith("tokens:")]:
        del record.options[key]  # token counts of the old content


# --------------------------------------------------------------- validation
def dataset_report(content: bytes) -> dict[str, Any]:
    """The verdict on a dataset's bytes: valid with counts, or the first problem."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _invalid(f"the file is not valid UTF-8 ({exc.reason})")
    examples, kind = 0, None
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            return _invalid(f"line {number}: invalid JSON ({exc})")
        if not isinstance(row, dict):
            return _invalid(f"line {number}: each line must be a JSON object")
        found = (
            "dpo" if all(k in row for k in _PREFERENCE) else "sft" if "messages" in row else None
        )
        if found is None:
            return _invalid(
                f"line {number}: a line needs 'messages' (supervised) or 'input', "
                "'preferred_output' and 'non_preferred_output' (preference)"
            )
        if kind is not None and found != kind:
            return _invalid(f"line {number}: the file mixes supervised and preference examples")
        kind = found
        problem = _check_row(row, kind)
        if problem is not None:
            return _invalid(f"line {number}: {problem}")
        examples += 1
    if examples < MIN_EXAMPLES:
        return _invalid(
            f"the dataset has {examples} example(s); at least {MIN_EXAMPLES} are needed"
        )
    return {
        "valid": True,
        "kind": kind,
        "examples": examples,
        "tokens": math.ceil(len(content) / 4),
    }


def _invalid(error: str) -> dict[str, Any]:
    return {"valid": False, "error": error}


def _check_row(row: dict[str, Any], kind: str) -> str | None:
    if kind == "sft":
        weight = row.get("weight")
        if weight is not None and (
            isinstance(weight, bool) or not isinstance(weight, (int, float))
        ):
            return "the sample 'weight' must be a number"
        return check_messages(row["messages"], "messages", need_assistant=True)
    source = row["input"]
    if not isinstance(source, dict):
        return "'input' must be an object with 'messages'"
    problem = check_messages(source.get("messages"), "input.messages", need_assistant=False)
    if problem is not None:
        return problem
    return check_preference_outputs(row)


# -------------------------------------------------------------------- shape
def dataset_object(record: FileRecord) -> dict[str, Any]:
    """``Dataset``: a dataset as Fireworks shows it (no field without a value)."""
    facts = _facts(record)
    report = facts["report"]
    decided = report is not None and record.now() >= record.processed_at
    body: dict[str, Any] = {
        "name": record.id,
        "displayName": facts["displayName"],
        "createTime": rfc3339(record.created_at),
        "updateTime": rfc3339(
            max(facts["updated"], record.processed_at) if decided else facts["updated"]
        ),
        "state": "READY" if decided and report["valid"] else "UPLOADING",
        "userUploaded": {},
        "exampleCount": facts["exampleCount"],
        "format": facts["format"],
    }
    if decided and report["valid"]:
        body.update(
            exampleCount=str(report["examples"]),
            estimatedTokenCount=str(report["tokens"]),
            format="CHAT",
            status={"code": "OK"},
        )
    elif decided:
        body["status"] = {"code": "INVALID_ARGUMENT", "message": report["error"]}
    return {key: value for key, value in body.items() if value is not None}

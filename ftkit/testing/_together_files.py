"""Together AI's files in the fake: the presigned upload, the dedup by checksum, preprocessing.

The together SDK uploads a file in three requests (``lib/resources/files.py``):
``POST /v1/files`` with the name, purpose, type and sha256 ``checksum`` answers
**302** with a presigned ``Location`` and ``X-Together-File-Id`` (the file exists from
then on, holding no bytes); a ``PUT`` of the bytes to that URL; ``POST
/v1/files/{id}/preprocess``, which starts the server-side validation. Content
identical to a file already uploaded (same checksum and purpose) is answered
**409** with that file's ``file_id``, which the SDK reuses.

Files live in the shared :class:`~ftkit.testing._files.FileStore`; what Together adds
(checksum, upload token, the validation verdict) is kept in ``FileRecord.options``.
Validation takes ``Timings.file_processing`` virtual seconds and checks what
Together's pipeline reports (``validation_report``): one JSON object per line, one
dataset format for the whole file (``CONVERSATION``, ``INSTRUCTION``, ``GENERAL``,
``PREFERENCE_OPENAI``), roles, per-message weights of 0 or 1; the first problem gives
``INVALID_FORMAT`` with an error naming its line. Which model a file suits is
judged later, by the job (the shared Trainer).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from ._core import WireError, bad_request, not_found
from ._files import FileRecord
from ._row_checks import check_messages, check_preference_outputs
from ._service import FakeService

__all__ = [
    "FILE_PURPOSES",
    "FILE_TYPES",
    "FileExists",
    "create_file",
    "dataset_report",
    "is_together_file",
    "preprocess",
    "put_content",
    "together_file",
]

FILE_PURPOSES = frozenset({"fine-tune", "calibration", "eval", "batch-api"})
"""``FilePurpose`` of the together SDK."""
FILE_TYPES = frozenset({"jsonl", "csv", "parquet"})
"""``FileType`` of the together SDK."""


def together_file(service: FakeService, file_id: str) -> FileRecord:
    """A file of this fake (404 in Together's words otherwise)."""
    record = service.files.find(file_id)
    if record is None or not is_together_file(record):
        raise not_found(f"File not found: {file_id}", param="id")
    return record


def is_together_file(record: FileRecord) -> bool:
    """Whether Together lists ``record``: not the shared Trainer's OpenAI-style result files
    (purpose ``fine-tune-results``), which Together has no word for (``FilePurpose``)."""
    return record.purpose in FILE_PURPOSES


def create_file(
    service: FakeService, *, purpose: str, file_name: str, file_type: str, checksum: str
) -> tuple[FileRecord, str]:
    """A new, empty file record and the upload token of its presigned URL.

    Raises:
        WireError: 400 for a purpose, type or name Together refuses; 409 with
            ``file_id`` for content identical to a file already uploaded.
    """
    if purpose not in FILE_PURPOSES:
        raise bad_request(
            f"Invalid purpose {purpose!r}; expected one of {', '.join(sorted(FILE_PURPOSES))}.",
            param="purpose",
        )
    if file_type not in FILE_TYPES:
        raise bad_request(
            f"Invalid file_type {file_type!r}; expected one of {', '.join(sorted(FILE_TYPES))}.",
            param="file_type",
        )
    if not file_name:
        raise bad_request("Missing required parameter: 'file_name'.", param="file_name")
    if not checksum:
        raise bad_request("Missing required parameter: 'checksum'.", param="checksum")
    for existing in service.files.all():
        options = existing.options
        if (
            options.get("checksum") == checksum
            and existing.purpose == purpose
            and options.get("uploaded")
        ):
            raise FileExists(existing.id)
    now = service.core.now()
    record = service.files.add(file_name, purpose, b"", int(now), processing=False)
    token = secrets.token_hex(16)
    record.processed_at = float("inf")  # validated only once preprocessed
    record.options.update(
        checksum=checksum,
        file_type=file_type,
        upload_token=token,
        uploaded=False,
        validated=purpose == "fine-tune" and file_type == "jsonl",
    )
    return record, token


class FileExists(WireError):
    """409: the content is already uploaded; Together's body names the existing ``file_id``."""

    def __init__(self, file_id: str) -> None:
        super().__init__(
            409,
            f"A file with the same content already exists: {file_id}",
            code="file_already_exists",
        )
        self.file_id = file_id


def put_content(service: FakeService, file_id: str, token: str | None, content: bytes) -> None:
    """Store the bytes a presigned ``PUT`` brings.

    Raises:
        WireError: 403 for a URL this fake did not sign (or one already used up by
            preprocessing), 404 for an unknown file.
    """
    record = service.files.find(file_id)
    if record is None:
        raise WireError(404, "The specified key does not exist.", code="NoSuchKey")
    expected = record.options.get("upload_token")
    if not token or token != expected or record.options.get("preprocess_started") is not None:
        raise WireError(
            403,
            "The request signature we calculated does not match the signature you provided.",
            code="SignatureDoesNotMatch",
        )
    record.content = content
    record.options["uploaded"] = True


def preprocess(service: FakeService, file_id: str) -> FileRecord:
    """Start validating an uploaded file (once; a second call reports the same run).

    The verdict is decided now, from the bytes, and shown once the clock has passed
    ``Timings.file_processing`` seconds; a file of a purpose Together does not validate
    is ready at once.

    Raises:
        WireError: 404 for an unknown file, 400 for one whose bytes never arrived.
    """
    record = together_file(service, file_id)
    options = record.options
    if options.get("preprocess_started") is not None:
        return record
    if not options.get("uploaded"):
        raise bad_request(
            f"File {file_id} has no content yet: PUT its bytes to the upload URL first.",
            param="id",
        )
    now = service.core.now()
    options["preprocess_started"] = now
    record.processed_at = now + (
        service.core.timings.file_processing if options["validated"] else 0
    )
    if not options["validated"]:
        return record
    if hashlib.sha256(record.content).hexdigest() != options.get("checksum"):
        options["report"] = {"valid": False, "nlines": None}
        record.failure = "the uploaded bytes do not match the checksum"
        return record
    report = dataset_report(record.content)
    options["report"] = report
    if not report["valid"]:
        record.failure = str(report["error"])
    return record


# -------------------------------------------------------------- validation
def dataset_report(content: bytes) -> dict[str, Any]:
    """Together's ``validation_report`` of a JSONL training file (valid, or the first error)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _invalid(f"The file is not valid UTF-8: {exc}", 0)
    found: str | None = None
    flags = {
        "dataset_has_message_weights": False,
        "dataset_has_sample_weights": False,
        "dataset_has_tools": False,
        "dataset_is_multimodal": False,
    }
    nlines = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        nlines += 1
        try:
            row = json.loads(line)
        except ValueError as exc:
            return _invalid(f"Line {number}: invalid JSON ({exc}).", nlines)
        if not isinstance(row, dict):
            return _invalid(f"Line {number}: each line must be a JSON object.", nlines)
        kind = _format_of(row)
        if kind is None:
            return _invalid(
                f"Line {number}: unknown dataset format; a line needs 'messages', 'text', "
                "'prompt' and 'completion', or 'input', 'preferred_output' and "
                "'non_preferred_output'.",
                nlines,
            )
        if found is not None and kind != found:
            return _invalid(
                f"Line {number}: dataset format {kind} differs from the file's format {found}.",
                nlines,
            )
        found = kind
        problem = _check_row(row, kind, flags)
        if problem is not None:
            return _invalid(f"Line {number}: {problem}", nlines)
    if found is None:
        return _invalid("The file has no examples.", 0)
    return {"valid": True, "dataset_format": found, **flags, "nlines": nlines}


def _invalid(error: str, nlines: int) -> dict[str, Any]:
    return {"valid": False, "error": error, "error_type": "INVALID_FORMAT", "nlines": nlines}


def _format_of(row: dict[str, Any]) -> str | None:
    if {"input", "preferred_output", "non_preferred_output"} <= row.keys():
        return "PREFERENCE_OPENAI"
    if "messages" in row:
        return "CONVERSATION"
    if "prompt" in row and "completion" in row:
        return "INSTRUCTION"
    if "text" in row:
        return "GENERAL"
    return None


def _check_row(row: dict[str, Any], kind: str, flags: dict[str, bool]) -> str | None:
    if kind == "CONVERSATION":
        if "weight" in row:
            weight = row["weight"]
            if not isinstance(weight, (int, float)) or isinstance(weight, bool) or weight < 0:
                return "the sample 'weight' must be a number of at least 0."
            flags["dataset_has_sample_weights"] = True
        if "tools" in row:
            flags["dataset_has_tools"] = True
        return check_messages(
            row["messages"], "messages", need_assistant=True, flags=flags, end="."
        )
    if kind == "PREFERENCE_OPENAI":
        source = row["input"]
        if not isinstance(source, dict):
            return "'input' must be an object with 'messages'."
        problem = check_messages(
            source.get("messages"), "input.messages", need_assistant=False, flags=flags, end="."
        )
        if problem is not None:
            return problem
        return check_preference_outputs(row, end=".")
    for key in ("prompt", "completion") if kind == "INSTRUCTION" else ("text",):
        if not isinstance(row[key], str):
            return f"'{key}' must be a string."
    return None

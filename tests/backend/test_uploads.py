"""Content-addressed, parallel, resumable uploads (thresholds shrunk so files stay tiny)."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import itertools
import threading
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import respx

from ftkit import APIError, UsageError
from ftkit.backend import (
    OpenAIBackend,
    Page,
    Request,
    TrainingFile,
    UploadedPart,
    UploadResult,
    UploadSession,
    UploadState,
    aupload_file,
    upload_file,
)
from ftkit.backend._content import content_filename, file_digest
from ftkit.backend._md5 import PartsMD5
from ftkit.retry import RetryPolicy

NOW = 1_760_000_000


def sent(method: Callable[..., Any]) -> Callable[..., Request[Any]]:
    """A fake backend method: what its body does becomes the request a backend returns."""

    @functools.wraps(method)
    def build(self: Any, *args: Any, **kwargs: Any) -> Request[Any]:
        return Request(self, lambda fake: method(fake, *args, **kwargs), lambda answer: answer)

    return build


def awaited(method: Callable[..., Coroutine[Any, Any, Any]]) -> Callable[..., Request[Any]]:
    """Like :func:`sent`, for a coroutine body: the request is one to await."""

    @functools.wraps(method)
    def build(self: Any, *args: Any, **kwargs: Any) -> Request[Any]:
        return Request(
            self,
            lambda fake: method(fake, *args, **kwargs),
            lambda answer: answer,
            asynchronous=True,
        )

    return build


class FakeFilesAPI:
    """An in-memory Files + Uploads backend with the server's checks (sizes, md5), thread-safe."""

    def __init__(self) -> None:
        self.files: list[TrainingFile] = []
        self.uploads: dict[str, dict[str, Any]] = {}
        self.parts: dict[str, bytes] = {}
        self.calls: list[str] = []
        self.part_payloads: list[bytes] = []
        self.md5s: list[str | None] = []  # what each complete_upload was given
        self.max_parallel = 0
        self._active = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._both_in_flight = threading.Barrier(2, timeout=5)
        self.wait_for_parallel_parts = False
        # fault injection
        self.part_fault: Callable[[bytes], BaseException | None] = lambda data: None
        self.fail_after_applying: dict[str, list[BaseException]] = {}

    def _next(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids)}"

    def _maybe_fail_after(self, op: str) -> None:
        faults = self.fail_after_applying.get(op)
        if faults:
            raise faults.pop(0)

    def _new_file(self, filename: str, content: bytes, purpose: str) -> TrainingFile:
        file = TrainingFile(
            id=self._next("file"),
            bytes=len(content),
            created_at=NOW,
            filename=filename,
            purpose=purpose,
            status="processed",
        )
        self.files.append(file)
        return file

    # Backend methods used by uploads
    @sent
    def list_files(
        self, *, purpose: str | None = "fine-tune", after: str | None = None, limit: int = 100
    ) -> Page[TrainingFile]:
        with self._lock:
            self.calls.append("list_files")
            newest_first = [
                f for f in reversed(self.files) if purpose is None or f.purpose == purpose
            ]
        start = 0 if after is None else [f.id for f in newest_first].index(after) + 1
        chunk = newest_first[start : start + limit]
        return Page(chunk, has_more=start + limit < len(newest_first))

    @sent
    def create_file(
        self, *, filename: str, content: bytes | Path, purpose: str = "fine-tune"
    ) -> TrainingFile:
        # A path is read as the request is sent, as the OpenAI backend streams it.
        data = content.read_bytes() if isinstance(content, Path) else content
        with self._lock:
            self.calls.append("create_file")
            file = self._new_file(filename, data, purpose)
        self._maybe_fail_after("create_file")
        return file

    @sent
    def create_upload(
        self, *, filename: str, size: int, mime_type: str = "text/jsonl", purpose: str = "fine-tune"
    ) -> UploadSession:
        with self._lock:
            self.calls.append("create_upload")
            upload_id = self._next("upload")
            self.uploads[upload_id] = {
                "filename": filename,
                "bytes": size,
                "purpose": purpose,
                "status": "pending",
            }
        return UploadSession(id=upload_id, status="pending", created_at=NOW, expires_at=NOW + 3600)

    @sent
    def add_upload_part(self, upload_id: str, data: bytes) -> UploadedPart:
        with self._lock:
            self.calls.append("add_upload_part")
            meet = self.wait_for_parallel_parts and self.calls.count("add_upload_part") <= 2
            self._active += 1
            self.max_parallel = max(self.max_parallel, self._active)
        try:
            if meet:
                # The first two parts wait for each other: only parallel sending gets past.
                self._both_in_flight.wait()
            fault = self.part_fault(data)
            if fault is not None:
                raise fault
            with self._lock:
                assert self.uploads[upload_id]["status"] == "pending"
                part_id = self._next("part")
                self.parts[part_id] = data
                self.part_payloads.append(data)
            return UploadedPart(id=part_id)
        finally:
            with self._lock:
                self._active -= 1

    @sent
    def complete_upload(
        self, upload_id: str, *, part_ids: Sequence[str], md5: str | None = None
    ) -> UploadSession:
        with self._lock:
            self.calls.append("complete_upload")
            self.md5s.append(md5)
            upload = self.uploads[upload_id]
            content = b"".join(self.parts[p] for p in part_ids)
            if len(content) != upload["bytes"]:
                raise APIError("byte count mismatch", status_code=400)
            if md5 is not None and hashlib.md5(content).hexdigest() != md5:
                raise APIError("md5 mismatch", status_code=400)
            upload["status"] = "completed"
            file = self._new_file(upload["filename"], content, upload["purpose"])
            self.assembled = content
        self._maybe_fail_after("complete_upload")
        return UploadSession(
            id=upload_id, status="completed", created_at=NOW, expires_at=NOW + 3600, file=file
        )


class AsyncFakeFilesAPI:
    """The same fake behind awaitable methods."""

    def __init__(self, sync: FakeFilesAPI) -> None:
        self.sync = sync

    @awaited
    async def list_files(self, **kwargs: Any) -> Page[TrainingFile]:
        return self.sync.list_files(**kwargs).run()

    @awaited
    async def create_file(self, **kwargs: Any) -> TrainingFile:
        return self.sync.create_file(**kwargs).run()

    @awaited
    async def create_upload(self, **kwargs: Any) -> UploadSession:
        return self.sync.create_upload(**kwargs).run()

    @awaited
    async def add_upload_part(self, upload_id: str, data: bytes) -> UploadedPart:
        await asyncio.sleep(0)
        return self.sync.add_upload_part(upload_id, data).run()

    @awaited
    async def complete_upload(self, upload_id: str, **kwargs: Any) -> UploadSession:
        return self.sync.complete_upload(upload_id, **kwargs).run()


def ambiguous() -> APIError:
    return APIError("HTTP 502: bad gateway", status_code=502, retryable=True, ambiguous=True)


@pytest.fixture
def retry() -> RetryPolicy:
    return RetryPolicy(sleep=lambda s: None, jitter=0.0)


@pytest.fixture
def toy(real_datasets: Path) -> Path:
    return real_datasets / "openai-cookbook_toy_chat_fine_tuning.jsonl"


def test_content_filename_is_readable_and_addressed_by_hash(toy: Path) -> None:
    digest = file_digest(toy)
    data = toy.read_bytes()
    assert digest.size == len(data)
    assert digest.sha256 == hashlib.sha256(data).hexdigest()
    assert digest.md5 is None  # no MD5 before sending: only the Uploads API takes one
    name = content_filename(toy, digest.sha256)
    assert name == f"openai-cookbook_toy_chat_fine_tuning.ftkit-{digest.sha256[:16]}.jsonl"
    assert content_filename("my data (v2).jsonl", "ab" * 32) == f"my-data-v2.ftkit-{'ab' * 8}.jsonl"


def test_parts_md5_hashes_in_file_order_whatever_order_parts_arrive() -> None:
    parts = [bytes([i]) * (1000 + i) for i in range(6)]
    md5 = PartsMD5(len(parts))
    for index in (3, 1, 5, 0, 1, 4):  # out of order, part 1 twice
        md5.add(index, parts[index])
    assert not md5.complete
    with pytest.raises(RuntimeError, match="after 2 of 6"):
        md5.hexdigest()
    md5.add(2, parts[2])
    assert md5.hexdigest() == hashlib.md5(b"".join(parts)).hexdigest()


def test_parts_md5_from_many_threads_at_once() -> None:
    parts = [bytes([i % 256]) * 50_000 for i in range(64)]
    md5 = PartsMD5(len(parts))
    order = list(range(len(parts)))
    order.reverse()
    start = threading.Barrier(8)

    def add(indexes: list[int]) -> None:
        start.wait()
        for index in indexes:
            md5.add(index, parts[index])

    threads = [threading.Thread(target=add, args=(order[k::8],)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert md5.hexdigest() == hashlib.md5(b"".join(parts)).hexdigest()


def test_files_api_upload_sends_and_hashes_no_md5(toy: Path, retry: RetryPolicy) -> None:
    api = FakeFilesAPI()
    result = upload_file(api, toy, retry=retry)  # type: ignore[arg-type]
    assert result.via == "files" and result.digest.md5 is None and api.md5s == []


def test_small_file_goes_through_files_api_and_is_reused_next_time(
    toy: Path, retry: RetryPolicy
) -> None:
    api = FakeFilesAPI()
    first = upload_file(api, toy, retry=retry)  # type: ignore[arg-type]
    assert (first.via, first.reused) == ("files", False)
    assert first.file.bytes == toy.stat().st_size
    second = upload_file(api, toy, retry=retry)  # type: ignore[arg-type]
    assert (second.via, second.reused) == ("existing", True)
    assert second.file.id == first.file.id
    assert api.calls.count("create_file") == 1


def test_reuse_matches_content_not_the_local_name(tmp_path: Path, retry: RetryPolicy) -> None:
    api = FakeFilesAPI()
    a = tmp_path / "a.jsonl"
    a.write_bytes(b'{"messages": []}\n')
    b = tmp_path / "b.jsonl"
    b.write_bytes(b'{"messages": []}\n')
    c = tmp_path / "c.jsonl"
    c.write_bytes(b'{"messages": [1]}\n')
    first = upload_file(api, a, retry=retry)  # type: ignore[arg-type]
    assert upload_file(api, b, retry=retry).file.id == first.file.id  # type: ignore[arg-type]
    assert upload_file(api, c, retry=retry).file.id != first.file.id  # type: ignore[arg-type]


def test_an_ambiguous_create_is_not_uploaded_twice(toy: Path, retry: RetryPolicy) -> None:
    api = FakeFilesAPI()
    api.fail_after_applying["create_file"] = [ambiguous()]
    result = upload_file(api, toy, retry=retry, reuse=False)  # type: ignore[arg-type]
    assert api.calls.count("create_file") == 1
    assert len(api.files) == 1 and result.file.id == api.files[0].id


def test_large_file_is_sent_in_parallel_parts_and_completed_in_order(
    toy: Path, retry: RetryPolicy
) -> None:
    api = FakeFilesAPI()
    api.wait_for_parallel_parts = True
    states: list[UploadState] = []
    progress: list[tuple[int, int]] = []
    size = toy.stat().st_size
    part_size = 4096
    result = upload_file(
        api,  # type: ignore[arg-type]
        toy,
        retry=retry,
        files_api_limit=1000,
        part_size=part_size,
        concurrency=2,
        on_state=states.append,
        progress=lambda sent, total: progress.append((sent, total)),
    )
    assert result.via == "uploads"
    assert api.assembled == toy.read_bytes()  # server checked size and md5 too
    md5 = hashlib.md5(toy.read_bytes()).hexdigest()
    assert api.md5s == [md5]  # hashed from the parts, sent in parallel (out of order)
    assert result.digest.md5 == md5 and result.state is not None and result.state.md5 == md5
    assert all(s.md5 is None for s in states)  # not known while parts are sent
    assert api.max_parallel == 2
    parts = -(-size // part_size)
    assert api.calls.count("add_upload_part") == parts
    assert result.state is not None and len(result.state.part_ids) == parts
    assert len(states) == parts + 1 and states[0].part_ids == {}
    assert progress[0] == (0, size) and progress[-1] == (size, size)
    assert [p[0] for p in progress] == sorted(p[0] for p in progress)


def _upload_in_parts(
    api: FakeFilesAPI, path: Path, retry: RetryPolicy, **options: Any
) -> UploadResult:
    """``upload_file`` through the Uploads API (never the Files API), in 4 KiB parts."""
    return upload_file(api, path, retry=retry, files_api_limit=0, part_size=4096, **options)  # type: ignore[arg-type]


def test_a_failing_part_is_retried_on_its_own(toy: Path, retry: RetryPolicy) -> None:
    api = FakeFilesAPI()
    second_part = toy.read_bytes()[4096:8192]
    faults = [ambiguous()]
    api.part_fault = lambda data: faults.pop() if data == second_part and faults else None
    result = _upload_in_parts(api, toy, retry)
    assert api.assembled == toy.read_bytes()
    assert api.calls.count("add_upload_part") == -(-toy.stat().st_size // 4096) + 1
    assert result.via == "uploads"


def test_an_interrupted_upload_resumes_with_only_the_missing_parts(
    toy: Path, retry: RetryPolicy
) -> None:
    api = FakeFilesAPI()
    content = toy.read_bytes()
    poisoned = content[8192:12288]
    api.part_fault = lambda data: (
        APIError("HTTP 400", status_code=400) if data == poisoned else None
    )
    saved: list[dict[str, Any]] = []
    with pytest.raises(APIError):
        _upload_in_parts(
            api,
            toy,
            retry,
            concurrency=1,
            on_state=lambda s: saved.append(s.to_dict()),
            wall_clock=lambda: NOW + 60,
        )
    state = UploadState.from_dict(saved[-1])
    assert 2 in state.missing_parts() and 0 not in state.missing_parts()
    sent_before = api.calls.count("add_upload_part")

    api.part_fault = lambda data: None
    result = _upload_in_parts(
        api,
        toy,
        retry,
        state=state,
        wall_clock=lambda: NOW + 600,
    )
    assert api.calls.count("create_upload") == 1  # the same upload
    assert api.calls.count("add_upload_part") - sent_before == len(state.missing_parts())
    assert api.assembled == content
    # The parts sent before the interruption were read again for the hash only.
    assert api.md5s == [hashlib.md5(content).hexdigest()]
    assert result.state is not None and result.state.upload_id == state.upload_id


def test_an_expired_upload_starts_afresh(toy: Path, retry: RetryPolicy) -> None:
    api = FakeFilesAPI()
    old = UploadState(
        upload_id="upload-old",
        filename=content_filename(toy, file_digest(toy).sha256),
        size=toy.stat().st_size,
        sha256=file_digest(toy).sha256,
        md5=None,
        part_size=4096,
        created_at=NOW - 4000,
        expires_at=NOW - 400,
        part_ids={0: "part-gone"},
    )
    result = _upload_in_parts(
        api,
        toy,
        retry,
        state=old,
        wall_clock=lambda: NOW,
    )
    assert api.calls.count("create_upload") == 1
    assert result.state is not None and result.state.upload_id != "upload-old"
    assert api.assembled == toy.read_bytes()


def test_an_ambiguous_complete_finds_the_file_instead_of_failing(
    toy: Path, retry: RetryPolicy
) -> None:
    api = FakeFilesAPI()
    api.fail_after_applying["complete_upload"] = [ambiguous()]
    result = upload_file(api, toy, retry=retry, files_api_limit=0, part_size=8192)  # type: ignore[arg-type]
    assert api.calls.count("complete_upload") == 1
    assert result.file.id == api.files[-1].id


def test_upload_state_round_trips_and_rejects_garbage() -> None:
    state = UploadState(
        upload_id="u",
        filename="f",
        size=10,
        sha256="s",
        md5="m",
        part_size=4,
        created_at=1,
        expires_at=3601,
        part_ids={2: "p2", 0: "p0"},
    )
    assert UploadState.from_dict(state.to_dict()) == state
    assert state.part_count == 3 and state.missing_parts() == [1]
    assert state.is_expired(3600) and not state.is_expired(100)
    with pytest.raises(UsageError):
        UploadState.from_dict({"upload_id": "u"})


@pytest.mark.parametrize(
    "kwargs", [{"part_size": 0}, {"part_size": 65 * 1024 * 1024}, {"concurrency": 0}]
)
def test_invalid_upload_settings(toy: Path, kwargs: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        upload_file(FakeFilesAPI(), toy, **kwargs)  # type: ignore[arg-type]


def test_async_upload_matches_the_sync_one(toy: Path, retry: RetryPolicy) -> None:
    api = FakeFilesAPI()
    backend = AsyncFakeFilesAPI(api)
    result = asyncio.run(
        aupload_file(backend, toy, retry=retry, files_api_limit=0, part_size=4096, concurrency=3)  # type: ignore[arg-type]
    )
    assert result.via == "uploads" and api.assembled == toy.read_bytes()
    assert api.md5s == [hashlib.md5(toy.read_bytes()).hexdigest()]
    again = asyncio.run(aupload_file(backend, toy, retry=retry))  # type: ignore[arg-type]
    assert again.reused and again.file.id == result.file.id


def test_files_api_request_carries_the_content_addressed_name(
    httpx2_mock: respx.Router, client: openai.OpenAI, toy: Path, api: Any
) -> None:
    digest = file_digest(toy)
    name = content_filename(toy, digest.sha256)
    httpx2_mock.get("https://api.test/v1/files").mock(
        return_value=httpx.Response(200, json=api.listing([]))
    )
    create = httpx2_mock.post("https://api.test/v1/files").mock(
        return_value=httpx.Response(
            200,
            json={
                "id": "file-9",
                "object": "file",
                "bytes": digest.size,
                "created_at": NOW,
                "filename": name,
                "purpose": "fine-tune",
                "status": "processed",
            },
        )
    )
    result = upload_file(OpenAIBackend(client), toy, retry=RetryPolicy(sleep=lambda s: None))
    body = create.calls.last.request.content
    assert f'filename="{name}"'.encode() in body
    assert toy.read_bytes() in body
    assert result.file.id == "file-9"


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_the_openai_backend_streams_a_path_and_closes_it_after_each_attempt(
    toy: Path, asynchronous: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio
    import builtins

    import ftkit.backend._openai as openai_backend
    from ftkit import APIError
    from ftkit.backend import OpenAIBackend
    from ftkit.testing import FakeFineTuningAPI

    opened: list[Any] = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        handle = builtins.open(*args, **kwargs)  # noqa: SIM115 - the code under test closes it
        opened.append(handle)
        return handle

    monkeypatch.setattr(openai_backend, "open", spy, raising=False)
    fake = FakeFineTuningAPI()
    fake.faults.inject("files.create", "status", status=500, times=1)  # the first attempt fails
    client = fake.async_client(max_retries=0) if asynchronous else fake.client(max_retries=0)
    request = OpenAIBackend(client).create_file(filename="toy.jsonl", content=toy)

    def attempt() -> TrainingFile:
        return asyncio.run(request.arun()) if asynchronous else request.run()

    with pytest.raises(APIError):
        attempt()
    file = attempt()  # the same request again: the file opened anew and sent whole
    assert len(opened) == 2 and all(handle.closed for handle in opened)
    assert fake.file_content(file.id) == toy.read_bytes()
    assert [r.status for r in fake.calls("files.create")] == [500, 200]

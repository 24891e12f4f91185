"""The two drivers of the pipeline program: one blocking, one awaitable.

They are deliberately thin: each operation the program yields maps to one
backend helper under the retry policy (``upload_file``, ``create_job_once``,
``ensure_trainable``, a plain call) and the result, or the error, goes back
into the program. Neither driver decides anything.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._exceptions import RunConflict
from ..backend import (
    AsyncBackend,
    Backend,
    UploadState,
    acreate_job_once,
    aensure_trainable,
    aupload_file,
    create_job_once,
    ensure_trainable,
    upload_file,
)
from ..backend.uploads import FILES_API_LIMIT, MAX_PART_SIZE
from ..retry import RetryPolicy
from ._core import ApiCall, CreateJob, EnsureTrainable, Op, Pause, Started, UploadFile
from ._manifest import FileState
from ._result import RunResult

__all__ = ["UploadSettings", "drive", "drive_async"]

Program = Generator[Op, Any, RunResult]


@dataclass(frozen=True)
class UploadSettings:
    """How files are sent: the Files API up to ``files_api_limit``, parts above it."""

    files_api_limit: int = FILES_API_LIMIT
    part_size: int = MAX_PART_SIZE
    concurrency: int = 4


def _persist_upload(state: FileState, save: Callable[[], None]) -> Callable[[UploadState], None]:
    def on_state(upload: UploadState) -> None:
        state.upload = upload.to_dict()
        save()

    return on_state


def _check_digest(state: FileState, sha256: str) -> None:
    if sha256 != state.sha256:
        raise RunConflict(
            f"{state.path} changed since the run started (sha256 {sha256[:12]}… instead of "
            f"{state.sha256[:12]}…); start a new run for the new data"
        )


class _Steps:
    """Walk a program's operations, handing each result (or error) back in.

    Both drivers share it, so they differ only in how an operation is performed.
    """

    def __init__(self, program: Program, *, stop_when_started: bool) -> None:
        self._program = program
        self._stop_when_started = stop_when_started
        self._value: Any = None
        self._error: BaseException | None = None
        self.result: RunResult | None = None

    def next_op(self) -> Op | None:
        """The next operation to perform, or ``None`` once the program is over."""
        while True:
            try:
                if self._error is not None:
                    op = self._program.throw(self._error)
                else:
                    op = self._program.send(self._value)
            except StopIteration as stop:
                self.result = stop.value
                return None
            self._value, self._error = None, None
            if not isinstance(op, Started):
                return op
            if self._stop_when_started:
                self._program.close()
                return None

    def send(self, value: Any) -> None:
        self._value = value

    def throw(self, error: BaseException) -> None:
        self._error = error


def drive(
    program: Program,
    backend: Backend,
    *,
    retry: RetryPolicy,
    sleep: Callable[[float], object] = time.sleep,
    upload: UploadSettings = UploadSettings(),
    stop_when_started: bool = False,
) -> RunResult | None:
    """Run ``program`` to its end against a blocking backend.

    Returns:
        The program's result, or ``None`` when ``stop_when_started`` stopped it
        once its first job existed.
    """
    steps = _Steps(program, stop_when_started=stop_when_started)
    while (op := steps.next_op()) is not None:
        try:
            steps.send(_perform(op, backend, retry, sleep, upload))
        except Exception as exc:
            steps.throw(exc)
    return steps.result


def _perform(
    op: Op,
    backend: Backend,
    retry: RetryPolicy,
    sleep: Callable[[float], object],
    upload: UploadSettings,
) -> Any:
    if isinstance(op, ApiCall):
        return retry.call(getattr(backend, op.method), *op.args, **op.kwargs)
    if isinstance(op, CreateJob):
        return create_job_once(backend, op.spec, retry=retry)
    if isinstance(op, EnsureTrainable):
        ensure_trainable(backend, op.model, retry=retry)
        return None
    if isinstance(op, UploadFile):
        saved = UploadState.from_dict(op.state.upload) if op.state.upload else None
        result = upload_file(
            backend,
            Path(op.state.path),
            retry=retry,
            files_api_limit=upload.files_api_limit,
            part_size=upload.part_size,
            concurrency=upload.concurrency,
            state=saved,
            on_state=_persist_upload(op.state, op.save),
        )
        _check_digest(op.state, result.digest.sha256)
        return result.file.id
    if isinstance(op, Pause):
        sleep(op.seconds)
        return None
    raise TypeError(f"unknown operation {op!r}")  # pragma: no cover - programming error


async def drive_async(
    program: Program,
    backend: AsyncBackend,
    *,
    retry: RetryPolicy,
    sleep: Callable[[float], object] | None = None,
    upload: UploadSettings = UploadSettings(),
    stop_when_started: bool = False,
) -> RunResult | None:
    """The awaitable twin of :func:`drive` (``sleep`` may be a coroutine function)."""
    steps = _Steps(program, stop_when_started=stop_when_started)
    while (op := steps.next_op()) is not None:
        try:
            steps.send(await _aperform(op, backend, retry, sleep, upload))
        except Exception as exc:
            steps.throw(exc)
    return steps.result


async def _aperform(
    op: Op,
    backend: AsyncBackend,
    retry: RetryPolicy,
    sleep: Callable[[float], object] | None,
    upload: UploadSettings,
) -> Any:
    if isinstance(op, ApiCall):
        return await retry.acall(getattr(backend, op.method), *op.args, **op.kwargs)
    if isinstance(op, CreateJob):
        return await acreate_job_once(backend, op.spec, retry=retry)
    if isinstance(op, EnsureTrainable):
        await aensure_trainable(backend, op.model, retry=retry)
        return None
    if isinstance(op, UploadFile):
        saved = UploadState.from_dict(op.state.upload) if op.state.upload else None
        result = await aupload_file(
            backend,
            Path(op.state.path),
            retry=retry,
            files_api_limit=upload.files_api_limit,
            part_size=upload.part_size,
            concurrency=upload.concurrency,
            state=saved,
            on_state=_persist_upload(op.state, op.save),
        )
        _check_digest(op.state, result.digest.sha256)
        return result.file.id
    if isinstance(op, Pause):
        if sleep is None:
            await asyncio.sleep(op.seconds)
        else:
            outcome = sleep(op.seconds)
            if inspect.isawaitable(outcome):
                await outcome
        return None
    raise TypeError(f"unknown operation {op!r}")  # pragma: no cover - programming error

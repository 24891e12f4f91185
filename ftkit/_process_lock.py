"""An exclusive lock on a file, held by one process at a time, that dies with it.

A run's driver (:class:`ftkit.pipeline._manifest.RunLock`) and a distillation's
writer (:class:`ftkit.distill._journal.Journal`) take one, so a second process
refuses to drive the same run or append to the same files instead of doing the
work twice. The lock is the OS's (``fcntl.flock``; ``msvcrt.locking`` on
Windows), so a process that was killed leaves nothing to clean up. While held,
the lock file names the holder (JSON: ``pid``, ``host``, ``started_at``); it is
emptied on release.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

__all__ = ["ProcessLock", "describe_holder", "lock_file"]


class ProcessLock:
    """Take ``path``'s lock without waiting; held, it raises ``conflict(holder)``.

    Args:
        path: the lock file (created, mode 0600).
        conflict: the error for a lock another process holds, from that holder's
            description (``pid 123 on host-a since 2026-11-26 10:15 UTC``).
    """

    def __init__(self, path: Path, conflict: Callable[[str], Exception]) -> None:
        self.path = path
        self._conflict = conflict
        self._handle: IO[str] | None = None

    def acquire(self) -> ProcessLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        handle = os.fdopen(fd, "r+", encoding="utf-8")
        try:
            lock_file(handle)
        except OSError:
            handle.seek(0)
            holder = describe_holder(handle.read().strip()) or "another process"
            handle.close()
            raise self._conflict(holder) from None
        try:
            handle.seek(0)
            handle.truncate()
            record = {"pid": os.getpid(), "host": socket.gethostname(), "started_at": time.time()}
            handle.write(json.dumps(record))
            handle.flush()
        except BaseException:
            handle.close()  # closing releases the lock: none is held without its record
            raise
        self._handle = handle
        return self

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.seek(0)
                handle.truncate()
                lock_file(handle, unlock=True)
            handle.close()

    def __enter__(self) -> ProcessLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock_file(handle: IO[str], *, unlock: bool = False) -> None:
    """Take the OS lock on ``handle`` without waiting (``OSError`` if held), or release it."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        handle.seek(0)
        mode = msvcrt.LK_UNLCK if unlock else msvcrt.LK_NBLCK  # type: ignore[attr-defined]
        msvcrt.locking(handle.fileno(), mode, 1)  # type: ignore[attr-defined]
        return
    fcntl.flock(handle.fileno(), fcntl.LOCK_UN if unlock else fcntl.LOCK_EX | fcntl.LOCK_NB)


def describe_holder(record: str) -> str:
    """``pid 123 on host-a since 2026-11-26 10:15 UTC`` from a lock file's text."""
    try:
        data = json.loads(record)
        pid, host, started = int(data["pid"]), str(data["host"]), float(data["started_at"])
    except (ValueError, KeyError, TypeError):
        return record  # an older ftkit wrote "pid N"
    since = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started))
    return f"pid {pid} on {host} since {since}"

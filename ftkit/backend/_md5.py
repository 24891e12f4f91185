"""The MD5 of a file sent in parts, hashed from the parts as they are read to be sent.

OpenAI's Uploads API checks the assembled file against the MD5 given to
``uploads.complete``. Hashing it in a pass of its own before sending would put
the slowest hash on the critical path (MD5 runs at half SHA-256's speed where
the CPU has SHA instructions), so each part is hashed when it has been read
for sending: the hashing overlaps the other parts' transfers, and the file is
not read again for it.

Parts are read in any order (several are in flight at once), while MD5 must
see the bytes in file order: a part read ahead of its predecessors waits in
:class:`PartsMD5` (it is held for its own request anyway) and is hashed as
soon as they are, by whichever thread completed the sequence, while the
others go on sending. A resumed upload hands in its parts sent before the
interruption too (read for the hash only), so the digest always covers the
whole file.
"""

from __future__ import annotations

import hashlib
import threading

__all__ = ["PartsMD5"]


class PartsMD5:
    """The MD5 of ``part_count`` parts, added in any order, from any thread.

    Args:
        part_count: how many parts make the file (indexes ``0 .. part_count - 1``).
    """

    def __init__(self, part_count: int) -> None:
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._count = part_count
        self._next = 0  # the index the hash needs next
        self._waiting: dict[int, bytes] = {}
        self._hashing = False
        self._lock = threading.Lock()

    def add(self, index: int, data: bytes) -> None:
        """Part ``index``'s bytes; a part given twice (read again) counts once.

        Hashing happens outside the lock, so a thread that finds another one
        hashing leaves its part waiting and returns at once.
        """
        with self._lock:
            if index < self._next or index in self._waiting:
                return
            if self._hashing or index != self._next:
                self._waiting[index] = data
                return
            self._hashing = True
        chunk: bytes | None = data
        while chunk is not None:
            self._md5.update(chunk)  # releases the GIL: the other parts keep moving
            with self._lock:
                self._next += 1
                chunk = self._waiting.pop(self._next, None)
                if chunk is None:
                    self._hashing = False

    @property
    def complete(self) -> bool:
        """Whether every part has been hashed."""
        with self._lock:
            return self._next == self._count and not self._hashing

    def hexdigest(self) -> str:
        """The file's MD5 (hex).

        Raises:
            RuntimeError: a part is missing (a bug: every part is read before completion).
        """
        if not self.complete:
            raise RuntimeError(f"MD5 asked for after {self._next} of {self._count} parts")
        return self._md5.hexdigest()

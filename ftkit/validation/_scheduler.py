"""The process-pool scheduler: a large file scanned in chunks by several processes.

A file is split into byte ranges that start on line boundaries (and, where a
record is pretty-printed over several lines, on the line that opens one). Each
chunk is scanned by a :class:`~ftkit.validation._line_pass.LinePass` in a worker
process, the calling process being one of them; a worker numbers lines from 1
within its chunk and the parent shifts them when it merges, in file order, so
no worker needs to know where its chunk sits in the file. The tokenizer is
loaded before the workers are forked, so they share it instead of loading
their own. Where workers cannot be forked they are spawned, and each loads one.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._exceptions import FtkitError
from ..jsonl import iter_lines
from ..providers import find_model, register
from ._line_pass import LinePass, PassOptions

if TYPE_CHECKING:
    from ..providers import ModelInfo
    from ..tokens.counting import TokenCounter
    from ..tokens.tokenizer import Tokenizer

__all__ = ["PARALLEL_MIN_BYTES", "SPAWN_PARALLEL_MIN_BYTES", "scan_parallel", "worker_count"]

logger = logging.getLogger("ftkit.validation")

PARALLEL_MIN_BYTES = 8 * 1024 * 1024
"""Files smaller than this are scanned in-process unless ``workers`` asks otherwise.

Forked workers start in milliseconds and inherit the loaded tokenizer, so a few
megabytes already pay for them."""
SPAWN_PARALLEL_MIN_BYTES = 64 * 1024 * 1024
"""The same where workers must be spawned (no fork): each imports ftkit and loads a tokenizer."""
_CHUNK_MIN = 512 * 1024
_CHUNK_MAX = 64 * 1024 * 1024
_CHUNKS_PER_WORKER = 8
_ALIGN_MAX_BYTES = 1024 * 1024
"""How far a chunk start moves forward to reach a line that opens a record."""

_COUNTERS: dict[tuple[str, str | None], TokenCounter] = {}
"""Token counters of this process, by model and provider (workers build one each, once)."""


def worker_count(requested: int | None, size: int) -> int:
    """Processes to scan a file of ``size`` bytes with (``requested`` when given).

    One (in-process) for a small file, else one per CPU the process may use.
    """
    if requested is not None:
        return requested
    threshold = PARALLEL_MIN_BYTES if _can_fork() else SPAWN_PARALLEL_MIN_BYTES
    if size < threshold:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        cpus = os.cpu_count() or 1
    return max(1, cpus)


def _chunk_bounds(path: Path, size: int, parts: int, workers: int = 1) -> list[tuple[int, int]]:
    """Byte ranges of about ``size / parts`` bytes, each starting at a line start.

    The last ones shrink (to a ``2 * workers``-th of what remains, down to the minimum
    size), so the workers run out of work at nearly the same time: a worker never
    waits long for the one that took the last big chunk.
    """
    target = min(_CHUNK_MAX, max(_CHUNK_MIN, size // max(1, parts)))
    bounds = [0]
    with open(path, "rb") as handle:
        position = min(target, max(_CHUNK_MIN, size // (2 * workers)))
        while position < size:
            handle.seek(position - 1)
            handle.readline()  # to the end of the line holding byte position-1
            start = _record_start(handle, handle.tell(), size)
            if start >= size:
                break
            bounds.append(start)
            position = start + min(target, max(_CHUNK_MIN, (size - start) // (2 * workers)))
    bounds.append(size)
    return list(itertools.pairwise(bounds))


def _record_start(handle: Any, start: int, size: int) -> int:
    """The first line start at or after ``start`` that opens a record (``{`` in column 0).

    A chunk that starts inside a record pretty-printed over several lines would see
    only its tail; moving to the next line that opens a record keeps the record in one
    chunk. In a JSONL file that is the line at ``start`` itself (one byte is read).
    """
    position = start
    while position < size and position - start < _ALIGN_MAX_BYTES:
        handle.seek(position)
        if handle.read(1) == b"{":
            return position
        handle.seek(position)
        line = handle.readline()
        if not line:
            break
        position += len(line)
    return position if position < size and position - start < _ALIGN_MAX_BYTES else start


Task = tuple[str, int, int, PassOptions, "ModelInfo | None", "Tokenizer | None"]
"""A chunk to scan: path, byte range, the pass's options, the parent's catalog entry, and
the tokenizer the parent's counter needs a worker to use (an open model's; ``None``: the
model's default, rebuilt from its name)."""


def _scan_chunk(task: Task) -> LinePass:
    path, start, end, options, info = task[:5]
    tokenizer = task[5] if len(task) > 5 else None  # tasks built before it was carried
    counter = None
    if options.model is not None:
        key = (options.model, options.provider)
        counter = _COUNTERS.get(key)
        if counter is None:
            from ..tokens.counting import TokenCounter

            # A spawned worker loads only the shipped catalog and FTKIT_MODELS: an entry
            # the caller registered (a new snapshot, a changed limit) comes with the task.
            if info is not None and find_model(options.model, options.provider) != info:
                register(info)
            try:
                counter = _COUNTERS[key] = TokenCounter(
                    options.model, tokenizer, provider=options.provider
                )
            except FtkitError:
                counter = None
    result = LinePass(options, counter)
    for raw in iter_lines(path, start=start, end=end, first_line=1, skip_blank=False):
        result.feed_line(raw.number, raw.data)
    result.end()
    return result


def _can_fork() -> bool:
    # fork starts workers instantly and shares the loaded tokenizer, but is only safe in a
    # single-threaded process; anything else gets spawn (each worker loads its own).
    return sys.platform == "linux" and threading.active_count() == 1


def _context() -> Any:
    return multiprocessing.get_context("fork" if _can_fork() else "spawn")


def scan_parallel(
    path: Path,
    size: int,
    options: PassOptions,
    counter: TokenCounter | None,
    workers: int,
    progress: Callable[[int, int], object] | None = None,
) -> LinePass:
    """Scan the chunks of a file with ``workers`` processes, the calling one included.

    The parent is one of the workers: it takes the next chunk itself whenever every
    worker has work queued, so no core idles and one fork fewer is paid. Chunks are
    small (several per worker) so that the last ones even out the finishing times;
    their results are merged in file order. ``progress`` hears of each finished chunk.
    """
    chunks = _chunk_bounds(path, size, workers * _CHUNKS_PER_WORKER, workers)
    info = None if options.model is None else find_model(options.model, options.provider)
    given = None if counter is None else counter.given_tokenizer
    tasks: list[Task] = [(str(path), start, end, options, info, given) for start, end in chunks]
    if counter is not None and options.model is not None:
        _COUNTERS[options.model, options.provider] = counter  # before the fork: inherited
    lengths = [end - start for start, end in chunks]
    children = min(workers, len(tasks)) - 1
    logger.debug(
        "scanning %s in %d chunks with %d worker processes", path, len(tasks), max(children, 0)
    )
    parts: dict[int, LinePass] = {}
    total = LinePass(options, counter)
    merged = offset = done_bytes = done_examples = 0

    def finished(index: int, part: LinePass) -> None:
        # Merge in file order as soon as the next chunk is in, so finished chunks are not
        # all held at once (their duplicate index is the bulk of their size).
        nonlocal merged, offset, done_bytes, done_examples
        parts[index] = part
        while merged in parts:
            ready = parts.pop(merged)
            ready.shift(offset)
            offset += ready.lines
            total.merge(ready)
            merged += 1
        if progress is not None:
            done_bytes += chunks[index][1] - chunks[index][0]
            done_examples += sum(part.kind_counts.values())
            progress(done_bytes, done_examples)

    if children < 1:
        for index, task in enumerate(tasks):
            finished(index, _scan_chunk(task))
    else:
        with ProcessPoolExecutor(max_workers=children, mp_context=_context()) as pool:
            pending: dict[Future[LinePass], int] = {}
            following = 0
            while following < len(tasks) or pending:
                # Keep two chunks in hand per worker, and at least twice the bytes of the
                # chunk this process takes next (chunks shrink towards the end), then take it.
                while following < len(tasks) and (
                    len(pending) < 2 * children
                    or sum(lengths[i] for i in pending.values()) < 2 * children * lengths[following]
                ):
                    pending[pool.submit(_scan_chunk, tasks[following])] = following
                    following += 1
                if following < len(tasks):
                    finished(following, _scan_chunk(tasks[following]))
                    following += 1
                    done, _ = wait(pending, timeout=0, return_when=FIRST_COMPLETED)
                else:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    finished(pending.pop(future), future.result())
    assert merged == len(tasks)
    return total

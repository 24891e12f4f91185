"""Tunable numbers of the fake: phase durations and service limits."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GiB", "Limits", "MiB", "Timings"]

MiB = 1024 * 1024
GiB = 1024 * MiB


@dataclass(frozen=True)
class Timings:
    """How long each job phase, and a new file's processing, lasts in virtual seconds.

    ``file_processing`` is how long a new file (from ``files.create`` or a completed
    upload) stays ``uploaded`` before it is ``processed``; a job naming it before then
    starts validating it only once it is (``0``: files are ``processed`` at once).
    ``pausing`` is how long a job reported ``pausing`` takes to become ``paused``;
    OpenAI's pause answers ``paused`` at once (its API reference shows so), so only a
    provider whose pause goes through ``pausing`` uses it.
    """

    validating_files: float = 30.0
    queued: float = 60.0
    seconds_per_step: float = 1.0
    min_running: float = 120.0
    pausing: float = 10.0
    file_processing: float = 3.0

    def __post_init__(self) -> None:
        if self.file_processing < 0:
            raise ValueError("Timings.file_processing must not be negative")


@dataclass(frozen=True)
class Limits:
    """The service's size and count limits (facts §3–§4); lower them to test the refusals.

    ``active_jobs`` is how many jobs may be validating, queued or running at once
    (``None``: no limit; ``FakeFineTuningAPI(max_active_jobs=...)`` sets it).
    """

    file_bytes: int = 512 * MiB
    upload_bytes: int = 8 * GiB
    part_bytes: int = 64 * MiB
    upload_expiry: float = 3600.0
    suffix_chars: int = 64
    metadata_pairs: int = 16
    metadata_key_chars: int = 64
    metadata_value_chars: int = 512
    active_jobs: int | None = None

    def __post_init__(self) -> None:
        if self.active_jobs is not None and self.active_jobs < 1:
            raise ValueError("max_active_jobs (Limits.active_jobs) must be at least 1, or None")

"""A spawned validation worker counts tokens with the caller's catalog, registrations included."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from ftkit import providers
from ftkit.validation import _scheduler
from ftkit.validation._line_pass import PassOptions

LINE = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}


def test_a_fresh_worker_counts_a_model_the_caller_registered(tmp_path: Path) -> None:
    base = providers.model_info("gpt-4.1-mini-2025-04-14")
    providers.register(dataclasses.replace(base, name="team-model", aliases=()))
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(LINE) + "\n" for _ in range(3)), encoding="utf-8")
    options = PassOptions(
        model="team-model", method=None, checks=True, max_per_code=20, vision=None
    )
    entry = providers.find_model("team-model")
    try:
        providers.reset()  # what a spawned worker sees: the shipped catalog only
        _scheduler._COUNTERS.pop("team-model", None)
        part = _scheduler._scan_chunk((str(path), 0, path.stat().st_size, options, entry))
    finally:
        providers.reset()
        _scheduler._COUNTERS.pop("team-model", None)
    assert part.tokens is not None and part.tokens.examples == 3


def test_a_catalog_entry_travels_to_a_worker_process_intact() -> None:
    import pickle

    entry = providers.model_info("gpt-4.1-mini-2025-04-14")
    assert pickle.loads(pickle.dumps(entry)) == entry

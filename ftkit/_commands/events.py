"""``ftkit events RUN``: what the provider said about a run's jobs (messages and metrics).

By default the events come from the run's manifest, which keeps the last 200
messages and the last 20 metrics events of each job as the run saw them: no
key, no network, and it works for ``--fake`` runs whose fake is gone. Their
times are the fake's virtual clock, and the listing says so.
``--live`` asks the API instead (the full list, with a client built from the
environment), for a run driven elsewhere or to see events older than those kept.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from .._exceptions import UsageError
from ._command import RUN, STAGE, STATE_DIR, Command, count, flag, json_flag

__all__ = ["register"]

_EPILOG = """examples:
  ftkit events ftr-20261126T101500-3f9a1c2e
  ftkit events ftr-20261126T101500-3f9a1c2e --stage dpo --type message
  ftkit events ftr-20261126T101500-3f9a1c2e --live --limit 0 --json

Exit status: 0 shown, 2 unknown run or stage.
"""

_LIVE_PAGES = 50  # at most 5,000 events from the API


def load_manifest(run: str, state_dir: str | None) -> Any:
    """The manifest of ``run`` (id or path), without a client or network."""
    from ..pipeline._manifest import Manifest, find_manifest

    return Manifest.load(find_manifest(run, Path(state_dir) if state_dir else None))


def select_stages(manifest: Any, name: str | None) -> list[Any]:
    """The stages asked for; an unknown name is a usage error naming the known ones."""
    if name is None:
        return list(manifest.stages)
    stages = [s for s in manifest.stages if s.name == name]
    if not stages:
        known = ", ".join(s.name for s in manifest.stages)
        raise UsageError(f"run {manifest.run_id} has no stage {name!r} (it has: {known})")
    return stages


def _live_events(manifest: Any, job_id: str) -> list[dict[str, Any]]:
    from ..pipeline._clients import resolve_backend
    from ..retry import RetryPolicy

    backend = resolve_backend(None, asynchronous=False, expected_provider=manifest.provider)
    retry = RetryPolicy()
    rows: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(_LIVE_PAGES):
        page = retry.call(backend.list_job_events(job_id, after=after, limit=100).run)
        rows += [event.to_dict() for event in page.data]
        if not page.has_more or not page.data:
            break
        after = rows[-1]["id"]
    # The API lists newest first (page after page); show oldest first, like the manifest.
    rows.reverse()
    return rows


def _run(args: argparse.Namespace) -> int:
    manifest = load_manifest(args.run, args.state_dir)
    out: list[dict[str, Any]] = []
    for stage in select_stages(manifest, args.stage):
        if args.live and stage.job_id:
            events = _live_events(manifest, stage.job_id)
        else:
            events = list(stage.events)
        if args.kind != "all":
            events = [e for e in events if (e.get("type") == "metrics") == (args.kind == "metrics")]
        if args.limit:
            events = events[-args.limit :]
        out += [{"stage": stage.name, "job_id": stage.job_id, **event} for event in events]
    if args.json:
        payload = {
            "run_id": manifest.run_id,
            "source": "api" if args.live else "manifest",
            "clock": "virtual" if manifest.virtual_time else "real",
            "events": out,
        }
        json.dump(payload, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if not out:
        print(f"run {manifest.run_id}: no events recorded yet")
        return 0
    if manifest.virtual_time:
        # A fake's clock runs ahead of the real one (hours of training in seconds).
        print(
            f"run {manifest.run_id} ran on a fake API: its times are that fake's virtual clock",
            file=sys.stderr,
        )
    suffix = " virtual" if manifest.virtual_time else ""
    for event in out:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(event.get("created_at") or 0))
        print(
            f"{stamp}{suffix}  {event['stage']:<4} {event.get('level') or '':<5} {event['message']}"
        )
    return 0


register = Command(
    "events",
    help="show the job events of a run (messages, metrics)",
    description=(
        "Show what the provider reported about each job of a run, oldest first. "
        "The manifest keeps each job's last 200 messages and last 20 metrics events; "
        "--live fetches every event from the API instead (needs OPENAI_API_KEY, or the "
        "Azure OpenAI variables)."
    ),
    epilog=_EPILOG,
    flags=(
        RUN,
        STAGE,
        flag(
            "--type",
            dest="kind",
            choices=("all", "message", "metrics"),
            default="all",
            help="only messages, or only metrics events (default all)",
        ),
        count(
            "--limit",
            minimum=0,
            default=50,
            help="show the last N events per stage (default 50; 0 shows all)",
        ),
        flag("--live", action="store_true", help="fetch the events from the API, not the manifest"),
        STATE_DIR,
        json_flag("the events"),
    ),
    run=_run,
).register

"""``ftkit metrics RUN``: a run's training curves, as a table, JSON, or a PNG plot.

The rows are those of each stage's result file (``step, train_loss,
train_accuracy, valid_loss, valid_mean_token_accuracy`` and whatever else the
provider reports), stored in the run manifest when the stage succeeded, with
the kept checkpoints. No key and no network are needed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .._exceptions import UsageError
from ._command import RUN, STAGE, STATE_DIR, Command, flag, json_flag
from .events import load_manifest, select_stages

__all__ = ["register"]

_EPILOG = """examples:
  ftkit metrics ftr-20261126T101500-3f9a1c2e
  ftkit metrics ftr-20261126T101500-3f9a1c2e --plot loss.png
  ftkit metrics ftr-20261126T101500-3f9a1c2e --stage sft --json

Exit status: 0 shown (or plotted), 1 no stage has metrics yet, 2 usage error.
"""

_SHOWN_ROWS = 10  # rows of the text table, evenly spaced, plus the last


def _run(args: argparse.Namespace) -> int:
    from ..pipeline import RunResult

    manifest = load_manifest(args.run, args.state_dir)
    stages = select_stages(manifest, args.stage)
    result = RunResult.from_manifest(manifest)
    chosen = [s for s in result.stages if s.name in {stage.name for stage in stages}]
    has_rows = any(s.metrics for s in chosen)
    if args.plot:
        if not has_rows:
            print(
                f"ftkit: error: run {manifest.run_id} has no metrics to plot yet; they are read "
                "from each job's result file when the stage succeeds",
                file=sys.stderr,
            )
            return 1
        _plot(result, [s.name for s in chosen], Path(args.plot))
    if args.json:
        payload = {
            "run_id": result.run_id,
            "stages": [
                {
                    "name": s.name,
                    "job_id": s.job_id,
                    "status": s.status,
                    "metrics": s.metrics,
                    "checkpoints": s.checkpoints,
                }
                for s in chosen
            ],
        }
        json.dump(payload, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif not args.plot:
        print("\n\n".join(_stage_text(s, every=args.all) for s in chosen))
    return 0 if has_rows else 1


def _plot(result: Any, stages: list[str], path: Path) -> None:
    from ..plots import plot_metrics

    if path.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise UsageError(f"--plot needs a .png, .svg or .pdf file name, got {path.name}")
    if not path.parent.is_dir():
        raise UsageError(f"no such folder: {path.parent}")
    figure = plot_metrics(result, stages=stages)
    figure.savefig(path, dpi=110)
    print(f"wrote {path}", file=sys.stderr)


def _stage_text(stage: Any, *, every: bool) -> str:
    head = f"{stage.name}: job {stage.job_id or '-'} {stage.status or 'not started'}"
    rows = stage.metrics
    if not rows:
        return f"{head}\n  no metrics yet (read from the result file when the stage succeeds)"
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    shown = rows if every else _sample(rows)
    widths = {c: max(len(c), *(len(_fmt(r.get(c))) for r in shown)) for c in columns}
    lines = [f"{head}, {len(rows):,} rows" + ("" if every else f" (showing {len(shown)})")]
    lines.append("  " + "  ".join(c.rjust(widths[c]) for c in columns))
    lines += ["  " + "  ".join(_fmt(r.get(c)).rjust(widths[c]) for c in columns) for r in shown]
    for checkpoint in sorted(stage.checkpoints, key=lambda c: c.get("step") or 0):
        lines.append(f"  checkpoint step {checkpoint.get('step')}: {checkpoint.get('model')}")
    return "\n".join(lines)


def _sample(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(rows) <= _SHOWN_ROWS + 1:
        return rows
    step = len(rows) / _SHOWN_ROWS
    picked = [rows[int(i * step)] for i in range(_SHOWN_ROWS)]
    return [*picked, rows[-1]]


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


register = Command(
    "metrics",
    help="show or plot a run's training metrics (loss, accuracy per step)",
    description=(
        "Show the training metrics of a run's stages: loss and accuracy per step from "
        "each job's result file, and the kept checkpoints. --plot writes the training "
        "and validation curves to a PNG (needs the plots extra: "
        "pip install 'ftkit[plots]')."
    ),
    epilog=_EPILOG,
    flags=(
        RUN,
        STAGE,
        flag("--plot", metavar="PNG", help="write loss/accuracy curves to this file"),
        flag("--all", action="store_true", help="print every row (default: about ten per stage)"),
        STATE_DIR,
        json_flag("rows and checkpoints"),
    ),
    run=_run,
).register

#!/usr/bin/env python3
"""Speed and memory of ftkit's analysis pass against the cookbook's naive approach.

    python benchmarks/analyze.py [--mb 50] [--kinds mixed,sft,weighted,dpo] [--big-mb 1000]
                                 [--near-duplicates 0.8|off]

Workloads are generated with ``benchmarks/make_dataset.py`` (beside this script;
another generator can be given with ``--make-dataset``).
Each pass runs in a fresh child process, so the figures include interpreter
start-up and loading the tokenizer, as a user would see them (with bytecode
cached, as for an installed package):

- ``validate+estimate``: ftkit's full streaming pass (every check, token
  counting, stats) followed by the cost estimate, on every core;
- ``estimate``: the same pass without the dataset-quality checks (``ftkit.estimate``);
- ``naive``: the cookbook's method: the whole file loaded with ``json.loads`` per
  line, one ``encode`` per message string value, on one core.

The parent samples the resident memory of each child's whole process tree (the
workers included) and prints throughput (MB/s), the speed-up over ``naive``, the
peak PSS of the tree (shared pages split between processes) and the peak RSS of its
largest process. On plain-text workloads (``sft``, ``weighted``) the token totals of
ftkit and ``naive`` must agree exactly; the script exits 1 if they do not.
This is a benchmark, not a test: nothing here is timed by the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MAKER = Path(__file__).resolve().with_name("make_dataset.py")
PLAIN_KINDS = frozenset({"sft", "weighted", "dpo"})
MODEL = "gpt-4o-mini-2024-07-18"


# ----------------------------------------------------------------------------- child passes


def _child_ftkit(path: str, model: str, checks: bool) -> dict[str, Any]:
    from ftkit.cost import CostEstimate
    from ftkit.validation._engine import scan

    near = os.environ.get("FTKIT_BENCH_NEAR_DUPLICATES", "default")
    options: dict[str, Any] = {}
    if checks and near != "default":
        options["near_duplicates"] = None if near == "off" else float(near)
    result = scan(path, model=model, checks=checks, **options)
    assert result.tokens is not None
    estimate = CostEstimate.from_stats(result.tokens, model=model, method="supervised")
    return {
        "examples": estimate.examples,
        "total_tokens": estimate.total_tokens,
        "cost_usd": estimate.cost_usd,
        "workers": result.workers,
        "errors": result.error_count,
    }


def _child_naive(path: str, model: str) -> dict[str, Any]:
    # The cookbook's data-prep notebook, made to run at all: non-string values
    # (weight, tool_calls) are skipped instead of crashing, DPO pairs are flattened.
    from ftkit.tokens import encoding_for_model

    encoding = encoding_for_model(model)  # same verified vocabulary, loaded the same way
    with open(path, encoding="utf-8") as f:
        dataset = [json.loads(line) for line in f]
    total = 0
    for example in dataset:
        if "messages" in example:
            conversations = [example["messages"]]
        else:
            prompt = example["input"]["messages"]
            conversations = [prompt + example["preferred_output"] + example["non_preferred_output"]]
        for messages in conversations:
            for message in messages:
                total += 3
                for key, value in message.items():
                    if isinstance(value, str):
                        total += len(encoding.encode(value))
                        if key == "name":
                            total += 1
            total += 3
    return {"examples": len(dataset), "total_tokens": total}


def _run_child(mode: str, path: str, model: str) -> None:
    started = time.perf_counter()
    if mode == "naive":
        out = _child_naive(path, model)
    else:
        out = _child_ftkit(path, model, checks=mode == "validate+estimate")
    out["inner_seconds"] = time.perf_counter() - started
    print(json.dumps(out))


# ----------------------------------------------------------------------------- measuring


def _tree_memory_kib(root: int) -> tuple[int, int]:
    """``(PSS sum, largest RSS)`` of ``root`` and its descendants, from /proc (Linux).

    PSS splits pages shared by forked workers (the tokenizer) between them, so the
    sum is the memory the pass really holds; RSS alone would count them twice.
    """
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
    pss_total = rss_max = 0
    for pid in parents:
        node = pid
        while node > 1 and node != root:
            node = parents.get(node, 0)
        if node != root:
            continue
        try:
            with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
                for line in handle:
                    if line.startswith("Pss:"):
                        pss_total += int(line.split()[1])
                    elif line.startswith("Rss:"):
                        rss_max = max(rss_max, int(line.split()[1]))
        except OSError:
            continue
    return pss_total, rss_max


_pycache: str | None = None
"""The bytecode cache folder of the passes (made by the parent, removed at its end)."""


def _child_env() -> dict[str, str]:
    """The environment of a pass: bytecode cached, as for any installed package.

    With ``PYTHONDONTWRITEBYTECODE`` set (common in containers and CI), every pass
    would compile its modules from source first; a private cache folder keeps the
    figures about the work, the same for every pass.
    """
    assert _pycache is not None, "main() makes the cache folder before any pass"
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = _pycache
    return env


def warm_up(path: Path, model: str) -> None:
    """Run every pass once on a small file, untimed, to fill the bytecode cache."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child"]
    for mode in ("naive", "validate+estimate", "estimate"):
        subprocess.run(
            [*command, mode, str(path), model],
            check=True,
            stdout=subprocess.DEVNULL,
            cwd=REPO,
            env=_child_env(),
        )


def measure(mode: str, path: Path, model: str) -> dict[str, Any]:
    """Run one pass in a child process; wall time, its result and peak tree RSS."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", mode, str(path), model]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=REPO, env=_child_env())
    peak_pss = peak_rss = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_pss, peak_rss
        while not done.is_set():
            pss, rss = _tree_memory_kib(child.pid)
            peak_pss, peak_rss = max(peak_pss, pss), max(peak_rss, rss)
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, _ = child.communicate()
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    done.set()
    sampler.join()
    if child.returncode != 0:
        raise SystemExit(f"{mode} pass failed on {path} (exit {child.returncode})")
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    size_mb = path.stat().st_size / 1e6
    result.update(
        seconds=seconds,
        # user + system time of the child and its reaped workers: steadier than wall time
        # on a busy machine, and it shows what parallelism costs in total.
        cpu_seconds=(after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        mb_per_s=size_mb / seconds,
        peak_pss_mb=peak_pss / 1024,
        peak_rss_mb=peak_rss / 1024,
    )
    return result


def best_of(repeat: int, mode: str, path: Path, model: str) -> dict[str, Any]:
    """The fastest of ``repeat`` runs (other load on the machine only ever slows a run)."""
    runs = [measure(mode, path, model) for _ in range(max(1, repeat))]
    best = min(runs, key=lambda run: run["seconds"])
    best["peak_pss_mb"] = max(run["peak_pss_mb"] for run in runs)
    best["peak_rss_mb"] = max(run["peak_rss_mb"] for run in runs)
    return best


def _row(label: str, mode: str, got: dict[str, Any], ratio: str) -> str:
    return (
        f"{label:<18}{mode:<20}{got['mb_per_s']:>8.1f}{got['seconds']:>9.2f}"
        f"{got['cpu_seconds']:>8.2f}{got['peak_pss_mb']:>8.0f}{got['peak_rss_mb']:>9.0f}"
        f"{got['total_tokens']:>13,}{ratio:>10}"
    )


def make_workload(maker: Path, folder: Path, kind: str, mb: float) -> Path:
    path = folder / f"{kind}-{mb:g}mb.jsonl"
    if not path.exists():
        subprocess.run(
            [sys.executable, str(maker), str(path), "--kind", kind, "--mb", str(mb)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--child", nargs=3, metavar=("MODE", "FILE", "MODEL"), help=argparse.SUPPRESS
    )
    parser.add_argument("--mb", type=float, default=50, help="size of each workload (default 50)")
    parser.add_argument("--kinds", default="mixed,sft,weighted,dpo", help="workload kinds")
    parser.add_argument(
        "--big-mb",
        type=float,
        default=0,
        help="also measure memory on a big mixed file of this size, e.g. 1000 (default: skip)",
    )
    parser.add_argument(
        "--big-naive",
        action="store_true",
        help="run the naive pass on the big file too (needs several GB)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per pass; the fastest is shown (default 1)"
    )
    parser.add_argument("--model", default=MODEL)
    parser.add_argument(
        "--near-duplicates",
        default="default",
        metavar="T|off",
        help="near-duplicate search of the validate pass: a threshold such as 0.8, or off "
        "(default: the validator's default)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where workloads are written and reused (default: a temp folder)",
    )
    parser.add_argument("--make-dataset", type=Path, default=DEFAULT_MAKER)
    args = parser.parse_args()
    if args.child:
        _run_child(*args.child)
        return 0
    # The passes run in children: the option travels in their environment.
    os.environ["FTKIT_BENCH_NEAR_DUPLICATES"] = args.near_duplicates
    if not args.make_dataset.is_file():
        raise SystemExit(f"make_dataset.py not found at {args.make_dataset}; use --make-dataset")
    global _pycache
    with tempfile.TemporaryDirectory(prefix="ftkit-bench-pycache-") as _pycache:
        return _compare(args)


def _compare(args: argparse.Namespace) -> int:
    folder = args.workdir or Path(tempfile.mkdtemp(prefix="ftkit-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(
        f"cpus: {os.cpu_count()}  model: {args.model}  near-duplicates: {args.near_duplicates}"
        f"  workloads in {folder}"
    )
    header = (
        f"{'workload':<18}{'pass':<20}{'MB/s':>8}{'seconds':>9}{'CPU s':>8}{'PSS MB':>8}"
        f"{'RSS/proc':>9}{'tokens':>13}{'vs naive':>10}"
    )
    print(header)
    failed = False
    runs: list[tuple[str, float, bool]] = [(k, args.mb, True) for k in args.kinds.split(",")]
    if args.big_mb:
        runs.append(("mixed", args.big_mb, args.big_naive))
    warm_up(make_workload(args.make_dataset, folder, "mixed", 0.1), args.model)
    for kind, mb, with_naive in runs:
        path = make_workload(args.make_dataset, folder, kind, mb)
        label = f"{kind} {path.stat().st_size / 1e6:,.0f} MB"
        naive = best_of(args.repeat, "naive", path, args.model) if with_naive else None
        for mode in ("validate+estimate", "estimate"):
            got = best_of(args.repeat, mode, path, args.model)
            ratio = f"{got['mb_per_s'] / naive['mb_per_s']:.2f}x" if naive else "-"
            print(_row(label, mode, got, ratio))
            if naive and kind in PLAIN_KINDS and got["total_tokens"] != naive["total_tokens"]:
                print(
                    f"  MISMATCH: ftkit {got['total_tokens']:,} != naive "
                    f"{naive['total_tokens']:,} tokens"
                )
                failed = True
        if naive:
            print(_row(label, "naive", naive, "1.00x"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

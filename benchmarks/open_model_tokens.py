#!/usr/bin/env python3
"""An open model's token counts: its own tokenizer.json next to ftkit's stand-in estimate.

    python benchmarks/open_model_tokens.py --model Qwen/Qwen3-8B [--tokenizer PATH] [FILE ...]

The reference is the model's ``tokenizer.json`` (``--tokenizer``, or the copy in the
local Hugging Face cache, as ``ftkit.estimate(..., provider="together")`` finds it;
nothing is downloaded). For each file (by default the real datasets of the test
suite) it prints the examples, the exact and the approximate (stand-in) token totals,
their ratio and the counting time of each. Without a local tokenizer only the
stand-in column is printed. Figures only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ftkit.tokens import StandInTokenizer, TokenCounter, TokenStats
from ftkit.tokens._chat_formats import detect
from ftkit.tokens._hf import find_cached
from ftkit.tokens.open_models import hf_repos

REAL = Path(__file__).resolve().parents[1] / "tests" / "data" / "real"


def count(counter: TokenCounter, path: Path) -> tuple[TokenStats, float]:
    """Token stats of every JSON object line of ``path``, and the seconds it took."""
    stats = TokenStats()
    started = time.perf_counter()
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                stats.add(counter.count(record))
    return stats, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--model", default="Qwen/Qwen3-8B", help="a Together model id")
    parser.add_argument("--tokenizer", type=Path, help="the model's tokenizer.json (or folder)")
    args = parser.parse_args()
    files = args.files or sorted(REAL.glob("*.jsonl"))
    source: Path | None = args.tokenizer
    if source is None:
        found = find_cached(hf_repos(args.model))
        source = found.path if found is not None else None
    exact = None if source is None else TokenCounter(args.model, source, provider="together")
    stand_in = StandInTokenizer(detect(model=args.model).family)
    approx = TokenCounter(args.model, stand_in, provider="together")  # type: ignore[arg-type]
    print(f"model      {args.model}")
    print(
        f"reference  {exact.tokenizer if exact is not None else 'none (no local tokenizer.json)'}"
    )
    print(f"stand-in   {stand_in!r}")
    print()
    heads = ("examples", 8), ("exact", 10), ("approx", 10), ("ratio", 6), ("t exact", 8)
    print(f"{'file':44} " + " ".join(f"{h:>{w}}" for h, w in heads) + f" {'t approx':>8}")
    for path in files:
        rough, rough_s = count(approx, path)
        if exact is not None:
            right, right_s = count(exact, path)
            ratio = rough.total_tokens / right.total_tokens if right.total_tokens else float("nan")
            cells = (
                f"{right.total_tokens:>10,} {rough.total_tokens:>10,} {ratio:>6.3f} "
                f"{right_s:>7.2f}s"
            )
        else:
            cells = f"{'-':>10} {rough.total_tokens:>10,} {'-':>6} {'-':>8}"
        print(f"{path.name[:44]:44} {rough.examples:>8,} {cells} {rough_s:>7.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

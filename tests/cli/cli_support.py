"""What the CLI tests share (a plain module: ``conftest`` names are ambiguous)."""

from __future__ import annotations

from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"
MODEL = "gpt-4.1-mini-2025-04-14"


def fake_run_argv(state: Path, *extra: str) -> list[str]:
    """``ftkit run --fake``'s arguments for the sarcasm SFT → DPO run, kept in ``state``."""
    return [
        "run",
        "--fake",
        "--model",
        MODEL,
        "--sft",
        str(EXAMPLES / "sarcasm_sft.jsonl"),
        "--sft-validation",
        str(EXAMPLES / "sarcasm_sft_validation.jsonl"),
        "--dpo",
        str(EXAMPLES / "sarcasm_dpo.jsonl"),
        "--state-dir",
        str(state),
        *extra,
    ]

"""Constants shared by the CLI tests (a plain module: ``conftest`` names are ambiguous)."""

from __future__ import annotations

from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"
MODEL = "gpt-4.1-mini-2025-04-14"

"""The command line starts light: building the parser and validating load no heavy module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import ftkit.evaluation

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"
HEAVY = ("openai", "httpx2", "pydantic", "asyncio", "tiktoken")


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["validate", str(EXAMPLES / "sarcasm_sft.jsonl"), "--model", "gpt-4.1-mini-2025-04-14"],
    ],
)
def test_commands_that_need_no_client_load_no_heavy_module(argv: list[str]) -> None:
    code = (
        "import sys\n"
        "from ftkit.cli import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print('loaded:', *(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True
    )
    assert out.stderr.splitlines()[-1] == "loaded:", out.stderr


def test_evaluation_names_load_on_first_use() -> None:
    for name in ftkit.evaluation.__all__:
        assert getattr(ftkit.evaluation, name) is not None, name
    with pytest.raises(AttributeError, match="nope"):
        ftkit.evaluation.nope  # type: ignore[attr-defined]  # noqa: B018

"""The examples run: the script against the in-process fake, and the notebook's code cells."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "examples" / "finetune_with_fake.py"
NOTEBOOK = REPO / "examples" / "notebook.ipynb"


def _env() -> dict[str, str]:
    env = dict(os.environ, FTKIT_TIKTOKEN_DOWNLOAD="0", MPLBACKEND="Agg")
    env.pop("OPENAI_API_KEY", None)  # the examples must not need one
    return env


def test_script_runs_sft_then_dpo_on_the_fake(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,  # from anywhere, not only the repository root
        env=_env(),
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("plan for gpt-4.1-mini-2025-04-14: ready")
    assert "[sft] step 90/90" in out and "[dpo] step 90/90" in out
    last = out.strip().splitlines()[-1]
    assert last.startswith("fine-tuned model: ft:gpt-4.1-mini-2025-04-14:fake:marv:")


def _code_cells() -> list[str]:
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    assert notebook["nbformat"] == 4
    cells = notebook["cells"]
    assert all(c.get("outputs", []) == [] for c in cells if c["cell_type"] == "code")
    assert all(c.get("execution_count") is None for c in cells if c["cell_type"] == "code")
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def test_notebook_is_valid_with_cleared_outputs_and_its_cells_compile() -> None:
    cells = _code_cells()
    assert len(cells) >= 8
    for index, source in enumerate(cells):
        compile(source, f"{NOTEBOOK.name}[{index}]", "exec")


def test_notebook_cells_run_in_order(tmp_path: Path) -> None:
    """Each cell runs as a notebook would; a cell's last expression is rendered as HTML."""
    runner = tmp_path / "run_notebook.py"
    runner.write_text(
        "import ast, json, sys\n"
        "cells = json.load(open(sys.argv[1]))\n"
        "ns = {}\n"
        "for source in cells:\n"
        "    tree = ast.parse(source)\n"
        "    ends_on_value = tree.body and isinstance(tree.body[-1], ast.Expr)\n"
        "    last = tree.body.pop() if ends_on_value else None\n"
        "    exec(compile(tree, 'cell', 'exec'), ns)\n"
        "    if last is not None:\n"
        "        value = eval(compile(ast.Expression(last.value), 'cell', 'eval'), ns)\n"
        "        if hasattr(value, 'savefig'):\n"
        "            value.savefig(sys.argv[2])\n"
        "        elif hasattr(value, '_repr_html_'):\n"
        "            assert value._repr_html_().startswith('<'), type(value)\n"
        "print(ns['result'].fine_tuned_model)\n",
        encoding="utf-8",
    )
    cells_file = tmp_path / "cells.json"
    cells_file.write_text(json.dumps(_code_cells()), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(runner), str(cells_file), str(tmp_path / "plot.png")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env={**_env(), "FTKIT_STATE_DIR": str(tmp_path / "state")},  # nothing into the repo
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1].startswith("ft:gpt-4.1-mini-2025-04-14:fake:marv:")
    assert (tmp_path / "plot.png").read_bytes().startswith(b"\x89PNG")

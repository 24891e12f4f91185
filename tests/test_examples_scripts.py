"""The examples run: the script against the in-process fake, and the notebook in a kernel."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

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


# What a saved notebook must not carry: this machine's folders (the checkout's parent,
# the home and temporary folders, wherever they are), any home path, and secrets.
_MACHINE_DIRS = {str(REPO.parent), str(Path.home()), tempfile.gettempdir()}
_LEAKS = re.compile(
    "|".join(re.escape(d.rstrip("/\\") + "/") for d in sorted(_MACHINE_DIRS) if len(d) > 1)
    + r"|/home/|/Users/|[A-Za-z]:\\\\|sk-[A-Za-z0-9_-]{8,}"
)
_PLOT_CELLS = ("report.plot()", "result.plot()", "evaluation.plot()")
_MAX_PNG = 100_000  # bytes of one picture, at ftkit.plots.NOTEBOOK_DPI


def _notebook() -> dict[str, Any]:
    notebook: dict[str, Any] = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    assert notebook["nbformat"] == 4
    return notebook


def _code(notebook: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in notebook["cells"] if c["cell_type"] == "code"]


def _pngs(cell: dict[str, Any]) -> list[bytes]:
    return [
        base64.b64decode(out["data"]["image/png"])
        for out in cell.get("outputs", [])
        if out["output_type"] in ("display_data", "execute_result")
        and "image/png" in out.get("data", {})
    ]


def _leaks(notebook: dict[str, Any]) -> list[str]:
    """Machine paths or keys in the notebook's text (pictures left out: base64 has slashes)."""
    cells = [
        {
            **cell,
            "outputs": [
                {**out, "data": {k: v for k, v in out.get("data", {}).items() if k != "image/png"}}
                for out in cell.get("outputs", [])
            ],
        }
        for cell in notebook["cells"]
    ]
    return sorted(set(_LEAKS.findall(json.dumps({**notebook, "cells": cells}))))


def _check_outputs(notebook: dict[str, Any]) -> None:
    """Every cell ran without error, and each plot cell shows a picture (not a repr)."""
    cells = _code(notebook)
    assert len(cells) >= 8
    for cell in cells:
        source = "".join(cell["source"])
        assert cell["execution_count"], f"not run: {source}"
        assert not [o for o in cell["outputs"] if o["output_type"] == "error"], source
        if source.strip() in _PLOT_CELLS:
            (png,) = _pngs(cell)
            assert png.startswith(b"\x89PNG\r\n\x1a\n") and 5_000 < len(png) < _MAX_PNG
    last = "".join(cells[-1]["outputs"][0]["text"])
    assert last.startswith("ft:gpt-4.1-mini-2025-04-14:fake:marv:")


def _execute(state_dir: Path) -> dict[str, Any]:
    """Run the notebook in a fresh kernel, from the repository root, as a reader would."""
    import nbclient
    import nbformat

    notebook = nbformat.reads(NOTEBOOK.read_text(encoding="utf-8"), as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    saved = dict(os.environ)
    # The kernel inherits this environment: Agg as on a headless machine, no key, no
    # vocabulary download, and run manifests outside the repository.
    os.environ.update(_env(), FTKIT_STATE_DIR=str(state_dir))
    os.environ.pop("OPENAI_API_KEY", None)
    try:
        client = nbclient.NotebookClient(
            notebook,
            timeout=300,
            kernel_name="python3",
            resources={"metadata": {"path": str(REPO)}},
            record_timing=False,
            coalesce_streams=True,  # one output per stream, however the kernel split it
        )
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    notebook.metadata.pop("widgets", None)
    result: dict[str, Any] = json.loads(nbformat.writes(notebook))
    return result


def test_shipped_notebook_has_its_outputs_and_no_machine_paths() -> None:
    """A reader on the web sees the tables and plots without running anything."""
    text = NOTEBOOK.read_text(encoding="utf-8")
    notebook = _notebook()
    _check_outputs(notebook)
    assert not _leaks(notebook), f"the saved notebook shows {_leaks(notebook)}"
    assert len(text) < 300_000
    assert all(c.get("execution_count") for c in _code(notebook))
    for cell in _code(notebook):
        compile("".join(cell["source"]), NOTEBOOK.name, "exec")


def test_notebook_runs_and_shows_its_plots(tmp_path: Path) -> None:
    """nbclient runs every cell in a real kernel; the plot cells display PNGs."""
    executed = _execute(tmp_path / "state")
    _check_outputs(executed)
    assert not _leaks(executed), f"the outputs would show {_leaks(executed)}"
    # The shipped outputs are these outputs (run ids and model names aside).
    shipped = _code(_notebook())
    assert ["".join(c["source"]) for c in shipped] == [
        "".join(c["source"]) for c in _code(executed)
    ]
    for fresh, saved in zip(_code(executed), shipped, strict=True):
        assert [o["output_type"] for o in fresh["outputs"]] == [
            o["output_type"] for o in saved["outputs"]
        ]


if __name__ == "__main__":
    # Refresh the shipped outputs after editing the notebook:
    #     python tests/test_examples_scripts.py
    import tempfile

    with tempfile.TemporaryDirectory() as state:
        fresh = _execute(Path(state))
    _check_outputs(fresh)
    assert not _leaks(fresh), _leaks(fresh)
    NOTEBOOK.write_text(json.dumps(fresh, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {NOTEBOOK.relative_to(REPO)}")

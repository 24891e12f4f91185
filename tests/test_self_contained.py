"""A clone with nothing beside it runs its own tests, benchmarks and examples."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REAL_DATASETS = REPO / "tests" / "data" / "real"

# Built from parts so that this file does not match itself.
OUTSIDE = ("..", "/shared")


def _tracked_text_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.split(b"\0")
    paths = [REPO / name.decode() for name in listed if name]
    return [p for p in paths if p.suffix in {".py", ".md", ".toml", ".ipynb", ""} and p.is_file()]


def test_nothing_reads_a_folder_beside_the_checkout() -> None:
    needle = "".join(OUTSIDE)
    offenders = [
        str(path.relative_to(REPO))
        for path in _tracked_text_files()
        if needle in path.read_text(encoding="utf-8", errors="replace")
    ]
    assert offenders == []
    assert REAL_DATASETS.is_relative_to(REPO)


def test_every_vendored_file_names_its_source_and_licence() -> None:
    readme = (REAL_DATASETS / "README.md").read_text(encoding="utf-8")
    files = sorted(p.name for p in REAL_DATASETS.glob("*.jsonl"))
    assert len(files) == 9
    assert [name for name in files if f"| {name} |" not in readme] == []
    for licence in REAL_DATASETS.glob("LICENSE-*.txt"):
        assert licence.name in readme
        assert licence.read_text(encoding="utf-8").startswith("MIT License")
    assert "commit" in readme


def test_the_benchmark_generator_is_in_the_repository() -> None:
    maker = REPO / "benchmarks" / "make_dataset.py"
    assert maker.is_file()
    analyze = (REPO / "benchmarks" / "analyze.py").read_text(encoding="utf-8")
    assert 'with_name("make_dataset.py")' in analyze

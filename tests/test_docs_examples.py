"""Every example in README.md, docs/*.md and the ``--help`` texts runs, so a wrong one fails CI.

The conventions (markers, files, environment) are in ``tests/docs_support.py``'s docstring.
Python blocks run in one fresh interpreter (a namespace per page); shell command lines
run through ``python -m ftkit``, each example in its own copy of the prepared folder.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docs_support as ds
import pytest

REPO = ds.REPO
DATA = REPO / "examples" / "data"
MODEL = "gpt-4.1-mini-2025-04-14"
RUN_ID = "ftr-20261126T101500-3f9a1c2e"  # the run id the docs and --help use

# The files the examples name, made from the example datasets.
FILES = {
    "train.jsonl": "sarcasm_sft.jsonl",
    "val.jsonl": "sarcasm_sft_validation.jsonl",
    "prefs.jsonl": "sarcasm_dpo.jsonl",
    "a.jsonl": "sarcasm_sft.jsonl",
    "b.jsonl": "weighted_multiturn_sft.jsonl",
    "test.jsonl": "json_extraction_sft.jsonl",
    "headlines.jsonl": "json_extraction_sft.jsonl",
}
#: The foreign-format files ``ftkit import`` examples read (tests/data/interop).
INTEROP_FILES = {
    "conversations.jsonl": "sharegpt_prefs.jsonl",
    "alpaca.jsonl": "alpaca_prefs.jsonl",
    "prefs_trl.jsonl": "trl_standard.jsonl",
}
INTEROP = REPO / "tests" / "data" / "interop"
PRICES = {"my-model": 5.00}

# Examples of --help texts that cannot run here; (source, start of the command) -> reason.
# (Markdown blocks say it next to themselves with <!-- not-run: ... -->.)
HELP_NOT_RUN: dict[tuple[str, str], str] = {
    ("ftkit fake-server --help", "ftkit fake-server --port"): "serves until Ctrl-C",
    ("ftkit fake-server --help", "ftkit fake-server --speed"): "serves until Ctrl-C",
    ("ftkit fake-server --help", "OPENAI_BASE_URL="): "needs the server the lines above start",
    ("ftkit run --help", "ftkit run --model"): "trains on the real API (OPENAI_API_KEY)",
    ("ftkit eval --help", "ftkit eval test.jsonl --model gpt"): "names a model of your account",
    ("ftkit eval --help", "ftkit eval test.jsonl --model base="): "names a model of your account",
    ("ftkit deploy --help", "ftkit deploy "): "deploys on Azure: a subscription and an ARM token",
}

# Examples that fail today for a reason another change is fixing: (source, text in the
# example) -> reason. Strict: each must fail, so remove its line when the fix lands.
# A short timeout keeps the ones that hang (real sleeps) from slowing the suite.
PENDING: dict[tuple[str, str], str] = {}
PENDING_TIMEOUT = 8.0
TIMEOUT = 60.0  # seconds for one Python block (the fake's runs take a second or two)

# Growing this list needs a reason in the docs and a deliberate change here.
# (20: `ftkit deploy --help` deploys on Azure, which needs an account and an ARM token.)
MAX_NOT_RUN = 20


def _all_examples() -> list[ds.Example]:
    markdown, _ = ds.markdown_examples()
    helps = []
    for example in ds.help_examples():
        reason = next(
            (
                why
                for (source, start), why in HELP_NOT_RUN.items()
                if source == example.source and example.code.startswith(start)
            ),
            None,
        )
        helps.append(
            ds.Example(example.source, example.line, "shell", example.code, not_run=reason)
        )
    return markdown + helps


EXAMPLES = _all_examples()


def _pending(example: ds.Example) -> str | None:
    return next(
        (
            why
            for (source, text), why in PENDING.items()
            if source == example.source and text in example.code
        ),
        None,
    )


def _params() -> list[Any]:
    params = []
    for example in EXAMPLES:
        reason = _pending(example)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(example, id=example.id, marks=marks))
    return params


# --- the prepared folder and the environment -------------------------------------------


@pytest.fixture(scope="session")
def fake() -> Iterator[Any]:
    """One fake, in-process and on loopback: ``openai.OpenAI()`` from the environment lands here."""
    from ftkit.testing import FakeFineTuningAPI

    fake = FakeFineTuningAPI()
    with fake.serve() as server:
        fake.base_url = server.base_url
        yield fake


def _finished_run(root: Path, fake: Any) -> None:
    """A succeeded SFT -> DPO run on the fake, saved under the docs' run id."""
    import ftkit

    state = root / ".ftkit"
    result = (
        ftkit.FineTune(fake.client(max_retries=0))
        .model(MODEL)
        .sft(root / "train.jsonl", validation=root / "val.jsonl")
        .dpo(root / "prefs.jsonl")
        .state_dir(state)
        .run()
    )
    runs = state / "runs"
    manifest = runs / f"{result.run_id}.json"
    text = manifest.read_text(encoding="utf-8").replace(result.run_id, RUN_ID)
    for path in runs.iterdir():
        path.unlink()
    path = runs / f"{RUN_ID}.json"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)


@pytest.fixture(scope="session")
def docs_env(fake: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("home")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "AZURE_OPENAI_", "FTKIT_")) and k != "PYTHONPATH"
    }
    env.update(
        OPENAI_BASE_URL=fake.base_url,
        OPENAI_API_KEY="sk-fake-docs-examples",
        FTKIT_TIKTOKEN_DOWNLOAD="0",
        FTKIT_FAKE_START=os.environ["FTKIT_FAKE_START"],  # the suite's day (tests/conftest.py)
        MPLBACKEND="Agg",
        HOME=str(home),  # `~/ft` in an example stays in the test's folders
        NO_COLOR="1",
    )
    return env


@pytest.fixture(scope="session")
def docs_root(fake: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder the examples run in (each gets a copy): their files and a finished run."""
    root = tmp_path_factory.mktemp("docs") / "root"
    root.mkdir()
    for name, source in FILES.items():
        shutil.copyfile(DATA / source, root / name)
    for name, source in INTEROP_FILES.items():
        shutil.copyfile(INTEROP / source, root / name)
    (root / "prices.json").write_text(json.dumps(PRICES), encoding="utf-8")
    shutil.copytree(DATA, root / "examples" / "data")
    _finished_run(root, fake)
    return root


@pytest.fixture(scope="session")
def results(
    docs_root: Path, docs_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Any]]:
    """Every example that runs, run once, in order, in one fresh interpreter."""
    work = tmp_path_factory.mktemp("run")
    request = {
        "root": str(docs_root),
        "examples": [
            {
                "id": e.id,
                "kind": e.kind,
                "source": e.source,
                "code": e.code,
                "setup": e.setup,
                "timeout": PENDING_TIMEOUT if _pending(e) else TIMEOUT,
            }
            for e in EXAMPLES
            if not e.not_run
        ],
    }
    (work / "in.json").write_text(json.dumps(request), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(Path(ds.__file__)), str(work / "in.json"), str(work / "out.json")],
        cwd=work,
        env=docs_env,
        capture_output=True,
        text=True,
        timeout=120 + sum(e["timeout"] for e in request["examples"]),
    )
    assert done.returncode == 0, done.stderr
    found = json.loads((work / "out.json").read_text(encoding="utf-8"))
    return {r["id"]: r for r in found}


# --- checks for examples that do not run -----------------------------------------------


def _parses(argv: list[str]) -> None:
    from ftkit.cli import build_parser

    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            build_parser().parse_args(argv)
    except SystemExit as exc:
        if exc.code not in (0, None):
            pytest.fail(f"`ftkit {' '.join(argv)}` does not parse:\n{err.getvalue()}")


def _check_without_running(example: ds.Example) -> None:
    if example.kind == "python":
        flags = ds.ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        compile(example.setup + example.code, example.id, "exec", flags=flags)
        return
    for line in ds.command_lines(example.code):
        for pipeline in line.pipelines:
            for command in pipeline:
                argv = ds.ftkit_argv(command)
                if argv is not None:
                    _parses(argv)


# --- the tests --------------------------------------------------------------------------


@pytest.mark.parametrize("example", _params())
def test_example_runs(example: ds.Example, request: pytest.FixtureRequest) -> None:
    if example.not_run:
        _check_without_running(example)
        pytest.skip(f"not run: {example.not_run}")
    found: dict[str, dict[str, Any]] = request.getfixturevalue("results")
    result = found[example.id]
    if result["skipped"]:
        pytest.skip(result["skipped"])
    assert result["ok"], (
        f"{example.id} failed ({result['seconds']} s):\n{result['error']}\n{result['output']}"
    )


def test_every_fence_names_its_language() -> None:
    """An unlabeled block could be a command nobody runs: label it (```text for output)."""
    _, other = ds.markdown_examples()
    unlabeled = [b.id for b in other if not b.lang]
    assert unlabeled == []


def test_the_inventory_is_complete_and_the_not_run_list_short() -> None:
    markdown, other = ds.markdown_examples()
    helps = [e for e in EXAMPLES if e.source.endswith("--help")]
    assert len(markdown) >= 40 and len(helps) >= 20
    # Every --help with an examples paragraph is covered, and the markers were read.
    sources = {e.source for e in helps}
    assert {"ftkit --help", "ftkit validate --help", "ftkit estimate --help"} <= sources
    not_run = [e for e in EXAMPLES if e.not_run]
    assert all(e.not_run and e.not_run.strip() for e in not_run)
    assert len(not_run) <= MAX_NOT_RUN, [e.id for e in not_run]
    # Every pending entry and help exception still names an example (stale ones go).
    for source, text in PENDING:
        assert any(e.source == source and text in e.code for e in EXAMPLES), (source, text)
    for source, start in HELP_NOT_RUN:
        assert any(e.source == source and e.code.startswith(start) for e in EXAMPLES)
    assert other  # output samples and data blocks are counted, not run


def test_markers_and_command_lines_are_read_as_documented(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "Text.\n\n<!-- setup: x = 1 -->\n```python\nprint(x)\n```\n\n"
        "<!-- not-run: needs a key -->\n\n```bash\nftkit run --model m \\\n  --sft a.jsonl\n```\n"
        "```console\n$ ftkit validate bad.jsonl  # exits 1\noutput line\n```\n```\nplain\n```\n",
        encoding="utf-8",
    )
    original = ds.REPO
    try:
        ds.REPO = tmp_path
        found = ds.blocks(page)
    finally:
        ds.REPO = original
    assert [(b.lang, b.setup, b.not_run) for b in found] == [
        ("python", "x = 1\n", None),
        ("bash", "", "needs a key"),
        ("console", "", None),
        ("", "", None),
    ]
    (run,) = ds.command_lines(found[1].code)
    assert run.pipelines[0][0].argv == ["ftkit", "run", "--model", "m", "--sft", "a.jsonl"]
    (validate,) = ds.command_lines(ds.console_commands(found[2].code))
    assert validate.expect == 1
    assert validate.pipelines[0][0].argv == ["ftkit", "validate", "bad.jsonl"]
    (piped,) = ds.command_lines("A=1 ftkit validate x --json | jq '.a' && ftkit runs\n")
    assert [[c.argv[0] for c in p] for p in piped.pipelines] == [["ftkit", "jq"], ["ftkit"]]
    assert piped.pipelines[0][0].env == {"A": "1"}


def test_a_wrong_example_fails_and_a_right_one_passes(tmp_path: Path) -> None:
    """The runner itself: what it reports for right and wrong examples."""
    root = tmp_path / "root"
    root.mkdir()
    shutil.copyfile(DATA / "sarcasm_sft.jsonl", root / "train.jsonl")
    (root / "bad.jsonl").write_text('{"messages": 1}\n', encoding="utf-8")
    shell = {
        "ok-shell": "ftkit validate train.jsonl --json | python -c 'import sys; sys.stdin.read()'",
        "expected-exit": "ftkit validate bad.jsonl  # exits 1",
        "unexpected-exit": "ftkit validate bad.jsonl",
        "bad-flag": "ftkit validate train.jsonl --no-such-flag",
        "synopsis": "ftkit validate train.jsonl [--method sft|dpo]",
        "missing-program": "ftkit runs | no-such-program-here",
    }
    python = {
        "ok-python": "import ftkit\nreport = ftkit.validate('train.jsonl')\nassert report.ok",
        "name-error": "print(undefined_name)",
        "failing-test": "def test_it():\n    assert 1 == 2",
        "hangs": "while True:\n    pass",
        "top-level-await": "import asyncio\nawait asyncio.sleep(0)",
    }
    examples = [
        {
            "id": name,
            "kind": kind,
            "source": "page.md",
            "code": code + "\n",
            "setup": "",
            "timeout": 1.0 if name == "hangs" else 60.0,
        }
        for kind, cases in (("shell", shell), ("python", python))
        for name, code in cases.items()
    ]
    (tmp_path / "in.json").write_text(json.dumps({"root": str(root), "examples": examples}))
    done = subprocess.run(
        [
            sys.executable,
            str(Path(ds.__file__)),
            str(tmp_path / "in.json"),
            str(tmp_path / "out.json"),
        ],
        cwd=tmp_path,
        env={**os.environ, "FTKIT_TIKTOKEN_DOWNLOAD": "0"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    found = {r["id"]: r for r in json.loads((tmp_path / "out.json").read_text())}
    passed = {name for name, r in found.items() if r["ok"]}
    assert passed == {"ok-shell", "expected-exit", "ok-python", "top-level-await"}
    assert found["missing-program"]["skipped"].startswith("no-such-program-here is not installed")
    assert "exited 1, the docs say 0" in found["unexpected-exit"]["error"]
    assert "exited 2, the docs say 0" in found["bad-flag"]["error"]
    assert "'dpo]' is not a program" in found["synopsis"]["error"]
    assert "NameError" in found["name-error"]["error"]
    assert "assert 1 == 2" in found["failing-test"]["error"]
    assert "ExampleTimeout" in found["hangs"]["error"]

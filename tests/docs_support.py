"""Collect and run the examples of README.md, docs/*.md and every ``ftkit ... --help``.

Used by ``tests/test_docs_examples.py``, and run as a script (``python docs_support.py
IN.json OUT.json``) to execute the Python examples in one fresh interpreter.

The conventions a docs writer needs:

- Fenced ```python blocks run; so do ```bash / ```shell / ```sh blocks (every line is
  a command) and ```console blocks (the ``$ `` lines are commands, the rest is output).
  Every other fence must name its language (```text for output, ```json, ```jsonl ...):
  an unlabeled fence fails the test, so nothing is skipped by accident.
- The Python blocks of one page run in order in one namespace, as a reader reads them;
  the working directory holds the files the examples name (train.jsonl, val.jsonl,
  prefs.jsonl, test.jsonl, prices.json, examples/data/ ...) and a finished run
  ``ftr-20261126T101500-3f9a1c2e``; ``OPENAI_BASE_URL`` points at a loopback fake.
- ``<!-- setup: CODE -->`` just before a Python block runs CODE first, hidden from the
  page (for the names the prose presumes, e.g. ``client``).
- ``<!-- not-run: REASON -->`` just before a block keeps it from running; it is still
  checked (Python compiles, ``ftkit`` command lines parse) and reported as skipped.
- A block that defines a ``test_...()`` function has it called after the block runs.
- ``# exits N`` at the end of a command says the command exits with N (default 0).
- ``pip install`` commands are not run (``.ci/run`` runs them); a pipeline into a
  program that is not installed (``| jq``) skips the example, with the reason.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import io
import json
import os
import re
import shlex
import signal
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

PYTHON_FENCES = frozenset({"python", "py"})
SHELL_FENCES = frozenset({"bash", "shell", "sh", "console"})
RUNNABLE_FENCES = PYTHON_FENCES | SHELL_FENCES

_FENCE = re.compile(r"^(`{3,}|~{3,})\s*([\w+-]*)")
_SETUP = re.compile(r"<!--\s*setup:(.*?)-->", re.S)
_NOT_RUN = re.compile(r"<!--\s*not-run:(.*?)-->", re.S)
_EXITS = re.compile(r"#\s*exits\s+(\d+)\b")


@dataclass(frozen=True)
class Example:
    """A fenced block of a Markdown page (any language), or a command of a help text."""

    source: str  # path relative to the repository, "docs/cost.md", or "ftkit estimate --help"
    line: int  # 1-based line of the opening fence; the command's index in a help text
    lang: str  # the fence's language tag, "" when unlabeled; "shell" for a help text
    code: str
    setup: str = ""
    not_run: str | None = None

    @property
    def kind(self) -> str:
        """How it runs: ``"python"``, ``"shell"``, or ``""`` (not runnable, e.g. ```text)."""
        if self.lang in PYTHON_FENCES:
            return "python"
        return "shell" if self.lang in SHELL_FENCES else ""

    @property
    def id(self) -> str:
        return f"{self.source}:{self.line}"


def markdown_pages() -> list[Path]:
    """README.md and every docs/*.md, in a stable order."""
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def blocks(path: Path) -> list[Example]:
    """Every fenced block of ``path`` with the marker comments just before it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    page = path.relative_to(REPO).as_posix()
    found: list[Example] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, lang = match.group(1), match.group(2).lower()
        end = i + 1
        while end < len(lines) and not lines[end].startswith(fence):
            end += 1
        setup, not_run = _markers_before(lines, i)
        found.append(
            Example(page, i + 1, lang, "\n".join(lines[i + 1 : end]) + "\n", setup, not_run)
        )
        i = end + 1
    return found


def _markers_before(lines: list[str], fence: int) -> tuple[str, str | None]:
    """The ``setup`` / ``not-run`` comments between the previous text paragraph and ``fence``."""
    j = fence - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    comments: list[str] = []
    while j >= 0 and lines[j].rstrip().endswith("-->"):
        start = j
        while start >= 0 and "<!--" not in lines[start]:
            start -= 1
        if start < 0:
            break
        comments.insert(0, "\n".join(lines[start : j + 1]))
        j = start - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
    text = "\n".join(comments)
    setup = "\n".join(_dedent(m.group(1)) for m in _SETUP.finditer(text))
    not_run = next((" ".join(m.group(1).split()) for m in _NOT_RUN.finditer(text)), None)
    return setup, not_run


def _dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text.strip("\n")).strip() + "\n"


def markdown_examples() -> tuple[list[Example], list[Example]]:
    """The runnable examples of every page, and the blocks that are not runnable by nature."""
    runnable: list[Example] = []
    other: list[Example] = []
    for path in markdown_pages():
        for block in blocks(path):
            if not block.kind:
                other.append(block)
            elif block.lang == "console":
                runnable.append(replace(block, code=console_commands(block.code)))
            else:
                runnable.append(block)
    return runnable, other


def console_commands(text: str) -> str:
    """The ``$ `` lines of a console transcript (with their ``\\`` continuations)."""
    out: list[str] = []
    continuing = False
    for line in text.splitlines():
        if continuing:
            out.append(line)
        elif line.startswith("$ "):
            out.append(line[2:])
        else:
            continue
        continuing = line.rstrip().endswith("\\")
    return "\n".join(out) + "\n"


def help_texts() -> dict[str, str]:
    """``{"ftkit --help": text, "ftkit validate --help": text, ...}`` for every command."""
    import argparse

    from ftkit.cli import build_parser

    parser = build_parser()
    texts = {"ftkit --help": parser.format_help()}
    seen: set[int] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                if id(sub) not in seen:
                    seen.add(id(sub))
                    texts[f"ftkit {name} --help"] = sub.format_help()
    return texts


def help_examples() -> list[Example]:
    """Each command line of the ``examples:`` paragraph of every ``--help``."""
    found: list[Example] = []
    for source, text in help_texts().items():
        lines = text.splitlines()
        if "examples:" not in lines:
            continue
        index = 0
        command: list[str] = []
        for line in lines[lines.index("examples:") + 1 :]:
            if not line.strip():
                break
            command.append(line.strip())
            if line.rstrip().endswith("\\"):
                continue
            index += 1
            found.append(Example(source, index, "shell", "\n".join(command) + "\n"))
            command = []
    return found


# --- shell command lines ---------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """One simple command of a pipeline: ``VAR=value ... program args``."""

    env: dict[str, str]
    argv: list[str]


@dataclass(frozen=True)
class CommandLine:
    """One logical line: pipelines joined by ``&&`` or ``;``, and the exit code expected."""

    text: str
    pipelines: list[list[Command]]
    expect: int = 0


def command_lines(code: str) -> list[CommandLine]:
    """Parse shell example text: continuations, comments, ``# exits N``, ``&&``, ``|``."""
    logical: list[str] = []
    pending = ""
    for raw in code.splitlines():
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        logical.append(pending + raw)
        pending = ""
    if pending:
        logical.append(pending)
    out: list[CommandLine] = []
    for text in logical:
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        exits = _EXITS.search(text)
        lexer = shlex.shlex(text, posix=True, punctuation_chars="|&;")
        lexer.whitespace_split = True
        tokens = list(lexer)
        pipelines: list[list[Command]] = [[]]
        words: list[str] = []

        def flush(words: list[str], pipeline: list[Command], text: str = text) -> None:
            env: dict[str, str] = {}
            while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
                key, _, value = words.pop(0).partition("=")
                env[key] = value
            if not words:
                raise ValueError(f"empty command in {text!r}")
            pipeline.append(Command(env, list(words)))

        for token in tokens:
            if token == "|":
                flush(words, pipelines[-1])
                words = []
            elif token in ("&&", ";"):
                flush(words, pipelines[-1])
                words = []
                pipelines.append([])
            elif token in ("||", "&", ">", "<"):
                raise ValueError(f"unsupported shell syntax {token!r} in {text!r}")
            else:
                words.append(token)
        flush(words, pipelines[-1])
        out.append(CommandLine(text.strip(), pipelines, int(exits.group(1)) if exits else 0))
    return out


def ftkit_argv(command: Command) -> list[str] | None:
    """The arguments after ``ftkit`` (or ``python -m ftkit``), or None for another program."""
    argv = command.argv
    if argv[0] == "ftkit":
        return argv[1:]
    if argv[0] in ("python", "python3") and argv[1:3] == ["-m", "ftkit"]:
        return argv[3:]
    return None


# --- running the examples (in one fresh interpreter) -----------------------------------


class ExampleTimeout(Exception):
    """The example ran longer than its time limit."""


class ExampleSkipped(Exception):
    """The example needs a program that is not installed here."""


@dataclass
class Result:
    id: str
    ok: bool = False
    seconds: float = 0.0
    error: str = ""
    output: str = ""
    skipped: str = ""
    notes: list[str] = field(default_factory=list)


def _on_alarm(signum: int, frame: Any) -> None:
    raise ExampleTimeout("the example did not finish in time")


def _execute(code: str, name: str, namespace: dict[str, Any]) -> None:
    import linecache

    linecache.cache[name] = (len(code), None, code.splitlines(True), name)  # for tracebacks
    compiled = compile(code, name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    if compiled.co_flags & 0x80:  # CO_COROUTINE: the block uses a top-level await
        asyncio.run(eval(compiled, namespace))
    else:
        exec(compiled, namespace)


def _run_python(example: dict[str, Any], namespace: dict[str, Any]) -> None:
    if example["setup"]:
        _execute(example["setup"], f"{example['id']} (setup)", namespace)
    before = set(namespace)
    _execute(example["code"], example["id"], namespace)
    for name in [n for n in namespace if n not in before]:
        if name.startswith("test_") and callable(namespace[name]):
            namespace[name]()  # a test the block defines runs, as pytest would


def _ftkit(argv: list[str], env: dict[str, str], stdin: bytes) -> tuple[int, bytes, str]:
    """``ftkit ARGV`` in this process, as the entry point runs it: exit code, stdout, stderr."""
    from ftkit.cli import main

    saved = dict(os.environ)
    os.environ.update(env)
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    err = io.StringIO()
    old_stdin = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse: --help, usage errors
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    finally:
        sys.stdin = old_stdin
        os.environ.clear()
        os.environ.update(saved)
    return code, out.buffer.getvalue(), err.getvalue()


def _run_shell(example: dict[str, Any], result: Result) -> None:
    import shutil
    import subprocess

    for line in command_lines(example["code"]):
        for pipeline in line.pipelines:
            if pipeline[0].argv[:2] == ["pip", "install"]:
                result.notes.append(f"not run (.ci/run installs): {' '.join(pipeline[0].argv)}")
                continue
            for command in pipeline:
                program = command.argv[0]
                if ftkit_argv(command) is not None or shutil.which(program):
                    continue
                if not re.fullmatch(r"[\w.+-]+", program):  # `[--x a|b]` is a synopsis
                    raise ValueError(f"{program!r} is not a program: {line.text}")
                raise ExampleSkipped(f"{program} is not installed: {line.text}")
            data, code, err = b"", 0, ""
            for position, command in enumerate(pipeline):
                env = {k: os.path.expanduser(v) for k, v in command.env.items()}
                argv = [os.path.expanduser(a) if a.startswith("~/") else a for a in command.argv]
                ftkit = ftkit_argv(Command(env, argv))
                if ftkit is not None:
                    code, data, err = _ftkit(ftkit, env, data)
                else:
                    if argv[0] in ("python", "python3"):
                        argv = [sys.executable, *argv[1:]]
                    done = subprocess.run(
                        argv, input=data, env={**os.environ, **env}, capture_output=True
                    )
                    code, data, err = done.returncode, done.stdout, done.stderr.decode()
                if code != 0 and position < len(pipeline) - 1:
                    break
            if code != line.expect:
                result.output = f"stdout:\n{data.decode()[-3000:]}\nstderr:\n{err[-3000:]}"
                raise AssertionError(f"`{line.text}` exited {code}, the docs say {line.expect}")


def run_examples(examples: list[dict[str, Any]], root: Path) -> list[Result]:
    """Run each example in order: Python per page in one namespace, shell in a fresh copy.

    Each page's Python blocks share a copy of ``root``; each shell example gets its own.
    """
    import shutil

    signal.signal(signal.SIGALRM, _on_alarm)
    results: list[Result] = []
    namespaces: dict[str, dict[str, Any]] = {}
    for number, example in enumerate(examples):
        if example["kind"] == "python":
            page = example["source"]
            if page not in namespaces:
                workdir = root.parent / f"py-{len(namespaces)}"
                shutil.copytree(root, workdir, symlinks=True)
                namespaces[page] = {"__name__": "__docs__", "__workdir__": str(workdir)}
            os.chdir(namespaces[page]["__workdir__"])
        else:
            workdir = root.parent / f"sh-{number}"
            shutil.copytree(root, workdir, symlinks=True)
            os.chdir(workdir)
        out = io.StringIO()
        started = time.monotonic()
        result = Result(example["id"])
        signal.setitimer(signal.ITIMER_REAL, float(example["timeout"]))
        try:
            if example["kind"] == "python":
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                    _run_python(example, namespaces[example["source"]])
            else:
                _run_shell(example, result)
            result.ok = True
        except ExampleSkipped as exc:
            result.skipped = str(exc)
        except BaseException as exc:  # report everything, including SystemExit
            if isinstance(exc, KeyboardInterrupt):
                raise
            result.error = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        result.seconds = round(time.monotonic() - started, 3)
        if example["kind"] == "python":
            result.output = out.getvalue()[-4000:]
        results.append(result)
    return results


def main(argv: list[str]) -> int:
    """``python docs_support.py IN.json OUT.json``: run the examples listed in IN."""
    request = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    results = run_examples(request["examples"], Path(request["root"]))
    Path(argv[1]).write_text(json.dumps([asdict(r) for r in results]), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

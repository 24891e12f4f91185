"""Hostile files against the reader and the validator: always a report, never a crash.

Random bytes, deep nesting, NaN/Infinity, huge numbers, duplicate keys, byte
order marks, NUL bytes and invalid UTF-8, placed anywhere in otherwise valid
records. ``validate`` must return a report and ``read_jsonl`` must yield records
or raise :class:`ftkit.RecordError` naming the line; nothing else may escape
(no ``RecursionError``, ``ValueError``, ``UnicodeDecodeError``...). A 100 MB
single line is read with memory bounded by a small multiple of the line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ftkit
from ftkit.schema import parse_record
from ftkit.validation import CODES, ValidationReport, validate

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

GOOD = json.dumps(
    {
        "messages": [
            {"role": "system", "content": "S"},
            {"role": "user", "content": "Q"},
            {"role": "assistant", "content": "A"},
        ]
    },
    separators=(",", ":"),
).encode()
GOOD_DPO = json.dumps(
    {
        "input": {"messages": [{"role": "user", "content": "Q"}]},
        "preferred_output": [{"role": "assistant", "content": "A"}],
        "non_preferred_output": [{"role": "assistant", "content": "B"}],
    },
    separators=(",", ":"),
).encode()

# Values that JSON parsers disagree on, or that blow up naive code.
NASTY_VALUES = [
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"1e999",
    b"-1e999",
    b"9" * 5000,
    b"-" + b"9" * 4301,
    b"0." + b"0" * 5000 + b"1",
    b"1" + b"0" * 400 + b".5e-300",
    b'"\x00"',
    b'"\\u0000"',
    b'"\\ud800"',
    b'"\\udfff\\ud800"',
    b'"\xff\xfe"',
    b'"\xc3\x28"',
    b'"\xed\xa0\x80"',
    b"\xef\xbb\xbf1",
    b"true",
    b"null",
    b"[]",
    b"{}",
]


def _nested(depth: int, open_: bytes, close: bytes, inner: bytes = b"1") -> bytes:
    return open_ * depth + inner + close * depth


@st.composite
def hostile_line(draw: st.DrawFn) -> bytes:
    """A valid record with one hostile fragment spliced in where a value goes."""
    base = draw(st.sampled_from([GOOD, GOOD_DPO]))
    kind = draw(st.sampled_from(["value", "deep", "dup", "bytes", "cut"]))
    if kind == "value":
        fragment = draw(st.sampled_from(NASTY_VALUES))
    elif kind == "deep":
        depth = draw(st.sampled_from([10, 200, 900, 1000, 3000, 20000, 100000]))
        shape = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}")]))
        fragment = _nested(depth, *shape)
    elif kind == "dup":
        # Duplicate keys: the later value wins in Python's json; it must still be reported on.
        return base.replace(b'"role":"assistant"', b'"role":"assistant","role":"user"', 1)
    elif kind == "bytes":
        fragment = draw(st.binary(min_size=1, max_size=20))
    else:
        return base[: draw(st.integers(0, len(base)))]
    # Put the fragment in place of one of the record's string values.
    positions = [i for i in range(len(base)) if base[i : i + 3] in (b'"Q"', b'"A"', b'"S"')]
    at = draw(st.sampled_from(positions))
    return base[:at] + fragment + base[at + 3 :]


@st.composite
def hostile_file(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(st.one_of(hostile_line(), st.just(GOOD)), min_size=1, max_size=4))
    prefix = draw(st.sampled_from([b"", b"\xef\xbb\xbf", b"\xef\xbb\xbf\xef\xbb\xbf", b"\x00"]))
    end = draw(st.sampled_from([b"\n", b"\r\n", b"\r", b"\x00\n", b""]))
    return prefix + end.join(lines) + draw(st.sampled_from([b"", b"\n", b"\n\n"]))


def _check_file(content: bytes) -> None:
    handle, name = tempfile.mkstemp(suffix=".jsonl")
    try:
        os.write(handle, content)
        os.close(handle)
        report = validate(Path(name), model="gpt-4.1-mini-2025-04-14")
        assert isinstance(report, ValidationReport)
        assert all(issue.code in CODES for issue in report.issues)
        json.dumps(report.to_dict())
        str(report)
        errors: list[ftkit.RecordError] = []
        records = list(ftkit.read_jsonl(name, on_error=errors.append))
        assert all(e.line is not None and e.line >= 1 for e in errors)
        assert len(records) + len(errors) <= content.count(b"\n") + 1
        try:
            list(ftkit.read_jsonl(name))
        except ftkit.RecordError as exc:
            assert exc.line is not None
            str(exc)
        if errors:  # the reader's complaint is the validator's too
            assert not report.ok
    finally:
        os.unlink(name)


@SETTINGS
@given(hostile_file())
def test_hostile_files_always_get_a_report(content: bytes) -> None:
    _check_file(content)


@SETTINGS
@given(st.binary(max_size=2000))
def test_random_bytes_reach_the_reader_safely(content: bytes) -> None:
    _check_file(content)


@SETTINGS
@given(st.lists(hostile_line(), min_size=1, max_size=3))
def test_hostile_lines_in_memory_get_a_report(lines: list[bytes]) -> None:
    report = validate(lines)
    assert all(issue.code in CODES for issue in report.issues)
    for line in lines:
        try:
            parse_record(line)
        except ftkit.RecordError as exc:
            assert exc.code, exc


def test_every_nasty_value_in_every_slot() -> None:
    # The exhaustive version of the property above: each value, each position, both kinds.
    for base in (GOOD, GOOD_DPO):
        positions = [i for i in range(len(base)) if base[i : i + 3] in (b'"Q"', b'"A"', b'"S"')]
        for fragment in [*NASTY_VALUES, _nested(100_000, b"[", b"]")]:
            for at in positions:
                _check_file(base[:at] + fragment + base[at + 3 :] + b"\n" + GOOD + b"\n")


def test_deep_nesting_is_an_issue_not_a_recursion_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    for depth in (500, 990, 1000, 5000, 1_000_000):
        for open_, close in ((b"[", b"]"), (b'{"a":', b"}")):
            line = b'{"messages":' + _nested(depth, open_, close) + b"}"
            report = validate([line])
            assert not report.ok
            path.write_bytes(line + b"\n")
            try:
                list(ftkit.read_jsonl(path))
            except ftkit.RecordError as exc:
                assert exc.line == 1
            else:
                raise AssertionError(f"depth {depth} was accepted")


_BIG_LINE_CHILD = textwrap.dedent(
    """
    import json, resource, sys
    path, shape, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    block = 1 << 20
    with open(path, "wb") as f:  # written in blocks: the parent never holds the line
        if shape == "garbage":
            for _ in range(size // block):
                f.write(b"x" * block)
        else:
            f.write(b'{"messages":[{"role":"user","content":"q"},'
                    b'{"role":"assistant","content":"')
            for _ in range(size // block):
                f.write(b"abc " * (block // 4))
            f.write(b'"}]}\\n')
    import ftkit
    from ftkit.validation import validate

    def peak_kib():
        # VmHWM starts afresh at exec; ru_maxrss would include the parent's size at fork.
        try:
            with open("/proc/self/status") as status:
                for row in status:
                    if row.startswith("VmHWM:"):
                        return int(row.split()[1])
        except OSError:
            pass
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    base = peak_kib()
    codes = sorted({i.code for i in validate(path).issues})
    try:
        read = len(list(ftkit.read_jsonl(path)))
    except ftkit.RecordError as exc:
        read = exc.code
    print(json.dumps({
        "codes": codes,
        "read": read,
        "base_kib": base,
        "self_kib": peak_kib(),
        "children_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    }))
    """
)


def test_a_100_mb_single_line_is_read_with_bounded_memory(tmp_path: Path) -> None:
    size = 100 * 1024 * 1024
    for shape, expected_codes, expected_read in (
        ("garbage", ["invalid_json"], "invalid_json"),
        ("string", ["too_few_examples"], 1),
    ):
        path = tmp_path / f"{shape}.jsonl"
        child = subprocess.run(
            [sys.executable, "-c", _BIG_LINE_CHILD, str(path), shape, str(size)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert child.returncode == 0, child.stderr
        figures = json.loads(child.stdout)
        assert figures["codes"] == expected_codes
        assert figures["read"] == expected_read
        # Every process (the validator's workers included) stays within a few copies of
        # the line: it is held as bytes, then as text, then parsed; never more.
        limit_kib = figures["base_kib"] + 6 * size // 1024
        assert figures["self_kib"] < limit_kib, figures
        assert figures["children_kib"] < limit_kib, figures
        assert figures["self_kib"] > figures["base_kib"] + size // 1024, figures  # it was read
        path.unlink()

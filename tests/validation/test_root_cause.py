"""One cause, one finding: UTF-16, binary data and JSON spread over several lines."""

from __future__ import annotations

import gzip
import itertools
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from validate_support import assistant, sft, user

import ftkit
from ftkit.jsonl import sniff
from ftkit.validation import _multiline, _scheduler, validate


def _records(n: int, tag: str = "Q") -> list[dict[str, Any]]:
    return [sft(user(f"{tag}{i}?"), assistant(f"A{i}")) for i in range(n)]


def _jsonl(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def _write(path: Path, data: bytes | str) -> Path:
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def _only(path: Path, code: str, **kwargs: Any) -> str:
    """The one finding of a file that has exactly one, of ``code``; returns its message."""
    report = validate(path, **kwargs)
    assert report.counts == {code: 1}, str(report)
    assert len(report.issues) == 1 and not report.ok
    (issue,) = report.issues
    assert issue.code == code and issue.severity.value == "error"
    return issue.message


# -- the whole file ------------------------------------------------------------------------------


def test_a_pretty_printed_file_is_one_finding(tmp_path: Path) -> None:
    text = "".join(json.dumps(r, indent=2) + "\n" for r in _records(30))
    path = _write(tmp_path / "pretty.jsonl", text)
    message = _only(path, "multiline_json")
    assert message == (
        "the file is JSON spread over several lines (its first record spans lines 1-12; it "
        "holds 30 records in 360 lines): write one JSON object per line"
    )
    report = validate(path)
    assert report.issues[0].line == 1
    assert (report.lines, report.examples) == (360, 0)  # counted, not checked


def test_a_json_array_file_is_one_finding(tmp_path: Path) -> None:
    path = _write(tmp_path / "data.json", json.dumps(_records(30), indent=2))
    assert _only(path, "multiline_json") == (
        "the file is a JSON array of 30 records spread over lines 1-362: write one JSON "
        "object per line, not an array"
    )
    # An array larger than what sniff reads is recognised (and counted) too.
    big = _write(tmp_path / "big.json", json.dumps(_records(5000), indent=2))
    assert "a JSON array of 5,000 records" in _only(big, "multiline_json")


@pytest.mark.parametrize(
    ("encoding", "prefix", "said"),
    [
        ("utf-16", b"", "UTF-16 (little-endian)"),  # with a byte-order mark
        ("utf-16-le", b"", "UTF-16 (little-endian)"),
        ("utf-16-be", b"", "UTF-16 (big-endian)"),
        ("utf-16-be", b"\xfe\xff", "UTF-16 (big-endian)"),
        ("utf-32", b"", "UTF-32"),
    ],
)
def test_a_utf16_file_is_one_finding(
    tmp_path: Path, encoding: str, prefix: bytes, said: str
) -> None:
    path = _write(tmp_path / "t.jsonl", prefix + _jsonl(_records(30)).encode(encoding))
    assert _only(path, "utf16_file") == f"the file is {said} text, not UTF-8: save it as UTF-8"


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (gzip.compress(_jsonl(_records(30)).encode()), "it looks like a gzip archive"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "it looks like a PNG image"),
        (random.Random(7).randbytes(100_000), "it holds NUL bytes"),
        (b"\x00" * 10 + b"\n" + _jsonl(_records(3)).encode(), "it holds NUL bytes"),
    ],
)
def test_binary_data_is_one_finding(tmp_path: Path, data: bytes, said: str) -> None:
    path = _write(tmp_path / "t.jsonl", data)
    message = _only(path, "binary_file")
    assert message.startswith("the file is not text: ") and said in message


def test_a_stray_nul_after_a_valid_line_is_that_lines_problem(tmp_path: Path) -> None:
    lines = _jsonl(_records(12)).splitlines()
    lines[3] = lines[3].replace("Q3", "Q\x003")
    report = validate(_write(tmp_path / "t.jsonl", "\n".join(lines) + "\n"))
    assert [(i.line, i.code) for i in report.errors] == [(4, "invalid_json")]
    assert report.examples == 11


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b'{"messages": [{"role": "user", "content": "Hi"}\n',  # a truncated record
        b"\xef\xbb\xbf" + _jsonl(_records(3)).encode(),
        _jsonl(_records(3)).encode("latin-1"),
        b"[1, 2]\n[3]\n",
        b"{oops\n" + _jsonl(_records(3)).encode(),
        b"x" * 100_000 + b"\n",  # a first line longer than what sniff reads
    ],
)
def test_files_that_may_be_jsonl_are_left_to_the_lines(tmp_path: Path, data: bytes) -> None:
    assert sniff(_write(tmp_path / "t.jsonl", data)) is None


def test_a_file_finding_is_not_also_an_empty_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.jsonl", "\ufeff" + _jsonl(_records(2)))
    path.write_bytes(path.read_text(encoding="utf-8-sig").encode("utf-16"))
    report = validate(path, model="gpt-4.1-mini-2025-04-14")
    assert "empty_file" not in report.counts and "utf16_file" in report.counts


# -- one record further down --------------------------------------------------------------------


def test_a_pretty_printed_record_further_down_is_one_finding(tmp_path: Path) -> None:
    record = sft(user("Pretty?"), assistant("Yes"))
    text = _jsonl(_records(20)) + json.dumps(record, indent=2) + "\n" + _jsonl(_records(20, "R"))
    report = validate(_write(tmp_path / "t.jsonl", text))
    assert report.counts == {"multiline_json": 1, "few_examples": 1}
    (finding,) = report.by_code("multiline_json")
    assert finding.line == 21
    assert finding.message == (
        "a JSON record spans lines 21-32 (12 lines): write one JSON object per line"
    )
    assert report.examples == 40 and report.lines == 52


def test_a_record_closed_on_an_indented_line_ends_where_the_next_one_starts(
    tmp_path: Path,
) -> None:
    spread = '{"messages": [\n  {"role": "user", "content": "Hi"},\n  {"role": "assistant", '
    spread += '"content": "Hello"}\n  ]}\n'
    text = _jsonl(_records(11)) + spread + _jsonl(_records(11, "R"))
    report = validate(_write(tmp_path / "t.jsonl", text))
    assert [(i.line, i.code) for i in report.errors] == [(12, "multiline_json")]
    assert "spans lines 12-15 (4 lines)" in report.errors[0].message
    assert report.examples == 22


def test_a_truncated_line_stays_one_invalid_json_and_the_next_lines_are_read(
    tmp_path: Path,
) -> None:
    cut = json.dumps(sft(user("cut"), assistant("off")))[:-5]
    text = _jsonl(_records(11)) + cut + "\n" + cut + "\n" + _jsonl(_records(11, "R"))
    report = validate(_write(tmp_path / "t.jsonl", text))
    assert [(i.line, i.code) for i in report.errors] == [(12, "invalid_json"), (13, "invalid_json")]
    assert "column" in report.errors[0].message
    assert report.examples == 22
    # At the end of the file too.
    end = validate(_write(tmp_path / "end.jsonl", _jsonl(_records(11)) + "{\n" + cut + "\n"))
    assert [(i.line, i.code) for i in end.errors] == [(12, "invalid_json"), (13, "invalid_json")]


def test_records_longer_than_the_caps_fall_back_to_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_multiline, "_OPEN_MAX_LINES", 5)
    record = json.dumps(sft(user("a"), assistant("b"), user("c"), assistant("d")), indent=2)
    text = _jsonl(_records(11)) + record + "\n" + "[\n" * 50 + _jsonl(_records(11, "R"))
    report = validate(_write(tmp_path / "t.jsonl", text))
    assert "multiline_json" not in report.counts
    first = 12
    assert report.by_code("invalid_json")[0].line == first
    assert report.examples == 22


def test_in_memory_lines_never_continue_each_other() -> None:
    report = validate(["{", '"messages": []', "}"])
    assert report.counts == {"invalid_json": 3}


def test_parallel_chunks_keep_spread_records_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pieces = []
    for i, record in enumerate(_records(300)):
        if i % 23 == 4:
            pieces.append(json.dumps(record, indent=2))
        elif i % 41 == 9:
            pieces.append(json.dumps(record)[:-4])
        else:
            pieces.append(json.dumps(record))
    path = _write(tmp_path / "t.jsonl", "\n".join(pieces) + "\n")
    monkeypatch.setattr(_scheduler, "_CHUNK_MIN", 1)  # chunks of a few lines
    data = path.read_bytes()
    bounds = _scheduler._chunk_bounds(path, len(data), 64)
    assert len(bounds) > 30
    for (_, end), (start, _) in itertools.pairwise(bounds):
        assert end == start and data[start - 1 : start] == b"\n" and data[start] == ord("{")
    serial = validate(path, workers=1, max_per_code=100)
    parallel = validate(path, workers=2, max_per_code=100)
    assert serial.counts["multiline_json"] == 13 and serial.counts["invalid_json"] == 7
    assert parallel.to_dict() == serial.to_dict()


# -- the record reader and the command ----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ("".join(json.dumps(r, indent=2) + "\n" for r in _records(3)).encode(), "multiline_json"),
        (_jsonl(_records(3)).encode("utf-16"), "utf16_file"),
        (gzip.compress(_jsonl(_records(3)).encode()), "binary_file"),
    ],
)
def test_read_jsonl_raises_one_clear_error(tmp_path: Path, data: bytes, code: str) -> None:
    path = _write(tmp_path / "t.jsonl", data)
    errors: list[ftkit.RecordError] = []
    for read in (lambda: list(ftkit.read_jsonl(path)), lambda: ftkit.Dataset.load(path)):
        with pytest.raises(ftkit.RecordError) as caught:
            read()
        assert caught.value.code == code and caught.value.source == str(path)
        assert str(caught.value).startswith(str(path))
        assert caught.value.line is not None
    assert list(ftkit.read_jsonl(path, on_error=errors.append)) == []
    assert [(e.code, e.source) for e in errors] == [(code, str(path))]  # one, not one per line


def test_the_command_prints_one_finding_and_orders_json_by_severity(tmp_path: Path) -> None:
    u16 = _write(tmp_path / "u16.jsonl", _jsonl(_records(30)).encode("utf-16"))
    items = _records(12)
    items[2] = sft(user("x"), assistant("y" * 5000))
    items[5] = sft(user())
    items.append(items[0])
    mixed = _write(tmp_path / "mixed.jsonl", _jsonl(items))
    command = [sys.executable, "-m", "ftkit", "validate", "--no-progress"]
    text = subprocess.run([*command, str(u16)], capture_output=True, text=True, check=False).stdout
    assert text.splitlines()[0].endswith(
        "INVALID - unrecognised, 0 examples; 1 error, 0 warnings, 0 info"
    )
    assert text.count("[utf16_file]") == 1 and "[invalid_utf8]" not in text
    out = subprocess.run(
        [*command, "--json", str(mixed)], capture_output=True, text=True, check=False
    ).stdout
    issues = json.loads(out)["reports"][0]["issues"]
    assert [(i["severity"], i["code"]) for i in issues] == [
        ("error", "no_assistant_message"),
        ("warning", "few_examples"),
        ("warning", "duplicate_example"),
        ("info", "long_response"),
    ]

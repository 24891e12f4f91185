"""Line handling for real-world files: BOM, CRLF, blank lines, bad bytes, chunks, atomic writes."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

import ftkit
from ftkit.jsonl import atomic_write, atomic_write_bytes, iter_lines, utf8_error

LINE = b'{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}'


def write(tmp_path: Path, data: bytes, name: str = "f.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_bom_crlf_blank_lines_and_no_final_newline(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xef\xbb\xbf" + LINE + b"\r\n\r\n   \n" + LINE)
    lines = list(iter_lines(path))
    assert [(ln.number, ln.data) for ln in lines] == [(1, LINE), (4, LINE)]
    records = list(ftkit.read_jsonl(path))
    assert [r.line for r in records] == [1, 4]


def test_blank_lines_can_be_surfaced(tmp_path: Path) -> None:
    path = write(tmp_path, LINE + b"\n\n" + LINE + b"\n")
    lines = list(iter_lines(path, skip_blank=False))
    assert [ln.blank for ln in lines] == [False, True, False]


def test_invalid_utf8_names_line_and_column(tmp_path: Path) -> None:
    bad = LINE.replace(b'"q"', b'"q\xff"')
    path = write(tmp_path, LINE + b"\n" + bad + b"\n")
    with pytest.raises(ftkit.RecordError) as info:
        list(ftkit.read_jsonl(path))
    assert info.value.line == 2
    assert info.value.code == "invalid_utf8"
    assert "0xff" in info.value.reason
    assert utf8_error(LINE) is None


def test_lenient_mode_reports_every_bad_line_and_keeps_the_good(tmp_path: Path) -> None:
    path = write(tmp_path, b"\n".join([LINE, b"{oops", LINE, b"[]", LINE]))
    errors: list[ftkit.RecordError] = []
    records = list(ftkit.read_jsonl(path, on_error=errors.append))
    assert [r.line for r in records] == [1, 3, 5]
    assert [(e.line, e.code) for e in errors] == [(2, "invalid_json"), (4, "not_an_object")]
    assert all(e.source == str(path) for e in errors)
    assert str(errors[0]).startswith(f"{path}, line 2")


def test_mixed_kinds_in_one_file_fail_on_the_first_odd_line(tmp_path: Path) -> None:
    dpo = ftkit.DPORecord.pair("q", "a", "b").to_json().encode()
    path = write(tmp_path, b"\n".join([LINE, LINE, dpo]))
    with pytest.raises(ftkit.RecordError) as info:
        list(ftkit.read_jsonl(path))
    assert info.value.line == 3
    assert "this file is SFT" in info.value.reason


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(ftkit.UsageError, match="no such file"):
        list(ftkit.read_jsonl(tmp_path / "nope.jsonl"))


def test_chunks_cover_the_file_exactly_once(tmp_path: Path) -> None:
    body = b"".join(LINE.replace(b'"q"', f'"q{i}"'.encode()) + b"\n" for i in range(50))
    path = write(tmp_path, b"\xef\xbb\xbf" + body)
    whole = list(iter_lines(path))
    # split at arbitrary offsets aligned to the next line start
    size = path.stat().st_size
    cuts = [0]
    data = path.read_bytes()
    for target in (size // 3, 2 * size // 3):
        cuts.append(data.index(b"\n", target) + 1)
    cuts.append(size)
    pieces = []
    first = 1
    for start, end in itertools.pairwise(cuts):
        chunk = list(iter_lines(path, start=start, end=end, first_line=first))
        pieces += chunk
        first += data[start:end].count(b"\n")
    assert pieces == whole


def test_atomic_write_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_write(target) as handle:
        handle.write("partial")
        raise RuntimeError("boom")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


def test_atomic_write_sets_mode(tmp_path: Path) -> None:
    target = tmp_path / "secret.json"
    with atomic_write_bytes(target, mode=0o600) as handle:
        handle.write(b"{}")
    assert target.read_bytes() == b"{}"
    assert (os.stat(target).st_mode & 0o777) == 0o600


def test_a_line_of_millions_of_values_is_refused_before_parsing(tmp_path: Path) -> None:
    flood = b'{"messages": [' + b"1," * 600_000 + b"1]}"
    path = write(tmp_path, LINE + b"\n" + flood + b"\n")
    errors: list[ftkit.RecordError] = []
    records = list(ftkit.read_jsonl(path, on_error=errors.append))
    assert [r.line for r in records] == [1]
    assert [(e.line, e.code) for e in errors] == [(2, "line_too_complex")]
    assert "600,0" in errors[0].reason
